package tsa

import (
	"context"
	"crypto/x509/pkix"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/testpki"
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
