package tsa

import (
	"bytes"
	"context"
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/seal/cms"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DefaultPolicyOID is the county TSA's policy when the configuration names
// none: 2.25 followed by the UUID bcf3a49a-1307-49fe-9df9-1b50d2058ac6 as
// one integer (ITU-T X.667), an arc that needs no registration. A county
// with a registered policy configures its own.
const DefaultPolicyOID = "2.25.251159929866389200387258417179095567046"

// DefaultAccuracy is the accuracy stated when the configuration names
// none: the service's clock is kept by NTP to well within a second.
const DefaultAccuracy = time.Second

// KeySource gives the TSA's key. The keystore's TSA key satisfies it
// (keystore.Keystore.TSASigner); the key may be renewed between calls.
type KeySource interface {
	// TSASigner returns a signer that signs like *sm2.PrivateKey and its
	// chain, the TSA certificate first.
	TSASigner(ctx context.Context) (crypto.Signer, []*smx509.Certificate, error)
}

// SerialSource hands out blocks of serial numbers. Each call returns a
// number never returned before to any process sharing the source (the
// store's counter, on PostgreSQL shared by the replicas), increasing.
type SerialSource interface {
	NextTSASerialBlock(ctx context.Context) (int64, error)
}

// serialsPerBlock is how many serials one block holds: the serial is
// block×2^32 + n, so one store write serves four billion tokens.
const serialsPerBlock = 1 << 32

// Config shapes an Authority. Zero fields take the defaults.
type Config struct {
	// Policy is the TSA policy stated in every token; DefaultPolicyOID
	// when empty. A request naming another policy is rejected
	// (unacceptedPolicy).
	Policy string
	// Accuracy is stated in every token.
	Accuracy time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Authority issues time-stamp tokens. It is safe for concurrent use.
type Authority struct {
	keys    KeySource
	serials SerialSource
	policy  smx509.OID
	acc     time.Duration
	now     func() time.Time

	mu     sync.Mutex
	last   time.Time // the latest genTime issued
	block  int64
	next   int64 // the next n in block; serialsPerBlock when a block is needed
	signer *cms.Signer
}

// New returns an Authority with its key from keys and its serials from
// serials.
func New(keys KeySource, serials SerialSource, cfg Config) (*Authority, error) {
	if keys == nil || serials == nil {
		return nil, errors.New("tsa: a key source and a serial source are required")
	}
	if cfg.Policy == "" {
		cfg.Policy = DefaultPolicyOID
	}
	policy, err := smx509.ParseOID(cfg.Policy)
	if err != nil {
		return nil, fmt.Errorf("tsa: policy %q: %w", cfg.Policy, err)
	}
	if cfg.Accuracy < 0 {
		return nil, fmt.Errorf("tsa: accuracy %s is negative", cfg.Accuracy)
	}
	if cfg.Accuracy == 0 {
		cfg.Accuracy = DefaultAccuracy
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Authority{keys: keys, serials: serials, policy: policy, acc: cfg.Accuracy, now: cfg.Now, next: serialsPerBlock}, nil
}

// Policy returns the policy the Authority states.
func (a *Authority) Policy() smx509.OID { return a.policy }

// imprint algorithms the TSA stamps: SM3 for our own sealer and GB/T 20520
// clients, and SHA-2 for RSA and ECDSA clients. SHA-1 and MD5 are refused
// (badAlg): an imprint that can be collided proves nothing.
var imprintAlgorithms = []struct {
	oid  asn1.ObjectIdentifier
	size int
}{
	{asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}, 32},       // SM3
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, 32}, // SHA-256
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, 48}, // SHA-384
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, 64}, // SHA-512
}

// OIDSM3 is the SM3 hash algorithm, the imprint our sealer sends.
var OIDSM3 = imprintAlgorithms[0].oid

// check says why r cannot be honoured, or nil.
func (a *Authority) check(r *Request) *Failure {
	size := 0
	for _, alg := range imprintAlgorithms {
		if alg.oid.Equal(r.HashAlgorithm) {
			size = alg.size
		}
	}
	switch {
	case size == 0:
		return fail(FailBadAlg, "message imprint algorithm %s is not accepted; use SM3 (1.2.156.10197.1.401) or SHA-256/384/512", r.HashAlgorithm)
	case len(r.HashedMessage) != size:
		return fail(FailBadDataFormat, "message imprint is %d bytes, %s digests are %d", len(r.HashedMessage), r.HashAlgorithm, size)
	case r.HasPolicy && !r.Policy.Equal(a.policy):
		return fail(FailUnacceptedPolicy, "policy %s is not this TSA's (%s)", r.Policy, a.policy)
	case r.HasExtensions:
		return fail(FailUnacceptedExtension, "this TSA implements no request extensions")
	}
	return nil
}

