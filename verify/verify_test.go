package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
)

func verifyBytes(t *testing.T, b []byte, opts Options) *FileReport {
	t.Helper()
	rep, err := PDF(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

func hasCode(ps []Problem, c Code) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Code == c })
}

func testPKI(t *testing.T) *corpusPKI {
	t.Helper()
	p, err := newCorpusPKI()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	return readTestFile(t, filepath.Join(fixtureDir, name))
}

func (p *corpusPKI) crl(t *testing.T) *smx509.RevocationList {
	t.Helper()
	rl, err := smx509.ParseRevocationList(p.crlDER)
	if err != nil {
		t.Fatal(err)
	}
	return rl
}

func (p *corpusPKI) seal(t *testing.T, in []byte, s *cms.Signer) []byte {
	t.Helper()
	out, err := p.sealWith(in, s, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVerifyReport checks every field of a valid seal's report.
func TestVerifyReport(t *testing.T) {
	p := testPKI(t)
	sealed := p.seal(t, fixture(t, "one_type0.pdf"), p.good)
	rep := verifyBytes(t, sealed, Options{Roots: []*smx509.Certificate{p.root}, CRLs: []*smx509.RevocationList{p.crl(t)}})
	if rep.Verdict != VerdictValid || len(rep.Reasons) != 0 || rep.Revisions != 2 || rep.Size != int64(len(sealed)) {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Signatures) != 1 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	s := rep.Signatures[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"field", s.Field, "ESeal1"},
		{"signer", s.Signer, "融安县长安镇人民政府行政审批专用章"},
		{"seal name", s.SealName, "融安县长安镇人民政府行政审批专用章"},
		{"township", s.Township, "450224100"},
		{"item", s.ItemCode, "000115001000"},
		{"item name", s.ItemName, "农村村民住宅用地审批"},
		{"case", s.CaseNumber, "CA-2026-000123"},
		{"signing time", s.SigningTime.Equal(p.signingTime), true},
		{"signing time source", s.SigningTimeSource, "cms"},
		{"digest", s.DigestAlgorithm, "SM3 (1.2.156.10197.1.401)"},
		{"signature", s.SignatureAlgorithm, "SM3withSM2 (1.2.156.10197.1.501)"},
		{"digest match", s.DigestMatch, true},
		{"signature valid", s.SignatureValid, true},
		{"chain trusted", s.ChainTrusted, true},
		{"key usage", s.KeyUsageOK, true},
		{"valid at signing time", s.ValidAtSigningTime, true},
		{"revocation", s.Revocation, RevocationGood},
		{"whole file", s.CoversWholeFile, true},
		{"revision", s.Revision, 2},
		{"chain length", len(s.Chain), 2},
		{"valid", s.Valid, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	if len(s.Chain) == 2 {
		leaf, root := s.Chain[0], s.Chain[1]
		if !leaf.SignatureValid || !root.SignatureValid || !root.TrustAnchor || leaf.TrustAnchor {
			t.Errorf("chain %+v", s.Chain)
		}
		if !slices.Equal(leaf.KeyUsage, []string{"digitalSignature", "nonRepudiation"}) || leaf.Revocation != RevocationGood {
			t.Errorf("leaf %+v", leaf)
		}
	}
}

func TestVerifyUnreadable(t *testing.T) {
	p := testPKI(t)
	sealed := p.seal(t, fixture(t, "one_type0.pdf"), p.good)
	for name, b := range map[string][]byte{
		"empty":     nil,
		"not a pdf": []byte(strings.Repeat("hello, world\n", 100)),
		"truncated": sealed[:len(sealed)/2],
	} {
		t.Run(name, func(t *testing.T) {
			rep := verifyBytes(t, b, Options{Roots: []*smx509.Certificate{p.root}})
			if rep.Verdict != VerdictUnreadable || !hasCode(rep.Reasons, CodeUnreadable) {
				t.Errorf("verdict %s, reasons %v", rep.Verdict, rep.Reasons)
			}
		})
	}
}

func TestVerifyUnsigned(t *testing.T) {
	for _, name := range []string{"one.pdf", "decision.pdf", "one_objstm.pdf", "one_linearized.pdf"} {
		t.Run(name, func(t *testing.T) {
			rep := verifyBytes(t, fixture(t, name), Options{})
			if rep.Verdict != VerdictInvalid || !hasCode(rep.Reasons, CodeNoSignatures) || len(rep.Signatures) != 0 {
				t.Errorf("verdict %s, reasons %v", rep.Verdict, rep.Reasons)
			}
		})
	}
}

// TestByteRangeRules checks the rules on synthetic layouts: a file of
// 1000 bytes with revisions ending at 600 (599 without its end of line)
// and 1000, and a /Contents string at [100, 300).
func TestByteRangeRules(t *testing.T) {
	a := &pdf.Analysis{Size: 1000, Revisions: []pdf.Revision{{EOF: 599, End: 600}, {EOF: 999, End: 1000}}}
	cases := []struct {
		name string
		br   []int64
		want Code // "" for none
	}{
		{"whole file", []int64{0, 100, 300, 700}, ""},
		{"first revision", []int64{0, 100, 300, 300}, ""},
		{"first revision, before its end of line", []int64{0, 100, 300, 299}, ""},
		{"not from 0", []int64{5, 95, 300, 700}, CodeByteRange},
		{"empty first range", []int64{0, 0, 300, 700}, CodeByteRange},
		{"odd count", []int64{0, 100, 300}, CodeByteRange},
		{"no gap", []int64{0, 1000}, CodeByteRange},
		{"two gaps", []int64{0, 100, 300, 100, 450, 550}, CodeByteRange},
		{"negative", []int64{0, 100, 300, -5}, CodeByteRange},
		{"overlap", []int64{0, 300, 100, 900}, CodeByteRange},
		{"past the end", []int64{0, 100, 300, 800}, CodeByteRange},
		{"gap too wide", []int64{0, 99, 300, 700}, CodeByteRangeGap},
		{"gap too narrow", []int64{0, 100, 299, 701}, CodeByteRangeGap},
		{"not at a revision's end", []int64{0, 100, 300, 650}, CodeByteRangeEnd},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &pdf.SignatureField{ContentsStart: 100, ContentsEnd: 300, Revision: -1}
			s.ByteRange = c.br
			if len(c.br) >= 2 {
				end := c.br[len(c.br)-2] + c.br[len(c.br)-1]
				for i, r := range a.Revisions {
					if end == r.End || end == r.EOF {
						s.Revision = i
					}
				}
			}
			ps := checkByteRange(s, a)
			switch {
			case c.want == "" && len(ps) != 0:
				t.Errorf("problems %v, want none", ps)
			case c.want != "" && !hasCode(ps, c.want):
				t.Errorf("problems %v, want %s", ps, c.want)
			}
		})
	}
}

func TestParsePDFDate(t *testing.T) {
	cst := time.FixedZone("", 8*3600)
	cases := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"D:20261127093015+08'00'", time.Date(2026, 11, 27, 9, 30, 15, 0, cst), true},
		{"D:20261127093015+08'00", time.Date(2026, 11, 27, 9, 30, 15, 0, cst), true},
		{"D:20261127013015Z", time.Date(2026, 11, 27, 1, 30, 15, 0, time.UTC), true},
		{"D:20261127013015Z00'00'", time.Date(2026, 11, 27, 1, 30, 15, 0, time.UTC), true},
		{"D:20261127013015-05'30'", time.Date(2026, 11, 27, 1, 30, 15, 0, time.FixedZone("", -(5*3600+30*60))), true},
		{"D:2026", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"20261127", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), true},
		{"D:20261327", time.Time{}, false},
		{"D:2026112709301", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"", time.Time{}, false},
		{"D:20261127093015+08'00'junk", time.Time{}, false},
	}
	for _, c := range cases {
		got, ok := parsePDFDate(c.in)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("%q: %v %v, want %v %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestAllowed(t *testing.T) {
	cases := []struct {
		kind   pdf.ChangeKind
		alters bool
		docMDP int
		ok     bool
		code   Code
	}{
		{pdf.ChangeSignature, false, 0, true, ""},
		{pdf.ChangeTimestamp, false, 0, true, ""},
		{pdf.ChangeDSS, false, 0, true, ""},
		{pdf.ChangeAnnotation, false, 0, true, CodeAnnotation},
		{pdf.ChangeFormField, false, 0, true, CodeFormChanged},
		{pdf.ChangeMetadata, false, 0, true, CodeMetadata},
		{pdf.ChangeUnreferenced, false, 0, true, CodeUnreferenced},
		{pdf.ChangeAnnotation, true, 0, false, CodeModified},
		{pdf.ChangeSignature, true, 0, false, CodeModified},
		{pdf.ChangePageContent, true, 0, false, CodeModified},
		{pdf.ChangeUnparseable, true, 0, false, CodeUnparseable},
		{pdf.ChangeSignature, false, 1, false, CodeCertified},
		{pdf.ChangeSignature, false, 2, true, ""},
		{pdf.ChangeAnnotation, false, 2, false, CodeCertified},
		{pdf.ChangeAnnotation, false, 3, true, CodeAnnotation},
	}
	for _, c := range cases {
		ok, code := allowed(pdf.Change{Kind: c.kind, Alters: c.alters}, c.docMDP)
		if ok != c.ok || code != c.code {
			t.Errorf("%s alters=%v P=%d: %v %q, want %v %q", c.kind, c.alters, c.docMDP, ok, code, c.ok, c.code)
		}
	}
}

// TestVerifyProfiles: both SM2 signature identifiers verify.
func TestVerifyProfiles(t *testing.T) {
	p := testPKI(t)
	for _, c := range []struct {
		profile cms.Profile
		alg     string
	}{
		{cms.ProfileDefault, "1.2.156.10197.1.501"},
		{cms.ProfileGMT0010, "1.2.156.10197.1.301.1"},
	} {
		s, err := cms.NewSigner(p.goodKey, []*smx509.Certificate{p.goodCert, p.root}, c.profile)
		if err != nil {
			t.Fatal(err)
		}
		rep := verifyBytes(t, p.seal(t, fixture(t, "one_type0.pdf"), s), Options{Roots: []*smx509.Certificate{p.root}})
		if rep.Verdict != VerdictValid || !strings.Contains(rep.Signatures[0].SignatureAlgorithm, c.alg) {
			t.Errorf("profile %v: %s, algorithm %s, reasons %v", c.profile, rep.Verdict, rep.Signatures[0].SignatureAlgorithm, rep.Reasons)
		}
	}
}

// caWithIntermediate makes root -> intermediate CA and a seal under the
// intermediate.
func caWithIntermediate(t *testing.T, p *corpusPKI) (*smx509.Certificate, *cms.Signer, *smx509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &smx509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "测试县电子印章中级CA (TEST)"},
		NotBefore: p.signingTime.Add(-time.Hour), NotAfter: p.signingTime.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, p.root, key.Public(), p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s, cert, sealKey, err := issueSealKey(inter, key, "融安县长安镇人民政府行政审批专用章", p.signingTime.Add(-time.Hour), p.signingTime.Add(time.Hour),
		smx509.KeyUsageDigitalSignature|smx509.KeyUsageContentCommitment)
	if err != nil {
		t.Fatal(err)
	}
	return inter, s, cert, sealKey
}

