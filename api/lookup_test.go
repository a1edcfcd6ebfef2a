package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/seal"
)

// fakeLookup answers every short form with recs, and counts its calls.
type fakeLookup struct {
	recs  []*seal.Record
	calls int
	limit int
}

func (f *fakeLookup) SealedByInputPrefix(_ context.Context, prefix []byte, limit int) ([]*seal.Record, error) {
	f.calls, f.limit = f.calls+1, limit
	var out []*seal.Record
	for _, r := range f.recs {
		if seal.HasShortPrefix(r.InputSM3, prefix) {
			out = append(out, r)
		}
	}
	return out[:min(len(out), limit)], nil
}

type fakeRegistry struct{}

func (fakeRegistry) Township(_ context.Context, code string) (seal.Township, error) {
	return seal.Township{Code: code, Name: "长安镇"}, nil
}
func (fakeRegistry) Item(_ context.Context, code string) (seal.Item, error) {
	return seal.Item{Code: code, Name: "农村村民住宅用地审批"}, nil
}
func (fakeRegistry) Implements(context.Context, string, string) (bool, error) { return true, nil }

// publicFields are the record's fields the lookup shows; every other field
// of seal.Record is private, including any added later.
var publicFields = map[string]bool{"Seq": true, "Time": true, "Township": true, "Item": true, "Result": true, "InputSM3": true, "OutputSM3": true}

// privateRecord is a sealed record whose every private field holds a
// marker that must never appear in an answer: each string field its own
// text, each byte field its own bytes (found in hex or raw).
func privateRecord(t *testing.T, input []byte) (*seal.Record, []string) {
	t.Helper()
	r := &seal.Record{Seq: 42, Time: time.Date(2026, 12, 4, 1, 2, 3, 0, time.UTC), Township: "450224100", Item: "450224-XK-0002",
		Result: seal.ResultSealed, InputSM3: input}
	out := sm3.Sum([]byte("sealed"))
	r.OutputSM3 = out[:]
	var markers []string
	v := reflect.ValueOf(r).Elem()
	for i := 0; i < v.NumField(); i++ {
		f, name := v.Field(i), v.Type().Field(i).Name
		if publicFields[name] || !f.CanSet() {
			continue
		}
		m := "private-" + strings.ToLower(name) + "-marker"
		switch f.Kind() {
		case reflect.String:
			f.SetString(m)
			markers = append(markers, m)
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.Uint8 {
				f.SetBytes([]byte(m))
				markers = append(markers, m, hex.EncodeToString([]byte(m)))
			}
		case reflect.Uint64, reflect.Int, reflect.Int64:
			// numbers: none private today; a new one shows in the keys check
		default:
			if f.Kind() != reflect.Struct { // time.Time and the like are checked by the keys
				t.Logf("field %s (%s) not marked", name, f.Kind())
			}
		}
	}
	return r, markers
}

func serveLookup(h http.Handler, path, remote string) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/public/sealings/{short}", h)
	r := httptest.NewRequest("GET", path, nil)
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w
}

