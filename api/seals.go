package api

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/ronganxian/eseal/keystore"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// sealAdminServer implements SealAdminService over the keystore.
type sealAdminServer struct {
	sealv1.UnimplementedSealAdminServiceServer
	ks       *keystore.Keystore
	st       store.Store
	pictures SealPictures // nil: GetSealImage is Unimplemented
	log      *slog.Logger
	// ledger records each change as a lifecycle record (seal/lifecycle.go);
	// nil records none (tests of the keystore side alone).
	ledger *seal.Ledger
}

// IssueSeal makes and activates the seal of a registered township.
func (s *sealAdminServer) IssueSeal(ctx context.Context, req *sealv1.IssueSealRequest) (*sealv1.Seal, error) {
	t, err := s.st.Township(ctx, req.TownshipCode)
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "township %s is not registered", req.TownshipCode)
	}
	sl, err := s.ks.IssueActive(ctx, keystore.SealRequest{TownshipCode: t.Code, Organization: t.Government(), Name: t.SealName})
	if err != nil {
		return nil, toStatus(err)
	}
	s.makeSESeal(ctx, sl)
	if err := s.record(ctx, seal.ActionIssue, sl, "", ""); err != nil {
		return nil, err
	}
	return sealToProto(sl), nil
}

// makeSESeal makes a new seal's national seal data (GB/T 38540 SESeal) as
// the county's seal maker, so that it exists from the seal's first day
// (it would otherwise be made on first use). A failure is logged, not
// returned: the seal stands, and its first use tries again.
func (s *sealAdminServer) makeSESeal(ctx context.Context, sl keystore.Seal) {
	if s.pictures == nil {
		return
	}
	if _, err := s.pictures.SESeal(ctx, sl.TownshipCode); err != nil {
		s.log.Warn("making the seal's SESeal", "seal", sl.ID, "err", err)
	}
}

// changed answers a lifecycle change and records it (record). A change
// whose CRL could not be republished stands, and is answered as done (and
// recorded); the failure is logged.
func (s *sealAdminServer) changed(ctx context.Context, action seal.LifecycleAction, township, oldSerial, reason string,
	sl keystore.Seal, err error) (*sealv1.Seal, error) {
	if errors.Is(err, keystore.ErrCRLNotPublished) {
		s.log.Error("publishing the CRL after a seal change", "seal", sl.ID, "err", err)
		err = nil
	}
	if err != nil {
		if sl, ok := s.recordMissed(ctx, action, township, reason, err); ok {
			return sealToProto(sl), nil
		}
		return nil, toStatus(err)
	}
	if oldSerial == "" && action != seal.ActionIssue {
		oldSerial = serialHex(sl) // a suspension, resumption or revocation keeps the certificate
	}
	if err := s.record(ctx, action, sl, oldSerial, reason); err != nil {
		return nil, err
	}
	return sealToProto(sl), nil
}

// lifecycleRecordTimeout bounds recording a change after it was made. The
// recording runs on a context of its own: a caller that hangs up after the
// keystore changed the seal must not leave the change unrecorded.
const lifecycleRecordTimeout = 10 * time.Second

// record appends the ledger record of a change that was made (the change
// first: the ledger never holds a change that did not happen), so that the
// platform and every department receive it as an event. The ledger tries
// again on failure (Ledger.RecordLifecycle); when it still fails, the
// change stands unrecorded, and the caller is told so, not told that all
// went well: Internal, with a message naming the change, and an error in
// the log for the operator.
func (s *sealAdminServer) record(ctx context.Context, action seal.LifecycleAction, sl keystore.Seal, oldSerial, reason string) error {
	if s.ledger == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lifecycleRecordTimeout)
	defer cancel()
	n := seal.LifecycleNote{Action: action, OldSerial: oldSerial, Reason: reason}
	if action != seal.ActionRevoke {
		n.NewSerial = serialHex(sl)
	}
	_, err := s.ledger.RecordLifecycle(ctx, PrincipalFrom(ctx), seal.LifecycleChange{Township: sl.TownshipCode, SealID: sl.ID,
		CertSerial: serialHex(sl), Note: n})
	if err != nil {
		s.log.Error("a seal's change stands but is not in the ledger", "seal", sl.ID, "township", sl.TownshipCode,
			"action", string(action), "err", err)
		hint := "tell the operator: the service's log names the change"
		if _, ok := missedFrom[action]; ok {
			hint = "ask for the same change again once the service's database is back, and it is recorded then"
		}
		return status.Errorf(codes.Internal, "seal %s of township %s was %s, and that stands, but its ledger record could not be stored, "+
			"so the platform and the departments were not told; %s", sl.ID, sl.TownshipCode, action.English(), hint)
	}
	return nil
}

// missedFrom says, for each change that a repeated call can find made but
// unrecorded, the state the seal is in after it, and the actions that the
// seal's last lifecycle record may name if this change is the one missing
// (nil: any, or none at all). A resumption is taken as missing only after a
// recorded suspension, so that resuming a seal that was never suspended
// records nothing. An issue or a rotation repeated is a new issue or
// rotation, not a repeat, so neither is here.
var missedFrom = map[seal.LifecycleAction]struct {
	state keystore.State
	after []seal.LifecycleAction
}{
	seal.ActionSuspend: {keystore.StateSuspended, nil},
	seal.ActionResume:  {keystore.StateActive, []seal.LifecycleAction{seal.ActionSuspend}},
	seal.ActionRevoke:  {keystore.StateRevoked, nil},
}

