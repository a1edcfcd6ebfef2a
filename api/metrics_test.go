package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
)

// TestMetricsListener: /metrics is served on the metrics listener only, in
// Prometheus's text format, over TLS when TLS is on; the REST listener
// answers 404 for it and still serves /healthz.
func TestMetricsListener(t *testing.T) {
	for _, over := range []transport{plaintext, overTLS} {
		t.Run(string(over), func(t *testing.T) {
			e := newEnvOver(t, "sqlite", over, func(c *Config) { c.MetricsAddr = "127.0.0.1:0" })
			if _, err := sealv1.NewSealingServiceClient(e.conn).Seal(e.as("changan-approval"),
				sealReq("m-1", "450224-XK-0002", "M-1", permit, readDecision(t))); err != nil {
				t.Fatal(err)
			}
			if r := e.rest(t, "GET", "/metrics", "", nil); r.code != http.StatusNotFound {
				t.Errorf("GET /metrics on the REST listener: %d, want 404", r.code)
			}
			if r := e.rest(t, "GET", "/healthz", "", nil); r.code != http.StatusOK {
				t.Errorf("GET /healthz on the REST listener: %d", r.code)
			}
			if e.srv.MetricsAddr() == "" || e.srv.MetricsAddr() == e.srv.HTTPAddr() {
				t.Fatalf("metrics listen on %q, REST on %q", e.srv.MetricsAddr(), e.srv.HTTPAddr())
			}
			scheme := map[transport]string{plaintext: "http", overTLS: "https"}[over]
			resp, err := e.httpClient("").Get(scheme + "://" + e.srv.MetricsAddr() + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.HasPrefix([]byte(resp.Header.Get("Content-Type")), []byte("text/plain")) {
				t.Fatalf("GET /metrics on the metrics listener: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			want := `eseal_seal_decisions_total{item="450224-XK-0002",result="sealed",rule="",township="450224100"} 1`
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("the metrics lack %s:\n%s", want, body)
			}
		})
	}
}

// TestMetricsOff: without a metrics address nothing serves /metrics.
func TestMetricsOff(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	if e.srv.MetricsAddr() != "" {
		t.Errorf("metrics served on %s without an address", e.srv.MetricsAddr())
	}
	if r := e.rest(t, "GET", "/metrics", "", nil); r.code != http.StatusNotFound {
		t.Errorf("GET /metrics on the REST listener: %d, want 404", r.code)
	}
}

// TestMetricsRefusePlainTextOffLoopback: the metrics listener follows the
// rule of the others.
func TestMetricsRefusePlainTextOffLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:9090"} {
		_, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MetricsAddr: addr}, Deps{})
		if !errors.Is(err, ErrPlaintextOffLoopback) {
			t.Errorf("metrics on %s without TLS: %v", addr, err)
		}
	}
}
