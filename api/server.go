package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	goruntime "runtime"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/outbox"
	"github.com/ronganxian/eseal/pdf"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/proto/seal/v1/sealgw"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// Config is the server's configuration.
type Config struct {
	// GRPCAddr and HTTPAddr are where gRPC and REST (with /healthz)
	// listen, e.g. 127.0.0.1:8443. A port of 0 picks a free one.
	GRPCAddr string
	HTTPAddr string
	// MetricsAddr is where /metrics (Prometheus) is served; empty serves
	// none. It is a listener of its own, not REST's, because the metrics
	// count sealings and refusals by township, item and rule, and they
	// need no credentials: bind it where only the monitoring reaches it.
	MetricsAddr string
	// TLSCertFile and TLSKeyFile enable TLS on every listener. Listening on
	// anything but loopback without TLS is refused.
	TLSCertFile, TLSKeyFile string
	// ClientCAFile, with TLS, lets callers authenticate with client
	// certificates issued under it, over gRPC and REST alike.
	ClientCAFile string
	// TokenTTL is how long a new bearer token works (default one year).
	// TokenOverlap is how long a principal's other tokens keep working
	// after its token is rotated (default 24 h), so that the program using
	// them can switch over; it must be shorter than TokenTTL.
	TokenTTL, TokenOverlap time.Duration
	// Now is the clock that token expiry is judged by (default time.Now).
	Now func() time.Time
	// MaxDocumentBytes bounds a document to seal (default 32 MiB).
	MaxDocumentBytes int64
	// MaxUnaryDocumentBytes bounds a document sent in one message: Seal,
	// Verify, and REST (default 4 MiB, at most MaxDocumentBytes). Larger
	// documents are streamed (SealStream), whose chunks are bounded alike.
	// gRPC reads a whole message before anything can refuse it, so every
	// call that carries a document holds room for this much first.
	MaxUnaryDocumentBytes int64
	// RequestTimeout bounds a unary call without a deadline (default 60 s).
	RequestTimeout time.Duration
	// ShutdownGrace is how long in-flight calls may finish (default 30 s).
	ShutdownGrace time.Duration
	// SealConcurrency is how many sealings run at once; the rest wait in
	// order of arrival (default 4 per CPU). A sealing spends about two
	// thirds of its turn waiting for the ledger's commit to reach the disk,
	// so with 2 per CPU the CPUs stood idle a third of the time; more
	// sealings in turn also make the commit groups larger.
	SealConcurrency int
	// MaxBytesInFlight bounds the bytes that the documents being received,
	// sealed and verified hold together, with what reading them holds, at
	// any concurrency (default 320 MiB); see inflight.go. It must hold
	// one largest document's sealing: New raises it to that.
	MaxBytesInFlight int64
	// DocumentLimits bound what one document may cost to read in the
	// verifications this server runs; zero fields are pdf's defaults.
	// The Sealer has its own.
	DocumentLimits pdf.Limits
	// VerifyConcurrency is how many public verifications run at once; the
	// rest wait in order until their deadline (default 1 per CPU).
	VerifyConcurrency int
	// ArchiveMaxBytes bounds one archive package (ExportArchive; default
	// DefaultArchiveMaxBytes): past it the export fails with
	// ResourceExhausted.
	ArchiveMaxBytes int64
	// ArchiveConcurrency is how many archive exports run at once; the
	// rest wait in turn (default 2). Each holds up to a document and the
	// records of its package in memory, and reads the database throughout.
	ArchiveConcurrency int
	// EventSource is the source attribute of the events in archive
	// packages, the outbox's (default "/eseal/county").
	EventSource string
	// ReadyCheck asks the database whether it answers, within its
	// context's deadline; nil is always ready. Readiness (/readyz and gRPC
	// health) follows it, asked every ReadyEvery (default 1 s) with a
	// deadline of ReadyTimeout (default 1 s); see readiness.go.
	ReadyCheck               func(context.Context) error
	ReadyEvery, ReadyTimeout time.Duration
	Logger                   *slog.Logger
	// PublicLookup bounds the public lookup of sealings by their
	// verification QR code (lookup.go).
	PublicLookup LookupConfig
}

