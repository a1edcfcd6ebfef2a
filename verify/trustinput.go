package verify

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/smx509"
)

// Reading what a verifier trusts: trust anchors and CRLs, as PEM (any
// number of blocks) or as one DER value, the forms a county publishes them
// in.

// ErrBadTrustInput means a trust anchor or CRL could not be read.
var ErrBadTrustInput = errors.New("seal: unreadable certificate or CRL")

// ParseCertificates reads certificates from PEM CERTIFICATE blocks, or
// from one DER certificate.
func ParseCertificates(data []byte) ([]*smx509.Certificate, error) {
	ders, err := pemOrDER(data, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	var out []*smx509.Certificate
	for i, der := range ders {
		c, err := smx509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %v", ErrBadTrustInput, i+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseCRLs reads CRLs from PEM X509 CRL blocks, or from one DER CRL.
func ParseCRLs(data []byte) ([]*smx509.RevocationList, error) {
	ders, err := pemOrDER(data, "X509 CRL")
	if err != nil {
		return nil, err
	}
	var out []*smx509.RevocationList
	for i, der := range ders {
		rl, err := smx509.ParseRevocationList(der)
		if err != nil {
			return nil, fmt.Errorf("%w: CRL %d: %v", ErrBadTrustInput, i+1, err)
		}
		out = append(out, rl)
	}
	return out, nil
}

// pemOrDER returns the DER values of the PEM blocks of type typ in data,
// or data itself when it is not PEM. Blocks of another type are refused,
// so that a key or a request is not taken for a certificate by mistake.
func pemOrDER(data []byte, typ string) ([][]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrBadTrustInput)
	}
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		return [][]byte{data}, nil
	}
	var out [][]byte
	for rest := trimmed; len(bytes.TrimSpace(rest)) > 0; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, fmt.Errorf("%w: text after the PEM blocks is not PEM", ErrBadTrustInput)
		}
		if blk.Type != typ {
			return nil, fmt.Errorf("%w: a PEM %s block where %s belongs", ErrBadTrustInput, blk.Type, typ)
		}
		out = append(out, blk.Bytes)
	}
	return out, nil
}
