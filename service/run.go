package service

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/ronganxian/eseal/api"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/sealkeys"
	"github.com/ronganxian/eseal/outbox"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/postgres"
	"github.com/ronganxian/eseal/store/sqlite"
	"github.com/ronganxian/eseal/tsa"
)

// Service is an assembled sealing service: its store and keystore, the
// domain built on them (the Sealer and the Ledger), and the API server
// that serves the domain.
type Service struct {
	Config   *Config
	Store    store.Store
	Keystore *keystore.Keystore
	Sealer   *seal.Sealer
	Ledger   *seal.Ledger
	Server   *api.Server
	Log      *slog.Logger
	// Outbox pushes the ledger to subscriptions (events.go).
	Outbox *outbox.Outbox
	// TSA is the county time-stamping authority (tsa.go).
	TSA *tsa.Authority

	sqlite *sqlite.DB
	// ping asks the database whether it answers: readiness.
	ping   func(context.Context) error
	closed bool
}

// logLevels are log_level's values.
var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

// NewLogger returns the service's logger as c says: log_format "text" or
// "json", log_level (info unless set), and times in time_zone.
func NewLogger(c *Config, w io.Writer) *slog.Logger {
	zone := c.Zone()
	opts := &slog.HandlerOptions{Level: logLevels[c.LogLevel], ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 && a.Value.Kind() == slog.KindTime {
			a.Value = slog.TimeValue(a.Value.Time().In(zone)) // the county's time, with its offset
		}
		return a
	}}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func loadKEK(c *Config) (*keystore.KEK, error) {
	if c.KEKEnv != "" {
		return keystore.LoadKEKEnv(c.KEKEnv)
	}
	return keystore.LoadKEKFile(c.KEKFile)
}

// kekWhere names where c keeps the KEK.
func kekWhere(c *Config) string {
	if c.KEKEnv != "" {
		return "the variable " + c.KEKEnv
	}
	return c.KEKFile
}

// ErrKeystoreInSQLite means the configuration keeps the keystore in
// PostgreSQL (store: postgres), whose keystore is empty, while the SQLite
// file at sqlite_path holds a county CA. Starting anyway would run without
// that CA, and a later init would make a second one. Configure store: sqlite
// to use the file's keystore, or move it to PostgreSQL first.
var ErrKeystoreInSQLite = errors.New("the county CA is in the SQLite file, not in PostgreSQL")

