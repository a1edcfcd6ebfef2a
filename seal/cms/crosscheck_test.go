package cms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjsm3 "github.com/tjfoc/gmsm/sm3"
	tjx509 "github.com/tjfoc/gmsm/x509"
)

// tjfoc/gmsm was written apart from emmansun/gmsm; where the two agree, a
// shared misreading of the standard is unlikely.

// toTjfocPublic hands an SM2 public key to tjfoc by its uncompressed point.
func toTjfocPublic(pub *ecdsa.PublicKey) *tjsm2.PublicKey {
	k, err := sm2.PublicKeyToECDH(pub)
	if err != nil {
		panic(err)
	}
	p := k.Bytes()
	return &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: new(big.Int).SetBytes(p[1:33]), Y: new(big.Int).SetBytes(p[33:])}
}

// TestCrossCheckCMS has tjfoc's PKCS#7 parser verify our default profile.
func TestCrossCheckCMS(t *testing.T) {
	for length := 1; length <= 3; length++ {
		s, chain := newTestSigner(t, ProfileDefault, length)
		der, err := s.Sign(bytes.NewReader(testContent), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		p7, err := tjx509.ParsePKCS7(der)
		if err != nil {
			t.Fatalf("tjfoc cannot parse our CMS: %v", err)
		}
		p7.Content = testContent
		if err := p7.Verify(); err != nil {
			t.Fatalf("tjfoc rejects our CMS (chain %d): %v", length, err)
		}
		if !bytes.Equal(p7.GetOnlySigner().Raw, chain.Leaf().Raw) {
			t.Error("tjfoc found another signer certificate")
		}
		p7.Content = append([]byte{'!'}, testContent...)
		if p7.Verify() == nil {
			t.Error("tjfoc accepted changed content: the cross-check cannot fail")
		}
	}
}

// TestCrossCheckRawSM2 signs with each implementation and verifies with the
// other, with the default user ID.
func TestCrossCheckRawSM2(t *testing.T) {
	msg := []byte("融安县长安镇人民政府 450224-XK-0002")
	ours, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ours.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		t.Fatal(err)
	}
	if !toTjfocPublic(&ours.PublicKey).Verify(msg, sig) {
		t.Error("tjfoc rejects an emmansun SM2 signature")
	}
	if toTjfocPublic(&ours.PublicKey).Verify(append(msg, '!'), sig) {
		t.Error("tjfoc accepts a signature over another message")
	}

	theirs, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tsig, err := theirs.Sign(rand.Reader, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	point := make([]byte, 65)
	point[0] = 4
	theirs.X.FillBytes(point[1:33])
	theirs.Y.FillBytes(point[33:])
	pub, err := sm2.NewPublicKey(point)
	if err != nil {
		t.Fatal(err)
	}
	if !sm2.VerifyASN1WithSM2(pub, nil, msg, tsig) {
		t.Error("emmansun rejects a tjfoc SM2 signature")
	}
}

// TestCrossCheckZ compares the Z-values (GB/T 32918.2 §5.5) both
// implementations compute for the same key and the default user ID.
func TestCrossCheckZ(t *testing.T) {
	uid := []byte("1234567812345678")
	for range 8 {
		k, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := sm2.CalculateZA(&k.PublicKey, uid)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := tjsm2.ZA(toTjfocPublic(&k.PublicKey), uid)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, theirs) {
			t.Fatalf("Z differs: emmansun %x, tjfoc %x", ours, theirs)
		}
	}
}

// TestSM3Vectors checks the digest under every signature against the
// example vectors of GB/T 32905-2016 Appendix A, and tjfoc's SM3 agrees.
func TestSM3Vectors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
	} {
		ours := sm3.Sum([]byte(tc.in))
		if got := hex.EncodeToString(ours[:]); got != tc.want {
			t.Errorf("SM3(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if got := hex.EncodeToString(tjsm3.Sm3Sum([]byte(tc.in))); got != tc.want {
			t.Errorf("tjfoc SM3(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
