package verify

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"strconv"
	"strings"
	"testing"

	dpdf "github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/testpki"
)

// TestVerifyInterop: the SM2 PDFs that PDFBox and BouncyCastle signed
// verify against their root, and tampered copies of them do not.
func TestVerifyInterop(t *testing.T) {
	root := loadCert(t, interopDir, "bc-root.pem")
	roots := []*smx509.Certificate{root}
	for _, name := range []string{"bc-signed-visible.pdf", "bc-signed-invisible-objstm.pdf"} {
		orig := readTestFile(t, interopDir+"/"+name)
		t.Run(name, func(t *testing.T) {
			rep := verifyBytes(t, orig, Options{Roots: roots})
			if rep.Verdict != VerdictValid || len(rep.Signatures) != 1 {
				t.Fatalf("verdict %s, reasons %v", rep.Verdict, rep.Reasons)
			}
			s := rep.Signatures[0]
			if s.Field != "seal1" || !strings.HasPrefix(s.SignatureAlgorithm, "SM3withSM2") || !s.CoversWholeFile || !s.ChainTrusted {
				t.Errorf("report %+v", s)
			}
		})
		tampered := map[string]struct {
			b    []byte
			code Code
		}{
			"flipped byte": {flipCommentByte(orig), CodeDigestMismatch},
			"appended":     {append(bytes.Clone(orig), "%junk\n"...), CodeTrailingData},
		}
		if b, err := replaceContent(orig); err == nil {
			tampered["content replaced"] = struct {
				b    []byte
				code Code
			}{b, CodeModified}
		} else if name == "bc-signed-visible.pdf" {
			t.Fatal(err) // its page is not in an object stream
		}
		root := lastMatch(orig, `/Root (\d+) 0 R`)
		rootNum, _ := strconv.Atoi(root)
		cat, err := lastObject(orig, rootNum)
		if err != nil {
			t.Fatal(err)
		}
		cat = strings.Replace(cat, "/Type /Catalog", "/Type /Catalog/PageMode /FullScreen", 1)
		tampered["catalog changed"] = struct {
			b    []byte
			code Code
		}{appendUpdate(orig, []rawObject{{rootNum, cat}}, nil), CodeModified}
		for what, c := range tampered {
			t.Run(name+"/"+what, func(t *testing.T) {
				rep := verifyBytes(t, c.b, Options{Roots: roots})
				if rep.Verdict != VerdictInvalid || len(rep.Signatures) != 1 || !hasCode(rep.Signatures[0].Reasons, c.code) {
					t.Errorf("verdict %s, reasons %v, want %s", rep.Verdict, rep.Reasons, c.code)
				}
			})
		}
	}
}

// flipCommentByte flips a bit in the comment after the header, which no
// reader parses but the signature covers.
func flipCommentByte(b []byte) []byte {
	out := bytes.Clone(b)
	i := bytes.IndexByte(out, '\n') + 2 // past "%" on the second line
	out[i] ^= 0x01
	return out
}

// signWithPdfsign signs in with a standard (RSA or ECDSA) signature,
// made by digitorus/pdfsign.
func signWithPdfsign(t *testing.T, in []byte, chain *testpki.Chain) []byte {
	t.Helper()
	cert, err := x509.ParseCertificate(chain.Leaf().Raw)
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := dpdf.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = sign.Sign(bytes.NewReader(in), &out, rdr, int64(len(in)), sign.SignData{
		Signature: sign.SignDataSignature{
			Info:     sign.SignDataSignatureInfo{Name: "Bank of Rongan", Reason: "received"},
			CertType: sign.ApprovalSignature,
		},
		DigestAlgorithm: crypto.SHA256,
		Signer:          chain.LeafKey(),
		Certificate:     cert,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestVerifyStandardSignatures: RSA and ECDSA signatures made by another
// implementation verify and are reported with their algorithms, alone and
// with an SM2 seal before or after them.
func TestVerifyStandardSignatures(t *testing.T) {
	p := testPKI(t)
	in := fixture(t, "one.pdf")
	ecdsa := testpki.MustChain(testpki.Options{KeyType: testpki.ECDSA, LeafName: "ECDSA signer"})
	rsa := testpki.MustChain(testpki.Options{KeyType: testpki.RSA, LeafName: "RSA signer"})
	roots := []*smx509.Certificate{p.root, ecdsa.Root(), rsa.Root()}
	sealed := p.seal(t, in, p.good)
	cases := []struct {
		name string
		b    []byte
		algs []string // signature algorithms, in field order
	}{
		{"ECDSA", signWithPdfsign(t, in, ecdsa), []string{"SHA256withECDSA"}},
		{"RSA", signWithPdfsign(t, in, rsa), []string{"SHA256withRSA"}},
		{"SM2 seal, then ECDSA", signWithPdfsign(t, sealed, ecdsa), []string{"SM3withSM2", "SHA256withECDSA"}},
		{"RSA, then SM2 seal", p.seal(t, signWithPdfsign(t, in, rsa), p.good), []string{"SHA256withRSA", "SM3withSM2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := verifyBytes(t, c.b, Options{Roots: roots})
			if rep.Verdict != VerdictValid {
				t.Errorf("verdict %s, reasons %v", rep.Verdict, rep.Reasons)
			}
			if len(rep.Signatures) != len(c.algs) {
				t.Fatalf("%d signatures, want %d", len(rep.Signatures), len(c.algs))
			}
			for i, s := range rep.Signatures {
				if !strings.HasPrefix(s.SignatureAlgorithm, c.algs[i]) || !s.Valid {
					t.Errorf("signature %d (%s): %s, valid %v, reasons %v", i+1, s.Field, s.SignatureAlgorithm, s.Valid, s.Reasons)
				}
			}
			if len(c.algs) == 2 {
				first := rep.Signatures[0]
				if len(first.LaterRevisions) == 0 || first.LaterRevisions[0].Kind != "signature" || !first.LaterRevisions[0].Allowed {
					t.Errorf("the first signature's later revisions: %+v", first.LaterRevisions)
				}
			}
		})
	}
	// Trusting only the county root, the other signature is untrusted and
	// the file invalid, while the seal itself stays valid.
	rep := verifyBytes(t, cases[2].b, Options{Roots: []*smx509.Certificate{p.root}})
	if rep.Verdict != VerdictInvalid || !rep.Signatures[0].Valid || rep.Signatures[1].Valid || !hasCode(rep.Signatures[1].Reasons, CodeUntrusted) {
		t.Errorf("county root only: verdict %s, reasons %v", rep.Verdict, rep.Reasons)
	}
}