// Deps are what the server serves, assembled by package service: the
// domain's Sealer and Ledger, the store for the registry, the principals
// and authentication, and the keystore for seal administration and the
// trust that verification uses.
type Deps struct {
	Sealer   *seal.Sealer
	Ledger   *seal.Ledger
	Store    store.Store
	Keystore *keystore.Keystore
	// Pictures draws the seals' pictures for GetSealImage; optional.
	Pictures SealPictures
	// Outbox pushes the ledger to subscriptions (SubscriptionService);
	// optional. Its metrics join the server's.
	Outbox *outbox.Outbox
}

// Server is a running sealing service.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	metrics  *metrics
	grpc     *grpc.Server
	gwGRPC   *grpc.Server // the gateway's: the in-memory listener, no TLS (gateway.go)
	http     *http.Server
	health   *health.Server
	tls      bool // whether both listeners use TLS
	inflight *inflight
	ready    *readiness
	grpcLis  net.Listener
	httpLis  net.Listener
	internal *bufconn.Listener
	conn     *grpc.ClientConn
	wg       sync.WaitGroup

	// metricsLis and metricsHTTP serve /metrics; nil without MetricsAddr.
	metricsLis  net.Listener
	metricsHTTP *http.Server
}

const gatewayCertHeader = "x-eseal-gateway-client-cert-sm3"

// ErrPlaintextOffLoopback is New's refusal to listen without TLS on an
// address that other machines can reach.
var ErrPlaintextOffLoopback = errors.New("api: refusing to listen without TLS off loopback")

