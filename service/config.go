// Package service assembles the sealing service from its configuration:
// it opens the store and the keystore, builds the API server, and runs it.
// It also makes the data directory of a new installation (Init) and of the
// demo (Demo). It touches the files and database its configuration names.
package service

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the county's zone on hosts without a zone database

	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/sealimage"
	"go.yaml.in/yaml/v3"
)

// Config is the service's configuration, read from a YAML file, then
// overridden by ESEAL_* environment variables, then by flags. Relative
// paths are relative to the configuration file's directory (or, without a
// file, to DataDir).
type Config struct {
	// DataDir holds the SQLite database, the KEK file and the trust files
	// unless they are configured elsewhere.
	DataDir string `yaml:"data_dir"`

	GRPCListen string `yaml:"grpc_listen"` // default 127.0.0.1:8443
	HTTPListen string `yaml:"http_listen"` // default 127.0.0.1:8080
	// MetricsListen is where /metrics (Prometheus) is served, apart from
	// REST: the metrics need no credentials. Default DefaultMetricsListen;
	// empty or "off" serves no metrics.
	MetricsListen string `yaml:"metrics_listen"`

	TLSCert     string `yaml:"tls_cert"`
	TLSKey      string `yaml:"tls_key"`
	TLSClientCA string `yaml:"tls_client_ca"`

	// TokenTTL is how long a new bearer token works (default
	// DefaultTokenTTL). TokenOverlap is how long a principal's other tokens
	// keep working after its token is rotated (default
	// DefaultTokenOverlap), so that a window application can switch over.
	TokenTTL     Duration `yaml:"token_ttl"`
	TokenOverlap Duration `yaml:"token_overlap"`

	// Store is "sqlite" (default: DataDir/seal.db) or "postgres".
	Store       string `yaml:"store"`
	SQLitePath  string `yaml:"sqlite_path"`
	PostgresDSN string `yaml:"postgres_dsn"`

	// KEKFile (default DataDir/kek, mode 0600) or KEKEnv (the name of an
	// environment variable that holds the key-encryption key).
	KEKFile string `yaml:"kek_file"`
	KEKEnv  string `yaml:"kek_env"`

	// CRLURL is the CRL distribution point that the certificates the
	// county CA issues from now on carry (crlurl.go): default this
	// service's /county.crl on http_listen; a county behind a proxy sets
	// its public address; "off" for none.
	CRLURL string `yaml:"crl_url"`

	SealValidity     Duration `yaml:"seal_validity"`      // default 3 years
	MaxDocumentBytes int64    `yaml:"max_document_bytes"` // default 32 MiB
	// MaxUnaryDocumentBytes bounds a document sent in one message (Seal,
	// Verify, REST; default 4 MiB); larger ones are streamed.
	MaxUnaryDocumentBytes int64 `yaml:"max_unary_document_bytes"`
	// MaxBytesInFlight bounds what the documents being received, sealed and
	// verified hold together (default 320 MiB).
	MaxBytesInFlight int64 `yaml:"max_bytes_in_flight"`
	// MemoryLimit is the Go runtime's soft memory limit (default: the bytes
	// in flight and 128 MiB; GOMEMLIMIT overrides it).
	MemoryLimit     int64    `yaml:"memory_limit"`
	RequestTimeout  Duration `yaml:"request_timeout"`  // default 60 s
	CheckpointEvery Duration `yaml:"checkpoint_every"` // default 10 min
	// The event push (service/events.go, package outbox). EventSource is
	// the events' source attribute (default DefaultEventSource); the rest
	// tune delivery, zero for outbox's defaults: the lease a replica holds
	// on a subscription (30 s), how often new records are looked for
	// (1 s), one delivery's timeout (10 s), the backoff's bounds (1 s to
	// 5 min) and the failures in a row that park a subscription (20); and
	// two memory budgets: the newest records kept for all subscriptions'
	// workers (1000), and the body of one batched-mode request (1 MiB).
	EventSource      string   `yaml:"event_source"`
	EventLease       Duration `yaml:"event_lease"`
	EventPoll        Duration `yaml:"event_poll"`
	EventSendTimeout Duration `yaml:"event_send_timeout"`
	EventBackoffMin  Duration `yaml:"event_backoff_min"`
	EventBackoffMax  Duration `yaml:"event_backoff_max"`
	EventParkAfter   int64    `yaml:"event_park_after"`
	EventTail        int64    `yaml:"event_tail"`
	EventBatchBytes  int64    `yaml:"event_batch_bytes"`
	// DocumentsRetentionDays is how long the service keeps a sealed
	// document (retention.go): 0, the default, keeps them for ever; past
	// it a document is deleted every RetentionEvery (default 1 h) and its
	// ledger record stays. ArchiveMaxBytes bounds one archive package
	// (default 256 MiB).
	DocumentsRetentionDays int64    `yaml:"documents_retention_days"`
	RetentionEvery         Duration `yaml:"retention_every"`
	ArchiveMaxBytes        int64    `yaml:"archive_max_bytes"`
	ArchiveConcurrency     int64    `yaml:"archive_concurrency"` // exports at once, default 2
	// CalendarFile is the county's working-day calendar (workday's YAML:
	// holidays and 调休 worked days), on which items' time limits are
	// counted; default: the built-in calendar of 2026.
	CalendarFile string `yaml:"calendar_file"`
	// MaxDecodedBytes, MaxStreamBytes, ObjStmCacheBytes, MaxObjects and
	// MaxValues bound what one document may cost to seal or verify (see
	// pdf.Limits): the bytes its streams decode in all and one stream,
	// the object streams kept decoded, the objects it defines and the
	// values parsed from them. Zero is pdf's default.
	MaxDecodedBytes  int64 `yaml:"max_decoded_bytes"`  // default 64 MiB
	MaxStreamBytes   int64 `yaml:"max_stream_bytes"`   // default 16 MiB
	ObjStmCacheBytes int64 `yaml:"objstm_cache_bytes"` // default 8 MiB
	MaxObjects       int64 `yaml:"max_objects"`        // default 524288
	MaxValues        int64 `yaml:"max_values"`         // default 1048576
	// Profile is "default" (PKCS#7 with SM3withSM2, for Java verifiers),
	// "gmt0010", or "ses" (a GB/T 38540 SES_Signature, /GM.sm2seal, which
	// Chinese electronic-seal readers verify and PDF tools do not).
	Profile string `yaml:"profile"`
	// SealImageDir holds <township code>.png images of the seals, for a
	// county that uses the scans of its real seals; a seal without one is
	// drawn by the rules (package sealimage) from its name.
	SealImageDir string `yaml:"seal_image_dir"`
	// SealFont is the font file whose glyph outlines draw the seals' text
	// (default: AR PL UMing, from Debian's fonts-arphic-uming).
	SealFont string `yaml:"seal_font"`
	// SealDiameterMM is the size of a drawn seal: 42 (default) or, in
	// provinces that use it, 40.
	SealDiameterMM int64 `yaml:"seal_diameter_mm"`
	// LogFormat is "text" (default) or "json".
	LogFormat string `yaml:"log_format"`
	// LogLevel is "debug", "info" (default), "warn" or "error". Each call
	// is logged at debug when it succeeds, at info when it is refused or
	// fails, at warn when the database cannot be reached.
	LogLevel string `yaml:"log_level"`
	// TimeZone is the county's zone (default Asia/Shanghai): the signing
	// time written in sealed PDFs (/M) and the times in the logs are
	// given in it, with its offset. The ledger keeps instants.
	TimeZone string `yaml:"time_zone"`

	// The county time-stamping authority (tsa.go). TSAListen is its own
	// address (empty or "off" serves none, as by default: the sealer asks
	// it in process all the same; the demo serves it on a free loopback
	// port; anything but loopback needs tls_cert and tls_key). TSAURL is the TSA the sealer
	// asks for every seal's token: empty for the county TSA in process, a
	// URL for another, "off" for none. TSAUnreachable says what a sealing
	// does when no token can be had: "refuse" (default) or "seal_without"
	// (the demo's); both are recorded. TSAPolicy (default
	// tsa.DefaultPolicyOID), TSAAccuracy (default 1s) and
	// TSAMaxRequestBytes (default 4096) shape the county TSA;
	// TSATokenReserve is the largest token expected from an external TSA
	// (default 8192), TSAHash the imprint it gets ("sm3", default, or
	// "sha256").
	TSAListen          string   `yaml:"tsa_listen"`
	TSAURL             string   `yaml:"tsa_url"`
	TSAUnreachable     string   `yaml:"tsa_unreachable"`
	TSAPolicy          string   `yaml:"tsa_policy"`
	TSAAccuracy        Duration `yaml:"tsa_accuracy"`
	TSAMaxRequestBytes int64    `yaml:"tsa_max_request_bytes"`
	TSATokenReserve    int64    `yaml:"tsa_token_reserve"`
	TSAHash            string   `yaml:"tsa_hash"`
	// LTV "on" adds to every sealed document, after its seal, a /DSS with
	// the county's current CRL and the certificates of its chains (ltv in
	// tsa.go); "off" (default) leaves that to `sealctl ltv`.
	LTV string `yaml:"ltv"`
	// VerifyQR has sealings draw the verification QR code, and
	// PublicLookup bounds the public lookup it leads to (verifyqr.go).
	VerifyQR     *VerifyQRConfig    `yaml:"verify_qr"`
	PublicLookup PublicLookupConfig `yaml:"public_lookup"`
}

