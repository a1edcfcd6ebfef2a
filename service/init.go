package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ronganxian/eseal/internal/atomicfile"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store/postgres"
)

// InitResult says where Init and Join put things.
type InitResult struct {
	ConfigFile string
	RootPEM    string
	AdminToken string // path of the admin's token file; Join makes none
	CRLNumber  string // the CRL published at init (empty from Join)
}

// ErrReplicaNeedsKEK: the database already holds a county CA, whose keys
// are under another replica's KEK, and this data directory has no KEK.
// Making a new one would leave every key unreadable: copy the first
// replica's KEK and run `sealsvc join`.
var ErrReplicaNeedsKEK = errors.New("the database already has a county CA: this is another replica, which needs the first replica's KEK")

// ErrJoinNeedsCA: `sealsvc join` found no county CA in the database; the
// first replica makes it with `sealsvc init`.
var ErrJoinNeedsCA = errors.New("the database has no county CA yet: run `sealsvc init` on the first replica")

// PrepareInit checks, before init makes anything, that it is not about to
// make a second installation on a database that has one: with store
// postgres and no KEK file yet, a CA in the database means this is a
// second replica (ErrReplicaNeedsKEK, naming what to do). Otherwise it
// makes the KEK file if it is missing.
func PrepareInit(ctx context.Context, c *Config) error {
	if c.KEKEnv != "" {
		return nil
	}
	if _, err := os.Stat(c.KEKFile); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if c.Store == "postgres" {
		has, err := databaseHasCA(ctx, c)
		if err != nil {
			return err
		}
		if has {
			return fmt.Errorf("%w: copy its KEK file to %s (mode 0600), then run `sealsvc join` with the same --postgres-dsn",
				ErrReplicaNeedsKEK, c.KEKFile)
		}
	}
	return EnsureKEK(c.KEKFile)
}

// databaseHasCA reports whether the PostgreSQL keystore holds a county CA.
// It opens the database without the KEK, so that nothing is recorded
// under a KEK that may be the wrong one.
func databaseHasCA(ctx context.Context, c *Config) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, fmt.Errorf("config: %w", err)
	}
	pg, err := postgres.Open(ctx, c.PostgresDSN)
	if err != nil {
		return false, err
	}
	defer pg.Close()
	_, err = pg.Keystore().CA(ctx)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, keystore.ErrNoCA):
		return false, nil
	}
	return false, err
}

// Init makes a new installation's data directory: the county CA, its first
// CRL (so that verifiers have one before any seal is suspended), the trust
// files, a configuration file with the defaults spelled out (the store and
// its DSN included), and the county office's admin credential.
func (s *Service) Init(ctx context.Context, caName, caOrg string) (*InitResult, error) {
	if err := s.EnsureCA(ctx, caName, caOrg); err != nil {
		return nil, err
	}
	crl, err := s.ensureCRL(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.writeInstallation(ctx)
	if err != nil {
		return nil, err
	}
	res.CRLNumber = crl
	creds := filepath.Join(s.Config.DataDir, "credentials")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		return nil, err
	}
	if err := s.ensureCredential(ctx, creds, seal.Principal{ID: "admin", Name: "县政务服务监督管理办公室", Role: seal.RoleAdmin}); err != nil {
		return nil, err
	}
	res.AdminToken = filepath.Join(creds, "admin.token")
	return res, nil
}

// ensureCRL publishes a CRL unless one was, and returns its number.
func (s *Service) ensureCRL(ctx context.Context) (string, error) {
	rec, err := s.Keystore.CRL(ctx)
	if errors.Is(err, keystore.ErrNotFound) {
		rec, err = s.Keystore.PublishCRL(ctx)
	}
	if err != nil {
		return "", fmt.Errorf("CRL: %w", err)
	}
	return fmt.Sprint(rec.Number), nil
}

