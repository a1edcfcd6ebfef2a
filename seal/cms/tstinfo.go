package cms

import (
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// TSTInfo is the content of a time-stamp token (RFC 3161 section 2.4.2):
// what a time-stamping authority states, that HashedMessage existed at
// GenTime.
//
//	TSTInfo ::= SEQUENCE { version INTEGER (1), policy TSAPolicyId,
//	    messageImprint MessageImprint, serialNumber INTEGER,
//	    genTime GeneralizedTime, accuracy Accuracy OPTIONAL,
//	    ordering BOOLEAN DEFAULT FALSE, nonce INTEGER OPTIONAL,
//	    tsa [0] GeneralName OPTIONAL, extensions [1] IMPLICIT Extensions OPTIONAL }
type TSTInfo struct {
	// Policy is the TSA's policy; an smx509.OID because a policy under
	// 2.25 (a UUID) has arcs that asn1.ObjectIdentifier cannot hold.
	Policy smx509.OID
	// HashAlgorithm and HashedMessage are the message imprint.
	HashAlgorithm asn1.ObjectIdentifier
	HashedMessage []byte
	SerialNumber  *big.Int
	// GenTime is written with up to microseconds, without trailing zeros.
	GenTime time.Time
	// Accuracy is how far GenTime may be from true time, either way; zero
	// means not stated.
	Accuracy time.Duration
	Ordering bool
	// Nonce is the request's nonce, echoed; nil when it had none.
	Nonce *big.Int
	// TSAName is the DER GeneralName of the TSA, nil when absent.
	TSAName []byte
	// HasExtensions is whether the TSTInfo carries extensions (which we
	// never write, and a verifier does not interpret).
	HasExtensions bool
}

// MaxTSTInfoOverhead bounds what a TSTInfo adds to its imprint, policy,
// nonce and TSA name: the fixed fields, serial (20 bytes), time, accuracy
// and the headers.
const MaxTSTInfoOverhead = 96

// Marshal returns the DER TSTInfo.
func (t *TSTInfo) Marshal() ([]byte, error) {
	if t.SerialNumber == nil || t.SerialNumber.Sign() < 0 {
		return nil, fmt.Errorf("cms: TSTInfo needs a non-negative serial number")
	}
	policy, err := t.Policy.MarshalBinary()
	if err != nil || len(policy) == 0 || t.HashAlgorithm == nil || len(t.HashedMessage) == 0 {
		return nil, fmt.Errorf("cms: TSTInfo needs a policy and a message imprint")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(policy) })
		addMessageImprint(b, t.HashAlgorithm, t.HashedMessage)
		b.AddASN1BigInt(t.SerialNumber)
		b.AddASN1(cbasn1.GeneralizedTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte(genTimeString(t.GenTime))) })
		if t.Accuracy > 0 {
			addAccuracy(b, t.Accuracy)
		}
		if t.Ordering {
			b.AddASN1Boolean(true)
		}
		if t.Nonce != nil {
			b.AddASN1BigInt(t.Nonce)
		}
		if t.TSAName != nil {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(t.TSAName) })
		}
	})
	return b.Bytes()
}

// addMessageImprint writes MessageImprint ::= SEQUENCE { hashAlgorithm
// AlgorithmIdentifier, hashedMessage OCTET STRING }. SHA-2 identifiers get
// NULL parameters, as OpenSSL and BouncyCastle write them; SM3 none.
func addMessageImprint(b *cryptobyte.Builder, alg asn1.ObjectIdentifier, hashed []byte) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(alg)
			if !alg.Equal(oidSM3) {
				b.AddASN1NULL()
			}
		})
		b.AddASN1OctetString(hashed)
	})
}

// MarshalMessageImprint returns a DER MessageImprint, as a time-stamp
// request carries it.
func MarshalMessageImprint(alg asn1.ObjectIdentifier, hashed []byte) []byte {
	var b cryptobyte.Builder
	addMessageImprint(&b, alg, hashed)
	return b.BytesOrPanic()
}

// addAccuracy writes Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL,
// millis [0] INTEGER (1..999) OPTIONAL, micros [1] INTEGER (1..999) OPTIONAL }.
func addAccuracy(b *cryptobyte.Builder, d time.Duration) {
	sec := int64(d / time.Second)
	ms := int64(d % time.Second / time.Millisecond)
	us := int64(d % time.Millisecond / time.Microsecond)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if sec > 0 {
			b.AddASN1Int64(sec)
		}
		if ms > 0 {
			b.AddASN1Int64WithTag(ms, cbasn1.Tag(0).ContextSpecific())
		}
		if us > 0 {
			b.AddASN1Int64WithTag(us, cbasn1.Tag(1).ContextSpecific())
		}
	})
}

// genTimeString writes t as RFC 3161 asks: UTC, "Z", and a fraction of a
// second only as long as it needs (no trailing zeros), here at most
// microseconds.
func genTimeString(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format("20060102150405.999999") + "Z"
}