// New builds the server and opens its listeners; Serve serves.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.MaxDocumentBytes <= 0 {
		cfg.MaxDocumentBytes = 32 << 20
	}
	if cfg.MaxUnaryDocumentBytes <= 0 {
		cfg.MaxUnaryDocumentBytes = 4 << 20
	}
	cfg.MaxUnaryDocumentBytes = min(cfg.MaxUnaryDocumentBytes, cfg.MaxDocumentBytes)
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 60 * time.Second
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 30 * time.Second
	}
	if cfg.SealConcurrency <= 0 {
		cfg.SealConcurrency = 4 * goruntime.GOMAXPROCS(0)
	}
	if cfg.VerifyConcurrency <= 0 {
		cfg.VerifyConcurrency = goruntime.GOMAXPROCS(0)
	}
	if cfg.MaxBytesInFlight <= 0 {
		cfg.MaxBytesInFlight = DefaultMaxBytesInFlight
	}
	cfg.MaxBytesInFlight = max(cfg.MaxBytesInFlight, sealingCost(cfg.MaxDocumentBytes)+maxMessage(cfg))
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 8760 * time.Hour
	}
	if cfg.TokenOverlap <= 0 {
		cfg.TokenOverlap = 24 * time.Hour
	}
	if cfg.TokenOverlap >= cfg.TokenTTL {
		return nil, fmt.Errorf("api: the token overlap (%v) must be shorter than the token lifetime (%v)", cfg.TokenOverlap, cfg.TokenTTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReadyEvery <= 0 {
		cfg.ReadyEvery = DefaultReadyEvery
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.ArchiveMaxBytes <= 0 {
		cfg.ArchiveMaxBytes = DefaultArchiveMaxBytes
	}
	if cfg.ArchiveConcurrency <= 0 {
		cfg.ArchiveConcurrency = DefaultArchiveConcurrency
	}
	if cfg.EventSource == "" {
		cfg.EventSource = "/eseal/county"
	}
	tlsCfg, err := serverTLS(cfg)
	if err != nil {
		return nil, err
	}
	for _, addr := range []string{cfg.GRPCAddr, cfg.HTTPAddr, cfg.MetricsAddr} {
		if addr != "" && tlsCfg == nil && !sealapi.IsLoopback(addr) {
			return nil, fmt.Errorf("%w: %s; set a certificate and key, or listen on loopback", ErrPlaintextOffLoopback, addr)
		}
	}
	if deps.Sealer == nil || deps.Ledger == nil || deps.Store == nil || deps.Keystore == nil {
		return nil, errors.New("api: a sealer, a ledger, a store and a keystore are required")
	}

	s := &Server{cfg: cfg, deps: deps, log: cfg.Logger, metrics: newMetrics(), health: health.NewServer(), tls: tlsCfg != nil,
		inflight: newInflight(cfg.MaxBytesInFlight, maxMessage(cfg), cfg.MaxDocumentBytes, cfg.RequestTimeout)}
	s.ready = &readiness{check: cfg.ReadyCheck, every: cfg.ReadyEvery, timeout: cfg.ReadyTimeout, health: s.health, log: s.log}
	ic := &interceptors{auth: &authenticator{principals: deps.Store, now: cfg.Now}, log: s.log, m: s.metrics, timeout: cfg.RequestTimeout,
		unauthLog: newRateLog(20, time.Minute), dbFaultLog: newRateLog(dbFaultLogs, time.Minute)}
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(ic.unary),
		grpc.ChainStreamInterceptor(ic.stream),
		// A document and the envelope around it; larger unary requests
		// are refused by gRPC with ResourceExhausted before they are read.
		grpc.MaxRecvMsgSize(int(maxMessage(cfg))),
		grpc.MaxSendMsgSize(int(cfg.MaxDocumentBytes) + 4<<20),
		// Calls that carry a document take their share of the bytes in
		// flight before any of it is read, and a deadline for the whole call.
		grpc.InTapHandle(s.inflight.tap),
	}
	sealapi.UseDocumentBuffers()
	// The gateway's in-memory listener is served by a server of its own: the
	// same options, interceptors and services, but no TLS (see gateway.go).
	s.gwGRPC = grpc.NewServer(opts...)
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	s.grpc = grpc.NewServer(opts...)
	both := fanout{s.grpc, s.gwGRPC}
	sealv1.RegisterSealingServiceServer(both, &sealingServer{sealer: deps.Sealer,
		maxDoc: cfg.MaxDocumentBytes, maxUnary: cfg.MaxUnaryDocumentBytes, m: s.metrics, slots: make(chan struct{}, cfg.SealConcurrency)})
	sealv1.RegisterRegistryServiceServer(both, &registryServer{st: deps.Store})
	sealv1.RegisterSealAdminServiceServer(both, &sealAdminServer{ks: deps.Keystore, st: deps.Store, pictures: deps.Pictures, log: s.log,
		ledger: deps.Ledger})
	sealv1.RegisterLedgerServiceServer(both, &ledgerServer{ledger: deps.Ledger})
	sealv1.RegisterSubscriptionServiceServer(both, &subscriptionServer{box: deps.Outbox})
	sealv1.RegisterReportServiceServer(both, &reportServer{ledger: deps.Ledger})
	docs, _ := deps.Store.(archiveStore)
	sealv1.RegisterArchiveServiceServer(both, &archiveServer{ledger: deps.Ledger, st: deps.Store, docs: docs, ks: deps.Keystore,
		source: cfg.EventSource, budget: cfg.ArchiveMaxBytes, slots: make(chan struct{}, cfg.ArchiveConcurrency)})
	sealv1.RegisterSupervisionServiceServer(both, &supervisionServer{sup: &seal.Supervision{Ledger: deps.Ledger, Cases: deps.Store,
		Zone: deps.Sealer.Zone}})
	s.metrics.reg.MustRegister(newTimelinessCollector(deps.Ledger))
	if deps.Outbox != nil {
		s.metrics.reg.MustRegister(deps.Outbox.Collectors()...)
	}
	sealv1.RegisterPrincipalServiceServer(both, &principalServer{st: deps.Store,
		ttl: cfg.TokenTTL, overlap: cfg.TokenOverlap, now: cfg.Now})
	sealv1.RegisterVerificationServiceServer(both, &verificationServer{ks: deps.Keystore, now: time.Now,
		maxDoc: cfg.MaxUnaryDocumentBytes, slots: make(chan struct{}, cfg.VerifyConcurrency), limits: cfg.DocumentLimits})
	for name := range s.grpc.GetServiceInfo() {
		s.ready.services = append(s.ready.services, name)
	}
	s.ready.set(healthpb.HealthCheckResponse_NOT_SERVING) // until the database has answered (Serve)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)

	if s.grpcLis, err = listen(cfg.GRPCAddr, tlsCfg, false); err != nil {
		return nil, err
	}
	if s.httpLis, err = listen(cfg.HTTPAddr, tlsCfg, true); err != nil {
		s.grpcLis.Close()
		return nil, err
	}
	if cfg.MetricsAddr != "" {
		// A TLS configuration of its own: an http.Server adjusts its
		// configuration when it starts serving, and the two start at once.
		metricsTLS := tlsCfg.Clone()
		if s.metricsLis, err = listen(cfg.MetricsAddr, metricsTLS, true); err != nil {
			s.closeListeners()
			return nil, err
		}
		s.metricsHTTP = &http.Server{Handler: s.metrics.handler(), ReadHeaderTimeout: 10 * time.Second, TLSConfig: metricsTLS}
	}
	// The gateway reaches gRPC through an in-memory listener, so REST goes
	// through the same interceptors without a second TLS hop; gwGRPC serves
	// it in plain text whether or not the outside listeners use TLS.
	s.internal = bufconn.Listen(1 << 20)
	s.conn, err = grpc.NewClient("passthrough:///internal",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.internal.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(int(cfg.MaxDocumentBytes)+4<<20),
			grpc.MaxCallSendMsgSize(int(cfg.MaxDocumentBytes)+1<<20)))
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	gw, err := s.gateway()
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", s.limitBody(gw))
	// /healthz is liveness: the process serves. /readyz is readiness: the
	// database answers too, as gRPC health says.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", s.ready.serveHTTP)
	// Archive packages as ZIP files (archive.go).
	mux.HandleFunc("GET "+ArchivePath, s.serveArchive)
	mux.HandleFunc("GET "+DocumentPathPattern, s.serveDocument)
	s.handlePage(mux) // the public verification page and the CRL (verifypage.go)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsCfg}
	return s, nil
}