// Join makes the data directory of another replica of an installation on
// PostgreSQL: it checks that the database has the county CA and that the
// configured KEK (copied from the first replica) is the one its keys are
// under, and writes the trust files and a configuration file. It makes no
// key, CA or credential.
func Join(ctx context.Context, c *Config, log *slog.Logger) (*InitResult, error) {
	if c.Store != "postgres" {
		return nil, fmt.Errorf("join needs store postgres (--store postgres or ESEAL_STORE), not %q: replicas share one PostgreSQL database", c.Store)
	}
	if c.KEKEnv == "" {
		if _, err := os.Stat(c.KEKFile); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no KEK at %s: copy the first replica's KEK file there (mode 0600), or set kek_env", c.KEKFile)
		} else if err != nil {
			return nil, err
		}
	}
	has, err := databaseHasCA(ctx, c)
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, ErrJoinNeedsCA
	}
	svc, err := Open(ctx, c, log)
	if err != nil {
		return nil, err
	}
	defer svc.Close()
	return svc.writeInstallation(ctx)
}

// writeInstallation writes the trust files and, if there is none yet, the
// configuration file.
func (s *Service) writeInstallation(ctx context.Context) (*InitResult, error) {
	root, err := s.WriteTrust(ctx)
	if err != nil {
		return nil, err
	}
	res := &InitResult{RootPEM: root, ConfigFile: filepath.Join(s.Config.DataDir, "sealsvc.yaml")}
	if _, err := os.Stat(res.ConfigFile); errors.Is(err, os.ErrNotExist) {
		if err := atomicfile.WriteFile(res.ConfigFile, []byte(s.Config.yaml()), 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return res, nil
}

// yaml is the starting configuration file: what init was given, and the
// defaults spelled out. It holds the DSN when the store is PostgreSQL, so
// the file is written with mode 0600.
func (c *Config) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, `# sealsvc configuration; ESEAL_* environment variables and flags override it.
data_dir: %q
grpc_listen: %q
http_listen: %q       # REST, /healthz (liveness) and /readyz (readiness: the database answers)
metrics_listen: %q   # /metrics (Prometheus), apart from REST; "off" for none
store: %q
`, c.DataDir, c.GRPCListen, c.HTTPListen, orOff(c.MetricsListen), c.Store)
	if c.Store == "postgres" {
		fmt.Fprintf(&b, "postgres_dsn: %q\n", c.PostgresDSN)
	} else {
		b.WriteString("# postgres_dsn: postgres://eseal@db.internal/eseal   # with store: postgres\n")
	}
	if c.KEKEnv != "" {
		fmt.Fprintf(&b, "kek_env: %q\n", c.KEKEnv)
	} else {
		fmt.Fprintf(&b, "kek_file: %q\n", c.KEKFile)
	}
	fmt.Fprintf(&b, `profile: %q
log_level: %q
token_ttl: %s        # how long a bearer token works
token_overlap: %s     # how long a rotated token keeps working beside its successor
`, c.Profile, c.LogLevel, durationText(time.Duration(c.TokenTTL)), durationText(time.Duration(c.TokenOverlap)))
	for _, kv := range [][2]string{{"tls_cert", c.TLSCert}, {"tls_key", c.TLSKey}, {"tls_client_ca", c.TLSClientCA}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "%s: %q\n", kv[0], kv[1])
		}
	}
	if c.TLSCert == "" {
		b.WriteString(`# tls_cert: /etc/eseal/tls.crt   # required to listen on anything but loopback
# tls_key: /etc/eseal/tls.key
# tls_client_ca: /etc/eseal/clients.pem
`)
	}
	return b.String()
}

// durationText writes d as a configuration would: 8760h, not 8760h0m0s.
func durationText(d time.Duration) string {
	switch {
	case d != 0 && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d != 0 && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// orOff is addr, or "off" for none.
func orOff(addr string) string {
	if addr == "" {
		return "off"
	}
	return addr
}
