package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Readiness defaults: the database is asked every second, and must answer
// within a second, so that readiness turns false within about two seconds of
// the database going away, however many probes a load balancer sends.
const (
	DefaultReadyEvery   = time.Second
	DefaultReadyTimeout = time.Second
)

// readiness is whether this replica can serve: whether its database
// answers. A load balancer sends traffic only to a ready replica. One
// goroutine asks the database (Config.ReadyCheck) every ReadyEvery with a
// deadline of ReadyTimeout, and keeps the answer: /readyz and gRPC health
// read it, so probes cost the database nothing. Liveness (/healthz) says
// only that the process serves.
type readiness struct {
	check          func(context.Context) error
	every, timeout time.Duration
	health         *health.Server
	// services are the names gRPC health answers for besides "" (the
	// whole server), so that a load balancer may ask about the one it
	// routes, e.g. seal.v1.SealingService.
	services []string
	log      *slog.Logger
	ready    atomic.Bool
}

// set publishes st for the server and each of its services.
func (r *readiness) set(st healthpb.HealthCheckResponse_ServingStatus) {
	r.health.SetServingStatus("", st)
	for _, name := range r.services {
		r.health.SetServingStatus(name, st)
	}
}

// probe asks the database once and publishes the answer: gRPC health
// for the whole server ("") and each seal.v1 service is SERVING or
// NOT_SERVING. A change is
// logged, with the cause when the database is lost.
func (r *readiness) probe(ctx context.Context) {
	err := error(nil)
	if r.check != nil {
		cctx, cancel := context.WithTimeout(ctx, r.timeout)
		err = r.check(cctx)
		cancel()
	}
	if ctx.Err() != nil {
		return // shutting down: Shutdown sets NOT_SERVING
	}
	was := r.ready.Swap(err == nil)
	if err == nil {
		r.set(healthpb.HealthCheckResponse_SERVING)
		if !was {
			r.log.Info("ready: the database answers")
		}
		return
	}
	r.set(healthpb.HealthCheckResponse_NOT_SERVING)
	if was {
		r.log.Warn("not ready: the database does not answer", "timeout", r.timeout, "database", err.Error())
	}
}

// run probes every r.every until ctx ends.
func (r *readiness) run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.probe(ctx)
		}
	}
}

// serveHTTP answers /readyz: 200 when ready, 503 when not. The cause is in
// the server's log, not in the answer.
func (r *readiness) serveHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.ready.Load() {
		w.Write([]byte("ready\n"))
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte("not ready: the database does not answer\n"))
}
