package cli

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/tsa"
)

// stamping signs with a token from auth over the signature value, as the
// service's sealer does.
type stamping struct {
	*cms.Signer
	auth *tsa.Authority
}

func (s stamping) Size(t time.Time) int { return s.Signer.Size(t) + 4096 }

func (s stamping) SignDigest(d []byte, t time.Time) ([]byte, error) {
	return s.Signer.SignDigestWithTimeStamp(d, t, func(sig []byte) ([]byte, error) {
		sum := sm3.Sum(sig)
		return s.auth.Timestamp(context.Background(), tsa.OIDSM3, sum[:])
	})
}

// TestVerifyShowsProvenTime: `sealctl verify` shows a timestamped seal's
// proven time, the TSA that proves it and that the verdict was judged at
// it, in the human output and the JSON; an unstamped seal says its time is
// only claimed.
func TestVerifyShowsProvenTime(t *testing.T) {
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
	dir := t.TempDir()
	root := filepath.Join(dir, "root.pem")
	os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain.Root().Raw}), 0o600)
	write := func(name string, s pdf.Signer) string {
		var out bytes.Buffer
		if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(doc), int64(len(doc)), pdf.Request{Signer: s, Time: time.Now(), SealName: "测试章"}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, out.Bytes(), 0o600)
		return p
	}
	stamped, plain := write("stamped.pdf", stamping{signer, auth}), write("plain.pdf", signer)

	code, out, errOut := runSealctl(t, "verify", "--trust", root, "--lang", "en", stamped, plain)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	first, second, _ := strings.Cut(out, "plain.pdf")
	for _, want := range []string{"proven time", "proven by a timestamp, accuracy 1s", "测试县时间戳服务", "token valid",
		"the proven time (validity and revocation judged at it)"} {
		if !strings.Contains(first, want) {
			t.Errorf("stamped: output lacks %q:\n%s", want, first)
		}
	}
	if !strings.Contains(second, "the claimed time (no valid timestamp") || strings.Contains(second, "proven time  ") {
		t.Errorf("unstamped: output:\n%s", second)
	}

	// As of 2050, after every certificate here expired: the stamped seal
	// is judged at its proven time; the plain one says its time is only
	// claimed.
	code, out, errOut = runSealctl(t, "verify", "--trust", root, "--lang", "en", "--at", "2050-01-01", stamped, plain)
	if code != 0 {
		t.Fatalf("--at 2050-01-01: exit %d\n%s%s", code, out, errOut)
	}
	first, second, _ = strings.Cut(out, "plain.pdf")
	if !strings.Contains(first, "the proven time (validity") || strings.Contains(first, "only the signer's claim") ||
		!strings.Contains(second, "no timestamp proves the signature was made before") {
		t.Errorf("--at 2050-01-01:\n%s", out)
	}
	if code, _, _ := runSealctl(t, "verify", "--trust", root, "--at", "next year", stamped); code != 2 {
		t.Errorf("--at with no time: exit %d, want 2", code)
	}

	code, out, errOut = runSealctl(t, "verify", "--trust", root, "--json", stamped)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var rep struct {
		Signatures []struct {
			ProvenTime string `json:"provenTime"`
			TimeBasis  string `json:"timeBasis"`
			Timestamp  struct {
				Tsa   string `json:"tsa"`
				Valid bool   `json:"valid"`
			} `json:"timestamp"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Signatures) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	s := rep.Signatures[0]
	if s.ProvenTime == "" || s.TimeBasis != "proven" || s.Timestamp.Tsa != "测试县时间戳服务" || !s.Timestamp.Valid {
		t.Errorf("JSON: %+v", s)
	}
}