func TestVerifyChains(t *testing.T) {
	p := testPKI(t)
	in := fixture(t, "one_type0.pdf")
	inter, viaInter, leaf, leafKey := caWithIntermediate(t, p)
	leafOnly, err := cms.NewSigner(leafKey, []*smx509.Certificate{leaf}, cms.ProfileDefault)
	if err != nil {
		t.Fatal(err)
	}
	encipherOnly, _, err := issueSeal(p.root, p.rootKey, "加密证书", p.signingTime.Add(-time.Hour), p.signingTime.Add(time.Hour), smx509.KeyUsageKeyEncipherment)
	if err != nil {
		t.Fatal(err)
	}
	noKeyUsage, _, err := issueSeal(p.root, p.rootKey, "无用途限制", p.signingTime.Add(-time.Hour), p.signingTime.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	roots := []*smx509.Certificate{p.root}
	cases := []struct {
		name     string
		signer   *cms.Signer
		opts     Options
		valid    bool
		code     Code // a reason when invalid, a warning when valid
		chainLen int
	}{
		{"through an embedded intermediate", viaInter, Options{Roots: roots}, true, CodeRevocationUnknown, 3},
		{"intermediate given by the verifier", leafOnly, Options{Roots: roots, Intermediates: []*smx509.Certificate{inter}}, true, "", 3},
		{"intermediate missing", leafOnly, Options{Roots: roots}, false, CodeUntrusted, 1},
		{"no trust anchors", p.good, Options{}, false, CodeUntrusted, 2},
		{"key encipherment only", encipherOnly, Options{Roots: roots}, false, CodeKeyUsage, 2},
		{"no key usage", noKeyUsage, Options{Roots: roots}, true, CodeNoKeyUsage, 2},
		{"signed in the future", p.good, Options{Roots: roots, Now: func() time.Time { return p.signingTime.Add(-time.Hour) }}, false, CodeFutureSigning, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := verifyBytes(t, p.seal(t, in, c.signer), c.opts)
			s := rep.Signatures[0]
			if s.Valid != c.valid || (rep.Verdict == VerdictValid) != c.valid {
				t.Errorf("valid %v, verdict %s, want %v; reasons %v", s.Valid, rep.Verdict, c.valid, s.Reasons)
			}
			list := s.Reasons
			if c.valid {
				list = s.Warnings
			}
			if c.code != "" && !hasCode(list, c.code) {
				t.Errorf("%s not among %v", c.code, list)
			}
			if len(s.Chain) != c.chainLen {
				t.Errorf("chain of %d, want %d: %+v", len(s.Chain), c.chainLen, s.Chain)
			}
			for i, ci := range s.Chain {
				if c.valid && !ci.SignatureValid {
					t.Errorf("certificate %d: signature not verified", i)
				}
			}
		})
	}
}

