package ses

import (
	"crypto"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// PDFSigner seals a PDF with an SES_Signature, the form of GM/T 0112's
// section on PDF electronic seals as Chinese electronic-seal products write
// it: the signature dictionary is /Filter /GM.PKILite /SubFilter
// /GM.sm2seal, and /Contents holds the DER of the SES_Signature, whose
// dataHash is the SM3 of the signed byte ranges and whose TBS_Sign carries
// the SESeal. It implements the pdf package's FormatSigner. Standard PDF
// tools (PDFBox, poppler) do not verify this format; the default profile's
// CMS stays the one for them.
type PDFSigner struct {
	Seal []byte // the SESeal, DER
	Key  crypto.Signer
	Cert *smx509.Certificate
	// PropertyInfo describes what is signed (TBS_Sign.propertyInfo,
	// ASCII), e.g. the signature field's name.
	PropertyInfo string
	// Stamp, when set, returns a time-stamp token over the signature
	// value, of at most TokenReserve bytes, carried in timeStamp.
	Stamp        func(sig []byte) ([]byte, error)
	TokenReserve int
}

// Filter and SubFilter name the format in the signature dictionary.
func (s *PDFSigner) Filter() string    { return "GM.PKILite" }
func (s *PDFSigner) SubFilter() string { return "GM.sm2seal" }

// sizeOverhead bounds what an SES_Signature adds to its seal, certificate,
// property and token: tags and lengths, the version, time, algorithm, a
// 32-byte hash and a DER SM2 signature of at most 72 bytes.
const sizeOverhead = 256

// Size is the longest SES_Signature SignDigest makes.
func (s *PDFSigner) Size(time.Time) int {
	n := len(s.Seal) + len(s.Cert.Raw) + len(s.PropertyInfo) + sizeOverhead
	if s.Stamp != nil {
		n += s.TokenReserve + 16
	}
	return n
}

// SignDigest makes the SES_Signature over digest, the SM3 of the signed
// byte ranges, at t.
func (s *PDFSigner) SignDigest(digest []byte, t time.Time) ([]byte, error) {
	return Sign(s.Seal, digest, t, s.PropertyInfo, s.Key, s.Cert, s.Stamp)
}
