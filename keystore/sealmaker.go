package keystore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/smx509"
)

// The county office is the seal maker (制章者): it signs each seal's national
// seal data (GB/T 38540 SESeal, seseal.go), which binds the seal's picture
// and properties to the certificates that may sign with it. It signs with a
// key of its own, certified by the county CA for that one use and marked by
// the certificate policy SealMakerPolicyOID: every township seal chains to
// the same county root, and a verifier believes an SESeal only from a
// certificate that carries the policy, so no township seal can make seals.
// Like the ledger and TSA keys it is made on first use when the CA key is
// held here, and renewed when less than a tenth of its certificate's
// validity is left; an SESeal it signed stays valid after that, as the
// maker's certificate was valid when it signed.
//
// The keys and SESeals are kept by a Store that also implements
// SealMakerStore (both of ours do); the private key is a KeyRecord with
// owner "sealmaker:<id>", stored encrypted and rewrapped by RotateKEK.

// SealMakerPolicyOID marks a seal-maker certificate (a UUID OID, 2.25).
const SealMakerPolicyOID = "2.25.138346704652197221268288181764403961120"

// SealMakerPolicy is SealMakerPolicyOID parsed.
var SealMakerPolicy = mustParseOID(SealMakerPolicyOID)

// sealMakerSubjectSuffix ends the common name of a seal-maker certificate.
const sealMakerSubjectSuffix = "电子印章制作"

// SealMakerStore is what the seal maker needs of the Store beside Store.
type SealMakerStore interface {
	// MakerKeys returns the seal-maker keys, oldest first: at most one
	// current (RetiredAt zero).
	MakerKeys(ctx context.Context) ([]MakerKeyRecord, error)
	// PutMakerKey, in one transaction, retires the current key retire (when
	// not "") and stores key and rec as the current one; ErrConflict when
	// the current key is not retire.
	PutMakerKey(ctx context.Context, key KeyRecord, rec MakerKeyRecord, retire string, at time.Time) error
	// SESeal returns the SESeal of a seal, ErrNotFound when it has none.
	SESeal(ctx context.Context, sealID string) (SESealRecord, error)
	// PutSESeal stores rec as its seal's SESeal. With replace false it
	// keeps one already stored (another replica's) and returns that one.
	PutSESeal(ctx context.Context, rec SESealRecord, replace bool) (SESealRecord, error)
}

// MakerKeyRecord is a seal-maker key as stored.
type MakerKeyRecord struct {
	ID          string
	KeyID       string
	Certificate []byte
	CreatedAt   time.Time
	RetiredAt   time.Time
}

// ErrNoSealMakerStore means the Store cannot keep seal-maker keys.
var ErrNoSealMakerStore = errors.New("keystore: the store does not keep seal-maker keys")

func sealMakerOwner(id string) string { return "sealmaker:" + id }

type makerEntry struct {
	id     string
	signer crypto.MessageSigner
	chain  []*smx509.Certificate
}

// makerCache holds the decrypted current maker key.
type makerCache struct{ p atomic.Pointer[makerEntry] }

// SealMakerSigner returns the seal maker's signer and chain (its
// certificate, then the CA's up to the root), making or renewing the key
// when due.
func (ks *Keystore) SealMakerSigner(ctx context.Context) (crypto.Signer, []*smx509.Certificate, error) {
	if err := ks.checkOpen(); err != nil {
		return nil, nil, err
	}
	st, ok := ks.store.(SealMakerStore)
	if !ok {
		return nil, nil, ErrNoSealMakerStore
	}
	for attempt := 1; ; attempt++ {
		e, err := ks.currentMaker(ctx, st)
		if attempt < 3 && (errors.Is(err, ErrConflict) || errors.Is(err, ErrKeyDestroyed)) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("keystore: seal-maker key: %w", err)
		}
		return &makerSigner{ks: ks, e: e}, e.chain, nil
	}
}

