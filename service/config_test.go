package service

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ronganxian/eseal/api"
	"github.com/ronganxian/eseal/store"
)

// TestMetricsListen: the metrics address defaults to loopback port 9090,
// and an empty value or "off", in the file or the environment, turns the
// metrics off.
func TestMetricsListen(t *testing.T) {
	unset := "\x00unset"
	for _, tc := range []struct {
		name, file, env, want string
	}{
		{"default", "", unset, DefaultMetricsListen},
		{"file", "metrics_listen: 127.0.0.1:9100\n", unset, "127.0.0.1:9100"},
		{"file empty", "metrics_listen: \"\"\n", unset, ""},
		{"file off", "metrics_listen: \"off\"\n", unset, ""},
		{"environment", "metrics_listen: 127.0.0.1:9100\n", "127.0.0.1:9200", "127.0.0.1:9200"},
		{"environment empty", "", "", ""},
		{"environment off", "metrics_listen: 127.0.0.1:9100\n", "off", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ESEAL_METRICS_LISTEN", "")
			if tc.env == unset {
				os.Unsetenv("ESEAL_METRICS_LISTEN")
			} else {
				t.Setenv("ESEAL_METRICS_LISTEN", tc.env)
			}
			path := filepath.Join(t.TempDir(), "sealsvc.yaml")
			if err := os.WriteFile(path, []byte("data_dir: .\n"+tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if c.MetricsListen != tc.want {
				t.Errorf("metrics_listen %q, want %q", c.MetricsListen, tc.want)
			}
		})
	}
}

// TestNewServerServesMetrics: the configured metrics address reaches the
// API server.
func TestNewServerServesMetrics(t *testing.T) {
	c := testConfig(t, "sqlite", "")
	c.GRPCListen, c.HTTPListen, c.MetricsListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	svc := openService(t, c)
	srv, err := svc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	defer srv.Serve(ctx) // closes the listeners
	if srv.MetricsAddr() == "" {
		t.Fatal("no metrics listener with metrics_listen set")
	}
}

// TestTokenConfig: token_ttl and token_overlap default to a year and a
// day, come from the file and the environment, and the overlap must be
// shorter than the lifetime.
func TestTokenConfig(t *testing.T) {
	for _, tc := range []struct {
		name, file   string
		env          map[string]string
		ttl, overlap time.Duration
		invalid      bool
	}{
		{name: "defaults", ttl: 8760 * time.Hour, overlap: 24 * time.Hour},
		{name: "file", file: "token_ttl: 720h\ntoken_overlap: 2h\n", ttl: 720 * time.Hour, overlap: 2 * time.Hour},
		{name: "environment", file: "token_ttl: 720h\n", env: map[string]string{"ESEAL_TOKEN_TTL": "2160h", "ESEAL_TOKEN_OVERLAP": "30m"},
			ttl: 2160 * time.Hour, overlap: 30 * time.Minute},
		{name: "overlap as long as the lifetime", file: "token_ttl: 24h\n", ttl: 24 * time.Hour, overlap: 24 * time.Hour, invalid: true},
		{name: "negative", file: "token_overlap: -1h\n", ttl: 8760 * time.Hour, overlap: -time.Hour, invalid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadWith(t, tc.file, tc.env, "ESEAL_TOKEN_TTL", "ESEAL_TOKEN_OVERLAP")
			if time.Duration(c.TokenTTL) != tc.ttl || time.Duration(c.TokenOverlap) != tc.overlap {
				t.Errorf("token_ttl %v, token_overlap %v; want %v, %v", time.Duration(c.TokenTTL), time.Duration(c.TokenOverlap), tc.ttl, tc.overlap)
			}
			err := c.Validate()
			if got := err != nil && strings.Contains(err.Error(), "token_"); got != tc.invalid {
				t.Errorf("Validate: %v, want invalid %v", err, tc.invalid)
			}
		})
	}
}

