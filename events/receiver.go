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
// the service pushes. For each POST it reads one structured-mode CloudEvent
// (bounded by MaxBytes), checks it with Verifier when one is set, and hands
// it to Store as one compact JSON line. It answers 204 only after Store
// returns nil, since a 2xx moves the sender past the event; any failure is
// answered 4xx or 5xx, and the service sends the event again.
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
	// MaxBytes bounds one event; 0 means DefaultMaxEventBytes.
	MaxBytes int64

	mu sync.Mutex
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a CloudEvent", http.StatusMethodNotAllowed)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), structuredMedia) {
		http.Error(w, "want a structured-mode CloudEvent ("+structuredMedia+")", http.StatusUnsupportedMediaType)
		return
	}
	max := rc.MaxBytes
	if max <= 0 {
		max = DefaultMaxEventBytes
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil || int64(len(body)) > max {
		http.Error(w, fmt.Sprintf("event unreadable or over %d bytes", max), http.StatusRequestEntityTooLarge)
		return
	}
	e, err := Parse(body)
	if err == nil && rc.Verifier != nil {
		err = rc.Verifier.Verify(e)
	}
	var line bytes.Buffer // one event a line, whatever the sender's layout
	if err == nil {
		err = json.Compact(&line, body)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	line.WriteByte('\n')
	rc.mu.Lock()
	err = rc.Store(e, line.Bytes())
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
