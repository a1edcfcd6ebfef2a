package outbox

import (
	"context"
	"errors"
	"time"

	"github.com/ronganxian/eseal/seal"
)

// State is where a subscription is in its life.
type State string

const (
	// Active: events are delivered.
	Active State = "active"
	// Paused: the county office stopped delivery; the cursor stays.
	Paused State = "paused"
	// Parked: delivery failed past the retry limit; an operator resumes it
	// once the receiver is fixed.
	Parked State = "parked"
)

// Auth is how the service proves itself to a receiver.
type Auth string

const (
	AuthNone   Auth = "none"
	AuthBearer Auth = "bearer" // Authorization: Bearer <credential>
	AuthMTLS   Auth = "mtls"   // a client certificate; credential is its key
)

// Subscription is one receiver of events: the provincial platform's
// endpoint, or a supervising department's, with what it receives.
type Subscription struct {
	ID       string
	Endpoint string // an https URL; http only to a loopback address
	Filter   seal.RecordFilter
	Auth     Auth
	// Credential is the sealed secret as stored (see Sealer): a bearer
	// token, or the PEM key of ClientCert. Never returned by the API.
	Credential []byte
	ClientCert []byte // PEM, for AuthMTLS
	ServerCA   []byte // PEM roots for the receiver's TLS; empty: the system's
	// Batch is the most events sent in one request. 0 or 1: one event a
	// request, in structured mode, which every CloudEvents receiver
	// takes. More: batched mode (application/cloudevents-batch+json), one
	// request for a run of events, for receivers that take it, such as
	// events.Receiver; it saves a request per event when events come
	// faster than the receiver's round trip.
	Batch int

	State      State
	Generation uint64 // changes at each pause, resume and replay
	Cursor     uint64 // the last seq delivered (acknowledged by the receiver)
	Failures   int    // failed attempts in a row
	LastError  string
	Delivered  uint64    // events delivered in all
	LastSent   time.Time // when the last was acknowledged
	LeaseOwner string
	LeaseUntil time.Time
	Created    time.Time
	CreatedBy  string
}

// Errors of the subscriptions' store.
var (
	// ErrNotFound: no subscription has the id.
	ErrNotFound = seal.ErrNotFound
	// ErrExists: a subscription has the id already.
	ErrExists = errors.New("outbox: a subscription with this id exists")
	// ErrLeaseLost: another process delivers the subscription now, or an
	// operator changed it (its generation moved).
	ErrLeaseLost = errors.New("outbox: the subscription's lease was lost")
)

// Store keeps the subscriptions beside the ledger (the sqlstore
// implements it on both databases).
type Store interface {
	CreateSubscription(ctx context.Context, s *Subscription) error
	Subscription(ctx context.Context, id string) (*Subscription, error)
	Subscriptions(ctx context.Context) ([]*Subscription, error)
	// SetSubscriptionState moves a subscription to state, clears its
	// failures and bumps its generation; with cursor non-nil it also sets
	// the cursor (a replay).
	SetSubscriptionState(ctx context.Context, id string, state State, cursor *uint64) (*Subscription, error)
	// AcquireLease makes owner the subscription's deliverer until until,
	// if it is active and no other owner holds an unexpired lease at now.
	// It returns the subscription as it is then, and whether owner holds it.
	AcquireLease(ctx context.Context, id, owner string, now, until time.Time) (*Subscription, bool, error)
	// Delivered moves the cursor to seq, counts n more deliveries and
	// renews the lease, if owner still holds it in generation gen; else
	// ErrLeaseLost.
	Delivered(ctx context.Context, id, owner string, gen, seq, n uint64, now, until time.Time) error
	// Failed records a failed attempt (and parks the subscription when park
	// is set), if owner still holds the lease in gen; else ErrLeaseLost.
	Failed(ctx context.Context, id, owner string, gen uint64, failures int, lastErr string, park bool, until time.Time) error
	// SetSubscriptionCredential replaces the sealed credential (a KEK
	// rotation: ResealSecrets).
	SetSubscriptionCredential(ctx context.Context, id string, sealed []byte) error
	// ReleaseLease gives the lease up, if owner holds it.
	ReleaseLease(ctx context.Context, id, owner string) error
	// PrevMatching returns the last seq before seq that f matches, or 0.
	PrevMatching(ctx context.Context, f seal.RecordFilter, seq uint64) (uint64, error)
	// Records is the ledger's (seal.LedgerStore.Records).
	Records(ctx context.Context, f seal.RecordFilter, afterSeq uint64, limit int) ([]*seal.Record, error)
}
