package tsa

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/seal/cms"
)

// newTestAuthority returns an Authority whose key is certified under a test
// county CA with the critical id-kp-timeStamping EKU.
func newTestAuthority(t testing.TB, cfg Config) (*Authority, *testpki.Chain) {
	t.Helper()
	chain := testpki.MustChain(testpki.Options{LeafName: "测试县时间戳服务 (TEST)",
		LeafExtensions: []pkix.Extension{testpki.TimeStampingEKU(true)}, LeafKeyUsage: 1})
	a, err := New(StaticKey{Key: chain.LeafKey(), Chain: chain.Certs[:1]}, &MemorySerials{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a, chain
}

func post(t *testing.T, url string, body []byte) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/timestamp-query", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/timestamp-reply" {
		t.Fatalf("HTTP %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func openssl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestOpenSSLQuery: a request that openssl ts -query builds (SM3, a nonce,
// certReq) is granted, openssl ts -reply parses the reply, and the token
// verifies with our verifier, echoing the nonce and the imprint.
func TestOpenSSLQuery(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is required (scripts/install-deps.sh)")
	}
	a, chain := newTestAuthority(t, Config{})
	srv := httptest.NewServer(&Handler{Authority: a})
	defer srv.Close()
	dir := t.TempDir()
	data := filepath.Join(dir, "decision.pdf")
	content := []byte("%PDF-1.7 准予行政许可决定书")
	os.WriteFile(data, content, 0o600)
	for _, certReq := range []bool{true, false} {
		args := []string{"ts", "-query", "-data", data, "-sm3", "-out", filepath.Join(dir, "q.tsq")}
		if certReq {
			args = append(args, "-cert")
		}
		openssl(t, args...)
		q, _ := os.ReadFile(filepath.Join(dir, "q.tsq"))
		req, err := ParseRequest(q)
		if err != nil {
			t.Fatalf("openssl's request: %v", err)
		}
		reply := post(t, srv.URL, q)
		os.WriteFile(filepath.Join(dir, "r.tsr"), reply, 0o600)
		text := openssl(t, "ts", "-reply", "-in", filepath.Join(dir, "r.tsr"), "-text")
		for _, want := range []string{"Status: Granted.", "Hash Algorithm: sm3", "Policy OID: " + DefaultPolicyOID,
			"Accuracy: 0x01 seconds"} {
			if !strings.Contains(text, want) {
				t.Errorf("certReq %v: openssl ts -reply -text lacks %q:\n%s", certReq, want, text)
			}
		}
		var echoed big.Int
		if _, ok := echoed.SetString(strings.Fields(text[strings.Index(text, "Nonce: 0x")+9:])[0], 16); !ok || echoed.Cmp(req.Nonce) != 0 {
			t.Errorf("openssl reads nonce %v, the request sent %v", &echoed, req.Nonce)
		}
		token, err := ParseResponse(reply)
		if err != nil {
			t.Fatal(err)
		}
		if !certReq {
			if _, err := cms.VerifyTimeStampToken(token, nil); !errors.Is(err, cms.ErrSignerCertNotFound) {
				t.Errorf("without certReq the token must carry no certificate; verify says %v", err)
			}
			continue
		}
		tr, err := cms.VerifyTimeStampToken(token, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tr.Signer.Raw, chain.Leaf().Raw) {
			t.Error("token not signed by the TSA certificate")
		}
		if ok, _ := tr.TSTInfo.Covers(content); !ok {
			t.Error("the imprint does not cover the file")
		}
		if tr.TSTInfo.Nonce.Cmp(req.Nonce) != 0 {
			t.Errorf("nonce %v, request sent %v", tr.TSTInfo.Nonce, req.Nonce)
		}
	}
}

// TestRejections: what the TSA cannot honour gets status 2 and the failInfo
// that says why, readable by openssl.
func TestRejections(t *testing.T) {
	a, _ := newTestAuthority(t, Config{})
	srv := httptest.NewServer(&Handler{Authority: a})
	defer srv.Close()
	dir := t.TempDir()
	data := filepath.Join(dir, "f")
	os.WriteFile(data, []byte("x"), 0o600)
	sha1Req := filepath.Join(dir, "sha1.tsq")
	openssl(t, "ts", "-query", "-data", data, "-sha1", "-out", sha1Req)
	otherPolicy := filepath.Join(dir, "policy.tsq")
	openssl(t, "ts", "-query", "-data", data, "-sha256", "-tspolicy", "1.2.3.4", "-out", otherPolicy)
	sha1, _ := os.ReadFile(sha1Req)
	policy, _ := os.ReadFile(otherPolicy)
	sum := sm3.Sum([]byte("x"))
	short := (&Request{HashAlgorithm: OIDSM3, HashedMessage: sum[:20]}).Marshal()
	unknown := (&Request{HashAlgorithm: []int{1, 2, 3, 4, 5}, HashedMessage: sum[:]}).Marshal()
	v2 := bytes.Clone((&Request{HashAlgorithm: OIDSM3, HashedMessage: sum[:]}).Marshal())
	v2[4] = 2 // SEQUENCE, length, INTEGER, 1, version
	for _, tc := range []struct {
		name     string
		body     []byte
		want     FailInfo
		opensslS string
	}{
		{"SHA-1 from openssl", sha1, FailBadAlg, "unrecognized or unsupported algorithm identifier"},
		{"unknown algorithm", unknown, FailBadAlg, "unrecognized or unsupported algorithm identifier"},
		{"short imprint", short, FailBadDataFormat, "the data submitted has the wrong format"},
		{"not DER", []byte("hello"), FailBadDataFormat, "the data submitted has the wrong format"},
		{"version 2", v2, FailBadRequest, "transaction not permitted or supported"},
		{"another policy", policy, FailUnacceptedPolicy, "the requested TSA policy is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reply := post(t, srv.URL, tc.body)
			_, err := ParseResponse(reply)
			var f *Failure
			if !errors.As(err, &f) || f.Info != tc.want {
				t.Fatalf("got %v, want failInfo %v", err, tc.want)
			}
			path := filepath.Join(dir, "r.tsr")
			os.WriteFile(path, reply, 0o600)
			text := openssl(t, "ts", "-reply", "-in", path, "-text")
			if !strings.Contains(text, "Status: Rejected") || !strings.Contains(text, tc.opensslS) {
				t.Errorf("openssl reads:\n%s\nwant Rejected and %q", text, tc.opensslS)
			}
		})
	}
}

func TestHandlerBounds(t *testing.T) {
	a, _ := newTestAuthority(t, Config{})
	srv := httptest.NewServer(&Handler{Authority: a, MaxRequestBytes: 100})
	defer srv.Close()
	for _, tc := range []struct {
		method, ctype string
		body          []byte
		want          int
	}{
		{"POST", "application/timestamp-query", make([]byte, 101), http.StatusRequestEntityTooLarge},
		{"POST", "application/json", []byte("{}"), http.StatusUnsupportedMediaType},
		{"GET", "application/timestamp-query", nil, http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL, bytes.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s %d bytes: %d, want %d", tc.method, tc.ctype, len(tc.body), resp.StatusCode, tc.want)
		}
	}
}

// TestSerialsUniqueConcurrently issues tokens from many goroutines, and
// from two Authorities sharing one serial source as replicas share the
// store: every serial differs, and within one Authority a later serial
// never has an earlier genTime.
func TestSerialsUniqueConcurrently(t *testing.T) {
	chain := testpki.MustChain(testpki.Options{LeafExtensions: []pkix.Extension{testpki.TimeStampingEKU(true)}})
	shared := &MemorySerials{}
	// A clock that goes backwards every other call.
	var mu sync.Mutex
	tick := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		tick = tick.Add(-time.Millisecond)
		return tick
	}
	var auths []*Authority
	for range 2 {
		a, err := New(StaticKey{Key: chain.LeafKey(), Chain: chain.Certs}, shared, Config{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		auths = append(auths, a)
	}
	type issued struct {
		auth   int
		serial *big.Int
		gen    time.Time
	}
	var (
		wg  sync.WaitGroup
		out = make(chan issued, 400)
	)
	for i := range 400 {
		wg.Go(func() {
			sum := sm3.Sum([]byte{byte(i)})
			token, err := auths[i%2].Timestamp(context.Background(), OIDSM3, sum[:])
			if err != nil {
				t.Error(err)
				return
			}
			tr, err := cms.VerifyTimeStampToken(token, nil)
			if err != nil {
				t.Error(err)
				return
			}
			out <- issued{i % 2, tr.TSTInfo.SerialNumber, tr.TSTInfo.GenTime}
		})
	}
	wg.Wait()
	close(out)
	seen := map[string]bool{}
	var per [2][]issued
	for x := range out {
		if seen[x.serial.String()] {
			t.Fatalf("serial %v issued twice", x.serial)
		}
		seen[x.serial.String()] = true
		per[x.auth] = append(per[x.auth], x)
	}
	if len(seen) != 400 {
		t.Fatalf("%d tokens, want 400", len(seen))
	}
	for _, xs := range per {
		for _, x := range xs {
			for _, y := range xs {
				if x.serial.Cmp(y.serial) < 0 && !x.gen.Before(y.gen) {
					t.Fatalf("serial %v at %v, later serial %v at %v: genTime went backwards", x.serial, x.gen, y.serial, y.gen)
				}
			}
		}
	}
}