// TestInitTokenExpires: init's admin token works for token_ttl, no more;
// a later init finds it working and keeps it, and replaces it once it has
// expired.
func TestInitTokenExpires(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t, "sqlite", "")
	c.TokenTTL, c.TokenOverlap = Duration(720*time.Hour), Duration(time.Hour)
	svc := openService(t, c)
	res, err := svc.Init(ctx, "测试县电子印章CA (TEST)", "测试县政务服务监督管理办公室")
	if err != nil {
		t.Fatal(err)
	}
	read := func() []byte {
		b, err := os.ReadFile(res.AdminToken)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := read()
	hash := api.TokenHash(strings.TrimSpace(string(first)))
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Now(), true},
		{time.Now().Add(720*time.Hour - time.Minute), true},
		{time.Now().Add(720*time.Hour + time.Minute), false},
	} {
		_, err := svc.Store.PrincipalByCredential(ctx, store.CredentialToken, hash, tc.at)
		if got := err == nil; got != tc.want {
			t.Errorf("the admin token %v from now: valid %v (%v), want %v", time.Until(tc.at).Round(time.Hour), got, err, tc.want)
		}
	}
	cfg, err := os.ReadFile(res.ConfigFile)
	if err != nil || !strings.Contains(string(cfg), "token_ttl: 720h") || !strings.Contains(string(cfg), "token_overlap: 1h") {
		t.Errorf("the configuration init wrote lacks the token settings (%v):\n%s", err, cfg)
	}

	if _, err := svc.Init(ctx, "测试县电子印章CA (TEST)", "测试县政务服务监督管理办公室"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read(), first) {
		t.Fatal("a second init replaced a working token")
	}
	// A token that expired is replaced by the next init.
	c.TokenTTL, c.TokenOverlap = Duration(time.Millisecond), Duration(time.Microsecond)
	os.Remove(res.AdminToken)
	if _, err := svc.Init(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	expired := read()
	time.Sleep(5 * time.Millisecond) // the millisecond's token expires
	c.TokenTTL, c.TokenOverlap = Duration(720*time.Hour), Duration(time.Hour)
	if _, err := svc.Init(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	renewed := read()
	if bytes.Equal(renewed, expired) {
		t.Fatal("init kept an expired token")
	}
	_, err = svc.Store.PrincipalByCredential(ctx, store.CredentialToken, api.TokenHash(strings.TrimSpace(string(renewed))), time.Now())
	if err != nil {
		t.Errorf("the token init wrote after the last one expired: %v", err)
	}
}

// TestTimeZone: time_zone (default Asia/Shanghai) must load, and the
// logs give their times in it, with its offset.
func TestTimeZone(t *testing.T) {
	for _, tc := range []struct {
		file, want string // want: the offset a log line carries, "" for invalid
	}{
		{"", "+08:00"},
		{"time_zone: Asia/Urumqi\n", "+06:00"},
		{"time_zone: UTC\n", "Z"},
		{"time_zone: Mars/Olympus\n", ""},
	} {
		t.Setenv("ESEAL_TIME_ZONE", "")
		os.Unsetenv("ESEAL_TIME_ZONE")
		path := filepath.Join(t.TempDir(), "sealsvc.yaml")
		if err := os.WriteFile(path, []byte("data_dir: .\n"+tc.file), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Validate()
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), "time_zone") {
				t.Errorf("%q: Validate %v, want a time_zone error", tc.file, err)
			}
			continue
		}
		if err != nil && strings.Contains(err.Error(), "time_zone") {
			t.Errorf("%q: %v", tc.file, err)
		}
		var out strings.Builder
		c.LogFormat = "json"
		NewLogger(c, &out).Info("hello")
		var line struct{ Time string }
		if err := json.Unmarshal([]byte(out.String()), &line); err != nil || !strings.HasSuffix(line.Time, tc.want) {
			t.Errorf("%q: log time %q (%v), want it at %s", tc.file, line.Time, err, tc.want)
		}
	}
}

// TestEventConfig: the event push's settings come from the file and the
// environment, and budgets out of range are refused.
func TestEventConfig(t *testing.T) {
	for _, tc := range []struct {
		name, file              string
		env                     map[string]string
		parkAfter, tail, batchB int64
		invalid                 bool
	}{
		{name: "defaults"},
		{name: "file", file: "event_park_after: 5\nevent_tail: 4000\nevent_batch_bytes: 4194304\n", parkAfter: 5, tail: 4000, batchB: 4 << 20},
		{name: "environment", file: "event_tail: 4000\n", env: map[string]string{"ESEAL_EVENT_PARK_AFTER": "7",
			"ESEAL_EVENT_TAIL": "2000", "ESEAL_EVENT_BATCH_BYTES": "65536"}, parkAfter: 7, tail: 2000, batchB: 65536},
		{name: "negative tail", file: "event_tail: -1\n", tail: -1, invalid: true},
		{name: "tail too large", file: "event_tail: 2000000\n", tail: 2000000, invalid: true},
		{name: "negative batch bytes", file: "event_batch_bytes: -5\n", batchB: -5, invalid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadWith(t, tc.file, tc.env, "ESEAL_EVENT_PARK_AFTER", "ESEAL_EVENT_TAIL", "ESEAL_EVENT_BATCH_BYTES")
			if c.EventParkAfter != tc.parkAfter || c.EventTail != tc.tail || c.EventBatchBytes != tc.batchB {
				t.Errorf("park_after %d, tail %d, batch_bytes %d; want %d, %d, %d", c.EventParkAfter, c.EventTail, c.EventBatchBytes,
					tc.parkAfter, tc.tail, tc.batchB)
			}
			err := c.Validate()
			if got := err != nil && strings.Contains(err.Error(), "event_"); got != tc.invalid {
				t.Errorf("Validate: %v, want invalid %v", err, tc.invalid)
			}
		})
	}
}

// loadWith loads a config file holding file, with the environment
// variables keys set as env says and unset otherwise.
func loadWith(t *testing.T, file string, env map[string]string, keys ...string) *Config {
	t.Helper()
	for _, k := range keys {
		t.Setenv(k, "") // restored after the test
		if v, ok := env[k]; ok {
			t.Setenv(k, v)
		} else {
			os.Unsetenv(k)
		}
	}
	path := filepath.Join(t.TempDir(), "sealsvc.yaml")
	if err := os.WriteFile(path, []byte("data_dir: .\n"+file), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
