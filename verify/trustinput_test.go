package verify

import (
	"errors"
	"testing"
)

func TestParseTrustInput(t *testing.T) {
	p := testPKI(t)
	root := pemBlock("CERTIFICATE", p.root.Raw)
	bundle := append(append([]byte(nil), root...), pemBlock("CERTIFICATE", p.wrongRoot.Raw)...)
	crl := pemBlock("X509 CRL", p.crlDER)
	certCases := []struct {
		name string
		in   []byte
		n    int // certificates; -1 for an error
	}{
		{"PEM", root, 1},
		{"bundle", bundle, 2},
		{"DER", p.root.Raw, 1},
		{"empty", []byte("  \n"), -1},
		{"CRL for a certificate", crl, -1},
		{"garbage DER", []byte("not a certificate"), -1},
		{"junk after PEM", append(append([]byte(nil), root...), "junk"...), -1},
	}
	for _, c := range certCases {
		got, err := ParseCertificates(c.in)
		switch {
		case c.n < 0 && !errors.Is(err, ErrBadTrustInput):
			t.Errorf("%s: %v, want ErrBadTrustInput", c.name, err)
		case c.n >= 0 && (err != nil || len(got) != c.n):
			t.Errorf("%s: %d certificates, %v; want %d", c.name, len(got), err, c.n)
		}
	}
	if got, err := ParseCertificates(root); err == nil && !got[0].Equal(p.root) {
		t.Error("the parsed root is not the root")
	}
	for name, in := range map[string][]byte{"PEM": crl, "DER": p.crlDER} {
		rls, err := ParseCRLs(in)
		if err != nil || len(rls) != 1 || len(rls[0].RevokedCertificateEntries) != 2 {
			t.Errorf("CRL %s: %v", name, err)
		}
	}
	if _, err := ParseCRLs(root); !errors.Is(err, ErrBadTrustInput) {
		t.Errorf("a certificate read as a CRL: %v", err)
	}
}
