package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/emmansun/gmsm/smx509"
)

// DefaultMaxEventBytes bounds one event a Receiver accepts when its
// MaxBytes is zero. An event carries one ledger record and the signer's
// certificate: a few kilobytes.
const DefaultMaxEventBytes = 1 << 20

// structuredMedia is the media type of a structured-mode CloudEvent in
// JSON, without ContentType's parameters.
const structuredMedia = "application/cloudevents+json"

// Receiver is the HTTP handler of a subscription's endpoint: what the
// provincial platform or a supervising department runs to take the events
// the service pushes. For each POST it reads one structured-mode CloudEvent,
// or a batched-mode array of them (the body bounded by MaxBytes), checks
// every event with Verifier when one is set, and hands each to Store as one
// compact JSON line. It answers 204 only after Store has returned nil for
// every event of the request, since a 2xx moves the sender past them; any
// failure is answered 4xx or 5xx, and the service sends the request again.
// A batch with one bad event is refused whole, before anything is stored;
// a batch whose Store fails part way is sent again whole, and its first
// events then come twice, as at-least-once delivery allows (the id tells).
//
// Store is called for one event at a time, in the order the events
// arrive, which is the subscription's sequence order.
type Receiver struct {
	// Verifier, when set, refuses events that are not the county's (400).
	// Without one, events are stored as they come; check the file later
	// with VerifyStream (sealctl events verify).
	Verifier *Verifier
	// Store keeps the event durably, e.g. appends line to a file and syncs.
	Store func(e *Event, line []byte) error
	// MaxBytes bounds one request's body, one event or a batch; 0 means
	// DefaultMaxEventBytes, which the service's batches keep under too.
	MaxBytes int64

	mu sync.Mutex
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a CloudEvent", http.StatusMethodNotAllowed)
		return
	}
	ct := r.Header.Get("Content-Type")
	batch := strings.HasPrefix(ct, batchMedia)
	if !batch && !strings.HasPrefix(ct, structuredMedia) {
		http.Error(w, "want a structured-mode CloudEvent ("+structuredMedia+") or a batch ("+batchMedia+")",
			http.StatusUnsupportedMediaType)
		return
	}
	max := rc.MaxBytes
	if max <= 0 {
		max = DefaultMaxEventBytes
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil || int64(len(body)) > max {
		http.Error(w, fmt.Sprintf("request unreadable or over %d bytes", max), http.StatusRequestEntityTooLarge)
		return
	}
	var evs []*Event
	var raws []json.RawMessage
	if batch {
		evs, raws, err = ParseBatch(body)
	} else {
		var e *Event
		e, err = Parse(body)
		evs, raws = []*Event{e}, []json.RawMessage{body}
	}
	// Every event is checked and laid out as its line before any is stored.
	lines := make([][]byte, len(evs))
	for i := 0; err == nil && i < len(evs); i++ {
		if rc.Verifier != nil {
			if err = rc.Verifier.Verify(evs[i]); err != nil {
				break
			}
		}
		var line bytes.Buffer // one event a line, whatever the sender's layout
		if err = json.Compact(&line, raws[i]); err == nil {
			line.WriteByte('\n')
			lines[i] = line.Bytes()
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	for i := 0; err == nil && i < len(evs); i++ {
		err = rc.Store(evs[i], lines[i])
	}
	rc.mu.Unlock()
	if err != nil {
		http.Error(w, "cannot store the event", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// AppendTo returns a Store that appends each event's line to f and syncs
// it before the event is acknowledged.
func AppendTo(f *os.File) func(*Event, []byte) error {
	return func(_ *Event, line []byte) error {
		if _, err := f.Write(line); err != nil {
			return err
		}
		return f.Sync()
	}
}

// LoadRoots reads the county root certificate(s), PEM, that events must
// chain to.
func LoadRoots(path string) (*smx509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	roots := smx509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, errors.New("events: " + path + " holds no PEM certificate")
	}
	return roots, nil
}
