package api

import (
	"context"
	"crypto"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/keystore"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// CheckpointSigner holds the county key that signs ledger checkpoints.
type CheckpointSigner interface {
	CheckpointKey(ctx context.Context) (crypto.Signer, *smx509.Certificate, error)
}

// TrustRoots gives the roots that checkpoint certificates must chain to.
type TrustRoots interface {
	Roots(ctx context.Context) (*smx509.CertPool, error)
}

// appendNotifier wakes watchers when this process appends to the ledger.
// Appends by other replicas are found by polling (watchPoll).
type appendNotifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func newAppendNotifier() *appendNotifier { return &appendNotifier{ch: make(chan struct{})} }

// wait returns a channel closed at the next append.
func (n *appendNotifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *appendNotifier) notify() {
	n.mu.Lock()
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}

// notifyingLedger is a store.Ledger that wakes watchers after each append.
type notifyingLedger struct {
	store.Ledger
	n *appendNotifier
}

func (l notifyingLedger) Append(ctx context.Context, r *seal.Record, doc []byte) (*seal.Record, error) {
	rec, err := l.Ledger.Append(ctx, r, doc)
	if err == nil {
		l.n.notify()
	}
	return rec, err
}

// watchPoll is how often a watch looks for records other replicas appended.
const watchPoll = time.Second

const (
	defaultPage = 100
	maxPage     = 1000
)

// ledgerServer implements LedgerService.
type ledgerServer struct {
	sealv1.UnimplementedLedgerServiceServer
	st       store.Store
	notifier *appendNotifier
	signer   CheckpointSigner
	roots    TrustRoots
	now      func() time.Time
}

// scope narrows a requested filter to what the caller may read: a
// supervisor its domains, a clerk its township, the county office all.
func scope(p *seal.Principal, f *sealv1.RecordFilter) (store.RecordFilter, error) {
	var out store.RecordFilter
	if f != nil {
		out = store.RecordFilter{Township: f.TownshipCode, Domains: f.Domains}
	}
	switch p.Role {
	case seal.RoleAdmin:
	case seal.RoleSupervisor:
		if len(out.Domains) == 0 {
			out.Domains = p.Domains
		}
		for _, d := range out.Domains {
			if !p.Supervises(d) {
				return out, status.Errorf(codes.PermissionDenied, "supervisor %s does not supervise %s", p.ID, d)
			}
		}
	case seal.RoleClerk:
		if out.Township != "" && out.Township != p.Township {
			return out, status.Errorf(codes.PermissionDenied, "clerk %s reads only the records of township %s", p.ID, p.Township)
		}
		out.Township = p.Township
	default:
		return out, status.Error(codes.PermissionDenied, "no ledger access")
	}
	return out, nil
}

// visible reports whether r passes the filter.
func visible(f store.RecordFilter, r *seal.Record) bool {
	return (f.Township == "" || r.Township == f.Township) && (len(f.Domains) == 0 || slices.Contains(f.Domains, r.Domain))
}

func (s *ledgerServer) ListRecords(ctx context.Context, req *sealv1.ListRecordsRequest) (*sealv1.ListRecordsResponse, error) {
	f, err := scope(PrincipalFrom(ctx), req.Filter)
	if err != nil {
		return nil, err
	}
	limit := int(req.Limit)
	if limit <= 0 {
		limit = defaultPage
	}
	limit = min(limit, maxPage)
	recs, err := s.st.Records(ctx, f, req.AfterSeq, limit)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.ListRecordsResponse{}
	for _, r := range recs {
		out.Records = append(out.Records, recordToProto(r))
	}
	if len(recs) == limit {
		out.NextAfterSeq = recs[len(recs)-1].Seq
	}
	return out, nil
}

func (s *ledgerServer) GetRecord(ctx context.Context, req *sealv1.GetRecordRequest) (*sealv1.LedgerRecord, error) {
	f, err := scope(PrincipalFrom(ctx), nil)
	if err != nil {
		return nil, err
	}
	r, err := s.st.Record(ctx, req.Seq)
	if err != nil {
		return nil, toStatus(err)
	}
	if !visible(f, r) {
		return nil, status.Errorf(codes.NotFound, "ledger record %d: not found", req.Seq)
	}
	return recordToProto(r), nil
}

// WatchRecords sends the matching records after req.AfterSeq, then each new
// one as it is appended, until the client goes away.
func (s *ledgerServer) WatchRecords(req *sealv1.WatchRecordsRequest, stream sealv1.LedgerService_WatchRecordsServer) error {
	ctx := stream.Context()
	f, err := scope(PrincipalFrom(ctx), req.Filter)
	if err != nil {
		return err
	}
	after := req.AfterSeq
	for {
		wake := s.notifier.wait() // before reading, so no append is missed
		recs, err := s.st.Records(ctx, f, after, defaultPage)
		if err != nil {
			return toStatus(err)
		}
		for _, r := range recs {
			if err := stream.Send(recordToProto(r)); err != nil {
				return err
			}
			after = r.Seq
		}
		if len(recs) == defaultPage {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-time.After(watchPoll):
		}
	}
}

func (s *ledgerServer) ListCheckpoints(ctx context.Context, _ *sealv1.ListCheckpointsRequest) (*sealv1.ListCheckpointsResponse, error) {
	cps, err := s.st.Checkpoints(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.ListCheckpointsResponse{}
	for _, c := range cps {
		out.Checkpoints = append(out.Checkpoints, checkpointToProto(c))
	}
	return out, nil
}

func (s *ledgerServer) CreateCheckpoint(ctx context.Context, _ *sealv1.CreateCheckpointRequest) (*sealv1.Checkpoint, error) {
	c, err := s.checkpoint(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return checkpointToProto(c), nil
}

// checkpoint signs and stores the current head.
func (s *ledgerServer) checkpoint(ctx context.Context) (*seal.Checkpoint, error) {
	head, err := s.st.Head(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Error(codes.FailedPrecondition, "the ledger is empty")
	} else if err != nil {
		return nil, err
	}
	if s.signer == nil {
		return nil, status.Error(codes.FailedPrecondition, "this service has no checkpoint key")
	}
	key, cert, err := s.signer.CheckpointKey(ctx)
	if err != nil {
		return nil, err
	}
	c, err := seal.SignCheckpoint(head, s.now(), key, cert)
	if err != nil {
		return nil, err
	}
	if err := s.st.AddCheckpoint(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyLedger checks the whole chain and its checkpoints, which must be
// signed by keys that chain to the county root.
func (s *ledgerServer) VerifyLedger(ctx context.Context, _ *sealv1.VerifyLedgerRequest) (*sealv1.VerifyLedgerResponse, error) {
	cps, err := s.st.Checkpoints(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	roots, err := s.roots.Roots(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.VerifyLedgerResponse{}
	v, err := seal.NewChainVerifier(cps, &seal.CheckpointTrust{Roots: roots, IsLedgerKey: keystore.IsLedgerCertificate})
	if err != nil {
		return breakResponse(out, err)
	}
	var after uint64
	for {
		recs, err := s.st.Records(ctx, store.RecordFilter{}, after, maxPage)
		if err != nil {
			return nil, toStatus(err)
		}
		for _, r := range recs {
			if err := v.Add(r); err != nil {
				out.RecordsChecked, out.CheckpointsMatched = v.Checked, v.Anchored
				return breakResponse(out, err)
			}
			after = r.Seq
		}
		if len(recs) < maxPage {
			break
		}
	}
	out.RecordsChecked, out.CheckpointsMatched = v.Checked, v.Anchored
	if err := v.Finish(); err != nil {
		return breakResponse(out, err)
	}
	out.Valid = true
	return out, nil
}

func breakResponse(out *sealv1.VerifyLedgerResponse, err error) (*sealv1.VerifyLedgerResponse, error) {
	var br *seal.ChainBreak
	if errors.As(err, &br) {
		out.BreakSeq, out.BreakReason = br.Seq, br.Reason
		return out, nil
	}
	out.BreakReason = err.Error()
	return out, nil
}
