package seal

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// LedgerStore keeps the ledger: store.Ledger, in the service.
type LedgerStore interface {
	// Append chains r after the current head (setting Seq, PrevHash and
	// Hash via Record.Link) and stores it, with document (the sealed PDF)
	// when r is a sealing, in one durable transaction: when Append returns,
	// the record and the document survive a crash. The chain stays one
	// gap-free sequence when several processes append at once.
	//
	// Request ids are scoped to the township: a sealing whose RequestID
	// its township sealed before is not stored, and Append returns the
	// earlier record and ErrDuplicateRequest. Another township's request
	// id is another request. Refusals do not reserve their request id. A
	// supervision result with a request id that its department used for
	// the same case before is likewise not stored: Append returns the
	// earlier result and ErrDuplicateRequest.
	//
	// The fence: in the same transaction, a sealing whose seal the
	// keystore no longer holds active (see Fenced) is stored as a refusal
	// by Fenced's rule, without its document, and Append returns that
	// record and the *Refusal.
	Append(ctx context.Context, r *Record, document []byte) (*Record, error)
	// Head returns the last record, or ErrNotFound when the ledger is empty.
	Head(ctx context.Context) (*Record, error)
	// Record returns the record with sequence number seq, or ErrNotFound.
	Record(ctx context.Context, seq uint64) (*Record, error)
	// Records returns up to limit records after afterSeq that match f, in
	// sequence order.
	Records(ctx context.Context, f RecordFilter, afterSeq uint64, limit int) ([]*Record, error)
	// Result returns the sealed record with this request id in this
	// township, and its document, or ErrNotFound. When the document was
	// deleted under the retention policy, it returns the record, no
	// document, and ErrDocumentDeleted.
	Result(ctx context.Context, township, requestID string) (*Record, []byte, error)
	// AddCheckpoint stores a signed checkpoint.
	AddCheckpoint(ctx context.Context, c *Checkpoint) error
	// Checkpoints returns every checkpoint, oldest first.
	Checkpoints(ctx context.Context) ([]*Checkpoint, error)
}

// RecordFilter selects ledger records. Zero fields match everything.
type RecordFilter struct {
	Township string
	Domains  []string
}

// Matches reports whether r passes the filter. A record of AllDomains (a
// seal's lifecycle) passes every domain filter.
func (f RecordFilter) Matches(r *Record) bool {
	return (f.Township == "" || r.Township == f.Township) &&
		(len(f.Domains) == 0 || r.Domain == AllDomains || slices.Contains(f.Domains, r.Domain))
}

// CheckpointKeys signs the ledger's checkpoints and says whose checkpoints
// to believe: in the service, the keystore's ledger key, which the county
// CA certified for that one use.
type CheckpointKeys interface {
	// CheckpointKey returns the key that signs checkpoints and its
	// certificate, or an error wrapping ErrNoCheckpointKey.
	CheckpointKey(ctx context.Context) (crypto.Signer, *smx509.Certificate, error)
	// CheckpointTrust returns the roots and the ledger-key test that a
	// checkpoint's signer must pass.
	CheckpointTrust(ctx context.Context) (*CheckpointTrust, error)
}

// Errors of the Ledger.
var (
	// ErrPermission: the principal may not read what it asked for.
	ErrPermission = errors.New("permission denied")
	// ErrLedgerEmpty: there is no record to checkpoint yet.
	ErrLedgerEmpty = errors.New("the ledger is empty")
	// ErrNoCheckpointKey: no key may sign checkpoints now (an external CA
	// has not certified one yet, or its certificate expired).
	ErrNoCheckpointKey = errors.New("no key to sign ledger checkpoints")
	// ErrDocumentDeleted: the record is a sealing, but its sealed document
	// was deleted under the retention policy; the record and its hashes
	// stay in the ledger.
	ErrDocumentDeleted = errors.New("the sealed document was deleted under the retention policy")
)

// Pages of records: the default, and the most one call returns.
const (
	DefaultPage = 100
	MaxPage     = 1000
)

// watchPoll is how often a watch looks for records that other replicas
// appended; appends in this process wake it at once.
const watchPoll = time.Second

