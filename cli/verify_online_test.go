package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/service"
)

// startDemoHTTP starts a demo service whose HTTP listener is on a port
// known before the service opens, so that the seal certificates it issues
// name its /county.crl as their CRL distribution point (the default).
func startDemoHTTP(t *testing.T) *demo {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	t.Setenv("ESEAL_DATA_DIR", dir)
	c, err := service.LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	c.GRPCListen, c.HTTPListen, c.MetricsListen = "127.0.0.1:0", httpAddr, ""
	if err := service.EnsureKEK(c.KEKFile); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.Open(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := svc.PrepareDemo(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	srv, err := svc.NewServer()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; svc.Close() })
	return &demo{dir: dir, addr: srv.GRPCAddr(), svc: svc}
}

// TestVerifyOnline: a sealed decision's certificate names the service's
// CRL; offline its revocation is unknown, --online says not revoked, and
// after the county revokes the seal --online finds the revocation at once,
// with no CRL file handed around.
func TestVerifyOnline(t *testing.T) {
	d := startDemoHTTP(t)
	sealed := filepath.Join(t.TempDir(), "sealed.pdf")
	if code, out, errb := d.run(t, "450224100-approval", "stamp", decision, "-o", sealed, "--item", "450224-XK-0002",
		"--case-no", "长安-2026-0001", "--doc-kind", "准予行政许可决定书"); code != 0 {
		t.Fatalf("stamp: %d %s %s", code, out, errb)
	}
	urls, err := distributionPoints(sealed)
	if err != nil || len(urls) != 1 || !strings.HasSuffix(urls[0], "/county.crl") {
		t.Fatalf("the seal certificate's CRL distribution points: %q, %v", urls, err)
	}
	root := filepath.Join(d.dir, "trust", "root.pem")
	revocation := func(args ...string) (int, string, string) {
		t.Helper()
		code, out, errb := d.run(t, "", append([]string{"verify", "--json", "--trust", root}, append(args, sealed)...)...)
		var rep struct {
			Verdict    string
			Signatures []struct {
				Revocation string
				Reasons    []string
				Warnings   []string
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Signatures) != 1 {
			t.Fatalf("verify %v: %v: %s %s", args, err, out, errb)
		}
		s := rep.Signatures[0]
		return code, s.Revocation, strings.Join(append(s.Reasons, s.Warnings...), "; ") + errb
	}
	if code, rev, _ := revocation(); rev != "unknown" {
		t.Errorf("offline: exit %d, revocation %q, want unknown", code, rev)
	}
	if code, rev, why := revocation("--online"); code != 0 || rev != "good" {
		t.Errorf("--online: exit %d, revocation %q (%s), want 0 and good", code, rev, why)
	}
	if code, out, errb := d.run(t, "admin", "seals", "revoke", "450224100", "--reason", "keyCompromise"); code != 0 {
		t.Fatalf("revoke: %d %s %s", code, out, errb)
	}
	// Whether the document stays valid depends on whether its proven
	// signing time falls before the revocation time (whole seconds on the
	// CRL): either way the report must carry the revocation that only the
	// fetched CRL tells, with the verdict that follows from it.
	code, rev, why := revocation("--online")
	switch {
	case rev != "revoked":
		t.Errorf("--online after revocation: revocation %q (%s), want revoked", rev, why)
	case code == 0 && !strings.Contains(why, "revoked_after_signing"):
		t.Errorf("--online after revocation: valid without saying it was revoked since: %s", why)
	case code == 1 && !strings.Contains(why, "key_compromised"):
		t.Errorf("--online after revocation: invalid, but not for the key compromise: %s", why)
	case code != 0 && code != 1:
		t.Errorf("--online after revocation: exit %d (%s)", code, why)
	}
	if code, rev, _ := revocation(); rev != "unknown" {
		t.Errorf("offline after revocation: exit %d, revocation %q, want unknown", code, rev)
	}
}

// TestFetchCRL: a distribution point that fails, answers garbage or too
// much is an ErrCRLFetch naming the URL, and never a CRL.
func TestFetchCRL(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/garbage":
			w.Write([]byte("not a CRL"))
		case "/huge":
			w.Write(make([]byte, maxCRLBytes+1))
		}
	}))
	defer ts.Close()
	for _, path := range []string{"/missing", "/garbage", "/huge"} {
		crls, err := fetchCRL(context.Background(), ts.Client(), ts.URL+path)
		if !errors.Is(err, ErrCRLFetch) || crls != nil || !strings.Contains(err.Error(), ts.URL+path) {
			t.Errorf("%s: %v, %v; want ErrCRLFetch naming the URL", path, crls, err)
		}
	}
	closed := ts.URL
	ts.Close()
	if _, err := fetchCRL(context.Background(), http.DefaultClient, closed+"/county.crl"); !errors.Is(err, ErrCRLFetch) {
		t.Errorf("closed server: %v", err)
	}
}
