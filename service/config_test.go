package service

import (
	"context"
	"os"
	"path/filepath"
	"testing"
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