// Respond answers a DER TimeStampReq with a DER TimeStampResp, granted or
// rejected, and the failure when rejected.
func (a *Authority) Respond(ctx context.Context, der []byte) ([]byte, *Failure) {
	r, err := ParseRequest(der)
	var f *Failure
	if errors.As(err, &f) {
		return marshalRejection(f), f
	}
	token, err := a.Stamp(ctx, r)
	if err != nil {
		if !errors.As(err, &f) {
			f = fail(FailSystemFailure, "the TSA cannot issue a token now")
		}
		return marshalRejection(f), f
	}
	return marshalGranted(token), nil
}

// Stamp issues a token for r, or returns a *Failure (or, when the key or
// serials are unavailable, another error) saying why not.
func (a *Authority) Stamp(ctx context.Context, r *Request) ([]byte, error) {
	if f := a.check(r); f != nil {
		return nil, f
	}
	signer, err := a.currentSigner(ctx)
	if err != nil {
		return nil, err
	}
	serial, genTime, err := a.serialAndTime(ctx)
	if err != nil {
		return nil, err
	}
	info := cms.TSTInfo{
		Policy: a.policy, HashAlgorithm: r.HashAlgorithm, HashedMessage: r.HashedMessage,
		SerialNumber: serial, GenTime: genTime, Accuracy: a.acc, Nonce: r.Nonce,
		TSAName: directoryName(signer.Certificate()),
	}
	der, err := info.Marshal()
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	token, err := signer.SignTSTInfo(der, genTime, r.CertReq)
	if err != nil {
		return nil, fmt.Errorf("tsa: signing the token: %w", err)
	}
	return token, nil
}

// Timestamp issues a token, with the TSA's certificates, over a digest
// made with hashAlg (OIDSM3 for our sealer): what the sealer calls in
// process, without the HTTP round trip.
func (a *Authority) Timestamp(ctx context.Context, hashAlg asn1.ObjectIdentifier, digest []byte) ([]byte, error) {
	return a.Stamp(ctx, &Request{HashAlgorithm: hashAlg, HashedMessage: digest, CertReq: true})
}

// MaxTokenSize bounds the tokens Timestamp issues, so that a PDF's
// signature placeholder can hold one: the signer's largest SignedData, the
// TSTInfo, the TSA name, and room for a renewed certificate a little longer.
func (a *Authority) MaxTokenSize(ctx context.Context) (int, error) {
	s, err := a.currentSigner(ctx)
	if err != nil {
		return 0, err
	}
	policy, _ := a.policy.MarshalBinary()
	return s.Size(a.now()) + len(s.Certificate().RawSubject) + len(policy) + 64 + cms.MaxTSTInfoOverhead + 256, nil
}

// currentSigner returns the cms.Signer of the TSA's current key, made anew
// when the key source returns another certificate (a renewal).
func (a *Authority) currentSigner(ctx context.Context) (*cms.Signer, error) {
	key, chain, err := a.keys.TSASigner(ctx)
	if err != nil {
		return nil, fmt.Errorf("tsa: the TSA key: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.signer != nil && len(chain) > 0 && bytes.Equal(a.signer.Certificate().Raw, chain[0].Raw) {
		return a.signer, nil
	}
	s, err := cms.NewSigner(key, chain, cms.ProfileDefault)
	if err != nil {
		return nil, fmt.Errorf("tsa: the TSA key: %w", err)
	}
	a.signer = s
	return s, nil
}

// serialAndTime returns the next serial and a genTime after every one
// issued before in this process (the clock's, or a microsecond after the
// last when the clock has not moved or went back).
func (a *Authority) serialAndTime(ctx context.Context) (*big.Int, time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next >= serialsPerBlock {
		b, err := a.serials.NextTSASerialBlock(ctx)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("tsa: serial numbers: %w", err)
		}
		if b < 0 || b > (1<<62) {
			return nil, time.Time{}, fmt.Errorf("tsa: serial block %d out of range", b)
		}
		a.block, a.next = b, 0
	}
	serial := new(big.Int).Lsh(big.NewInt(a.block), 32)
	serial.Add(serial, big.NewInt(a.next))
	a.next++
	t := a.now().UTC().Truncate(time.Microsecond)
	if !t.After(a.last) {
		t = a.last.Add(time.Microsecond)
	}
	a.last = t
	return serial, t, nil
}

// directoryName is the TSA's name as a GeneralName: [4] its subject.
func directoryName(cert *smx509.Certificate) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(cert.RawSubject) })
	return b.BytesOrPanic()
}

// MemorySerials is a SerialSource for one process alone (tests): its
// blocks count from 1 and are forgotten with the process, so two of them
// issue the same serials. The service uses the store's counter.
type MemorySerials struct {
	mu   sync.Mutex
	next int64
}

// NextTSASerialBlock implements SerialSource.
func (m *MemorySerials) NextTSASerialBlock(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	return m.next, nil
}

// StaticKey is a KeySource with a fixed key and chain (tests, and a TSA
// whose key lives outside the keystore).
type StaticKey struct {
	Key   crypto.Signer
	Chain []*smx509.Certificate
}

// TSASigner implements KeySource.
func (s StaticKey) TSASigner(context.Context) (crypto.Signer, []*smx509.Certificate, error) {
	return s.Key, s.Chain, nil
}
