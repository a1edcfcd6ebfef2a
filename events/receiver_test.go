package events_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
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