// TestLookupPublicFieldsOnly: the answer has exactly the documented fields,
// and no private field of the record appears in it, under any name; a
// refusal the store might return is never shown.
func TestLookupPublicFieldsOnly(t *testing.T) {
	in := sm3.Sum([]byte("the decision"))
	rec, markers := privateRecord(t, in[:])
	refused := *rec
	refused.Seq, refused.Result = 43, seal.ResultRefused
	fl := &fakeLookup{recs: []*seal.Record{rec, &refused}}
	h := newLookupHandler(LookupConfig{}, fl, fakeRegistry{}, slog.Default())
	w := serveLookup(h, "/v1/public/sealings/"+strings.ToLower(seal.ShortForm(in[:])), "192.0.2.1:1234")
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	body := w.Body.String()
	for _, m := range markers {
		if strings.Contains(body, m) {
			t.Errorf("the answer shows a private field (%s):\n%s", m, body)
		}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if keys := sortedKeys(raw); !slices.Equal(keys, []string{"sealings", "short", "truncated"}) {
		t.Errorf("answer keys %v", keys)
	}
	var sealings []map[string]any
	if err := json.Unmarshal(raw["sealings"], &sealings); err != nil {
		t.Fatal(err)
	}
	if len(sealings) != 1 {
		t.Fatalf("%d sealings shown, want 1 (the refusal is never shown): %s", len(sealings), body)
	}
	want := map[string]any{"seq": 42.0, "time": "2026-12-04T01:02:03Z", "townshipCode": "450224100", "townshipName": "长安镇",
		"itemCode": "450224-XK-0002", "itemName": "农村村民住宅用地审批", "result": "sealed",
		"inputSm3": hex.EncodeToString(in[:]), "outputSm3": hex.EncodeToString(rec.OutputSM3)}
	if !reflect.DeepEqual(sealings[0], want) {
		t.Errorf("sealing\n%v\nwant\n%v", sealings[0], want)
	}
	if !strings.Contains(body, `"short":"`+seal.ShortForm(in[:])+`"`) {
		t.Errorf("short form not echoed in upper case: %s", body)
	}
}

func sortedKeys(m map[string]json.RawMessage) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

// TestLookupAnswers: several sealings of one input are all listed, bounded
// by MaxResults with truncated set; an unknown short form is 404 "no such
// sealing"; a malformed one 400 without asking the store; a store without
// the lookup finds nothing.
func TestLookupAnswers(t *testing.T) {
	in := sm3.Sum([]byte("the decision"))
	var recs []*seal.Record
	for i := range 4 {
		r, _ := privateRecord(t, in[:])
		r.Seq = uint64(10 + i)
		recs = append(recs, r)
	}
	fl := &fakeLookup{recs: recs}
	h := newLookupHandler(LookupConfig{MaxResults: 3, Burst: 100}, fl, fakeRegistry{}, slog.Default())
	short := seal.ShortForm(in[:])
	w := serveLookup(h, "/v1/public/sealings/"+short, "192.0.2.1:1")
	var got PublicLookup
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 {
		t.Fatalf("%d %s %v", w.Code, w.Body, err)
	}
	if len(got.Sealings) != 3 || !got.Truncated || got.Sealings[0].Seq != 10 || got.Sealings[2].Seq != 12 || fl.limit != 4 {
		t.Errorf("bounded answer: %+v (store asked for %d)", got, fl.limit)
	}
	other := sm3.Sum([]byte("another"))
	w = serveLookup(h, "/v1/public/sealings/"+seal.ShortForm(other[:]), "192.0.2.1:1")
	if w.Code != 404 || !strings.Contains(w.Body.String(), "no such sealing") {
		t.Errorf("unknown: %d %s", w.Code, w.Body)
	}
	calls := fl.calls
	for _, bad := range []string{"SHORT", short + "A", short[:19] + "1"} {
		if w := serveLookup(h, "/v1/public/sealings/"+bad, "192.0.2.1:1"); w.Code != 400 {
			t.Errorf("%s: %d", bad, w.Code)
		}
	}
	if fl.calls != calls {
		t.Error("a malformed short form reached the store")
	}
	none := newLookupHandler(LookupConfig{}, nil, fakeRegistry{}, slog.Default())
	if w := serveLookup(none, "/v1/public/sealings/"+short, "192.0.2.1:1"); w.Code != 404 {
		t.Errorf("without a lookup: %d", w.Code)
	}
}

// TestLookupRateLimit: a client gets Burst lookups at once, then 429 with
// Retry-After, and one more each 1/Rate seconds; another client is not
// held back; behind a trusted proxy the client is the forwarded address,
// and IPv6 clients are counted by their /64.
func TestLookupRateLimit(t *testing.T) {
	in := sm3.Sum([]byte("the decision"))
	rec, _ := privateRecord(t, in[:])
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	path := "/v1/public/sealings/" + seal.ShortForm(in[:])
	h := newLookupHandler(LookupConfig{Rate: 0.5, Burst: 3, Now: clock}, &fakeLookup{recs: []*seal.Record{rec}}, fakeRegistry{}, slog.Default())
	codes := func(remote string, n int) []int {
		var c []int
		for range n {
			c = append(c, serveLookup(h, path, remote).Code)
		}
		return c
	}
	if got := codes("192.0.2.1:1", 4); !slices.Equal(got, []int{200, 200, 200, 429}) {
		t.Errorf("burst: %v", got)
	}
	w := serveLookup(h, path, "192.0.2.1:2")
	if w.Code != 429 || w.Header().Get("Retry-After") != "2" {
		t.Errorf("limited: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if got := codes("192.0.2.2:1", 1); got[0] != 200 {
		t.Errorf("another client: %v", got)
	}
	now = now.Add(2 * time.Second)
	if got := codes("192.0.2.1:1", 2); !slices.Equal(got, []int{200, 429}) {
		t.Errorf("after 2 s at 0.5/s: %v", got)
	}
	if got := codes("[2001:db8:1:2::1]:1", 3); !slices.Equal(got, []int{200, 200, 200}) {
		t.Errorf("IPv6: %v", got)
	}
	if got := codes("[2001:db8:1:2::ffff]:1", 1); got[0] != 429 {
		t.Errorf("the same /64: %v", got)
	}

	px := newLookupHandler(LookupConfig{Rate: 1, Burst: 1, Now: clock, TrustForwardedFor: true}, &fakeLookup{recs: []*seal.Record{rec}}, fakeRegistry{}, slog.Default())
	via := func(xff string) int {
		mux := http.NewServeMux()
		mux.Handle("GET /v1/public/sealings/{short}", px)
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = "10.0.0.1:1"
		r.Header.Set("X-Forwarded-For", xff)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	// The client cannot choose its bucket by sending its own header: the
	// proxy appends the address it saw, and that last entry counts.
	if got := []int{via("203.0.113.9, 198.51.100.1"), via("203.0.113.10, 198.51.100.1"), via("198.51.100.2")}; !slices.Equal(got, []int{200, 429, 200}) {
		t.Errorf("forwarded: %v", got)
	}
}

// TestClientLimiterBounded: the limiter keeps at most max buckets; when
// full it drops the refilled ones, and clients it cannot keep apart share
// one bucket rather than growing the map.
func TestClientLimiterBounded(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	l := newClientLimiter(1, 2, 3, func() time.Time { return now })
	for i := range 10 {
		l.allow(fmt.Sprint("c", i))
		if len(l.buckets) > 3 {
			t.Fatalf("%d buckets after %d clients", len(l.buckets), i+1)
		}
	}
	if _, ok := l.allow("c99"); ok {
		// c3… share the overflow bucket, which 7 clients have emptied.
		t.Error("a new client got a token from the emptied overflow bucket")
	}
	now = now.Add(time.Minute) // every bucket refills
	if _, ok := l.allow("fresh"); !ok || len(l.buckets) > 3 {
		t.Errorf("after refilling: %v, %d buckets", ok, len(l.buckets))
	}
}
