package outbox

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"time"

	"github.com/ronganxian/eseal/seal"
)

// ErrInvalid: a subscription request is not well formed.
var ErrInvalid = errors.New("outbox: invalid subscription")

// NewSubscription is what the county office gives to create one.
type NewSubscription struct {
	ID       string
	Endpoint string
	Filter   seal.RecordFilter
	Auth     Auth
	// Secret is the bearer token, or the PEM key of ClientCert. It is
	// sealed before it is stored and never returned.
	Secret     []byte
	ClientCert []byte
	ServerCA   []byte
	// Batch is the most events in one request (see Subscription.Batch),
	// at most MaxBatch.
	Batch int
	// FromSeq is the first record to deliver: 0 for those appended from
	// now on, 1 for the whole ledger.
	FromSeq uint64
}

// MaxBatch bounds Subscription.Batch: a batch is one request, read whole
// by the receiver before it answers.
const MaxBatch = 500

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Create checks and stores a new active subscription, its secret sealed
// with the KEK.
func (o *Outbox) Create(ctx context.Context, n NewSubscription, by string) (*Subscription, error) {
	if !idPattern.MatchString(n.ID) {
		return nil, fmt.Errorf("%w: id %q: use 1-63 of a-z 0-9 . _ -", ErrInvalid, n.ID)
	}
	if err := CheckEndpoint(n.Endpoint); err != nil {
		return nil, err
	}
	if n.Auth == "" {
		n.Auth = AuthNone
	}
	switch {
	case !slices.Contains([]Auth{AuthNone, AuthBearer, AuthMTLS}, n.Auth):
		return nil, fmt.Errorf("%w: auth %q: want none, bearer or mtls", ErrInvalid, n.Auth)
	case n.Auth == AuthNone && len(n.Secret) > 0:
		return nil, fmt.Errorf("%w: a secret without auth bearer or mtls", ErrInvalid)
	case n.Auth != AuthNone && len(n.Secret) == 0:
		return nil, fmt.Errorf("%w: auth %s needs a secret", ErrInvalid, n.Auth)
	case (n.Auth == AuthMTLS) != (len(n.ClientCert) > 0):
		return nil, fmt.Errorf("%w: a client certificate goes with auth mtls, and only with it", ErrInvalid)
	case n.Batch < 0 || n.Batch > MaxBatch:
		return nil, fmt.Errorf("%w: batch %d: want 0 to %d events a request", ErrInvalid, n.Batch, MaxBatch)
	}
	sub := &Subscription{ID: n.ID, Endpoint: n.Endpoint, Filter: n.Filter, Auth: n.Auth, ClientCert: n.ClientCert,
		ServerCA: n.ServerCA, Batch: n.Batch, State: Active, Generation: 1, Created: o.now().UTC(), CreatedBy: by}
	// Check the client material now, not at the first delivery.
	if _, err := (&Outbox{secrets: plainSecrets{n.Secret}}).newWorker(sub); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if n.Auth != AuthNone {
		sealed, err := o.secrets.SealSecret(secretOwner(n.ID), n.Secret)
		if err != nil {
			return nil, fmt.Errorf("sealing the credential of subscription %s: %w", n.ID, err)
		}
		sub.Credential = sealed
	}
	if n.FromSeq > 0 {
		sub.Cursor = n.FromSeq - 1
	} else {
		head, err := o.st.PrevMatching(ctx, seal.RecordFilter{}, math.MaxInt64)
		if err != nil {
			return nil, err
		}
		sub.Cursor = head
	}
	if err := o.st.CreateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	o.cfg.Log.Info("outbox: subscription created", "subscription", sub.ID, "endpoint", sub.Endpoint,
		"township", sub.Filter.Township, "domains", sub.Filter.Domains, "auth", sub.Auth, "from", sub.Cursor+1, "by", by)
	return sub, nil
}

// plainSecrets hands back the secret it holds: for checking client
// material before it is sealed.
type plainSecrets struct{ secret []byte }

func (p plainSecrets) SealSecret(string, []byte) ([]byte, error) {
	return nil, errors.New("not sealing")
}
func (p plainSecrets) OpenSecret(string, []byte) ([]byte, error) {
	return append([]byte(nil), p.secret...), nil
}

// List returns every subscription.
func (o *Outbox) List(ctx context.Context) ([]*Subscription, error) { return o.st.Subscriptions(ctx) }

// Get returns one subscription.
func (o *Outbox) Get(ctx context.Context, id string) (*Subscription, error) {
	return o.st.Subscription(ctx, id)
}

// Pause stops delivery to a subscription; its cursor stays.
func (o *Outbox) Pause(ctx context.Context, id, by string) (*Subscription, error) {
	return o.setState(ctx, id, Paused, nil, by)
}

// Resume restarts delivery to a paused or parked subscription from its
// cursor, with its failures forgotten.
func (o *Outbox) Resume(ctx context.Context, id, by string) (*Subscription, error) {
	return o.setState(ctx, id, Active, nil, by)
}

// Replay delivers again from record fromSeq (at least 1) on: the cursor
// moves back (or forward) and delivery resumes.
func (o *Outbox) Replay(ctx context.Context, id string, fromSeq uint64, by string) (*Subscription, error) {
	if fromSeq == 0 {
		return nil, fmt.Errorf("%w: replay from record 0: the first record is 1", ErrInvalid)
	}
	cursor := fromSeq - 1
	return o.setState(ctx, id, Active, &cursor, by)
}

func (o *Outbox) setState(ctx context.Context, id string, st State, cursor *uint64, by string) (*Subscription, error) {
	sub, err := o.st.SetSubscriptionState(ctx, id, st, cursor)
	if err != nil {
		return nil, err
	}
	o.cfg.Log.Info("outbox: subscription changed", "subscription", id, "state", st, "cursor", sub.Cursor, "by", by)
	return sub, nil
}

// Backlog returns how many records after the cursor the subscription's
// filter matches, up to limit: what is still to deliver.
func (o *Outbox) Backlog(ctx context.Context, sub *Subscription, limit int) (int, error) {
	recs, err := o.st.Records(ctx, sub.Filter, sub.Cursor, limit)
	return len(recs), err
}

// Leased reports whether a process holds the subscription's lease at now.
func (s *Subscription) Leased(now time.Time) bool {
	return s.LeaseOwner != "" && now.Before(s.LeaseUntil)
}