// Ledger is the domain's ledger: it appends the Sealer's decisions, decides
// who may read which records, signs and schedules checkpoints, and verifies
// the chain against them.
type Ledger struct {
	store  LedgerStore
	keys   CheckpointKeys
	now    func() time.Time
	notify appendNotifier
}

// NewLedger returns the ledger kept in st, whose checkpoints keys signs and
// checks. keys may be nil: checkpoints and Verify then fail with
// ErrNoCheckpointKey.
func NewLedger(st LedgerStore, keys CheckpointKeys) *Ledger {
	return &Ledger{store: st, keys: keys, now: time.Now, notify: appendNotifier{ch: make(chan struct{})}}
}

// Append stores a decision (see LedgerStore.Append) and wakes the watchers.
func (l *Ledger) Append(ctx context.Context, r *Record, document []byte) (*Record, error) {
	rec, err := l.store.Append(ctx, r, document)
	if _, fenced := AsRefusal(err); err == nil || fenced {
		l.notify.wake()
	}
	return rec, err
}

// Appended returns a channel that is closed at the next append in this
// process: the event outbox waits on it instead of polling alone.
func (l *Ledger) Appended() <-chan struct{} { return l.notify.wait() }

// Result returns the sealed record of a township's request id and its
// document. It applies no access rule: that is Sealer.Result's.
func (l *Ledger) Result(ctx context.Context, township, requestID string) (*Record, []byte, error) {
	return l.store.Result(ctx, township, requestID)
}

// Scope narrows a requested filter to what who may read: a supervisor its
// domains, a clerk its township, the county office everything. Asking for
// more fails with ErrPermission.
func Scope(who *Principal, f RecordFilter) (RecordFilter, error) {
	if who == nil {
		return f, fmt.Errorf("%w: no ledger access without credentials", ErrPermission)
	}
	switch who.Role {
	case RoleAdmin:
	case RoleSupervisor:
		if len(f.Domains) == 0 {
			f.Domains = who.Domains
		}
		for _, d := range f.Domains {
			if !who.Supervises(d) {
				return f, fmt.Errorf("%w: supervisor %s does not supervise %s", ErrPermission, who.ID, d)
			}
		}
	case RoleClerk:
		if f.Township != "" && f.Township != who.Township {
			return f, fmt.Errorf("%w: clerk %s reads only the records of township %s", ErrPermission, who.ID, who.Township)
		}
		f.Township = who.Township
	default:
		return f, fmt.Errorf("%w: role %q has no ledger access", ErrPermission, who.Role)
	}
	return f, nil
}

// Records returns up to limit records after afterSeq that match f and that
// who may read (limit ≤ 0 is DefaultPage; at most MaxPage), and the
// sequence number to continue after, or 0 when there are no more.
func (l *Ledger) Records(ctx context.Context, who *Principal, f RecordFilter, afterSeq uint64, limit int) ([]*Record, uint64, error) {
	f, err := Scope(who, f)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	recs, err := l.store.Records(ctx, f, afterSeq, limit)
	if err != nil {
		return nil, 0, err
	}
	var next uint64
	if len(recs) == limit {
		next = recs[len(recs)-1].Seq
	}
	return recs, next, nil
}

// Record returns record seq if who may read it. A record it may not read
// does not exist for it (ErrNotFound).
func (l *Ledger) Record(ctx context.Context, who *Principal, seq uint64) (*Record, error) {
	f, err := Scope(who, RecordFilter{})
	if err != nil {
		return nil, err
	}
	r, err := l.store.Record(ctx, seq)
	if err != nil {
		return nil, err
	}
	if !f.Matches(r) {
		return nil, fmt.Errorf("ledger record %d: %w", seq, ErrNotFound)
	}
	return r, nil
}