// DefaultTSAListen is the county TSA's conventional address, which `sealsvc
// tsa` serves on unless told otherwise.
const DefaultTSAListen = "127.0.0.1:8318"

// DefaultTimeZone is the county's zone unless configured.
const DefaultTimeZone = "Asia/Shanghai"

// Zone returns the configured zone; Validate has checked that it loads.
func (c *Config) Zone() *time.Location {
	loc, err := time.LoadLocation(cmp.Or(c.TimeZone, DefaultTimeZone))
	if err != nil {
		return time.UTC
	}
	return loc
}

// DefaultMetricsListen is where /metrics is served unless configured.
const DefaultMetricsListen = "127.0.0.1:9090"

// The defaults of token_ttl, a year, and token_overlap, a day.
const (
	DefaultTokenTTL     = 8760 * time.Hour
	DefaultTokenOverlap = 24 * time.Hour
)

// Duration is a time.Duration written like "10m" in YAML.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// LoadConfig reads the file at path (none when path is empty) and applies
// the environment. It does not validate; see Config.Validate.
func LoadConfig(path string) (*Config, error) {
	// The metrics address starts at its default, so that an empty value,
	// in the file or the environment, turns the metrics off.
	c := &Config{MetricsListen: DefaultMetricsListen}
	base := ""
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		base = filepath.Dir(path)
	}
	if err := c.applyEnv(os.LookupEnv); err != nil {
		return nil, err
	}
	c.resolve(base)
	return c, nil
}

