package service

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/tsa"
	"github.com/ronganxian/eseal/verify"
)

// TestTSAConfig: the tsa_* settings are checked, and the TSA is not served
// in plaintext off loopback.
func TestTSAConfig(t *testing.T) {
	for _, tc := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.TSAUnreachable = "maybe" }, "tsa_unreachable"},
		{func(c *Config) { c.TSAHash = "md5" }, "tsa_hash"},
		{func(c *Config) { c.TSAPolicy = "not.an.oid" }, "tsa_policy"},
		{func(c *Config) { c.TSAURL = "http://tsa.example.cn/tsr" }, "https"},
		{func(c *Config) { c.TSAURL = "ftp://127.0.0.1/" }, "tsa_url"},
		{func(c *Config) { c.TSATokenReserve = -1 }, "tsa_token_reserve"},
	} {
		c := testConfig(t, "sqlite", "")
		tc.set(c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate: %v, want an error naming %s", err, tc.want)
		}
	}
	c := testConfig(t, "sqlite", "")
	if c.TSAListen != "" || c.TSAUnreachable != "refuse" {
		t.Errorf("defaults: tsa_listen %q, tsa_unreachable %q; want off and refuse", c.TSAListen, c.TSAUnreachable)
	}
	svc := openService(t, c)
	if _, err := svc.ListenTSA("0.0.0.0:0"); !errors.Is(err, ErrTSAPlaintextOffLoopback) {
		t.Errorf("plaintext off loopback: %v", err)
	}
}

// TestServiceTSA: the service's county TSA, on the keystore's TSA key,
// answers openssl over HTTP with a token that chains to the trust bundle,
// and the sealer stamps every seal with it.
func TestServiceTSA(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := testConfig(t, "sqlite", "")
	DemoTSA(c)
	svc := openService(t, c)
	if err := svc.EnsureCA(ctx, "融安县电子印章CA (TEST)", "融安县政务服务监督管理办公室"); err != nil {
		t.Fatal(err)
	}
	ln, err := svc.ListenTSA(c.TSAListen)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.ServeTSA(ctx, ln) }()

	dir := t.TempDir()
	data := filepath.Join(dir, "decision.pdf")
	os.WriteFile(data, []byte("%PDF-1.7 决定书"), 0o600)
	q, err := exec.Command("openssl", "ts", "-query", "-data", data, "-sm3", "-cert").Output()
	if err != nil {
		t.Fatalf("openssl ts -query: %v", err)
	}
	resp, err := http.Post("http://"+ln.Addr().String(), "application/timestamp-query", bytes.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token, err := tsa.ParseResponse(reply)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cms.VerifyTimeStampToken(token, nil)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := svc.Keystore.TrustBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, chain, err := svc.Keystore.TSAKey().TSASigner(ctx)
	if err != nil || !tr.Signer.Equal(chain[0]) || !bytes.Contains(bundle, []byte("CERTIFICATE")) {
		t.Fatalf("the token is not the keystore TSA key's: %v", err)
	}
	roots := chain[len(chain)-1:]
	if _, err := tr.Signer.Verify(verifyOpts(roots, tr.TSTInfo.GenTime)); err != nil {
		t.Errorf("the TSA does not chain to the county root: %v", err)
	}

	// The sealer's timestamping is the same TSA, in process.
	if svc.Sealer.Timestamping == nil || svc.Sealer.Timestamping.TSA != seal.Timestamper(svc.TSA) {
		t.Fatal("the sealer does not stamp with the county TSA")
	}
	sum := sm3.Sum([]byte("sig"))
	if _, err := svc.TSA.Timestamp(ctx, tsa.OIDSM3, sum[:]); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeTSA: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeTSA did not stop")
	}
}

func verifyOpts(roots []*smx509.Certificate, at time.Time) smx509.VerifyOptions {
	pool := smx509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	return smx509.VerifyOptions{Roots: pool, CurrentTime: at, KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageTimeStamping}}
}

