package keystore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/smx509"
)

// The county time-stamping authority's key signs RFC 3161 tokens (package
// tsa). Like the ledger key it is a key of its own, certified by the county
// CA for this one use, so that the CA key signs only certificates and CRLs,
// and renewed when less than a tenth of its certificate's validity is left.
// Its certificate follows RFC 3161 section 2.3: the extended key usage
// id-kp-timeStamping alone, marked critical; key usage digitalSignature;
// not a CA; subject C=CN, O=<the CA's organisation>, CN=<that>时间戳服务.
// It chains to the county root, which is in the trust bundle, so a verifier
// that trusts the bundle trusts the TSA.
//
// The keys are stored by a Store that also implements TSAStore (both of
// ours do): its private key is a KeyRecord with owner "tsa:<id>", stored
// encrypted and rewrapped by RotateKEK like the others. Only a locally held
// CA key can certify it; with an external CA, TSASigner fails with
// ErrNoCAKey.

// TSAStore is what the TSA needs of the Store beside Store.
type TSAStore interface {
	// TSAKeys returns the TSA keys, oldest first: at most one current
	// (RetiredAt zero), and those retired.
	TSAKeys(ctx context.Context) ([]TSAKeyRecord, error)
	// PutTSAKey, in one transaction, retires the current TSA key retire
	// (erasing its key's handle) when it is not "", and stores key and rec
	// as the current one. It fails with ErrConflict if the current key is
	// not retire (another process renewed it first), and with
	// ErrWrongKEK as Store.Apply does.
	PutTSAKey(ctx context.Context, key KeyRecord, rec TSAKeyRecord, retire string, at time.Time) error
	// NextTSASerialBlock returns the next number of the counter the TSA's
	// serial numbers come from: 1, 2, … never the same twice to any
	// process sharing the database.
	NextTSASerialBlock(ctx context.Context) (int64, error)
}

// TSAKeyRecord is a TSA key as stored.
type TSAKeyRecord struct {
	ID          string
	KeyID       string
	Certificate []byte
	CreatedAt   time.Time
	RetiredAt   time.Time
}

// ErrNoTSAStore means the Store cannot keep a TSA key.
var ErrNoTSAStore = errors.New("keystore: the store does not keep TSA keys")

// oidTimeStamping is id-kp-timeStamping.
var oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}

// tsaSubjectSuffix ends the common name of a TSA certificate.
const tsaSubjectSuffix = "时间戳服务"

func tsaOwner(id string) string { return "tsa:" + id }

// TSAKey is the keystore's TSA key, as a source for the tsa package. It
// caches the decrypted current key.
type TSAKey struct {
	ks    *Keystore
	cache atomic.Pointer[tsaEntry]
}

// tsaRecheck is how long a TSAKey uses its cached key before it reads
// again which key is current: a token is signed without a database read,
// and a renewal by another replica is seen within this.
const tsaRecheck = time.Minute

type tsaEntry struct {
	id      string
	signer  crypto.MessageSigner
	chain   []*smx509.Certificate
	checked atomic.Int64 // when the store last said it is current, Unix ns
}

// TSAKey returns the keystore's TSA key source.
func (ks *Keystore) TSAKey() *TSAKey { return &TSAKey{ks: ks} }

// NextTSASerialBlock gives the TSA its serial blocks from the store.
func (t *TSAKey) NextTSASerialBlock(ctx context.Context) (int64, error) {
	st, ok := t.ks.store.(TSAStore)
	if !ok {
		return 0, ErrNoTSAStore
	}
	return st.NextTSASerialBlock(ctx)
}

// TSASigner returns the TSA's signer and chain (its certificate, then the
// CA's up to the root). On first use, and when renewal is due, it makes
// the key and has the local CA certify it; a process that loses the race
// to store one uses the winner's.
func (t *TSAKey) TSASigner(ctx context.Context) (crypto.Signer, []*smx509.Certificate, error) {
	ks := t.ks
	if err := ks.checkOpen(); err != nil {
		return nil, nil, err
	}
	st, ok := ks.store.(TSAStore)
	if !ok {
		return nil, nil, ErrNoTSAStore
	}
	if e := t.cache.Load(); e != nil {
		now := ks.now()
		if now.Sub(time.Unix(0, e.checked.Load())) < tsaRecheck && !renewalDue(e.chain[0], now) {
			return &tsaSigner{ks: ks, e: e}, e.chain, nil
		}
	}
	for attempt := 1; ; attempt++ {
		e, err := t.current(ctx, st)
		if err == nil {
			e.checked.Store(ks.now().UnixNano())
		}
		if attempt < 3 && (errors.Is(err, ErrConflict) || errors.Is(err, ErrKeyDestroyed)) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("keystore: TSA key: %w", err)
		}
		return &tsaSigner{ks: ks, e: e}, e.chain, nil
	}
}