// env lists the environment variables and the fields they set.
func (c *Config) env() map[string]any {
	return map[string]any{
		"ESEAL_DATA_DIR": &c.DataDir, "ESEAL_GRPC_LISTEN": &c.GRPCListen, "ESEAL_HTTP_LISTEN": &c.HTTPListen,
		"ESEAL_TLS_CERT": &c.TLSCert, "ESEAL_TLS_KEY": &c.TLSKey, "ESEAL_TLS_CLIENT_CA": &c.TLSClientCA,
		"ESEAL_STORE": &c.Store, "ESEAL_SQLITE_PATH": &c.SQLitePath, "ESEAL_POSTGRES_DSN": &c.PostgresDSN,
		"ESEAL_KEK_FILE": &c.KEKFile, "ESEAL_KEK_ENV": &c.KEKEnv, "ESEAL_SEAL_VALIDITY": &c.SealValidity, "ESEAL_CRL_URL": &c.CRLURL,
		"ESEAL_MAX_DOCUMENT_BYTES": &c.MaxDocumentBytes, "ESEAL_REQUEST_TIMEOUT": &c.RequestTimeout,
		"ESEAL_MAX_UNARY_DOCUMENT_BYTES": &c.MaxUnaryDocumentBytes, "ESEAL_MAX_BYTES_IN_FLIGHT": &c.MaxBytesInFlight,
		"ESEAL_MEMORY_LIMIT":     &c.MemoryLimit,
		"ESEAL_CHECKPOINT_EVERY": &c.CheckpointEvery, "ESEAL_PROFILE": &c.Profile,
		"ESEAL_SEAL_IMAGE_DIR": &c.SealImageDir, "ESEAL_SEAL_FONT": &c.SealFont, "ESEAL_SEAL_DIAMETER_MM": &c.SealDiameterMM,
		"ESEAL_LOG_FORMAT": &c.LogFormat, "ESEAL_LOG_LEVEL": &c.LogLevel, "ESEAL_TIME_ZONE": &c.TimeZone,
		"ESEAL_METRICS_LISTEN": &c.MetricsListen, "ESEAL_TOKEN_TTL": &c.TokenTTL, "ESEAL_TOKEN_OVERLAP": &c.TokenOverlap,
		"ESEAL_MAX_DECODED_BYTES": &c.MaxDecodedBytes, "ESEAL_MAX_STREAM_BYTES": &c.MaxStreamBytes,
		"ESEAL_CALENDAR_FILE": &c.CalendarFile, "ESEAL_EVENT_SOURCE": &c.EventSource, "ESEAL_EVENT_LEASE": &c.EventLease, "ESEAL_EVENT_POLL": &c.EventPoll,
		"ESEAL_EVENT_SEND_TIMEOUT": &c.EventSendTimeout, "ESEAL_EVENT_BACKOFF_MIN": &c.EventBackoffMin,
		"ESEAL_EVENT_BACKOFF_MAX": &c.EventBackoffMax, "ESEAL_EVENT_PARK_AFTER": &c.EventParkAfter,
		"ESEAL_EVENT_TAIL": &c.EventTail, "ESEAL_EVENT_BATCH_BYTES": &c.EventBatchBytes,
		"ESEAL_OBJSTM_CACHE_BYTES": &c.ObjStmCacheBytes, "ESEAL_MAX_OBJECTS": &c.MaxObjects, "ESEAL_MAX_VALUES": &c.MaxValues,
		"ESEAL_TSA_LISTEN": &c.TSAListen, "ESEAL_TSA_URL": &c.TSAURL, "ESEAL_TSA_UNREACHABLE": &c.TSAUnreachable,
		"ESEAL_TSA_POLICY": &c.TSAPolicy, "ESEAL_TSA_ACCURACY": &c.TSAAccuracy, "ESEAL_TSA_MAX_REQUEST_BYTES": &c.TSAMaxRequestBytes,
		"ESEAL_TSA_TOKEN_RESERVE": &c.TSATokenReserve, "ESEAL_TSA_HASH": &c.TSAHash, "ESEAL_LTV": &c.LTV,
		"ESEAL_DOCUMENTS_RETENTION_DAYS": &c.DocumentsRetentionDays, "ESEAL_RETENTION_EVERY": &c.RetentionEvery,
		"ESEAL_ARCHIVE_MAX_BYTES": &c.ArchiveMaxBytes, "ESEAL_ARCHIVE_CONCURRENCY": &c.ArchiveConcurrency,
	}
}

