package api

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
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
func (s *sealAdminServer) changed(ctx context.Context, action seal.LifecycleAction, oldSerial, reason string,
	sl keystore.Seal, err error) (*sealv1.Seal, error) {
	if errors.Is(err, keystore.ErrCRLNotPublished) {
		s.log.Error("publishing the CRL after a seal change", "seal", sl.ID, "err", err)
		err = nil
	}
	if err != nil {
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
		return status.Errorf(codes.Internal, "seal %s of township %s: the %s stands, but its ledger record could not be stored; "+
			"the platform and the departments were not told: tell the operator", sl.ID, sl.TownshipCode, action.English())
	}
	return nil
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
	return s.changed(ctx, seal.ActionSuspend, "", req.Reason, sl, err)
}

func (s *sealAdminServer) ResumeSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	sl, err := s.ks.ResumeTownship(ctx, req.TownshipCode)
	return s.changed(ctx, seal.ActionResume, "", req.Reason, sl, err)
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
	return s.changed(ctx, seal.ActionRotate, oldSerial, req.Reason, sl, err)
}

func (s *sealAdminServer) RevokeSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	reason, err := keystore.ParseRevocationReason(req.Reason)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	sl, err := s.ks.RevokeTownship(ctx, req.TownshipCode, reason)
	return s.changed(ctx, seal.ActionRevoke, "", reason.String(), sl, err)
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