// Open opens the store and keystore that c names: with store sqlite both
// live in the SQLite file; with store postgres both live in PostgreSQL, so
// that every replica on the database shares the keystore (the CA, one live
// seal per township, the keys as encrypted envelopes, the CRLs). Every
// replica must be configured with the same KEK.
func Open(ctx context.Context, c *Config, log *slog.Logger) (*Service, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	kek, err := loadKEK(c)
	if err != nil {
		return nil, err
	}
	s := &Service{Config: c, Log: log}
	var ks keystore.Store
	if c.Store == "postgres" {
		pg, err := postgres.Open(ctx, c.PostgresDSN)
		if err != nil {
			return nil, err
		}
		if err := noCAInSQLite(ctx, c.SQLitePath, pg.Keystore()); err != nil {
			pg.Close()
			return nil, err
		}
		s.Store, ks, s.ping = pg.Service(), pg.Keystore(), pg.Ping
	} else {
		if err := os.MkdirAll(filepath.Dir(c.SQLitePath), 0o700); err != nil {
			return nil, err
		}
		db, err := sqlite.Open(ctx, c.SQLitePath)
		if err != nil {
			return nil, err
		}
		s.sqlite = db
		s.Store, ks, s.ping = db.Service(), db.Keystore(), db.Ping
	}
	backend := keystore.NewSoftwareBackend(kek)
	crlDP, err := crlDistributionPoints(c)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Keystore, err = keystore.Open(ctx, keystore.Config{Store: ks, Backend: backend,
		SealValidity: time.Duration(c.SealValidity), CRLDistributionPoints: crlDP})
	if errors.Is(err, keystore.ErrWrongKEK) && c.Store == "postgres" {
		err = fmt.Errorf("%w; every replica on one database needs the same KEK: give this replica a copy of the first replica's KEK (it reads %s)", err, kekWhere(c))
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	s.assemble()
	s.Outbox = s.newOutbox(backend)
	if s.Sealer.Calendar, err = c.calendar(); err != nil {
		s.Close()
		return nil, fmt.Errorf("calendar_file: %w", err)
	}
	if err := s.newTSA(); err != nil {
		s.Close()
		return nil, fmt.Errorf("tsa: %w", err)
	}
	return s, nil
}

// assemble builds the domain on the store and the keystore: the ledger,
// whose checkpoints the keystore's ledger key signs, and the Sealer, whose
// policy reads the catalog from the store and the township's seal from the
// keystore.
func (s *Service) assemble() {
	profile := cms.ProfileDefault
	if s.Config.Profile == "gmt0010" {
		profile = cms.ProfileGMT0010
	}
	s.Ledger = seal.NewLedger(s.Store, sealkeys.NewCheckpoints(s.Keystore))
	s.Sealer = &seal.Sealer{
		Policy:  &seal.Policy{Registry: s.Store, Keys: sealkeys.NewSeals(s.Keystore, s.images())},
		Ledger:  s.Ledger,
		Profile: profile,
		SES:     s.Config.Profile == "ses",
		Limits:  s.Config.DocumentLimits(),
		Zone:    s.Config.Zone(),
		QR:      s.Config.sealQR(),
	}
}

// noCAInSQLite fails with ErrKeystoreInSQLite if pg holds no CA while the
// SQLite file at path, if there is one, does. It reads the file without
// changing it.
func noCAInSQLite(ctx context.Context, path string, pg keystore.Store) error {
	if _, err := pg.CA(ctx); !errors.Is(err, keystore.ErrNoCA) {
		return err // a CA in PostgreSQL, or a failure to read it
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("checking %s for a keystore: %w", path, err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM keystore_ca").Scan(&n); err != nil || n == 0 {
		return nil // no keystore tables, or no CA in them
	}
	return fmt.Errorf("%w: %s holds the keystore (store: sqlite); the PostgreSQL keystore has no CA. No command moves it: "+
		"keep store: sqlite, or make the installation on PostgreSQL with `sealsvc init --store postgres --postgres-dsn DSN` in a new data directory", ErrKeystoreInSQLite, path)
}

// NewServer builds the API server and opens its listeners.
func (s *Service) NewServer() (*api.Server, error) {
	srv, err := api.New(api.Config{
		GRPCAddr: s.Config.GRPCListen, HTTPAddr: s.Config.HTTPListen, MetricsAddr: s.Config.MetricsListen,
		TLSCertFile: s.Config.TLSCert, TLSKeyFile: s.Config.TLSKey, ClientCAFile: s.Config.TLSClientCA,
		MaxDocumentBytes: s.Config.MaxDocumentBytes, RequestTimeout: time.Duration(s.Config.RequestTimeout),
		TokenTTL: time.Duration(s.Config.TokenTTL), TokenOverlap: time.Duration(s.Config.TokenOverlap),
		MaxUnaryDocumentBytes: s.Config.MaxUnaryDocumentBytes, MaxBytesInFlight: s.Config.MaxBytesInFlight,
		DocumentLimits: s.Config.DocumentLimits(), Logger: s.Log, ReadyCheck: s.ping,
		ArchiveMaxBytes: s.Config.ArchiveMaxBytes, ArchiveConcurrency: int(s.Config.ArchiveConcurrency), EventSource: cmp.Or(s.Config.EventSource, DefaultEventSource),
		PublicLookup: s.Config.lookupConfig(),
	}, api.Deps{Sealer: s.Sealer, Ledger: s.Ledger, Store: s.Store, Keystore: s.Keystore, Pictures: pictures{s}, Outbox: s.Outbox})
	if err != nil {
		return nil, err
	}
	s.Server = srv
	return srv, nil
}

// Serve builds the API server and serves until ctx ends, signing ledger
// checkpoints every checkpoint_every meanwhile.
func (s *Service) Serve(ctx context.Context) error {
	srv, err := s.NewServer()
	if err != nil {
		return err
	}
	s.limitMemory()
	if every := time.Duration(s.Config.CheckpointEvery); every > 0 {
		go s.Ledger.RunCheckpoints(ctx, every, s.Log)
	}
	go s.runRetention(ctx) // sealed documents past documents_retention_days (retention.go)
	defer s.runOutbox(ctx)()
	if s.Config.TSAListen != "" {
		ln, err := s.ListenTSA(s.Config.TSAListen)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		tsaDone := make(chan error, 1)
		go func() { tsaDone <- s.ServeTSA(ctx, ln) }()
		s.Log.Info("county TSA listening", "addr", ln.Addr().String())
		err = srv.Serve(ctx)
		cancel()
		return errors.Join(err, <-tsaDone)
	}
	return srv.Serve(ctx)
}

// limitMemory sets the Go runtime's soft memory limit, unless GOMEMLIMIT
// does, to memory_limit or else to the bytes in flight and 128 MiB for the
// rest of the service: near it the collector runs more often, so that the
// garbage of finished calls does not pile up beside the documents in
// flight. It is process-wide, so only Serve sets it.
func (s *Service) limitMemory() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	limit := s.Config.MemoryLimit
	if limit <= 0 {
		inflight := s.Config.MaxBytesInFlight
		if inflight <= 0 {
			inflight = api.DefaultMaxBytesInFlight
		}
		limit = inflight + 128<<20
	}
	debug.SetMemoryLimit(limit)
	s.Log.Info("memory limit", "bytes", limit)
}

// Close closes the keystore and the stores.
func (s *Service) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.Keystore != nil {
		errs = append(errs, s.Keystore.Close())
	}
	// The SQLite database holds both stores; PostgreSQL's service store
	// owns the connections that its keystore shares.
	if s.sqlite != nil {
		errs = append(errs, s.sqlite.Close())
	} else if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	return errors.Join(errs...)
}
