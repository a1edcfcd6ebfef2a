package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/testpki"
)

var testContent = []byte("%PDF-1.7 准予行政许可决定书 融安县长安镇人民政府")

func newTestSigner(t testing.TB, profile Profile, length int) (*Signer, *testpki.Chain) {
	t.Helper()
	chain := testpki.MustChain(testpki.Options{Length: length})
	s, err := NewSigner(chain.LeafKey(), chain.Certs, profile)
	if err != nil {
		t.Fatal(err)
	}
	return s, chain
}

func TestSignVerifyRoundTrip(t *testing.T) {
	when := time.Date(2026, 11, 27, 9, 30, 15, 0, time.FixedZone("CST", 8*3600))
	for _, tc := range []struct {
		profile Profile
		sigOID  string
		outer   string
	}{
		{ProfileDefault, "1.2.156.10197.1.501", "1.2.840.113549.1.7.2"},
		{ProfileGMT0010, "1.2.156.10197.1.301.1", "1.2.156.10197.6.1.4.2.2"},
	} {
		t.Run(tc.profile.String(), func(t *testing.T) {
			s, chain := newTestSigner(t, tc.profile, 3)
			der, err := s.Sign(bytes.NewReader(testContent), when)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Verify(der, bytes.NewReader(testContent), nil)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !res.Valid() || !res.SignedAttributes {
				t.Fatalf("result not valid: %+v", res)
			}
			if got := res.SignatureAlgorithm.OID.String(); got != tc.sigOID {
				t.Errorf("signature algorithm %s, want %s", got, tc.sigOID)
			}
			if got := res.DigestAlgorithm.OID.String(); got != "1.2.156.10197.1.401" {
				t.Errorf("digest algorithm %s, want SM3", got)
			}
			if res.Profile != tc.profile {
				t.Errorf("profile %v, want %v", res.Profile, tc.profile)
			}
			if !res.SigningTime.Equal(when) {
				t.Errorf("signing time %v, want %v", res.SigningTime, when)
			}
			if !res.Signer.Equal(chain.Leaf()) {
				t.Errorf("signer is %s, want the leaf", res.Signer.Subject)
			}
			if len(res.Certificates) != 3 {
				t.Errorf("%d certificates embedded, want 3", len(res.Certificates))
			}
			sum := sm3.Sum(testContent)
			if !bytes.Equal(res.MessageDigest, sum[:]) {
				t.Errorf("message digest %x, want %x", res.MessageDigest, sum)
			}
			// The same through a precomputed digest.
			if _, err := VerifyDigest(der, sum[:], nil); err != nil {
				t.Errorf("VerifyDigest: %v", err)
			}
			// And the outer content type is the profile's.
			sd, err := parse(der)
			if err != nil {
				t.Fatal(err)
			}
			if sd.contentType.String() != tc.outer {
				t.Errorf("content type %s, want %s", sd.contentType, tc.outer)
			}
		})
	}
}

// TestSizeIsUpperBound shows that Size bounds the output length, and is
// reached, for chains of one to three certificates, both profiles, and
// signing times on both sides of the UTCTime/GeneralizedTime boundary.
func TestSizeIsUpperBound(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC),
		time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, profile := range []Profile{ProfileDefault, ProfileGMT0010} {
		for length := 1; length <= 3; length++ {
			s, _ := newTestSigner(t, profile, length)
			for _, when := range times {
				max := s.Size(when)
				// Enough signatures that full-length ones (1 in 4) and
				// short ones are certain to have been drawn.
				full, short := false, false
				for i := 0; i < 60; i++ {
					digest := make([]byte, 32)
					rand.Read(digest)
					der, err := s.SignDigest(digest, when)
					if err != nil {
						t.Fatal(err)
					}
					switch {
					case len(der) > max:
						t.Fatalf("%v, chain %d, %v: len %d, above Size %d", profile, length, when, len(der), max)
					case len(der) == max:
						full = true
					case len(der) < max-4:
						// Over four bytes short needs r or s under 2^232: p < 2^-20.
						t.Fatalf("%v, chain %d, %v: len %d, Size %d: too short", profile, length, when, len(der), max)
					default:
						short = true
					}
				}
				if !full || !short {
					t.Errorf("%v, chain %d, %v: full-length %v, short %v in 60 signatures", profile, length, when, full, short)
				}
			}
			if s.Size(times[2]) != s.Size(times[0])+2 {
				t.Errorf("GeneralizedTime should be 2 bytes longer than UTCTime")
			}
		}
	}
}

// shortSigner returns signatures of a fixed short length, as an SM2 signer
// whose r and s both happen to be small would, to show that Size is an
// upper bound that a short signature never exceeds.
type shortSigner struct{ *sm2.PrivateKey }

func (s shortSigner) Sign(r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	for {
		sig, err := s.PrivateKey.Sign(r, msg, opts)
		if err != nil || len(sig) < maxSM2SignatureLen {
			return sig, err
		}
	}
}

func TestSizeUpperBoundWhenSignaturesStayShort(t *testing.T) {
	chain := testpki.MustChain(testpki.Options{})
	s, err := NewSigner(shortSigner{chain.LeafKey().(*sm2.PrivateKey)}, chain.Certs, ProfileDefault)
	if err != nil {
		t.Fatal(err)
	}
	when := time.Now()
	der, err := s.Sign(bytes.NewReader(testContent), when)
	if err != nil {
		t.Fatal(err)
	}
	if len(der) >= s.Size(when) {
		t.Fatalf("short signature gave %d bytes, Size %d: want shorter", len(der), s.Size(when))
	}
	if _, err := Verify(der, bytes.NewReader(testContent), nil); err != nil {
		t.Fatalf("short signature does not verify: %v", err)
	}
}

func TestNewSignerRejects(t *testing.T) {
	sm2Chain := testpki.MustChain(testpki.Options{})
	other := testpki.MustChain(testpki.Options{})
	ecChain := testpki.MustChain(testpki.Options{KeyType: testpki.ECDSA})
	for _, tc := range []struct {
		name  string
		chain []*smx509.Certificate
		key   crypto.Signer
		want  error
	}{
		{"ECDSA key", ecChain.Certs, ecChain.LeafKey(), ErrNotSM2Key},
		{"key of another certificate", other.Certs, sm2Chain.LeafKey(), ErrKeyCertMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSigner(tc.key, tc.chain, ProfileDefault)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := NewSigner(sm2Chain.LeafKey(), nil, ProfileDefault); err == nil {
		t.Error("empty chain accepted")
	}
	if _, err := NewSigner(sm2Chain.LeafKey(), sm2Chain.Certs, Profile(7)); err == nil {
		t.Error("unknown profile accepted")
	}
	s, _ := NewSigner(sm2Chain.LeafKey(), sm2Chain.Certs, ProfileDefault)
	if _, err := s.SignDigest(make([]byte, 20), time.Now()); !errors.Is(err, ErrBadDigest) {
		t.Errorf("20-byte digest: got %v, want ErrBadDigest", err)
	}
}
