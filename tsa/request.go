package tsa

import (
	"encoding/asn1"
	"math/big"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/seal/cms"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Request is a parsed TimeStampReq (RFC 3161 section 2.4.1):
//
//	TimeStampReq ::= SEQUENCE { version INTEGER (v1), messageImprint MessageImprint,
//	    reqPolicy TSAPolicyId OPTIONAL, nonce INTEGER OPTIONAL,
//	    certReq BOOLEAN DEFAULT FALSE, extensions [0] IMPLICIT Extensions OPTIONAL }
type Request struct {
	HashAlgorithm asn1.ObjectIdentifier
	HashedMessage []byte
	// Policy is the requested policy; HasPolicy says whether there is one.
	Policy    smx509.OID
	HasPolicy bool
	// Nonce is nil when the request has none.
	Nonce   *big.Int
	CertReq bool
	// HasExtensions is whether the request carries extensions; the TSA
	// implements none and refuses them.
	HasExtensions bool
}

// maxNonceBytes bounds a nonce: RFC 3161 suggests 64 bits; 32 bytes leaves
// room for clients that send more, and no more than that.
const maxNonceBytes = 32

// ParseRequest reads a DER TimeStampReq. Its error is a *Failure that says
// how the TSA answers.
func ParseRequest(der []byte) (*Request, error) {
	in := cryptobyte.String(der)
	var s cryptobyte.String
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, fail(FailBadDataFormat, "the request is not one DER TimeStampReq")
	}
	var version int64
	if !s.ReadASN1Integer(&version) {
		return nil, fail(FailBadDataFormat, "the request's version is not an INTEGER")
	}
	if version != 1 {
		return nil, fail(FailBadRequest, "request version %d, only 1 is defined", version)
	}
	r := new(Request)
	var err error
	if r.HashAlgorithm, r.HashedMessage, err = cms.ParseMessageImprint(&s); err != nil {
		return nil, fail(FailBadDataFormat, "messageImprint: %v", err)
	}
	if s.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		if r.Policy, err = cms.ReadPolicy(&s); err != nil {
			return nil, fail(FailBadDataFormat, "reqPolicy")
		}
		r.HasPolicy = true
	}
	if s.PeekASN1Tag(cbasn1.INTEGER) {
		var raw cryptobyte.String
		if !s.ReadASN1(&raw, cbasn1.INTEGER) || len(raw) == 0 || len(raw) > maxNonceBytes+1 {
			return nil, fail(FailBadDataFormat, "nonce is not an INTEGER of at most %d bytes", maxNonceBytes)
		}
		if raw[0]&0x80 != 0 {
			return nil, fail(FailBadDataFormat, "nonce is negative")
		}
		r.Nonce = new(big.Int).SetBytes(raw)
	}
	if s.PeekASN1Tag(cbasn1.BOOLEAN) {
		if !s.ReadASN1Boolean(&r.CertReq) {
			return nil, fail(FailBadDataFormat, "certReq")
		}
	}
	extTag := cbasn1.Tag(0).Constructed().ContextSpecific()
	if s.PeekASN1Tag(extTag) {
		if !s.SkipASN1(extTag) {
			return nil, fail(FailBadDataFormat, "extensions")
		}
		r.HasExtensions = true
	}
	if !s.Empty() {
		return nil, fail(FailBadDataFormat, "the request has fields after its extensions")
	}
	return r, nil
}

// Marshal returns the DER TimeStampReq, as Client sends it.
func (r *Request) Marshal() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddBytes(cms.MarshalMessageImprint(r.HashAlgorithm, r.HashedMessage))
		if r.HasPolicy {
			if p, err := r.Policy.MarshalBinary(); err == nil {
				b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(p) })
			}
		}
		if r.Nonce != nil {
			b.AddASN1BigInt(r.Nonce)
		}
		if r.CertReq {
			b.AddASN1Boolean(true)
		}
	})
	return b.BytesOrPanic()
}
