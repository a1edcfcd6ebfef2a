package events_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/events"
)

// TestReceiver: the receiver acknowledges (204) only an event it has
// verified and stored; everything else gets the status that says why, and
// Store never sees it.
func TestReceiver(t *testing.T) {
	c := newCounty(t)
	recs := ledger(2)
	signed := func(signer *county, mutate func(*events.Event)) string {
		e := events.New(recs[1], "/eseal/test", "platform", 1)
		if err := e.Sign(signer.key, signer.cert); err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(e)
		}
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	good := signed(c, nil)
	other := newCounty(t) // a ledger key under another root
	tests := []struct {
		name, method, ctype, body string
		storeErr                  error
		want                      int
		stored                    bool
	}{
		{"valid", http.MethodPost, events.ContentType, good, nil, http.StatusNoContent, true},
		{"valid, indented by the sender", http.MethodPost, events.ContentType, "\n  " + good + "\n", nil, http.StatusNoContent, true},
		{"GET", http.MethodGet, events.ContentType, "", nil, http.StatusMethodNotAllowed, false},
		{"binary mode", http.MethodPost, "application/json", good, nil, http.StatusUnsupportedMediaType, false},
		{"too large", http.MethodPost, events.ContentType, good + strings.Repeat(" ", 4096), nil, http.StatusRequestEntityTooLarge, false},
		{"garbage", http.MethodPost, events.ContentType, "{not json", nil, http.StatusBadRequest, false},
		{"record changed", http.MethodPost, events.ContentType, signed(c, func(e *events.Event) { e.Data.Domain = "公安" }), nil, http.StatusBadRequest, false},
		{"another county's key", http.MethodPost, events.ContentType, signed(other, nil), nil, http.StatusBadRequest, false},
		{"store fails", http.MethodPost, events.ContentType, good, errors.New("disk full"), http.StatusInternalServerError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kept bytes.Buffer
			rc := &events.Receiver{Verifier: events.NewVerifier(c.roots), MaxBytes: int64(len(good)) + 64,
				Store: func(e *events.Event, line []byte) error {
					if tt.storeErr != nil {
						return tt.storeErr
					}
					if e.ID != "2" {
						t.Errorf("Store got event %s, want 2", e.ID)
					}
					kept.Write(line)
					return nil
				}}
			req := httptest.NewRequest(tt.method, "/events", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			w := httptest.NewRecorder()
			rc.ServeHTTP(w, req)
			if w.Code != tt.want {
				t.Fatalf("status %d (%s), want %d", w.Code, strings.TrimSpace(w.Body.String()), tt.want)
			}
			if got := kept.Len() > 0; got != tt.stored {
				t.Fatalf("stored %v, want %v", got, tt.stored)
			}
			if tt.stored && (strings.Count(kept.String(), "\n") != 1 || !strings.HasSuffix(kept.String(), "}\n")) {
				t.Errorf("the stored line is not one compact JSON line: %q", kept.String())
			}
		})
	}
}

// TestReceiverBatch: a batched-mode request is stored event by event in
// its order, and only when every event in it verifies; one bad event
// refuses the whole batch before anything is stored.
func TestReceiverBatch(t *testing.T) {
	c := newCounty(t)
	recs := ledger(4)
	event := func(i int, mutate func(*events.Event)) []byte {
		e := events.New(recs[i], "/eseal/test", "platform", uint64(i))
		if err := e.Sign(c.key, c.cert); err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(e)
		}
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	batch := func(evs ...[]byte) string {
		var b []byte
		for _, e := range evs {
			b = events.AppendBatch(b, e)
		}
		if b == nil {
			return "[]"
		}
		return string(b)
	}
	e1, e2, e3 := event(1, nil), event(2, nil), event(3, nil)
	changed := event(2, func(e *events.Event) { e.Data.CaseNo = "X" })
	tests := []struct {
		name, ctype, body string
		failAt            int // Store fails on this call (1-based); 0: never
		want              int
		stored            []string // ids stored, in order
	}{
		{"three events", events.BatchContentType, batch(e1, e2, e3), 0, http.StatusNoContent, []string{"2", "3", "4"}},
		{"one event", events.BatchContentType, batch(e2), 0, http.StatusNoContent, []string{"3"}},
		{"empty batch", events.BatchContentType, "[]", 0, http.StatusNoContent, nil},
		{"indented by the sender", events.BatchContentType, "[\n  " + string(e1) + ",\n  " + string(e2) + "\n]", 0, http.StatusNoContent, []string{"2", "3"}},
		{"one event changed", events.BatchContentType, batch(e1, changed, e3), 0, http.StatusBadRequest, nil},
		{"an event, not a batch", events.BatchContentType, string(e1), 0, http.StatusBadRequest, nil},
		{"a batch as one event", events.ContentType, batch(e1, e2), 0, http.StatusBadRequest, nil},
		{"null in the batch", events.BatchContentType, "[" + string(e1) + ",null]", 0, http.StatusBadRequest, nil},
		{"garbage", events.BatchContentType, "[{", 0, http.StatusBadRequest, nil},
		{"too large", events.BatchContentType, batch(e1, e2, e3, e1), 0, http.StatusRequestEntityTooLarge, nil},
		// The sender sends it again whole: event 2 then comes twice.
		{"store fails on the second", events.BatchContentType, batch(e1, e2, e3), 2, http.StatusInternalServerError, []string{"2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stored []string
			var lines bytes.Buffer
			calls := 0
			rc := &events.Receiver{Verifier: events.NewVerifier(c.roots), MaxBytes: int64(len(batch(e1, e2, e3))) + 64,
				Store: func(e *events.Event, line []byte) error {
					calls++
					if calls == tt.failAt {
						return errors.New("disk full")
					}
					stored = append(stored, e.ID)
					lines.Write(line)
					return nil
				}}
			req := httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			w := httptest.NewRecorder()
			rc.ServeHTTP(w, req)
			if w.Code != tt.want {
				t.Fatalf("status %d (%s), want %d", w.Code, strings.TrimSpace(w.Body.String()), tt.want)
			}
			if !slices.Equal(stored, tt.stored) {
				t.Fatalf("stored %v, want %v", stored, tt.stored)
			}
			for _, l := range strings.SplitAfter(lines.String(), "\n") {
				if l != "" && (strings.Count(l, "\n") != 1 || !strings.HasPrefix(l, "{") || !strings.HasSuffix(l, "}\n") || strings.Contains(l, "\n  ")) {
					t.Errorf("a stored line is not one compact JSON event: %q", l)
				}
			}
		})
	}
}
