package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/tsa"
)

// TestLTVCommand: `sealctl ltv --crl` adds the CRL and the embedded
// certificates to a stamped seal; verified as of 2050 with only the root,
// the seal's revocation is then checked from the document's own DSS, where
// without it the report says no CRL was given.
func TestLTVCommand(t *testing.T) {
	chain := testpki.MustChain(testpki.Options{})
	tsaKey, tsaCert, err := chain.IssueLeaf("测试县时间戳服务", []pkix.Extension{testpki.TimeStampingEKU(true)},
		chain.Root().NotBefore, chain.Root().NotAfter)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := tsa.New(tsa.StaticKey{Key: tsaKey, Chain: []*smx509.Certificate{tsaCert, chain.Root()}}, &tsa.MemorySerials{}, tsa.Config{})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := cms.NewSigner(chain.LeafKey(), chain.Certs, cms.ProfileDefault)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	var sealed bytes.Buffer
	if _, err := pdf.Seal(context.Background(), &sealed, bytes.NewReader(doc), int64(len(doc)),
		pdf.Request{Signer: stamping{signer, auth}, Time: time.Now(), SealName: "测试章"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	crl, err := smx509.CreateRevocationList(rand.Reader, &smx509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: now, NextUpdate: now.Add(7 * 24 * time.Hour)}, chain.Root(), chain.Keys[len(chain.Keys)-1])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out, crlFile, root := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf"), filepath.Join(dir, "county.crl"), filepath.Join(dir, "root.pem")
	os.WriteFile(in, sealed.Bytes(), 0o600)
	os.WriteFile(crlFile, crl, 0o600)
	os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain.Root().Raw}), 0o600)

	code, stdout, stderr := runSealctl(t, "ltv", "--crl", crlFile, "-o", out, in)
	if code != 0 || !strings.Contains(stdout, "/DSS with 1 CRL(s) and 3 certificate(s)") {
		t.Fatalf("ltv: exit %d\n%s%s", code, stdout, stderr)
	}
	// With --tsa, a document timestamp follows (PAdES B-LTA).
	srv := httptest.NewServer(&tsa.Handler{Authority: auth})
	defer srv.Close()
	lta := filepath.Join(dir, "lta.pdf")
	if code, stdout, stderr := runSealctl(t, "ltv", "--crl", crlFile, "--tsa", srv.URL, "-o", lta, in); code != 0 ||
		!strings.Contains(stdout, "then a document timestamp") {
		t.Fatalf("ltv --tsa: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runSealctl(t, "verify", "--trust", root, "--lang", "en", "--at", "2050-01-01", lta)
	if code != 0 || !strings.Contains(stdout, "2 signature(s), 2 valid") || !strings.Contains(stdout, "ETSI.RFC3161") && !strings.Contains(stdout, "DocTimeStamp1") {
		t.Errorf("verify the B-LTA file: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, _ := runSealctl(t, "ltv", "--crl", crlFile, "-o", out, in); code == 0 {
		t.Error("ltv overwrote its output without --force")
	}
	for _, tc := range []struct {
		file string
		has  []string
	}{
		{out, []string{"VALID", "revocation               not revoked", "validation data (/DSS) were used: 1 CRL(s) and 3 certificate(s)", "later changes            revision 3 dss (allowed)"}},
		{in, []string{"VALID", "revocation               unknown (no CRL given)"}},
	} {
		code, stdout, stderr := runSealctl(t, "verify", "--trust", root, "--lang", "en", "--at", "2050-01-01", tc.file)
		if code != 0 {
			t.Fatalf("verify %s: exit %d\n%s%s", filepath.Base(tc.file), code, stdout, stderr)
		}
		for _, want := range tc.has {
			if !strings.Contains(stdout, want) {
				t.Errorf("verify %s: output lacks %q:\n%s", filepath.Base(tc.file), want, stdout)
			}
		}
	}
}