func (ks *Keystore) currentMaker(ctx context.Context, st SealMakerStore) (*makerEntry, error) {
	recs, err := st.MakerKeys(ctx)
	if err != nil {
		return nil, err
	}
	var cur *MakerKeyRecord
	for i := range recs {
		if recs[i].RetiredAt.IsZero() {
			cur = &recs[i]
		}
	}
	ca, err := ks.loadCA(ctx)
	if err != nil {
		return nil, err
	}
	var e *makerEntry
	if cur != nil {
		if e, err = ks.loadMaker(ctx, *cur, ca); err != nil {
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
		return ks.renewMaker(ctx, st, ca, retire)
	case e != nil && !ks.now().After(e.chain[0].NotAfter):
		return e, nil
	case e != nil:
		return nil, fmt.Errorf("%w: the seal-maker certificate expired at %s", ErrCertificateExpired, e.chain[0].NotAfter.Format(time.RFC3339))
	}
	return nil, fmt.Errorf("%w: the seal-maker key is certified by the local CA only", ErrNoCAKey)
}

func (ks *Keystore) loadMaker(ctx context.Context, rec MakerKeyRecord, ca *caEntry) (*makerEntry, error) {
	if e := ks.maker.p.Load(); e != nil && e.id == rec.ID {
		return e, nil
	}
	cert, err := smx509.ParseCertificate(rec.Certificate)
	if err != nil || !IsSealMakerCertificate(cert) {
		return nil, fmt.Errorf("%w: seal-maker key %s: not a seal-maker certificate (%v)", ErrInvalidCertificate, rec.ID, err)
	}
	signer, err := ks.loadSigner(ctx, rec.KeyID, sealMakerOwner(rec.ID), cert)
	if err != nil {
		return nil, fmt.Errorf("seal-maker key %s: %w", rec.ID, err)
	}
	e := &makerEntry{id: rec.ID, signer: signer, chain: append([]*smx509.Certificate{cert}, ca.bundle...)}
	ks.maker.p.Store(e)
	return e, nil
}

func (ks *Keystore) renewMaker(ctx context.Context, st SealMakerStore, ca *caEntry, retire string) (*makerEntry, error) {
	now := ks.now().UTC()
	rec := MakerKeyRecord{ID: newID("maker", 8), CreatedAt: now}
	ref := KeyRef{ID: newKeyID(), Owner: sealMakerOwner(rec.ID)}
	handle, pub, err := ks.backend.GenerateKey(ctx, ref)
	if err != nil {
		return nil, err
	}
	key, err := ks.keyRecord(ref, handle, pub, now)
	if err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, err
	}
	cert, err := ks.sealMakerCertificate(ca, pub)
	if err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, err
	}
	rec.KeyID, rec.Certificate = ref.ID, cert.Raw
	if err := st.PutMakerKey(ctx, key, rec, retire, now); err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, err
	}
	return ks.loadMaker(ctx, rec, ca)
}

// IsSealMakerCertificate reports whether cert is marked as a seal-maker
// certificate: it carries SealMakerPolicy, allows digitalSignature and is
// not a CA. It does not check the chain.
func IsSealMakerCertificate(cert *smx509.Certificate) bool {
	if cert.IsCA || cert.KeyUsage&smx509.KeyUsageDigitalSignature == 0 {
		return false
	}
	for _, p := range cert.Policies {
		if p.Equal(SealMakerPolicy) {
			return true
		}
	}
	return false
}

// sealMakerCertificate signs a seal-maker certificate for pub with the CA.
func (ks *Keystore) sealMakerCertificate(ca *caEntry, pub *ecdsa.PublicKey) (*smx509.Certificate, error) {
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
	org := caOrganization(ca.cert)
	cn := org + sealMakerSubjectSuffix
	if utf8.RuneCountInString(cn) > maxNameRunes {
		cn = sealMakerSubjectSuffix
	}
	tmpl := &smx509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               ledgerSubject(org),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              smx509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		Policies:              []smx509.OID{SealMakerPolicy},
		SubjectKeyId:          subjectKeyID(pub),
		CRLDistributionPoints: ks.cfg.CRLDistributionPoints,
		SignatureAlgorithm:    smx509.SM2WithSM3,
	}
	tmpl.Subject.CommonName = cn
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.signer)
	if err != nil {
		return nil, fmt.Errorf("keystore: sign the seal-maker certificate: %w", err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("keystore: the seal-maker certificate just signed does not parse: %w", err)
	}
	if !IsSealMakerCertificate(cert) {
		return nil, fmt.Errorf("%w: the seal-maker certificate just signed lacks policy %s", ErrInvalidCertificate, SealMakerPolicyOID)
	}
	return cert, nil
}

// makerSigner signs with the seal-maker key; it refuses once the Keystore
// is closed and never prints its key.
type makerSigner struct {
	ks *Keystore
	e  *makerEntry
}

func (s *makerSigner) Public() crypto.PublicKey { return s.e.signer.Public() }

func (s *makerSigner) Sign(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.ks.closed.Load() {
		return nil, ErrClosed
	}
	return s.e.signer.Sign(rand, msg, opts)
}

// Format prints the key's id only, whatever the verb.
func (s *makerSigner) Format(f fmt.State, _ rune) {
	io.WriteString(f, "keystore.makerSigner("+s.e.id+")")
}