// crlBy makes a CRL signed by key in the name of issuer.
func crlBy(t *testing.T, issuer *smx509.Certificate, key crypto.Signer, thisUpdate, nextUpdate time.Time, entries ...smx509.RevocationListEntry) *smx509.RevocationList {
	t.Helper()
	der, err := smx509.CreateRevocationList(rand.Reader, &smx509.RevocationList{Number: big.NewInt(thisUpdate.Unix()),
		ThisUpdate: thisUpdate, NextUpdate: nextUpdate, RevokedCertificateEntries: entries}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := smx509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return rl
}

func TestVerifyRevocation(t *testing.T) {
	p := testPKI(t)
	sealed := p.seal(t, fixture(t, "one_type0.pdf"), p.good)
	t0 := p.signingTime
	entry := func(at time.Time, reason int) smx509.RevocationListEntry {
		return smx509.RevocationListEntry{SerialNumber: p.goodCert.SerialNumber, RevocationTime: at, ReasonCode: reason}
	}
	// An impostor CA with the root's name but another key.
	impostorKey, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	impostorTmpl := *p.root
	impostorTmpl.SerialNumber = big.NewInt(99)
	impostorTmpl.PublicKey = impostorKey.Public()
	impostorTmpl.SubjectKeyId = nil
	der, err := smx509.CreateCertificate(rand.Reader, &impostorTmpl, &impostorTmpl, impostorKey.Public(), impostorKey)
	if err != nil {
		t.Fatal(err)
	}
	impostor, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	rootKey := p.rootKey
	far := t0.Add(100 * 24 * time.Hour)
	cases := []struct {
		name    string
		crls    []*smx509.RevocationList
		status  Revocation
		valid   bool
		code    Code
		warning bool
	}{
		{"good", []*smx509.RevocationList{crlBy(t, p.root, rootKey, t0, far)}, RevocationGood, true, "", false},
		{"revoked before signing", []*smx509.RevocationList{crlBy(t, p.root, rootKey, t0, far, entry(t0.Add(-time.Minute), 4))}, RevocationRevoked, false, CodeRevoked, false},
		{"revoked after signing", []*smx509.RevocationList{crlBy(t, p.root, rootKey, t0.Add(2*time.Hour), far, entry(t0.Add(time.Hour), 5))}, RevocationRevoked, true, CodeRevokedLater, true},
		// A key thief can claim any signing time: a key-compromise
		// revocation voids the seal's signatures whatever time they claim.
		{"revoked for key compromise after the claimed time", []*smx509.RevocationList{crlBy(t, p.root, rootKey, t0.Add(2*time.Hour), far, entry(t0.Add(time.Hour), 1))}, RevocationRevoked, false, CodeKeyCompromised, false},
		{"revoked for key compromise before the claimed time", []*smx509.RevocationList{crlBy(t, p.root, rootKey, t0, far, entry(t0.Add(-time.Minute), 1))}, RevocationRevoked, false, CodeKeyCompromised, false},
		{"revoked for CA compromise", []*smx509.RevocationList{crlBy(t, p.root, rootKey, t0.Add(2*time.Hour), far, entry(t0.Add(time.Hour), 2))}, RevocationRevoked, false, CodeKeyCompromised, false},
		{"revoked unspecified after signing", []*smx509.RevocationList{crlBy(t, p.root, rootKey, t0.Add(2*time.Hour), far, entry(t0.Add(time.Hour), 0))}, RevocationRevoked, true, CodeRevokedLater, true},
		{"suspended before signing", []*smx509.RevocationList{crlBy(t, p.root, rootKey, t0, far, entry(t0.Add(-time.Minute), reasonCertificateHold))}, RevocationSuspended, false, CodeSuspended, false},
		{"suspension lifted in a newer CRL", []*smx509.RevocationList{
			crlBy(t, p.root, rootKey, t0, far, entry(t0.Add(-time.Minute), reasonCertificateHold)),
			crlBy(t, p.root, rootKey, t0.Add(time.Hour), far),
		}, RevocationGood, true, "", false},
		{"CRL not signed by the issuer", []*smx509.RevocationList{crlBy(t, impostor, impostorKey, t0, far, entry(t0.Add(-time.Minute), 1))}, RevocationUnknown, true, CodeCRLIgnored, true},
		{"stale CRL", []*smx509.RevocationList{crlBy(t, p.root, rootKey, t0.Add(-48*time.Hour), t0.Add(-24*time.Hour))}, RevocationGood, true, CodeCRLStale, true},
		{"no CRL", nil, RevocationUnknown, true, CodeRevocationUnknown, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := verifyBytes(t, sealed, Options{Roots: []*smx509.Certificate{p.root}, CRLs: c.crls,
				Now: func() time.Time { return t0.Add(3 * time.Hour) }})
			s := rep.Signatures[0]
			if s.Revocation != c.status || s.Valid != c.valid {
				t.Errorf("status %s valid %v, want %s %v; reasons %v warnings %v", s.Revocation, s.Valid, c.status, c.valid, s.Reasons, s.Warnings)
			}
			list := s.Reasons
			if c.warning {
				list = s.Warnings
			}
			if c.code != "" && !hasCode(list, c.code) {
				t.Errorf("%s not among %v", c.code, list)
			}
		})
	}
}

