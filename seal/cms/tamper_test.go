package cms

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"testing"
	"time"
)

// TestTamperOneBit flips one bit in each part that a signature protects and
// checks that verification names the part that changed.
func TestTamperOneBit(t *testing.T) {
	s, chain := newTestSigner(t, ProfileDefault, 2)
	der, err := s.Sign(bytes.NewReader(testContent), time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := asn1.Marshal(oidAttrSigningTime)
	timeAt := bytes.Index(der, st) + len(st) + 4 + 11 // a digit of the seconds
	leaf := bytes.Index(der, chain.Leaf().Raw)
	cn := bytes.Index(der[leaf:], []byte("专用章")) + leaf
	if timeAt < len(st) || leaf < 0 || cn < leaf {
		t.Fatal("test landmarks not found")
	}
	flip := func(b []byte, at int) []byte {
		c := bytes.Clone(b)
		c[at] ^= 0x01
		return c
	}
	for _, tc := range []struct {
		name    string
		der     []byte
		content []byte
		want    error
	}{
		{"content", der, flip(testContent, len(testContent)/2), ErrDigestMismatch},
		{"signed attributes", flip(der, timeAt), testContent, ErrBadSignature},
		{"signature", flip(der, len(der)-3), testContent, ErrBadSignature},
		// The certificate's name: the ESS hash binds the certificate.
		{"certificate", flip(der, cn+2), testContent, ErrSigningCertMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(tc.der, bytes.NewReader(tc.content), nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if res.Valid() {
				t.Fatal("tampered signature reported valid")
			}
		})
	}
}
