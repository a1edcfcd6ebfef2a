package service

import (
	"context"
	"time"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/sealkeys"
	"github.com/ronganxian/eseal/outbox"
)

// DefaultEventSource is the events' source attribute unless configured.
const DefaultEventSource = "/eseal/county"

// kekSecrets seals receivers' credentials with the KEK, as keys are
// sealed: each bound to its subscription, so that a sealed credential
// copied to another row does not open.
type kekSecrets struct{ b *keystore.SoftwareBackend }

func (k kekSecrets) SealSecret(owner string, pt []byte) ([]byte, error) {
	return k.b.SealSecret(keystore.KeyRef{ID: owner, Owner: owner}, pt)
}

func (k kekSecrets) OpenSecret(owner string, sealed []byte) ([]byte, error) {
	return k.b.OpenSecret(keystore.KeyRef{ID: owner, Owner: owner}, sealed)
}

// newOutbox builds the event outbox on the store, signing with the ledger
// key, its credentials sealed by backend's KEK. Every replica runs one;
// the subscriptions' leases keep each to one replica at a time.
func (s *Service) newOutbox(backend *keystore.SoftwareBackend) *outbox.Outbox {
	st, ok := s.Store.(outbox.Store)
	if !ok {
		return nil
	}
	c := s.Config
	source := c.EventSource
	if source == "" {
		source = DefaultEventSource
	}
	return outbox.New(outbox.Config{Source: source, Lease: time.Duration(c.EventLease), Poll: time.Duration(c.EventPoll),
		SendTimeout: time.Duration(c.EventSendTimeout), BackoffMin: time.Duration(c.EventBackoffMin), BackoffMax: time.Duration(c.EventBackoffMax),
		ParkAfter: int(c.EventParkAfter), Tail: int(c.EventTail), BatchBytes: int(c.EventBatchBytes), Log: s.Log}, st, sealkeys.NewCheckpoints(s.Keystore), kekSecrets{backend}, s.Ledger.Appended)
}

// runOutbox delivers events until ctx ends or the returned stop is called;
// stop returns when the deliveries in flight have ended, so that the store
// is not closed under them.
func (s *Service) runOutbox(ctx context.Context) (stop func()) {
	if s.Outbox == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Outbox.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}