// TestVerifyCorpusInvariants: on every corpus file, a valid verdict means
// at least one signature and all of them valid, and every invalid
// signature says why.
func TestVerifyCorpusInvariants(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(attackDir, "*.pdf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	root := loadCert(t, attackDir, "root.pem")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, filepath.Base(f), verifyBytes(t, b, Options{Roots: []*smx509.Certificate{root}}))
	}
}

func checkInvariants(t testing.TB, name string, rep *FileReport) {
	t.Helper()
	valid := len(rep.Signatures) > 0
	for _, s := range rep.Signatures {
		valid = valid && s.Valid
		if s.Valid != (len(s.Reasons) == 0) {
			t.Errorf("%s: signature %s valid %v with reasons %v", name, s.Field, s.Valid, s.Reasons)
		}
		if s.Valid && (!s.DigestMatch || !s.SignatureValid || !s.ChainTrusted || !s.KeyUsageOK || !s.ValidAtSigningTime) {
			t.Errorf("%s: signature %s valid but %+v", name, s.Field, s)
		}
		for _, r := range s.LaterRevisions {
			if s.Valid && !r.Allowed {
				t.Errorf("%s: signature %s valid with a disallowed later revision %+v", name, s.Field, r)
			}
		}
	}
	if (rep.Verdict == VerdictValid) != (valid && len(rep.Reasons) == 0) {
		t.Errorf("%s: verdict %s with reasons %v", name, rep.Verdict, rep.Reasons)
	}
	if rep.Verdict != VerdictValid && len(rep.Reasons) == 0 {
		t.Errorf("%s: verdict %s without a reason", name, rep.Verdict)
	}
}