func (c *Config) applyEnv(lookup func(string) (string, bool)) error {
	for name, field := range c.env() {
		v, ok := lookup(name)
		if !ok {
			continue
		}
		switch f := field.(type) {
		case *string:
			*f = v
		case *int64:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("config: %s=%q is not a number", name, v)
			}
			*f = n
		case *Duration:
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("config: %s=%q is not a duration", name, v)
			}
			*f = Duration(d)
		}
	}
	return nil
}

// resolve fills defaults and makes paths absolute against base.
func (c *Config) resolve(base string) {
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	c.DataDir = abs(base, c.DataDir)
	if base == "" {
		base = c.DataDir
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.GRPCListen, "127.0.0.1:8443")
	def(&c.HTTPListen, "127.0.0.1:8080")
	if c.MetricsListen == "off" {
		c.MetricsListen = ""
	}
	if c.TSAListen == "off" {
		c.TSAListen = ""
	}
	def(&c.TSAUnreachable, "refuse")
	def(&c.TSAHash, "sm3")
	def(&c.LTV, "off")
	def(&c.Store, "sqlite")
	def(&c.Profile, "default")
	def(&c.LogFormat, "text")
	def(&c.LogLevel, "info")
	def(&c.TimeZone, DefaultTimeZone)
	def(&c.SealFont, sealimage.DefaultFontPath)
	if c.SealDiameterMM == 0 {
		c.SealDiameterMM = 42
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = Duration(DefaultTokenTTL)
	}
	if c.TokenOverlap == 0 {
		c.TokenOverlap = Duration(DefaultTokenOverlap)
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = Duration(10 * time.Minute) // a negative interval disables checkpoints
	}
	if c.SQLitePath == "" {
		c.SQLitePath = filepath.Join(c.DataDir, "seal.db")
	}
	if c.KEKFile == "" && c.KEKEnv == "" {
		c.KEKFile = filepath.Join(c.DataDir, "kek")
	}
	for _, p := range []*string{&c.SQLitePath, &c.KEKFile, &c.TLSCert, &c.TLSKey, &c.TLSClientCA, &c.SealImageDir, &c.SealFont, &c.CalendarFile} {
		if *p != "" {
			*p = abs(base, *p)
		}
	}
}

