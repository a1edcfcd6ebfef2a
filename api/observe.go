package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
	"unicode/utf8"

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
	// unauthenticated counts calls refused for want of valid credentials;
	// they are not recorded in the ledger, which only authenticated
	// callers may fill, and they are logged at a bounded rate.
	unauthenticated *prometheus.CounterVec
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
		unauthenticated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eseal_unauthenticated_total",
			Help: "Calls refused for want of valid credentials, by method.",
		}, []string{"method"}),
	}
	m.reg.MustRegister(m.decisions, m.latency, m.ledgerSeq, m.unauthenticated,
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
// document, a token or a key, and each text cut short, since callers
// choose them.
func logged(req any) []any {
	switch r := req.(type) {
	case *sealv1.SealRequest:
		return []any{"request_id", short(r.RequestId), "township", short(r.TownshipCode), "item", short(r.ItemCode),
			"case_no", short(r.CaseNo), "doc_bytes", len(r.Document)}
	case *sealv1.SealActionRequest:
		return []any{"township", short(r.TownshipCode)}
	case *sealv1.IssueSealRequest:
		return []any{"township", short(r.TownshipCode)}
	}
	return nil
}

// short cuts a caller's text to what a log line may carry; the log
// handlers quote what does not print.
func short(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:n], len(s))
}

// interceptors authenticate and authorise, recover from panics, bound the
// time of unary calls, and log and measure every call.
type interceptors struct {
	auth    *authenticator
	log     *slog.Logger
	m       *metrics
	timeout time.Duration
	// unauthLog bounds the log lines of unauthenticated calls.
	unauthLog *rateLog
	// dbFaultLog bounds the log lines of calls that failed because the
	// database could not be reached: during an outage every call fails.
	dbFaultLog *rateLog
}

// dbFaultLogs is how many calls failed for want of the database are logged
// a minute, at most; the next line logged says how many were not.
const dbFaultLogs = 20

func (ic *interceptors) finish(ctx context.Context, method string, start time.Time, req any, err error) {
	code := status.Code(err)
	ic.m.latency.WithLabelValues(method, code.String()).Observe(time.Since(start).Seconds())
	attrs := []any{"method", method, "code", code.String(), "ms", time.Since(start).Milliseconds()}
	if code == codes.Unauthenticated {
		ic.m.unauthenticated.WithLabelValues(method).Inc()
		ok, held := ic.unauthLog.allow()
		if !ok {
			return
		}
		if held > 0 {
			attrs = append(attrs, "unauthenticated_not_logged", held)
		}
	}
	if p := PrincipalFrom(ctx); p != nil {
		attrs = append(attrs, "principal", p.ID)
	}
	attrs = append(attrs, logged(req)...)
	// A call that succeeded is logged at DEBUG: at INFO every sealing
	// wrote some 500 bytes. Refusals and failures stay at INFO, faults
	// of the service at ERROR, and a database that cannot be reached at
	// WARN with its cause, at most dbFaultLogs lines a minute.
	level := slog.LevelDebug
	var ue *unavailableError
	switch {
	case code == codes.Internal || code == codes.Unknown:
		level = slog.LevelError
		attrs = append(attrs, "err", err)
	case errors.As(err, &ue):
		ok, held := ic.dbFaultLog.allow()
		if !ok {
			return
		}
		if held > 0 {
			attrs = append(attrs, "database_faults_not_logged", held)
		}
		level = slog.LevelWarn
		attrs = append(attrs, "database", ue.cause.Error())
	case err != nil:
		level = slog.LevelInfo
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