// gateway maps REST onto the gRPC services. Only the Authorization header
// is passed on (grpc-gateway always passes it; the matcher adds nothing, so
// no client can set other metadata); a verified client certificate is
// passed as its hash under a header that only the in-memory connection may
// carry.
func (s *Server) gateway() (http.Handler, error) {
	gw := runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithMetadata(func(_ context.Context, r *http.Request) metadata.MD {
			if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
				h := sm3.Sum(r.TLS.VerifiedChains[0][0].Raw)
				return metadata.Pairs(gatewayCertHeader, hex.EncodeToString(h[:]))
			}
			return nil
		}),
	)
	ctx := context.Background()
	for _, reg := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		sealgw.RegisterSealingServiceHandler, sealgw.RegisterRegistryServiceHandler,
		sealgw.RegisterSealAdminServiceHandler, sealgw.RegisterLedgerServiceHandler,
		sealgw.RegisterPrincipalServiceHandler, sealgw.RegisterVerificationServiceHandler,
		sealgw.RegisterArchiveServiceHandler,
		sealgw.RegisterSubscriptionServiceHandler, sealgw.RegisterReportServiceHandler,
		sealgw.RegisterSupervisionServiceHandler,
	} {
		if err := reg(ctx, gw, s.conn); err != nil {
			return nil, err
		}
	}
	return gw, nil
}