func (t *TSAKey) current(ctx context.Context, st TSAStore) (*tsaEntry, error) {
	ks := t.ks
	recs, err := st.TSAKeys(ctx)
	if err != nil {
		return nil, err
	}
	var cur *TSAKeyRecord
	for i := range recs {
		if recs[i].RetiredAt.IsZero() {
			cur = &recs[i]
		}
	}
	ca, err := ks.loadCA(ctx)
	if err != nil {
		return nil, err
	}
	var e *tsaEntry
	if cur != nil {
		if e, err = t.load(ctx, *cur, ca); err != nil {
			return nil, err
		}
		if !renewalDue(e.chain[0], ks.now()) {
			return e, nil
		}
	}
	switch {
	case ca.signer != nil && (e == nil || ca.cert.NotAfter.After(e.chain[0].NotAfter)):
		retire := ""
		if cur != nil {
			retire = cur.ID
		}
		return t.renew(ctx, st, ca, retire)
	case e != nil && !ks.now().After(e.chain[0].NotAfter):
		return e, nil
	case e != nil:
		return nil, fmt.Errorf("%w: the TSA certificate expired at %s", ErrCertificateExpired, e.chain[0].NotAfter.Format(time.RFC3339))
	}
	return nil, fmt.Errorf("%w: the TSA key is certified by the local CA only", ErrNoCAKey)
}

func (t *TSAKey) load(ctx context.Context, rec TSAKeyRecord, ca *caEntry) (*tsaEntry, error) {
	if e := t.cache.Load(); e != nil && e.id == rec.ID {
		return e, nil
	}
	cert, err := smx509.ParseCertificate(rec.Certificate)
	if err != nil {
		return nil, fmt.Errorf("%w: TSA key %s: %v", ErrInvalidCertificate, rec.ID, err)
	}
	if !IsTSACertificate(cert) {
		return nil, fmt.Errorf("%w: TSA key %s: not a TSA certificate", ErrInvalidCertificate, rec.ID)
	}
	signer, err := t.ks.loadSigner(ctx, rec.KeyID, tsaOwner(rec.ID), cert)
	if err != nil {
		return nil, fmt.Errorf("TSA key %s: %w", rec.ID, err)
	}
	e := &tsaEntry{id: rec.ID, signer: signer, chain: append([]*smx509.Certificate{cert}, ca.bundle...)}
	t.cache.Store(e)
	return e, nil
}

// renew makes a TSA key, has the CA certify it, and stores it as current
// in place of retire.
func (t *TSAKey) renew(ctx context.Context, st TSAStore, ca *caEntry, retire string) (*tsaEntry, error) {
	ks := t.ks
	now := ks.now().UTC()
	rec := TSAKeyRecord{ID: newID("tsa", 8), CreatedAt: now}
	ref := KeyRef{ID: newKeyID(), Owner: tsaOwner(rec.ID)}
	handle, pub, err := ks.backend.GenerateKey(ctx, ref)
	if err != nil {
		return nil, err
	}
	key, err := ks.keyRecord(ref, handle, pub, now)
	if err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, err
	}
	cert, err := ks.tsaCertificate(ca, pub)
	if err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, err
	}
	rec.KeyID, rec.Certificate = ref.ID, cert.Raw
	if err := st.PutTSAKey(ctx, key, rec, retire, now); err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, err
	}
	return t.load(ctx, rec, ca)
}

// IsTSACertificate reports whether cert is a TSA certificate as RFC 3161
// asks: an extended key usage extension, critical, with id-kp-timeStamping
// alone; not a CA. It does not check the chain.
func IsTSACertificate(cert *smx509.Certificate) bool {
	if cert.IsCA || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != smx509.ExtKeyUsageTimeStamping ||
		len(cert.UnknownExtKeyUsage) != 0 {
		return false
	}
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			return ext.Critical
		}
	}
	return false
}

// tsaCertificate signs a TSA certificate for pub with the CA.
func (ks *Keystore) tsaCertificate(ca *caEntry, pub *ecdsa.PublicKey) (*smx509.Certificate, error) {
	if ca.signer == nil {
		return nil, ErrNoCAKey
	}
	now, notAfter, err := ks.validityUnder(ca)
	if err != nil {
		return nil, err
	}
	notBefore := now.Add(-ledgerClockSkew)
	if notBefore.Before(ca.cert.NotBefore) {
		notBefore = ca.cert.NotBefore
	}
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
	if err != nil {
		return nil, err
	}
	org := caOrganization(ca.cert)
	cn := org + tsaSubjectSuffix
	if utf8.RuneCountInString(cn) > maxNameRunes {
		cn = tsaSubjectSuffix
	}
	tmpl := &smx509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Country: []string{"CN"}, Organization: []string{org}, CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              smx509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		ExtraExtensions:       []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
		SubjectKeyId:          subjectKeyID(pub),
		CRLDistributionPoints: ks.cfg.CRLDistributionPoints,
		SignatureAlgorithm:    smx509.SM2WithSM3,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.signer)
	if err != nil {
		return nil, fmt.Errorf("keystore: sign the TSA certificate: %w", err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("keystore: the TSA certificate just signed does not parse: %w", err)
	}
	if !IsTSACertificate(cert) {
		return nil, fmt.Errorf("%w: the TSA certificate just signed lacks the critical id-kp-timeStamping", ErrInvalidCertificate)
	}
	return cert, nil
}

// tsaSigner signs with the TSA key; like the ledger's it refuses once the
// Keystore is closed and never prints its key.
type tsaSigner struct {
	ks *Keystore
	e  *tsaEntry
}

func (s *tsaSigner) Public() crypto.PublicKey { return s.e.signer.Public() }

func (s *tsaSigner) Sign(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.ks.closed.Load() {
		return nil, ErrClosed
	}
	return s.e.signer.Sign(rand, msg, opts)
}

// Format prints the TSA key's id only, whatever the verb.
func (s *tsaSigner) Format(f fmt.State, _ rune) {
	io.WriteString(f, "keystore.tsaSigner("+s.e.id+")")
}