// TestServiceLTV: with ltv lta and the county TSA, a document the service
// seals verifies as of 2050 with only the county root: its time proven by
// the county TSA, its revocation checked from the CRL in its own /DSS, and
// a document timestamp over both.
func TestServiceLTV(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t, "sqlite", "")
	DemoTSA(c)
	c.TSAListen = "" // the sealer asks the TSA in process
	c.LTV = "lta"
	svc := openService(t, c)
	if err := svc.PrepareDemo(ctx); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	clerk := &seal.Principal{ID: "450224100-approval", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}}
	out, err := svc.Sealer.Seal(ctx, clerk, seal.Input{
		Request:   seal.Request{Item: "450224-XK-0002", CaseNo: "长安-2026-LTV", DocKind: "准予行政许可决定书"},
		RequestID: "ltv-1", Document: doc})
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := svc.Keystore.TrustBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := verify.ParseCertificates(bundle)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.PDF(ctx, bytes.NewReader(out.Document), int64(len(out.Document)), verify.Options{Roots: roots,
		Now: func() time.Time { return time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Signatures[0]
	if rep.Verdict != verify.VerdictValid || s.TimeBasis != verify.TimeProven || s.Revocation != verify.RevocationGood {
		t.Errorf("in 2050: verdict %s, basis %s, revocation %s, reasons %v, warnings %v", rep.Verdict, s.TimeBasis, s.Revocation, rep.Reasons, rep.Warnings)
	}
	if len(rep.Signatures) != 2 || rep.Signatures[1].SubFilter != "ETSI.RFC3161" || !rep.Signatures[1].Valid {
		t.Errorf("ltv lta: no valid document timestamp after the DSS: %d signatures", len(rep.Signatures))
	}
}

// TestServiceExternalTSA: with tsa_url the seals are stamped by that TSA
// over HTTP; with it down, seal_without seals and says why.
func TestServiceExternalTSA(t *testing.T) {
	ctx := context.Background()
	chain := testpki.MustChain(testpki.Options{LeafName: "另一个时间戳服务 (TEST)", LeafExtensions: []pkix.Extension{testpki.TimeStampingEKU(true)}})
	other, err := tsa.New(tsa.StaticKey{Key: chain.LeafKey(), Chain: chain.Certs}, &tsa.MemorySerials{}, tsa.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ext := httptest.NewServer(&tsa.Handler{Authority: other})
	defer ext.Close()
	c := testConfig(t, "sqlite", "")
	DemoTSA(c)
	c.TSAListen, c.TSAURL = "", ext.URL
	svc := openService(t, c)
	if err := svc.PrepareDemo(ctx); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	clerk := &seal.Principal{ID: "450224100-approval", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}}
	sealOne := func(id string) *seal.Output {
		out, err := svc.Sealer.Seal(ctx, clerk, seal.Input{
			Request:   seal.Request{Item: "450224-XK-0002", CaseNo: "长安-2026-" + id, DocKind: "准予行政许可决定书"},
			RequestID: id, Document: doc})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := sealOne("ext-1")
	sigs, err := pdf.Signatures(bytes.NewReader(out.Document), int64(len(out.Document)))
	if err != nil || len(sigs) != 1 {
		t.Fatalf("signatures: %v", err)
	}
	der, _ := cms.TrimPadding(sigs[0].Contents)
	res, err := cms.Verify(der, sigs[0].SignedBytes(bytes.NewReader(out.Document)), nil)
	if err != nil || res.TimeStampToken == nil {
		t.Fatalf("the seal: %v, token %v", err, res.TimeStampToken != nil)
	}
	tr, err := cms.VerifyTimeStampToken(res.TimeStampToken, nil)
	if err != nil || tr.Signer.Subject.CommonName != "另一个时间戳服务 (TEST)" {
		t.Errorf("the token is not the external TSA's: %v", err)
	}
	if at, missing := out.Record.Timestamp(); at.IsZero() || missing != "" {
		t.Errorf("record detail %q", out.Record.Detail)
	}
	ext.Close()
	out = sealOne("ext-2")
	if at, missing := out.Record.Timestamp(); !at.IsZero() || missing == "" {
		t.Errorf("TSA down, seal_without: record detail %q", out.Record.Detail)
	}
}
