package tsa

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
)

// TestBouncyCastleVerifiesToken: a token the county TSA issues validates
// under BouncyCastle's TimeStampToken.validate, which Java stacks (iText,
// PDFBox) use: the critical id-kp-timeStamping, the ESS signing-certificate
// (SM3) and the SM3withSM2 signature. Java and BouncyCastle come from
// Debian (scripts/install-deps.sh: default-jdk-headless, libbcprov-java,
// libbcpkix-java, libbcutil-java).
func TestBouncyCastleVerifiesToken(t *testing.T) {
	jars := []string{"/usr/share/java/bcprov.jar", "/usr/share/java/bcpkix.jar", "/usr/share/java/bcutil.jar"}
	for _, j := range append(jars, "/usr/bin/java") {
		if _, err := os.Stat(j); err != nil {
			t.Fatalf("%s is missing: run scripts/install-deps.sh", j)
		}
	}
	good, _ := newTestAuthority(t, Config{})
	// The same with the extended key usage not critical, which RFC 3161
	// forbids and BouncyCastle refuses: the check can fail.
	soft := testpki.MustChain(testpki.Options{LeafExtensions: []pkix.Extension{testpki.TimeStampingEKU(false)}, LeafKeyUsage: 1})
	bad, err := New(StaticKey{Key: soft.LeafKey(), Chain: soft.Certs[:1]}, &MemorySerials{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum := sm3.Sum([]byte("the signature value of a township seal"))
	for _, tc := range []struct {
		name string
		a    *Authority
		ok   bool
	}{{"county TSA", good, true}, {"EKU not critical", bad, false}} {
		token, err := tc.a.Timestamp(context.Background(), OIDSM3, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "token.der")
		if err := os.WriteFile(path, token, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("java", "-cp", strings.Join(jars, ":"), "testdata/TSPCheck.java", path).CombinedOutput()
		ok := err == nil && strings.HasPrefix(string(out), "OK ") && strings.Contains(string(out), "alg 1.2.156.10197.1.401")
		if ok != tc.ok {
			t.Fatalf("%s: BouncyCastle accepts %v, want %v: %v\n%s", tc.name, ok, tc.ok, err, out)
		}
		t.Logf("%s: BouncyCastle: %s", tc.name, strings.TrimSpace(string(out)))
	}
}

// stampingSigner signs a PDF seal with a token from a over the signature
// value, as the service's sealer does.
type stampingSigner struct {
	*cms.Signer
	a *Authority
}

func (s stampingSigner) Size(t time.Time) int { return s.Signer.Size(t) + 4096 }

func (s stampingSigner) SignDigest(d []byte, t time.Time) ([]byte, error) {
	return s.Signer.SignDigestWithTimeStamp(d, t, func(sig []byte) ([]byte, error) {
		sum := sm3.Sum(sig)
		return s.a.Timestamp(context.Background(), OIDSM3, sum[:])
	})
}

// TestBouncyCastleVerifiesStampedSeal: BouncyCastle verifies a sealed PDF's
// SM2 signature with the time-stamp token present in its unsigned
// attributes, validates the token, and finds its imprint to be the SM3 of
// the signature value. A changed signed byte fails.
func TestBouncyCastleVerifiesStampedSeal(t *testing.T) {
	a, _ := newTestAuthority(t, Config{})
	seal := testpki.MustChain(testpki.Options{})
	signer, err := cms.NewSigner(seal.LeafKey(), seal.Certs, cms.ProfileDefault)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(doc), int64(len(doc)),
		pdf.Request{Signer: stampingSigner{signer, a}, Time: time.Now(), SealName: "测试章"}); err != nil {
		t.Fatal(err)
	}
	sealed := out.Bytes()
	sigs, err := pdf.Signatures(bytes.NewReader(sealed), int64(len(sealed)))
	if err != nil || len(sigs) != 1 {
		t.Fatalf("signatures: %v %v", sigs, err)
	}
	der, err := cms.TrimPadding(sigs[0].Contents)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := io.ReadAll(sigs[0].SignedBytes(bytes.NewReader(sealed)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	jars := "/usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar"
	for _, tc := range []struct {
		name   string
		signed []byte
		ok     bool
	}{{"as sealed", signed, true}, {"a byte changed", append(bytes.Clone(signed[:len(signed)-1]), signed[len(signed)-1]^1), false}} {
		os.WriteFile(filepath.Join(dir, "signed"), tc.signed, 0o600)
		os.WriteFile(filepath.Join(dir, "sig.der"), der, 0o600)
		out, err := exec.Command("java", "-cp", jars, "testdata/SealCheck.java", filepath.Join(dir, "signed"), filepath.Join(dir, "sig.der")).CombinedOutput()
		ok := err == nil && strings.Contains(string(out), "OK seal 1.2.156.10197.1.501 stamped ")
		if ok != tc.ok {
			t.Fatalf("%s: BouncyCastle accepts %v, want %v: %v\n%s", tc.name, ok, tc.ok, err, out)
		}
		t.Logf("%s: BouncyCastle: %s", tc.name, strings.TrimSpace(string(out)))
	}
}
