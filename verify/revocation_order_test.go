package verify

import (
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// TestRevocationOrderAtTheSecond pins the rule the keystore's revocation
// times rely on (issue 20): CRL times and claimed signing times are whole
// seconds, a listing in the signing's own second applies, and a listing
// from the next second on does not, except for a compromised key, whose
// signatures are void whatever time they claim.
func TestRevocationOrderAtTheSecond(t *testing.T) {
	p := testPKI(t)
	sealed := p.seal(t, fixture(t, "one_type0.pdf"), p.good)
	t0 := p.signingTime // a whole second
	far := t0.Add(100 * 24 * time.Hour)
	cases := []struct {
		name   string
		at     time.Time
		reason int
		valid  bool
		code   Code
	}{
		{"on hold a second before signing", t0.Add(-time.Second), reasonCertificateHold, false, CodeSuspended},
		{"on hold in the signing's second", t0, reasonCertificateHold, false, CodeSuspended},
		{"on hold from the next second", t0.Add(time.Second), reasonCertificateHold, true, CodeRevokedLater},
		{"revoked in the signing's second", t0, 5, false, CodeRevoked},
		{"revoked from the next second", t0.Add(time.Second), 5, true, CodeRevokedLater},
		{"key compromised from the next second", t0.Add(time.Second), reasonKeyCompromise, false, CodeKeyCompromised},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			entry := smx509.RevocationListEntry{SerialNumber: p.goodCert.SerialNumber, RevocationTime: c.at, ReasonCode: c.reason}
			rl := crlBy(t, p.root, p.rootKey, t0.Add(2*time.Second), far, entry)
			rep := verifyBytes(t, sealed, Options{Roots: []*smx509.Certificate{p.root}, CRLs: []*smx509.RevocationList{rl},
				Now: func() time.Time { return t0.Add(time.Minute) }})
			s := rep.Signatures[0]
			if !s.SigningTime.Equal(t0) {
				t.Fatalf("signing time %s, want %s", s.SigningTime, t0)
			}
			list := s.Reasons
			if c.valid {
				list = s.Warnings
			}
			if s.Valid != c.valid || !hasCode(list, c.code) {
				t.Errorf("valid %v, reasons %v, warnings %v; want valid %v with %s", s.Valid, s.Reasons, s.Warnings, c.valid, c.code)
			}
		})
	}
}
