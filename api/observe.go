package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// metrics are the service's Prometheus metrics, on a registry of its own so
// that several servers can live in one process (tests).
type metrics struct {
	reg       *prometheus.Registry
	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	ledgerSeq prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eseal_seal_decisions_total",
			Help: "Sealing decisions by township, item, result (sealed or refused) and the rule that refused.",
		}, []string{"township", "item", "result", "rule"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eseal_rpc_duration_seconds",
			Help:    "Duration of RPCs by method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "code"}),
		ledgerSeq: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "eseal_ledger_sequence",
			Help: "Sequence number of the last ledger record this process appended.",
		}),
	}
	m.reg.MustRegister(m.decisions, m.latency, m.ledgerSeq,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the metrics at /metrics, and nothing else, on the
// metrics listener (Config.MetricsAddr).
func (m *metrics) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return mux
}

// logged names the fields of a request that a log line may carry: never a
// document, a token or a key.
func logged(req any) []any {
	switch r := req.(type) {
	case *sealv1.SealRequest:
		return []any{"request_id", r.RequestId, "township", r.TownshipCode, "item", r.ItemCode,
			"case_no", r.CaseNo, "doc_bytes", len(r.Document)}
	case *sealv1.SealActionRequest:
		return []any{"township", r.TownshipCode}
	case *sealv1.IssueSealRequest:
		return []any{"township", r.TownshipCode}
	}
	return nil
}

// interceptors authenticate and authorise, recover from panics, bound the
// time of unary calls, and log and measure every call.
type interceptors struct {
	auth    *authenticator
	log     *slog.Logger
	m       *metrics
	timeout time.Duration
}

func (ic *interceptors) finish(ctx context.Context, method string, start time.Time, req any, err error) {
	code := status.Code(err)
	ic.m.latency.WithLabelValues(method, code.String()).Observe(time.Since(start).Seconds())
	attrs := []any{"method", method, "code", code.String(), "ms", time.Since(start).Milliseconds()}
	if p := PrincipalFrom(ctx); p != nil {
		attrs = append(attrs, "principal", p.ID)
	}
	attrs = append(attrs, logged(req)...)
	level := slog.LevelInfo
	if code == codes.Internal || code == codes.Unknown {
		level = slog.LevelError
		attrs = append(attrs, "err", err)
	} else if err != nil {
		attrs = append(attrs, "reason", status.Convert(err).Message())
	}
	ic.log.Log(ctx, level, "rpc", attrs...)
}

func (ic *interceptors) recovered(method string, err *error) {
	if r := recover(); r != nil {
		ic.log.Error("panic in handler", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = status.Error(codes.Internal, "internal error")
	}
}

func (ic *interceptors) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	ctx, err = ic.auth.authorize(ctx, info.FullMethod)
	if err != nil {
		ic.finish(context.Background(), info.FullMethod, start, req, err)
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok && ic.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ic.timeout)
		defer cancel()
	}
	defer func() { ic.finish(ctx, info.FullMethod, start, req, err) }()
	defer ic.recovered(info.FullMethod, &err)
	return h(ctx, req)
}

type authedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s authedStream) Context() context.Context { return s.ctx }

func (ic *interceptors) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	start := time.Now()
	ctx, err := ic.auth.authorize(ss.Context(), info.FullMethod)
	if err != nil {
		ic.finish(context.Background(), info.FullMethod, start, nil, err)
		return err
	}
	defer func() { ic.finish(ctx, info.FullMethod, start, nil, err) }()
	defer ic.recovered(info.FullMethod, &err)
	return h(srv, authedStream{ss, ctx})
}