// recordMissed is the way back from an unrecorded change (record): the
// county office repeats the call. The keystore then refuses it, the seal
// being in the state the change gives already; if the seal's last
// lifecycle record does not name that change, the earlier call made it
// without recording it, and it is recorded now, and the call answered as
// done. Otherwise (the change was recorded, or is simply not allowed) the
// keystore's refusal stands. The record's time is now, not the change's:
// its reason says so.
func (s *sealAdminServer) recordMissed(ctx context.Context, action seal.LifecycleAction, township, reason string, cause error) (keystore.Seal, bool) {
	want, ok := missedFrom[action]
	if !ok || s.ledger == nil || !(errors.Is(cause, keystore.ErrInvalidTransition) || errors.Is(cause, keystore.ErrNoSeal)) {
		return keystore.Seal{}, false
	}
	seals, err := s.ks.Seals(ctx, township)
	if err != nil || len(seals) == 0 {
		return keystore.Seal{}, false
	}
	sl := seals[len(seals)-1] // the newest: the one the change was made to
	if sl.State != want.state {
		return keystore.Seal{}, false
	}
	last, err := s.lastLifecycle(ctx, township, sl.ID)
	if err != nil {
		return keystore.Seal{}, false
	}
	var lastAction seal.LifecycleAction
	if last != nil {
		n, err := seal.ParseLifecycleNote(last.Detail)
		if err != nil {
			return keystore.Seal{}, false
		}
		lastAction = n.Action
	}
	if lastAction == action || (want.after != nil && !slices.Contains(want.after, lastAction)) {
		return keystore.Seal{}, false
	}
	reason = strings.TrimSuffix("recorded late, when the change was asked again: "+reason, ": ")
	old := serialHex(sl)
	if err := s.record(ctx, action, sl, old, reason); err != nil {
		return keystore.Seal{}, false
	}
	return sl, true
}

// lastLifecycle returns the last lifecycle record of seal id in township,
// or nil. Lifecycle records have no case number, so the case index finds
// them (with the township's refusals that had none).
func (s *sealAdminServer) lastLifecycle(ctx context.Context, township, id string) (*seal.Record, error) {
	var last *seal.Record
	var after uint64
	for {
		recs, err := s.st.CaseRecords(ctx, township, "", after, seal.MaxPage)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if r.Result == seal.ResultLifecycle && r.SealID == id {
				last = r
			}
			after = r.Seq
		}
		if len(recs) < seal.MaxPage {
			return last, nil
		}
	}
}

// serialHex is the seal certificate's serial as ledger records carry it.
func serialHex(sl keystore.Seal) string {
	if sl.Serial == nil {
		return ""
	}
	return hex.EncodeToString(sl.Serial.Bytes())
}

func (s *sealAdminServer) SuspendSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	sl, err := s.ks.SuspendTownship(ctx, req.TownshipCode)
	return s.changed(ctx, seal.ActionSuspend, req.TownshipCode, "", req.Reason, sl, err)
}

func (s *sealAdminServer) ResumeSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	sl, err := s.ks.ResumeTownship(ctx, req.TownshipCode)
	return s.changed(ctx, seal.ActionResume, req.TownshipCode, "", req.Reason, sl, err)
}

func (s *sealAdminServer) RotateSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	var oldSerial string
	if old, err := s.ks.LiveSeal(ctx, req.TownshipCode); err == nil {
		oldSerial = serialHex(old)
	}
	sl, err := s.ks.RotateTownship(ctx, req.TownshipCode)
	if err == nil || errors.Is(err, keystore.ErrCRLNotPublished) {
		s.makeSESeal(ctx, sl)
	}
	return s.changed(ctx, seal.ActionRotate, req.TownshipCode, oldSerial, req.Reason, sl, err)
}

func (s *sealAdminServer) RevokeSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	reason, err := keystore.ParseRevocationReason(req.Reason)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	sl, err := s.ks.RevokeTownship(ctx, req.TownshipCode, reason)
	return s.changed(ctx, seal.ActionRevoke, req.TownshipCode, "", reason.String(), sl, err)
}

func (s *sealAdminServer) ListSeals(ctx context.Context, req *sealv1.ListSealsRequest) (*sealv1.ListSealsResponse, error) {
	ss, err := s.ks.Seals(ctx, req.TownshipCode)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.ListSealsResponse{}
	for _, sl := range ss {
		out.Seals = append(out.Seals, sealToProto(sl))
	}
	return out, nil
}

func (s *sealAdminServer) GetTrustBundle(ctx context.Context, _ *sealv1.GetTrustBundleRequest) (*sealv1.TrustBundle, error) {
	pem, err := s.ks.TrustBundle(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &sealv1.TrustBundle{Pem: string(pem)}, nil
}

func (s *sealAdminServer) GetCRL(ctx context.Context, _ *sealv1.GetCRLRequest) (*sealv1.CRL, error) {
	crl, err := s.ks.CRL(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &sealv1.CRL{Der: crl.DER, ThisUpdate: timestamppb.New(crl.ThisUpdate), NextUpdate: timestamppb.New(crl.NextUpdate)}, nil
}