func abs(base, p string) string {
	if filepath.IsAbs(p) || base == "" {
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return a
	}
	return filepath.Join(base, p)
}

// Validate checks the configuration for mistakes an operator can fix.
func (c *Config) Validate() error {
	var errs []error
	if c.Store != "sqlite" && c.Store != "postgres" {
		errs = append(errs, fmt.Errorf("store %q is not sqlite or postgres", c.Store))
	}
	if c.SealDiameterMM < 30 || c.SealDiameterMM > 60 {
		errs = append(errs, fmt.Errorf("seal_diameter_mm %d is outside 30–60 (a township seal is 42, or 40)", c.SealDiameterMM))
	}
	if c.Store == "postgres" && c.PostgresDSN == "" {
		errs = append(errs, errors.New("store postgres needs postgres_dsn (or ESEAL_POSTGRES_DSN)"))
	}
	if c.KEKFile != "" && c.KEKEnv != "" {
		errs = append(errs, errors.New("set kek_file or kek_env, not both"))
	}
	if c.Profile != "default" && c.Profile != "gmt0010" && c.Profile != "ses" {
		errs = append(errs, fmt.Errorf("profile %q is not default, gmt0010 or ses", c.Profile))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log_format %q is not text or json", c.LogFormat))
	}
	if _, err := time.LoadLocation(cmp.Or(c.TimeZone, DefaultTimeZone)); err != nil {
		errs = append(errs, fmt.Errorf("time_zone %q: %v", c.TimeZone, err))
	}
	if _, ok := logLevels[c.LogLevel]; !ok {
		errs = append(errs, fmt.Errorf("log_level %q is not debug, info, warn or error", c.LogLevel))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert and tls_key go together"))
	}
	if c.MaxDocumentBytes < 0 || c.MaxUnaryDocumentBytes < 0 || c.MaxBytesInFlight < 0 || c.MemoryLimit < 0 {
		errs = append(errs, errors.New("max_document_bytes, max_unary_document_bytes, max_bytes_in_flight and memory_limit must not be negative"))
	}
	if c.MaxDecodedBytes < 0 || c.MaxStreamBytes < 0 || c.ObjStmCacheBytes < 0 || c.MaxObjects < 0 || c.MaxValues < 0 {
		errs = append(errs, errors.New("max_decoded_bytes, max_stream_bytes, objstm_cache_bytes, max_objects and max_values must not be negative"))
	}
	if c.TokenTTL < 0 || c.TokenOverlap < 0 {
		errs = append(errs, errors.New("token_ttl and token_overlap must not be negative"))
	} else if c.TokenOverlap >= c.TokenTTL {
		errs = append(errs, fmt.Errorf("token_overlap (%v) must be shorter than token_ttl (%v)",
			time.Duration(c.TokenOverlap), time.Duration(c.TokenTTL)))
	}
	if c.EventParkAfter < 0 || c.EventTail < 0 || c.EventBatchBytes < 0 || c.EventTail > 1<<20 || c.EventBatchBytes > 1<<30 {
		errs = append(errs, errors.New("event_park_after, event_tail and event_batch_bytes must not be negative, nor event_tail over 1048576 records or event_batch_bytes over 1 GiB"))
	}
	if c.DocumentsRetentionDays < 0 || c.RetentionEvery < 0 || c.ArchiveMaxBytes < 0 || c.ArchiveConcurrency < 0 {
		errs = append(errs, errors.New("documents_retention_days, retention_every, archive_max_bytes and archive_concurrency must not be negative"))
	}
	errs = append(errs, c.validateTSA()...)
	errs = append(errs, c.validateQR()...)
	return errors.Join(errs...)
}

// DocumentLimits are the limits on what one document may cost to seal or
// verify.
func (c *Config) DocumentLimits() pdf.Limits {
	return pdf.Limits{MaxDecodedBytes: c.MaxDecodedBytes, MaxStreamBytes: c.MaxStreamBytes,
		ObjStmCacheBytes: c.ObjStmCacheBytes, MaxObjects: c.MaxObjects, MaxValues: c.MaxValues}
}
