package ses

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Version is the version of the structures this package writes.
const Version = 4

// OIDSM3WithSM2 is the signature algorithm of SESeal and SES_Signature.
var OIDSM3WithSM2 = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}

// Seal types (SES_ESPropertyInfo.type).
const (
	TypeOrganization = 1 // 单位印章
	TypePersonal     = 2 // 个人印章
)

// Picture types used here (SES_ESPictrueInfo.type): the standard names the
// image format; SVG keeps a drawn seal's paths exact.
const (
	PictureSVG = "svg"
	PicturePNG = "png"
)

// ErrMalformed means bytes that are not a well-formed SESeal or
// SES_Signature of version 4.
var ErrMalformed = errors.New("ses: malformed")

// ErrSignature means a signature that does not verify.
var ErrSignature = errors.New("ses: signature does not verify")

// Picture is the seal's picture (SES_ESPictrueInfo): its format, its bytes
// and its size on paper in millimetres.
type Picture struct {
	Type              string
	Data              []byte
	WidthMM, HeightMM int
}

// SealInfo is what the seal maker signs (SES_SealInfo).
type SealInfo struct {
	VendorID string // SES_Header.Vid: the maker's system
	ID       string // esID: the seal's identifier
	Type     int
	Name     string
	// Certs are the seal holder's certificates (DER), any of which may sign
	// with the seal (certListType 1).
	Certs                          [][]byte
	Created, ValidFrom, ValidUntil time.Time
	Picture                        Picture
}

// Seal is a parsed SESeal.
type Seal struct {
	SealInfo
	MakerCert *smx509.Certificate
	SignAlg   asn1.ObjectIdentifier
	Signature []byte
	// Raw is the whole SESeal, RawInfo its SES_SealInfo, as read.
	Raw, RawInfo []byte
}

// MakeSeal encodes info and signs it as maker, whose certificate is
// makerCert, returning the DER of the SESeal.
func MakeSeal(info SealInfo, maker crypto.Signer, makerCert *smx509.Certificate) ([]byte, error) {
	if err := info.check(); err != nil {
		return nil, err
	}
	tbs, err := info.marshal()
	if err != nil {
		return nil, err
	}
	sig, err := maker.Sign(rand.Reader, tbs, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, fmt.Errorf("ses: signing the seal: %w", err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddASN1OctetString(makerCert.Raw)
		b.AddASN1ObjectIdentifier(OIDSM3WithSM2)
		addBitString(b, sig)
	})
	return b.Bytes()
}

func (info *SealInfo) check() error {
	switch {
	case info.ID == "" || !ia5(info.ID) || !ia5(info.VendorID):
		return fmt.Errorf("ses: seal id %q and vendor %q must be ASCII, the id not empty", info.ID, info.VendorID)
	case info.Name == "":
		return errors.New("ses: a seal needs a name")
	case len(info.Certs) == 0:
		return errors.New("ses: a seal needs its holder's certificate")
	case !info.ValidFrom.Before(info.ValidUntil):
		return fmt.Errorf("ses: validity %v – %v is empty", info.ValidFrom, info.ValidUntil)
	case info.Picture.Type == "" || !ia5(info.Picture.Type) || len(info.Picture.Data) == 0 || info.Picture.WidthMM <= 0 || info.Picture.HeightMM <= 0:
		return errors.New("ses: a seal needs a picture with a type, data and a size")
	}
	return nil
}

func ia5(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// marshal returns the DER of SES_SealInfo.
func (info *SealInfo) marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SES_Header
			b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("ES")) })
			b.AddASN1Int64(Version)
			b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(info.VendorID)) })
		})
		b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(info.ID)) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SES_ESPropertyInfo
			b.AddASN1Int64(int64(info.Type))
			b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(info.Name)) })
			b.AddASN1Int64(1) // certListType: certificates
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, c := range info.Certs {
					b.AddASN1OctetString(c)
				}
			})
			b.AddASN1GeneralizedTime(info.Created.UTC().Truncate(time.Second))
			b.AddASN1GeneralizedTime(info.ValidFrom.UTC().Truncate(time.Second))
			b.AddASN1GeneralizedTime(info.ValidUntil.UTC().Truncate(time.Second))
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SES_ESPictrueInfo
			b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(info.Picture.Type)) })
			b.AddASN1OctetString(info.Picture.Data)
			b.AddASN1Int64(int64(info.Picture.WidthMM))
			b.AddASN1Int64(int64(info.Picture.HeightMM))
		})
	})
	return b.Bytes()
}

// addBitString adds a BIT STRING of whole bytes.
func addBitString(b *cryptobyte.Builder, v []byte) {
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(0)
		b.AddBytes(v)
	})
}

// maxSeal bounds an SESeal: a seal's picture is kilobytes; a PNG scan at
// 1200 dpi a few hundred.
const maxSeal = 4 << 20

