package api

import (
	"context"
	"errors"
	"strconv"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ruleCodes gives each rule of the seal its gRPC code: who may not
// (PermissionDenied), what does not exist (NotFound), what is not allowed in
// the current state (FailedPrecondition), what is malformed
// (InvalidArgument).
var ruleCodes = map[seal.Rule]codes.Code{
	seal.RuleUnauthenticated:    codes.Unauthenticated,
	seal.RuleNotClerk:           codes.PermissionDenied,
	seal.RuleWrongTownship:      codes.PermissionDenied,
	seal.RuleWrongWindow:        codes.PermissionDenied,
	seal.RuleBadRequest:         codes.InvalidArgument,
	seal.RuleUnknownItem:        codes.NotFound,
	seal.RuleItemInactive:       codes.FailedPrecondition,
	seal.RuleDispatchedItem:     codes.FailedPrecondition,
	seal.RuleItemNotImplemented: codes.FailedPrecondition,
	seal.RuleDocumentKind:       codes.InvalidArgument,
	seal.RuleNoSeal:             codes.FailedPrecondition,
	seal.RuleSealSuspended:      codes.FailedPrecondition,
	seal.RuleSealRevoked:        codes.FailedPrecondition,
	seal.RuleCertificateInvalid: codes.FailedPrecondition,
	seal.RuleBadDocument:        codes.InvalidArgument,
	seal.RulePlacement:          codes.InvalidArgument,
	seal.RuleRequestConflict:    codes.AlreadyExists,
	// The TSA could not be reached and the service seals only with a
	// token: the service's trouble, worth a retry.
	seal.RuleTimestampUnavailable: codes.Unavailable,
}

// RuleCode returns the gRPC code of a refusal by rule.
func RuleCode(r seal.Rule) codes.Code {
	if c, ok := ruleCodes[r]; ok {
		return c
	}
	return codes.FailedPrecondition
}

// refusalStatus is the status of a refusal: its code, its message, and an
// ErrorInfo whose reason is the rule and whose metadata has the Chinese
// explanation for the clerk.
func refusalStatus(r *seal.Refusal) *status.Status {
	st := status.New(RuleCode(r.Rule), r.Message)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason:   string(r.Rule),
		Domain:   sealapi.ErrorDomain,
		Metadata: map[string]string{"rule": string(r.Rule), "message_zh": r.Rule.Chinese()},
	}); err == nil {
		st = d
	}
	return st
}

// toStatus maps an error from the layers below to a gRPC status error. What
// is not recognised is Internal, with the detail kept out of the message.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if r, ok := seal.AsRefusal(err); ok {
		return refusalStatus(r).Err()
	}
	var ie *seal.ImportError
	if errors.As(err, &ie) {
		br := &errdetails.BadRequest{}
		for _, l := range ie.Lines {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
				Field: l.File + ":" + strconv.Itoa(l.Line), Description: l.Err.Error()})
		}
		st := status.New(codes.InvalidArgument, ie.Error())
		if d, err := st.WithDetails(br); err == nil {
			st = d
		}
		return st.Err()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case store.IsUnavailable(err):
		return &unavailableError{cause: err}
	case errors.Is(err, seal.ErrRequestConflict):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, store.ErrExists), errors.Is(err, keystore.ErrLiveSealExists), errors.Is(err, keystore.ErrPendingSealExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, seal.ErrNotFound), errors.Is(err, keystore.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, keystore.ErrInvalidRequest):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, seal.ErrPermission):
		return status.Error(codes.PermissionDenied, err.Error())
	case errors.Is(err, seal.ErrLedgerEmpty), errors.Is(err, seal.ErrNoCheckpointKey), errors.Is(err, seal.ErrDocumentDeleted),
		errors.Is(err, keystore.ErrInvalidTransition), errors.Is(err, keystore.ErrConflict):
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	var se *keystore.StateError
	if errors.As(err, &se) {
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return status.Error(codes.Internal, "internal error")
}

// unavailableMessage is what a caller is told when the database could not
// be reached: retryable, with nothing about the database's address.
const unavailableMessage = "the database is unavailable; nothing was decided, try again with the same request id"

// unavailableError is an Unavailable status that keeps the store's error,
// which names the database's fault, for the server's log (observe.go); the
// caller sees only the status.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string {
	return "rpc error: code = Unavailable desc = " + unavailableMessage
}

// GRPCStatus is what gRPC sends: Unavailable, a retryable code.
func (e *unavailableError) GRPCStatus() *status.Status {
	return status.New(codes.Unavailable, unavailableMessage)
}
