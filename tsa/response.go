package tsa

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// PKIStatus values (RFC 3161 section 2.4.2).
const (
	StatusGranted          = 0
	StatusGrantedWithMods  = 1
	StatusRejection        = 2
	StatusWaiting          = 3
	StatusRevocationWarn   = 4
	StatusRevocationNotice = 5
)

// FailInfo is a PKIFailureInfo bit (RFC 3161 section 2.4.2).
type FailInfo int

// The failure reasons a TSA states.
const (
	FailBadAlg              FailInfo = 0
	FailBadRequest          FailInfo = 2
	FailBadDataFormat       FailInfo = 5
	FailTimeNotAvailable    FailInfo = 14
	FailUnacceptedPolicy    FailInfo = 15
	FailUnacceptedExtension FailInfo = 16
	FailAddInfoNotAvailable FailInfo = 17
	FailSystemFailure       FailInfo = 25
)

var failNames = map[FailInfo]string{
	FailBadAlg: "badAlg", FailBadRequest: "badRequest", FailBadDataFormat: "badDataFormat",
	FailTimeNotAvailable: "timeNotAvailable", FailUnacceptedPolicy: "unacceptedPolicy",
	FailUnacceptedExtension: "unacceptedExtension", FailAddInfoNotAvailable: "addInfoNotAvailable",
	FailSystemFailure: "systemFailure",
}

func (f FailInfo) String() string {
	if n, ok := failNames[f]; ok {
		return n
	}
	return fmt.Sprintf("failInfo(%d)", int(f))
}

// Failure is a rejection: what the TSA answers instead of a token.
type Failure struct {
	Info    FailInfo
	Message string
}

func (f *Failure) Error() string { return "tsa: rejected (" + f.Info.String() + "): " + f.Message }

func fail(info FailInfo, format string, args ...any) *Failure {
	return &Failure{Info: info, Message: fmt.Sprintf(format, args...)}
}

// marshalRejection returns the DER TimeStampResp of a rejection:
//
//	TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken OPTIONAL }
//	PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
//	    failInfo PKIFailureInfo OPTIONAL }
func marshalRejection(f *Failure) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(StatusRejection)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(f.Message)) })
			})
			// A named BIT STRING in DER: the bits up to the one set, the
			// unused bits of the last byte counted.
			n := int(f.Info)
			bits := make([]byte, n/8+1)
			bits[n/8] = 0x80 >> (n % 8)
			b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
				b.AddUint8(uint8(7 - n%8))
				b.AddBytes(bits)
			})
		})
	})
	return b.BytesOrPanic()
}

// marshalGranted returns the DER TimeStampResp that grants token.
func marshalGranted(token []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(StatusGranted) })
		b.AddBytes(token)
	})
	return b.BytesOrPanic()
}

// ErrBadResponse means a TSA's reply is not a TimeStampResp.
var ErrBadResponse = errors.New("tsa: malformed TimeStampResp")

// ParseResponse reads a DER TimeStampResp. It returns the token when
// granted, and a *Failure when the TSA rejected the request (or answered
// with a status other than granted).
func ParseResponse(der []byte) ([]byte, error) {
	in := cryptobyte.String(der)
	var resp, status cryptobyte.String
	var code int64
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !in.Empty() || !resp.ReadASN1(&status, cbasn1.SEQUENCE) ||
		!status.ReadASN1Integer(&code) {
		return nil, ErrBadResponse
	}
	if code == StatusGranted || code == StatusGrantedWithMods {
		var token cryptobyte.String
		if !resp.ReadASN1Element(&token, cbasn1.SEQUENCE) || !resp.Empty() {
			return nil, fmt.Errorf("%w: granted without a token", ErrBadResponse)
		}
		return token, nil
	}
	f := &Failure{Info: -1, Message: fmt.Sprintf("status %d", code)}
	if status.PeekASN1Tag(cbasn1.SEQUENCE) {
		var text, s cryptobyte.String
		if status.ReadASN1(&text, cbasn1.SEQUENCE) && text.ReadASN1(&s, cbasn1.UTF8String) {
			f.Message += ": " + string(s)
		}
	}
	var bits cryptobyte.String
	if status.ReadASN1(&bits, cbasn1.BIT_STRING) && len(bits) > 1 {
		for i, by := range bits[1:] {
			for j := range 8 {
				if by&(0x80>>j) != 0 {
					f.Info = FailInfo(i*8 + j)
					break
				}
			}
			if f.Info >= 0 {
				break
			}
		}
	}
	return nil, f
}
