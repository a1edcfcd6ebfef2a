package cms

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/emmansun/gmsm/smx509"
)

// The interop PDFs were signed by PDFBox with BouncyCastle, an
// implementation independent of ours, with SM3withSM2 (1.2.156.10197.1.501).
const interopDir = "../../testdata/interop/"

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// pdfSignature is the minimal read of one PDF signature that these tests
// need: the signed bytes and the hex /Contents in the gap between them. The
// full PDF reader lives in package pdf.
type pdfSignature struct {
	signed   []byte
	gapStart int // offset of '<' of /Contents
	der      []byte
}

func readPDFSignature(t testing.TB, pdf []byte) pdfSignature {
	t.Helper()
	m := byteRangeRE.FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no /ByteRange")
	}
	var r [4]int
	for i := range r {
		r[i], _ = strconv.Atoi(string(m[i+1]))
	}
	if r[0] != 0 || r[1] >= r[2] || r[2]+r[3] != len(pdf) {
		t.Fatalf("byte range %v does not cover the file of %d bytes with one gap", r, len(pdf))
	}
	gap := pdf[r[1]:r[2]]
	if gap[0] != '<' || gap[len(gap)-1] != '>' {
		t.Fatal("gap is not a hex string")
	}
	raw, err := hex.DecodeString(string(gap[1 : len(gap)-1]))
	if err != nil {
		t.Fatal(err)
	}
	der, err := TrimPadding(raw)
	if err != nil {
		t.Fatal(err)
	}
	signed := append(append([]byte{}, pdf[:r[1]]...), pdf[r[2]:]...)
	return pdfSignature{signed: signed, gapStart: r[1], der: der}
}

func interopRoot(t *testing.T) *smx509.Certificate {
	t.Helper()
	b, err := os.ReadFile(interopDir + "bc-root.pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	root, err := smx509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// checkInterop verifies the signature and chains its signer to root.
func checkInterop(pdf []byte, root *smx509.Certificate, sig func([]byte) pdfSignature) (*Result, error) {
	ps := sig(pdf)
	res, err := Verify(ps.der, bytes.NewReader(ps.signed), nil)
	if err != nil {
		return res, err
	}
	return res, res.Signer.CheckSignatureFrom(root)
}

func TestInteropBouncyCastle(t *testing.T) {
	root := interopRoot(t)
	for _, name := range []string{"bc-signed-visible.pdf", "bc-signed-invisible-objstm.pdf"} {
		t.Run(name, func(t *testing.T) {
			pdf, err := os.ReadFile(interopDir + name)
			if err != nil {
				t.Fatal(err)
			}
			sig := func(b []byte) pdfSignature { return readPDFSignature(t, b) }
			res, err := checkInterop(pdf, root, sig)
			if err != nil {
				t.Fatalf("valid interop file: %v", err)
			}
			if res.SignatureAlgorithm.OID.String() != "1.2.156.10197.1.501" || res.DigestAlgorithm.Name != "SM3" {
				t.Errorf("algorithms %v / %v", res.SignatureAlgorithm, res.DigestAlgorithm)
			}
			if res.Signer.Subject.CommonName != "融安县长安镇人民政府行政审批专用章" {
				t.Errorf("signer %q", res.Signer.Subject.CommonName)
			}
			if res.SigningTime.IsZero() {
				t.Error("no signing time")
			}

			ps := readPDFSignature(t, pdf)
			// derOffset maps an offset in the DER to the offset of the
			// first hex digit that encodes it in the PDF.
			derOffset := func(i int) int { return ps.gapStart + 1 + 2*i }
			flipHex := func(at int) []byte {
				b := bytes.Clone(pdf)
				if b[at] == '0' {
					b[at] = '1'
				} else {
					b[at] = '0'
				}
				return b
			}
			oid, _ := asn1.Marshal(oidAttrSigningTime)
			st := bytes.Index(ps.der, oid)
			certCN := bytes.Index(ps.der, []byte("361124132208Z")) // the seal certificate's notAfter
			if st < 0 || certCN < 0 {
				t.Fatal("test landmarks not found in the CMS")
			}
			for _, tc := range []struct {
				name string
				pdf  []byte
				want error // nil: the certificate check, not the CMS, must fail
			}{
				{"content", func() []byte { b := bytes.Clone(pdf); b[ps.gapStart/2] ^= 0x01; return b }(), ErrDigestMismatch},
				// A digit of the signing time: the signed attributes change.
				{"signed attributes", flipHex(derOffset(st+len(oid)+4+11) + 1), ErrBadSignature},
				{"signature", flipHex(derOffset(len(ps.der)-1) + 1), ErrBadSignature},
				// A digit of the certificate's validity: only the CA's
				// signature on the certificate can tell.
				{"certificate", flipHex(derOffset(certCN+11) + 1), nil},
			} {
				t.Run("tampered "+tc.name, func(t *testing.T) {
					if bytes.Equal(tc.pdf, pdf) {
						t.Fatal("tampering changed nothing")
					}
					_, err := checkInterop(tc.pdf, root, sig)
					if err == nil {
						t.Fatal("tampered file verified")
					}
					if tc.want == nil {
						if err.Error() != "x509: SM2 verification failure" {
							t.Fatalf("got %v, want the CA's signature on the certificate to fail", err)
						}
						return
					}
					if !errors.Is(err, tc.want) {
						t.Fatalf("got %v, want %v", err, tc.want)
					}
				})
			}
		})
	}
}

// TestInteropPadding checks that the zero padding PDFBox left after the DER
// is what TrimPadding expects, and that garbage there is refused.
func TestInteropPadding(t *testing.T) {
	pdf, err := os.ReadFile(interopDir + "bc-signed-visible.pdf")
	if err != nil {
		t.Fatal(err)
	}
	ps := readPDFSignature(t, pdf)
	end := ps.gapStart + 1 + 2*len(ps.der)
	if !bytes.Equal(bytes.Trim(pdf[end:end+64], "0"), nil) {
		t.Fatal("expected zero padding after the DER")
	}
	raw, _ := hex.DecodeString(string(pdf[ps.gapStart+1 : end+64]))
	raw[len(raw)-1] = 0x5a
	if _, err := TrimPadding(raw); !errors.Is(err, ErrTrailingData) {
		t.Fatalf("garbage in padding: got %v, want ErrTrailingData", err)
	}
}