// limitBody refuses REST bodies beyond what a maximal document needs in
// base64 JSON, before reading them. A body also takes its share of the
// bytes in flight, twice its length (the body, and the message the gateway
// decodes from it), before it is read; past the budget the call is refused
// with 429 and gRPC's ResourceExhausted.
func (s *Server) limitBody(h http.Handler) http.Handler {
	limit := s.cfg.MaxUnaryDocumentBytes/3*4 + 1<<20
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			http.Error(w, `{"code":8,"message":"request body exceeds the document size limit"}`, http.StatusRequestEntityTooLarge)
			return
		}
		n := r.ContentLength
		if n < 0 {
			n = limit
		}
		if n > 0 {
			sh, err := s.inflight.receiving.reserve(2 * n)
			if err != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprintf(w, `{"code":8,"message":%q}`, status.Convert(err).Message())
				return
			}
			defer sh.release()
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

// DefaultMaxBytesInFlight is Config.MaxBytesInFlight when it is not set.
const DefaultMaxBytesInFlight = 320 << 20

// maxMessage is the largest message the server reads: a document sent in
// one message, and the request around it (its texts are bounded far
// below this).
func maxMessage(cfg Config) int64 { return cfg.MaxUnaryDocumentBytes + 64<<10 }

// GRPCAddr and HTTPAddr return the listening addresses.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// MetricsAddr returns where /metrics is served, or "" when it is not.
func (s *Server) MetricsAddr() string {
	if s.metricsLis == nil {
		return ""
	}
	return s.metricsLis.Addr().String()
}

// Serve serves until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight calls finish for ShutdownGrace, and returns. The
// caller closes the store and keystore afterwards.
func (s *Server) Serve(ctx context.Context) error {
	// Readiness is known before the first call: gRPC health says
	// NOT_SERVING until the database has answered.
	readyCtx, stopReady := context.WithCancel(ctx)
	s.ready.probe(readyCtx)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.ready.run(readyCtx) }()
	errc := make(chan error, 4)
	s.wg.Add(3)
	go func() { defer s.wg.Done(); errc <- s.grpc.Serve(s.grpcLis) }()
	go func() { defer s.wg.Done(); errc <- s.gwGRPC.Serve(s.internal) }()
	go func() {
		defer s.wg.Done()
		err := s.http.Serve(s.httpLis)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- err
	}()
	if s.metricsHTTP != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := s.metricsHTTP.Serve(s.metricsLis)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}
	s.log.Info("serving", "grpc", s.GRPCAddr(), "http", s.HTTPAddr(), "metrics", s.MetricsAddr(), "tls", s.tls, "ready", s.ready.ready.Load())
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		s.log.Error("a listener failed; shutting down", "err", err)
	}
	stopReady()
	s.shutdown()
	return err
}

func (s *Server) shutdown() {
	s.health.Shutdown()
	s.log.Info("shutting down: finishing in-flight calls", "grace", s.cfg.ShutdownGrace)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	s.http.Shutdown(ctx)
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); s.gwGRPC.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
		s.gwGRPC.Stop()
	}
	if s.metricsHTTP != nil {
		s.metricsHTTP.Shutdown(ctx)
	}
	s.conn.Close()
	s.wg.Wait()
	s.log.Info("stopped")
}

func (s *Server) closeListeners() {
	s.grpcLis.Close()
	s.httpLis.Close()
	if s.metricsLis != nil {
		s.metricsLis.Close()
	}
}

func listen(addr string, tlsCfg *tls.Config, useTLS bool) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: listen %s: %w", addr, err)
	}
	if useTLS && tlsCfg != nil {
		return tls.NewListener(l, tlsCfg), nil
	}
	return l, nil
}

func serverTLS(cfg Config) (*tls.Config, error) {
	if cfg.TLSCertFile == "" && cfg.TLSKeyFile == "" {
		if cfg.ClientCAFile != "" {
			return nil, errors.New("api: client certificates need TLS: set a certificate and key")
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("api: TLS certificate: %w", err)
	}
	t := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(cfg.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("api: client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("api: client CA %s holds no certificate", cfg.ClientCAFile)
		}
		t.ClientCAs, t.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return t, nil
}
