package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ronganxian/eseal/api"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/sealimage"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/postgres"
	"github.com/ronganxian/eseal/store/sqlite"
)

// Service is an assembled sealing service: its store, keystore and server.
type Service struct {
	Config   *Config
	Store    store.Store
	Keystore *keystore.Keystore
	Server   *api.Server
	Log      *slog.Logger

	sqlite *sqlite.DB
	closed bool
}

// NewLogger returns the service's logger for format "text" or "json".
func NewLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func loadKEK(c *Config) (*keystore.KEK, error) {
	if c.KEKEnv != "" {
		return keystore.LoadKEKEnv(c.KEKEnv)
	}
	return keystore.LoadKEKFile(c.KEKFile)
}

// Open opens the store and keystore that c names. The keystore lives in the
// SQLite database; with store postgres, the catalog, principals and ledger
// live in PostgreSQL.
func Open(ctx context.Context, c *Config, log *slog.Logger) (*Service, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	kek, err := loadKEK(c)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(c.SQLitePath), 0o700); err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, c.SQLitePath)
	if err != nil {
		return nil, err
	}
	s := &Service{Config: c, Log: log, sqlite: db}
	if c.Store == "postgres" {
		pg, err := postgres.Open(ctx, c.PostgresDSN)
		if err != nil {
			db.Close()
			return nil, err
		}
		s.Store = pg.Service()
	} else {
		s.Store = db.Service()
	}
	s.Keystore, err = keystore.Open(ctx, keystore.Config{Store: db.Keystore(), Backend: keystore.NewSoftwareBackend(kek),
		SealValidity: time.Duration(c.SealValidity)})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// images returns seal images from SealImageDir, or a generated one.
func (s *Service) images() api.SealImageSource {
	generated := sealimage.Round(600)
	return func(sl keystore.Seal) ([]byte, float64, error) {
		if s.Config.SealImageDir != "" {
			b, err := os.ReadFile(filepath.Join(s.Config.SealImageDir, sl.TownshipCode+".png"))
			if err == nil {
				return b, 42, nil
			}
			if !errors.Is(err, os.ErrNotExist) {
				return nil, 0, err
			}
		}
		return generated, 42, nil
	}
}

// NewServer builds the API server and opens its listeners.
func (s *Service) NewServer() (*api.Server, error) {
	profile := cms.ProfileDefault
	if s.Config.Profile == "gmt0010" {
		profile = cms.ProfileGMT0010
	}
	srv, err := api.New(api.Config{
		GRPCAddr: s.Config.GRPCListen, HTTPAddr: s.Config.HTTPListen,
		TLSCertFile: s.Config.TLSCert, TLSKeyFile: s.Config.TLSKey, ClientCAFile: s.Config.TLSClientCA,
		MaxDocumentBytes: s.Config.MaxDocumentBytes, RequestTimeout: time.Duration(s.Config.RequestTimeout),
		CheckpointEvery: time.Duration(s.Config.CheckpointEvery), Profile: profile, Logger: s.Log,
	}, api.Deps{Store: s.Store, Keystore: s.Keystore, Images: s.images()})
	if err != nil {
		return nil, err
	}
	s.Server = srv
	return srv, nil
}

// Serve builds the API server and serves until ctx ends.
func (s *Service) Serve(ctx context.Context) error {
	srv, err := s.NewServer()
	if err != nil {
		return err
	}
	return srv.Serve(ctx)
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
	if s.Store != nil && s.Config.Store == "postgres" {
		errs = append(errs, s.Store.Close())
	}
	errs = append(errs, s.sqlite.Close())
	return errors.Join(errs...)
}