// Watch sends to send the records after afterSeq that match f and that who
// may read, then each new one as it is appended, until ctx ends (nil) or
// send fails (its error).
func (l *Ledger) Watch(ctx context.Context, who *Principal, f RecordFilter, afterSeq uint64, send func(*Record) error) error {
	f, err := Scope(who, f)
	if err != nil {
		return err
	}
	for {
		wake := l.notify.wait() // before reading, so that no append is missed
		recs, err := l.store.Records(ctx, f, afterSeq, DefaultPage)
		if ctx.Err() != nil {
			return nil // the watcher went away
		}
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := send(r); err != nil {
				return err
			}
			afterSeq = r.Seq
		}
		if len(recs) == DefaultPage {
			continue
		}
		t := time.NewTimer(watchPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Checkpoints returns every checkpoint, oldest first.
func (l *Ledger) Checkpoints(ctx context.Context) ([]*Checkpoint, error) {
	return l.store.Checkpoints(ctx)
}

// Checkpoint signs the current head and stores the checkpoint. It fails
// with ErrLedgerEmpty before the first record, and with ErrNoCheckpointKey
// when no key may sign.
func (l *Ledger) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	head, err := l.store.Head(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrLedgerEmpty
	} else if err != nil {
		return nil, err
	}
	if l.keys == nil {
		return nil, fmt.Errorf("%w: this service has no checkpoint key", ErrNoCheckpointKey)
	}
	key, cert, err := l.keys.CheckpointKey(ctx)
	if err != nil {
		return nil, err
	}
	c, err := SignCheckpoint(head, l.now(), key, cert)
	if err != nil {
		return nil, err
	}
	if err := l.store.AddCheckpoint(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// RunCheckpoints signs the head every interval when it has moved, until
// ctx ends. Failures are logged and tried again at the next tick.
func (l *Ledger) RunCheckpoints(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		head, err := l.store.Head(ctx)
		if err != nil || head.Seq == last {
			continue
		}
		c, err := l.Checkpoint(ctx)
		if err != nil {
			log.Error("signing a ledger checkpoint", "err", err)
			continue
		}
		last = c.Seq
		log.Info("ledger checkpoint", "seq", c.Seq)
	}
}

// LedgerReport is the result of verifying the whole ledger.
type LedgerReport struct {
	Valid              bool
	RecordsChecked     uint64
	CheckpointsMatched uint64
	// Break says where and why the ledger fails; nil when it is valid.
	Break *ChainBreak
}

// Verify checks the whole chain, record by record, and every checkpoint,
// whose signers must pass the CheckpointKeys' trust. A broken ledger is a
// report, not an error; errors are failures to read it.
func (l *Ledger) Verify(ctx context.Context) (*LedgerReport, error) {
	cps, err := l.store.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	if l.keys == nil {
		return nil, fmt.Errorf("%w: so no trust to check checkpoints against", ErrNoCheckpointKey)
	}
	trust, err := l.keys.CheckpointTrust(ctx)
	if err != nil {
		return nil, err
	}
	rep := &LedgerReport{}
	v, err := NewChainVerifier(cps, trust)
	if err != nil {
		return rep.broken(err)
	}
	var after uint64
	for {
		recs, err := l.store.Records(ctx, RecordFilter{}, after, MaxPage)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if err := v.Add(r); err != nil {
				rep.RecordsChecked, rep.CheckpointsMatched = v.Checked, v.Anchored
				return rep.broken(err)
			}
			after = r.Seq
		}
		if len(recs) < MaxPage {
			break
		}
	}
	rep.RecordsChecked, rep.CheckpointsMatched = v.Checked, v.Anchored
	if err := v.Finish(); err != nil {
		return rep.broken(err)
	}
	rep.Valid = true
	return rep, nil
}

// broken records why the ledger failed: a *ChainBreak as it is, any other
// failure of a checkpoint (an untrusted signer, say) at no record.
func (r *LedgerReport) broken(err error) (*LedgerReport, error) {
	var br *ChainBreak
	if !errors.As(err, &br) {
		br = &ChainBreak{Reason: err.Error()}
	}
	r.Break = br
	return r, nil
}

// appendNotifier wakes watchers when this process appends to the ledger.
type appendNotifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel that is closed at the next append.
func (n *appendNotifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *appendNotifier) wake() {
	n.mu.Lock()
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}