// ParseSeal parses the DER of an SESeal of version 4. It checks the form,
// not the maker's signature (VerifyMaker).
func ParseSeal(der []byte) (*Seal, error) {
	if len(der) > maxSeal {
		return nil, fmt.Errorf("%w: a seal of %d bytes", ErrMalformed, len(der))
	}
	s := &Seal{Raw: der}
	in := cryptobyte.String(der)
	var seq, info, makerCert cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, fmt.Errorf("%w: SESeal is not one SEQUENCE", ErrMalformed)
	}
	if !seq.ReadASN1Element(&info, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: SESeal has no SES_SealInfo", ErrMalformed)
	}
	s.RawInfo = info
	if err := s.SealInfo.parse(info); err != nil {
		return nil, err
	}
	if !seq.ReadASN1(&makerCert, cbasn1.OCTET_STRING) || !seq.ReadASN1ObjectIdentifier(&s.SignAlg) {
		return nil, fmt.Errorf("%w: SESeal's maker certificate or algorithm", ErrMalformed)
	}
	sig, err := readBitString(&seq)
	if err != nil || !seq.Empty() {
		return nil, fmt.Errorf("%w: SESeal's signed value", ErrMalformed)
	}
	s.Signature = sig
	if s.MakerCert, err = smx509.ParseCertificate(makerCert); err != nil {
		return nil, fmt.Errorf("%w: the maker's certificate: %v", ErrMalformed, err)
	}
	return s, nil
}

func (info *SealInfo) parse(der cryptobyte.String) error {
	var seq, header, prop, certs, pic cryptobyte.String
	var magic, vid, id, name, ptype cryptobyte.String
	var version, certType int64
	bad := func(what string) error { return fmt.Errorf("%w: SES_SealInfo's %s", ErrMalformed, what) }
	if !der.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return bad("SEQUENCE")
	}
	if !seq.ReadASN1(&header, cbasn1.SEQUENCE) || !header.ReadASN1(&magic, cbasn1.IA5String) ||
		!header.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !header.ReadASN1(&vid, cbasn1.IA5String) || !header.Empty() {
		return bad("header")
	}
	if string(magic) != "ES" || version != Version {
		return fmt.Errorf("%w: header %q version %d, want ES version %d", ErrMalformed, magic, version, Version)
	}
	info.VendorID = string(vid)
	if !seq.ReadASN1(&id, cbasn1.IA5String) {
		return bad("esID")
	}
	info.ID = string(id)
	var typ int64
	if !seq.ReadASN1(&prop, cbasn1.SEQUENCE) || !prop.ReadASN1Int64WithTag(&typ, cbasn1.INTEGER) ||
		!prop.ReadASN1(&name, cbasn1.UTF8String) || !prop.ReadASN1Int64WithTag(&certType, cbasn1.INTEGER) {
		return bad("property")
	}
	info.Type, info.Name = int(typ), string(name)
	if certType != 1 {
		return fmt.Errorf("%w: certListType %d (only 1, certificates, is read)", ErrMalformed, certType)
	}
	if !prop.ReadASN1(&certs, cbasn1.SEQUENCE) {
		return bad("certList")
	}
	for !certs.Empty() {
		var c cryptobyte.String
		if !certs.ReadASN1(&c, cbasn1.OCTET_STRING) {
			return bad("certList entry")
		}
		info.Certs = append(info.Certs, bytes.Clone(c))
	}
	if !prop.ReadASN1GeneralizedTime(&info.Created) || !prop.ReadASN1GeneralizedTime(&info.ValidFrom) ||
		!prop.ReadASN1GeneralizedTime(&info.ValidUntil) || !prop.Empty() {
		return bad("dates")
	}
	var data cryptobyte.String
	var w, h int64
	if !seq.ReadASN1(&pic, cbasn1.SEQUENCE) || !pic.ReadASN1(&ptype, cbasn1.IA5String) || !pic.ReadASN1(&data, cbasn1.OCTET_STRING) ||
		!pic.ReadASN1Int64WithTag(&w, cbasn1.INTEGER) || !pic.ReadASN1Int64WithTag(&h, cbasn1.INTEGER) || !pic.Empty() {
		return bad("picture")
	}
	info.Picture = Picture{Type: string(ptype), Data: bytes.Clone(data), WidthMM: int(w), HeightMM: int(h)}
	// extDatas, when present, are the maker's own; they are signed with the
	// rest, and nothing here reads them.
	if !seq.Empty() && !seq.SkipASN1(cbasn1.SEQUENCE) || !seq.Empty() {
		return bad("end")
	}
	return nil
}

func readBitString(s *cryptobyte.String) ([]byte, error) {
	var bs asn1.BitString
	if !s.ReadASN1BitString(&bs) || bs.BitLength%8 != 0 {
		return nil, ErrMalformed
	}
	return bs.Bytes, nil
}

// VerifyMaker checks the maker's signature over the seal's SES_SealInfo
// with the public key of the maker's certificate.
func (s *Seal) VerifyMaker() error {
	if !s.SignAlg.Equal(OIDSM3WithSM2) {
		return fmt.Errorf("%w: algorithm %v, want SM3withSM2", ErrSignature, s.SignAlg)
	}
	pub, ok := s.MakerCert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != sm2.P256() {
		return fmt.Errorf("%w: the maker's key is not SM2", ErrSignature)
	}
	if !sm2.VerifyASN1WithSM2(pub, nil, s.RawInfo, s.Signature) {
		return fmt.Errorf("%w: the maker's signature on seal %s", ErrSignature, s.ID)
	}
	return nil
}

// Holds reports whether cert (DER) is one of the seal's holder
// certificates.
func (s *Seal) Holds(cert []byte) bool {
	for _, c := range s.Certs {
		if bytes.Equal(c, cert) {
			return true
		}
	}
	return false
}

// ValidAt reports whether t lies within the seal's validity.
func (s *Seal) ValidAt(t time.Time) bool {
	return !t.Before(s.ValidFrom) && !t.After(s.ValidUntil)
}
