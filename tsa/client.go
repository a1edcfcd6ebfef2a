package tsa

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"

	"github.com/ronganxian/eseal/seal/cms"
)

// maxResponseBytes bounds a TSA's reply: a token with a long RSA chain is a
// few kilobytes.
const maxResponseBytes = 64 << 10

// ErrTokenMismatch means a TSA granted a token that is not for the request:
// another imprint or nonce, or one that does not verify.
var ErrTokenMismatch = errors.New("tsa: the token granted does not answer the request")

// Client asks a TSA over HTTP, the county's or another (RSA, ECDSA or SM2
// tokens are all accepted).
type Client struct {
	URL string
	// HTTP is the client used; http.DefaultClient when nil.
	HTTP *http.Client
}

// Timestamp asks for a token, with the TSA's certificates, over digest
// made with hashAlg, and checks that the token verifies and answers the
// request (imprint and nonce).
func (c *Client) Timestamp(ctx context.Context, hashAlg asn1.ObjectIdentifier, digest []byte) ([]byte, error) {
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	req := &Request{HashAlgorithm: hashAlg, HashedMessage: digest, Nonce: nonce, CertReq: true}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(req.Marshal()))
	if err != nil {
		return nil, fmt.Errorf("tsa %s: %w", c.URL, err)
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("tsa %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tsa %s: reading the reply: %w", c.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tsa %s: HTTP %s", c.URL, resp.Status)
	}
	if len(body) > maxResponseBytes {
		return nil, fmt.Errorf("tsa %s: reply larger than %d bytes", c.URL, maxResponseBytes)
	}
	token, err := ParseResponse(body)
	if err != nil {
		return nil, fmt.Errorf("tsa %s: %w", c.URL, err)
	}
	tr, err := cms.VerifyTimeStampToken(token, &cms.VerifyOptions{Algorithms: cms.SM2 | cms.RSA | cms.ECDSA})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenMismatch, err)
	}
	info := tr.TSTInfo
	if !info.HashAlgorithm.Equal(hashAlg) || !bytes.Equal(info.HashedMessage, digest) ||
		info.Nonce == nil || info.Nonce.Cmp(nonce) != 0 {
		return nil, fmt.Errorf("%w: imprint or nonce differ", ErrTokenMismatch)
	}
	return token, nil
}
