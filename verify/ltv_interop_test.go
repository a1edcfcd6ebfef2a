package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	dpdf "github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
)

// openSSLTSA serves RFC 3161 with OpenSSL's TSA (openssl ts -reply): an
// RSA time-stamping authority under chain's root, written by other hands
// than ours.
func openSSLTSA(t *testing.T, chain *testpki.Chain) string {
	t.Helper()
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &smx509.Certificate{SerialNumber: big.NewInt(77), NotBefore: chain.Root().NotBefore, NotAfter: chain.Root().NotAfter,
		Subject:         pkix.Name{CommonName: "OpenSSL TSA (TEST)"},
		KeyUsage:        smx509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{testpki.TimeStampingEKU(true)}}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, chain.Root(), key.Public(), chain.Keys[len(chain.Keys)-1])
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := x509.MarshalPKCS8PrivateKey(key)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certFile := write("tsa.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyFile := write("tsa.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}))
	chainFile := write("chain.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain.Root().Raw}))
	write("serial", []byte("01\n"))
	conf := write("tsa.cnf", fmt.Appendf(nil, `[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir = %s
serial = $dir/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`, dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		q := write(fmt.Sprintf("q%d.tsq", time.Now().UnixNano()), body)
		out, err := exec.Command("openssl", "ts", "-reply", "-config", conf, "-queryfile", q, "-signer", certFile,
			"-inkey", keyFile, "-chain", chainFile).Output()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPAdESLTAFromOthers: a document signed with RSA by digitorus/pdfsign,
// its signature stamped by OpenSSL's TSA, then given a /DSS, then a
// document timestamp (pdfsign, OpenSSL's TSA again) as PAdES B-LTA does,
// verifies with its timestamps and its DSS: the signature's time proven,
// its revocation checked from the DSS, the document timestamp valid and
// its revision allowed.
func TestPAdESLTAFromOthers(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is required (scripts/install-deps.sh)")
	}
	ctx := context.Background()
	chain := testpki.MustChain(testpki.Options{KeyType: testpki.RSA, LeafName: "Bank of Rongan (TEST)"})
	tsaURL := openSSLTSA(t, chain)
	cert, err := x509.ParseCertificate(chain.Leaf().Raw)
	if err != nil {
		t.Fatal(err)
	}
	pdfsign := func(in []byte, certType sign.CertType) []byte {
		t.Helper()
		rdr, err := dpdf.NewReader(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := sign.Sign(bytes.NewReader(in), &out, rdr, int64(len(in)), sign.SignData{
			Signature:       sign.SignDataSignature{Info: sign.SignDataSignatureInfo{Name: "Bank of Rongan"}, CertType: certType},
			DigestAlgorithm: crypto.SHA256, Signer: chain.LeafKey(), Certificate: cert,
			TSA: sign.TSA{URL: tsaURL},
		}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	signed := pdfsign(fixture(t, "one.pdf"), sign.ApprovalSignature)
	now := time.Now()
	crl, err := smx509.CreateRevocationList(rand.Reader, &smx509.RevocationList{Number: big.NewInt(1), ThisUpdate: now,
		NextUpdate: now.Add(7 * 24 * time.Hour)}, chain.Root(), chain.Keys[len(chain.Keys)-1])
	if err != nil {
		t.Fatal(err)
	}
	var withDSS bytes.Buffer
	if err := pdf.AddDSS(ctx, &withDSS, bytes.NewReader(signed), int64(len(signed)),
		pdf.DSS{CRLs: [][]byte{crl}, Certs: [][]byte{chain.Root().Raw}}, pdf.Limits{}); err != nil {
		t.Fatal(err)
	}
	lta := pdfsign(withDSS.Bytes(), sign.TimeStampSignature)

	rep := verifyBytes(t, lta, Options{Roots: []*smx509.Certificate{chain.Root()}})
	if rep.Verdict != VerdictValid || len(rep.Signatures) != 2 || !hasCode(rep.Warnings, CodeDSSUsed) {
		t.Fatalf("verdict %s, %d signatures, reasons %v, warnings %v", rep.Verdict, len(rep.Signatures), rep.Reasons, rep.Warnings)
	}
	sig, ts := rep.Signatures[0], rep.Signatures[1]
	if sig.TimeBasis != TimeProven || sig.Timestamp == nil || sig.Timestamp.TSA != "OpenSSL TSA (TEST)" || sig.Revocation != RevocationGood {
		t.Errorf("the RSA signature: basis %s, timestamp %+v, revocation %s", sig.TimeBasis, sig.Timestamp, sig.Revocation)
	}
	if ts.SubFilter != "ETSI.RFC3161" || !ts.Valid || ts.TimeBasis != TimeProven || ts.Signer != "OpenSSL TSA (TEST)" {
		t.Errorf("the document timestamp: %+v", ts)
	}
	kinds := map[string]bool{}
	for _, c := range sig.LaterRevisions {
		kinds[c.Kind] = c.Allowed
	}
	if !kinds["dss"] || !kinds["timestamp"] {
		t.Errorf("the signature's later revisions: %+v", sig.LaterRevisions)
	}
}