// ParseTSTInfo reads a DER TSTInfo. It checks structure only: the
// version, the field types, and that nothing trails.
func ParseTSTInfo(der []byte) (*TSTInfo, error) {
	in := cryptobyte.String(der)
	var s cryptobyte.String
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, malformed("TSTInfo is not one DER SEQUENCE", nil)
	}
	t := &TSTInfo{SerialNumber: new(big.Int)}
	var version int64
	if !s.ReadASN1Integer(&version) || version != 1 {
		return nil, malformed("TSTInfo version is not 1", nil)
	}
	var err error
	if t.Policy, err = ReadPolicy(&s); err != nil {
		return nil, err
	}
	if t.HashAlgorithm, t.HashedMessage, err = readMessageImprint(&s); err != nil {
		return nil, err
	}
	if !s.ReadASN1Integer(t.SerialNumber) {
		return nil, malformed("TSTInfo serialNumber", nil)
	}
	var gt cryptobyte.String
	if !s.ReadASN1(&gt, cbasn1.GeneralizedTime) {
		return nil, malformed("TSTInfo genTime", nil)
	}
	if t.GenTime, err = parseGenTime(string(gt)); err != nil {
		return nil, err
	}
	if s.PeekASN1Tag(cbasn1.SEQUENCE) {
		if t.Accuracy, err = readAccuracy(&s); err != nil {
			return nil, err
		}
	}
	if s.PeekASN1Tag(cbasn1.BOOLEAN) {
		if !s.ReadASN1Boolean(&t.Ordering) {
			return nil, malformed("TSTInfo ordering", nil)
		}
	}
	if s.PeekASN1Tag(cbasn1.INTEGER) {
		t.Nonce = new(big.Int)
		if !s.ReadASN1Integer(t.Nonce) {
			return nil, malformed("TSTInfo nonce", nil)
		}
	}
	tsaTag := cbasn1.Tag(0).Constructed().ContextSpecific()
	if s.PeekASN1Tag(tsaTag) {
		var name cryptobyte.String
		if !s.ReadASN1(&name, tsaTag) {
			return nil, malformed("TSTInfo tsa", nil)
		}
		t.TSAName = name
	}
	extTag := cbasn1.Tag(1).Constructed().ContextSpecific()
	if s.PeekASN1Tag(extTag) {
		if !s.SkipASN1(extTag) {
			return nil, malformed("TSTInfo extensions", nil)
		}
		t.HasExtensions = true
	}
	if !s.Empty() {
		return nil, malformed("TSTInfo has unknown trailing fields", nil)
	}
	return t, nil
}

// ReadPolicy reads an OBJECT IDENTIFIER of any arcs, as a policy.
func ReadPolicy(s *cryptobyte.String) (smx509.OID, error) {
	var raw cryptobyte.String
	var oid smx509.OID
	if !s.ReadASN1(&raw, cbasn1.OBJECT_IDENTIFIER) || oid.UnmarshalBinary(raw) != nil {
		return oid, malformed("policy identifier", nil)
	}
	return oid, nil
}

// ParseMessageImprint reads a DER MessageImprint.
func ParseMessageImprint(s *cryptobyte.String) (asn1.ObjectIdentifier, []byte, error) {
	return readMessageImprint(s)
}

func readMessageImprint(s *cryptobyte.String) (asn1.ObjectIdentifier, []byte, error) {
	var mi, hashed cryptobyte.String
	if !s.ReadASN1(&mi, cbasn1.SEQUENCE) {
		return nil, nil, malformed("messageImprint", nil)
	}
	alg, err := readAlgorithm(&mi)
	if err != nil {
		return nil, nil, malformed("messageImprint hashAlgorithm", err)
	}
	if !mi.ReadASN1(&hashed, cbasn1.OCTET_STRING) || !mi.Empty() {
		return nil, nil, malformed("messageImprint hashedMessage", nil)
	}
	return alg, hashed, nil
}

func readAccuracy(s *cryptobyte.String) (time.Duration, error) {
	var acc cryptobyte.String
	if !s.ReadASN1(&acc, cbasn1.SEQUENCE) {
		return 0, malformed("TSTInfo accuracy", nil)
	}
	var sec, ms, us int64
	if acc.PeekASN1Tag(cbasn1.INTEGER) && !acc.ReadASN1Integer(&sec) {
		return 0, malformed("accuracy seconds", nil)
	}
	if acc.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()) && !acc.ReadASN1Int64WithTag(&ms, cbasn1.Tag(0).ContextSpecific()) {
		return 0, malformed("accuracy millis", nil)
	}
	if acc.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific()) && !acc.ReadASN1Int64WithTag(&us, cbasn1.Tag(1).ContextSpecific()) {
		return 0, malformed("accuracy micros", nil)
	}
	// Bounded so that the sum cannot overflow: no TSA states a century.
	if !acc.Empty() || sec < 0 || sec > 100*365*86400 || ms < 0 || ms > 999 || us < 0 || us > 999 {
		return 0, malformed("accuracy out of range", nil)
	}
	return time.Duration(sec)*time.Second + time.Duration(ms)*time.Millisecond + time.Duration(us)*time.Microsecond, nil
}

// parseGenTime reads a GeneralizedTime that RFC 3161 allows: UTC ("Z"),
// with an optional fraction of a second.
func parseGenTime(s string) (time.Time, error) {
	if !strings.HasSuffix(s, "Z") || len(s) < 15 {
		return time.Time{}, malformed("TSTInfo genTime is not a UTC GeneralizedTime", nil)
	}
	body := s[:len(s)-1]
	layout := "20060102150405"
	if len(body) > 14 {
		if body[14] != '.' || len(body) == 15 || len(body) > 24 {
			return time.Time{}, malformed("TSTInfo genTime fraction", nil)
		}
		layout += "." + strings.Repeat("0", len(body)-15)
	}
	t, err := time.Parse(layout, body)
	if err != nil {
		return time.Time{}, malformed("TSTInfo genTime", err)
	}
	return t.UTC(), nil
}
