package api

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/ronganxian/eseal/outbox"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// subscriptionServer lets the county office manage where the ledger is
// pushed (package outbox). Without an outbox (a server built without one)
// every call is Unimplemented.
type subscriptionServer struct {
	sealv1.UnimplementedSubscriptionServiceServer
	box *outbox.Outbox
}

func (s *subscriptionServer) ready() error {
	if s.box == nil {
		return status.Error(codes.Unimplemented, "this server pushes no events")
	}
	return nil
}

func by(ctx context.Context) string {
	if p := PrincipalFrom(ctx); p != nil {
		return p.ID
	}
	return ""
}

func (s *subscriptionServer) CreateSubscription(ctx context.Context, req *sealv1.CreateSubscriptionRequest) (*sealv1.Subscription, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	sub, err := s.box.Create(ctx, outbox.NewSubscription{ID: req.Id, Endpoint: req.Endpoint,
		Filter: seal.RecordFilter{Township: req.TownshipCode, Domains: req.Domains}, Auth: outbox.Auth(req.Auth),
		Secret: req.Secret, ClientCert: req.ClientCertPem, ServerCA: req.ServerCaPem, Batch: batchOf(req.Batch),
		FromSeq: req.FromSeq}, by(ctx))
	clear(req.Secret)
	if err != nil {
		return nil, subscriptionStatus(err)
	}
	return subscriptionToProto(sub), nil
}

func (s *subscriptionServer) ListSubscriptions(ctx context.Context, _ *sealv1.ListSubscriptionsRequest) (*sealv1.ListSubscriptionsResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	subs, err := s.box.List(ctx)
	if err != nil {
		return nil, subscriptionStatus(err)
	}
	out := &sealv1.ListSubscriptionsResponse{}
	for _, sub := range subs {
		out.Subscriptions = append(out.Subscriptions, subscriptionToProto(sub))
	}
	return out, nil
}

func (s *subscriptionServer) PauseSubscription(ctx context.Context, req *sealv1.SubscriptionRequest) (*sealv1.Subscription, error) {
	return s.change(ctx, func() (*outbox.Subscription, error) { return s.box.Pause(ctx, req.Id, by(ctx)) })
}

func (s *subscriptionServer) ResumeSubscription(ctx context.Context, req *sealv1.SubscriptionRequest) (*sealv1.Subscription, error) {
	return s.change(ctx, func() (*outbox.Subscription, error) { return s.box.Resume(ctx, req.Id, by(ctx)) })
}

func (s *subscriptionServer) ReplaySubscription(ctx context.Context, req *sealv1.ReplaySubscriptionRequest) (*sealv1.Subscription, error) {
	return s.change(ctx, func() (*outbox.Subscription, error) { return s.box.Replay(ctx, req.Id, req.FromSeq, by(ctx)) })
}

// backlogLimit bounds the records GetSubscriptionStatus counts.
const backlogLimit = 1000

func (s *subscriptionServer) GetSubscriptionStatus(ctx context.Context, req *sealv1.SubscriptionRequest) (*sealv1.Subscription, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	sub, err := s.box.Get(ctx, req.Id)
	if err != nil {
		return nil, subscriptionStatus(err)
	}
	n, err := s.box.Backlog(ctx, sub, backlogLimit)
	if err != nil {
		return nil, subscriptionStatus(err)
	}
	out := subscriptionToProto(sub)
	out.Backlog = uint32(n)
	return out, nil
}

func (s *subscriptionServer) change(ctx context.Context, fn func() (*outbox.Subscription, error)) (*sealv1.Subscription, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	sub, err := fn()
	if err != nil {
		return nil, subscriptionStatus(err)
	}
	return subscriptionToProto(sub), nil
}

// batchOf is the request's batch size as outbox takes it. A size past
// what an int holds (on a 32-bit build) stays out of range, so that
// outbox.Create refuses it (InvalidArgument) rather than taking a wrapped
// value.
func batchOf(n uint32) int {
	if uint64(n) > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(n)
}

func subscriptionStatus(err error) error {
	switch {
	case errors.Is(err, outbox.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, outbox.ErrExists):
		return status.Error(codes.AlreadyExists, err.Error())
	}
	return toStatus(err)
}

func subscriptionToProto(s *outbox.Subscription) *sealv1.Subscription {
	ts := func(t time.Time) *timestamppb.Timestamp {
		if t.IsZero() || t.UnixMicro() == 0 {
			return nil
		}
		return timestamppb.New(t)
	}
	out := &sealv1.Subscription{Id: s.ID, Endpoint: s.Endpoint, TownshipCode: s.Filter.Township, Domains: s.Filter.Domains,
		Auth: string(s.Auth), HasServerCa: len(s.ServerCA) > 0, State: string(s.State), Cursor: s.Cursor,
		Failures: uint32(s.Failures), LastError: s.LastError, Delivered: s.Delivered, LastDeliveredAt: ts(s.LastSent),
		CreatedAt: ts(s.Created), CreatedBy: s.CreatedBy, Batch: uint32(max(s.Batch, 0))}
	if s.Leased(time.Now()) {
		out.LeaseOwner, out.LeaseUntil = s.LeaseOwner, ts(s.LeaseUntil)
	}
	return out
}
