package keystore

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// CA is the county seal CA as callers see it: certificates only.
type CA struct {
	// Certificate issues the seal certificates and signs the CRL.
	Certificate *smx509.Certificate
	// Chain holds the certificates above Certificate up to and including the
	// root; it is empty when Certificate is the root.
	Chain []*smx509.Certificate
	// HoldsKey reports whether the CA key is held here. Without it seals are
	// certified by the external CA (RequestCertificate, AcceptCertificate)
	// and that CA publishes the CRL.
	HoldsKey bool
}

// CAOptions describe a new root CA.
type CAOptions struct {
	CommonName   string        // e.g. 融安县电子印章CA
	Organization string        // e.g. 融安县政务服务监督管理办公室
	Validity     time.Duration // DefaultCAValidity if zero
}

// caEntry is the loaded CA. The CA never changes once stored, so it is
// loaded once and cached.
type caEntry struct {
	cert   *smx509.Certificate
	bundle []*smx509.Certificate // cert, then the chain up to the root
	signer crypto.MessageSigner  // nil when the key is not held here
}

func (ks *Keystore) loadCA(ctx context.Context) (*caEntry, error) {
	if e := ks.ca.Load(); e != nil {
		return e, nil
	}
	ks.caLoad.Lock()
	defer ks.caLoad.Unlock()
	if e := ks.ca.Load(); e != nil {
		return e, nil
	}
	rec, err := ks.store.CA(ctx)
	if err != nil {
		return nil, fmt.Errorf("keystore: load CA: %w", err)
	}
	var bundle []*smx509.Certificate
	for i, der := range append([][]byte{rec.Certificate}, rec.Chain...) {
		c, err := smx509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: stored CA certificate %d: %v", ErrInvalidCertificate, i, err)
		}
		bundle = append(bundle, c)
	}
	e := &caEntry{cert: bundle[0], bundle: bundle}
	if rec.KeyID != "" {
		if e.signer, err = ks.loadSigner(ctx, rec.KeyID, caOwner, e.cert); err != nil {
			return nil, fmt.Errorf("keystore: CA: %w", err)
		}
	}
	ks.ca.Store(e)
	return e, nil
}

// CA returns the county seal CA, or ErrNoCA.
func (ks *Keystore) CA(ctx context.Context) (*CA, error) {
	if err := ks.checkOpen(); err != nil {
		return nil, err
	}
	e, err := ks.loadCA(ctx)
	if err != nil {
		return nil, err
	}
	return &CA{Certificate: e.cert, Chain: append([]*smx509.Certificate(nil), e.bundle[1:]...), HoldsKey: e.signer != nil}, nil
}

// TrustBundle returns the CA certificates as PEM: the issuing CA first, then
// each certificate above it, ending with the root. Verifiers need only the
// root; the others let them build the chain.
func (ks *Keystore) TrustBundle(ctx context.Context) ([]byte, error) {
	ca, err := ks.CA(ctx)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, c := range append([]*smx509.Certificate{ca.Certificate}, ca.Chain...) {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes(), nil
}

// CreateCA creates a self-signed SM2 root (SM3withSM2) whose key the
// backend generates, and makes it the keystore's CA. The root may sign
// certificates only for end entities (path length 0), and CRLs.
func (ks *Keystore) CreateCA(ctx context.Context, opts CAOptions) (*CA, error) {
	if err := ks.checkOpen(); err != nil {
		return nil, err
	}
	if err := validateName("CAOptions.CommonName", opts.CommonName); err != nil {
		return nil, err
	}
	if err := validateName("CAOptions.Organization", opts.Organization); err != nil {
		return nil, err
	}
	if opts.Validity < 0 {
		return nil, invalid("CAOptions.Validity", "must not be negative")
	}
	if opts.Validity == 0 {
		opts.Validity = DefaultCAValidity
	}
	if err := ks.noCA(ctx); err != nil {
		return nil, err
	}

	ref := KeyRef{ID: newKeyID(), Owner: caOwner}
	handle, pub, err := ks.backend.GenerateKey(ctx, ref)
	if err != nil {
		return nil, err
	}
	der, err := ks.selfSign(ctx, ref, handle, pub, opts)
	if err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, err
	}
	now := ks.now().UTC()
	key, err := ks.keyRecord(ref, handle, pub, now)
	if err == nil {
		err = ks.store.PutCA(ctx, CARecord{KeyID: ref.ID, Certificate: der, CreatedAt: now}, &key)
	}
	if err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, fmt.Errorf("keystore: store CA: %w", err)
	}
	return ks.CA(ctx)
}

func (ks *Keystore) selfSign(ctx context.Context, ref KeyRef, handle []byte, pub *ecdsa.PublicKey, opts CAOptions) ([]byte, error) {
	signer, err := ks.backend.Signer(ctx, ref, handle)
	if err != nil {
		return nil, err
	}
	now := ks.now().UTC().Truncate(time.Second)
	tmpl := &smx509.Certificate{
		SerialNumber: randomSerial(),
		Subject: pkix.Name{
			Country:      []string{"CN"},
			Organization: []string{opts.Organization},
			CommonName:   opts.CommonName,
		},
		NotBefore:             now,
		NotAfter:              now.Add(opts.Validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign,
		SubjectKeyId:          subjectKeyID(pub),
		SignatureAlgorithm:    smx509.SM2WithSM3,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("keystore: self-sign CA: %w", err)
	}
	return der, nil
}

// ImportCA makes an existing CA the keystore's CA. chainPEM holds the
// certificate of the CA that issues seal certificates first, then the
// certificates above it, ending with the self-signed root; the chain must
// verify now. keyPEM, if not nil, is that CA's SM2 private key as PKCS#8
// ("PRIVATE KEY"), encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY", opened with
// password) or SEC 1 ("EC PRIVATE KEY"); it must match the certificate, and
// is stored through the backend (which must be a KeyImporter), encrypted like
// seal keys. Without a key, seals are certified by the external CA through
// RequestCertificate and AcceptCertificate.
func (ks *Keystore) ImportCA(ctx context.Context, chainPEM, keyPEM, password []byte) (*CA, error) {
	if err := ks.checkOpen(); err != nil {
		return nil, err
	}
	certs, err := parseCertificates(chainPEM)
	if err != nil {
		return nil, err
	}
	chain, err := verifyCAChain(certs, ks.now())
	if err != nil {
		return nil, err
	}
	rec := CARecord{Certificate: chain[0].Raw, CreatedAt: ks.now().UTC()}
	for _, c := range chain[1:] {
		rec.Chain = append(rec.Chain, c.Raw)
	}
	if keyPEM == nil {
		if err := ks.store.PutCA(ctx, rec, nil); err != nil {
			return nil, fmt.Errorf("keystore: store CA: %w", err)
		}
		return ks.CA(ctx)
	}

	importer, ok := ks.backend.(KeyImporter)
	if !ok {
		return nil, fmt.Errorf("%w: backend %s cannot import the CA key", ErrUnsupported, ks.backend.Name())
	}
	priv, err := parsePrivateKeyPEM(keyPEM, password)
	if err != nil {
		return nil, err
	}
	defer wipe(priv)
	if !chain[0].PublicKey.(*ecdsa.PublicKey).Equal(&priv.PublicKey) {
		return nil, fmt.Errorf("%w: the key is not the key of CA %q", ErrCertificateMismatch, chain[0].Subject.CommonName)
	}
	if chain[0].KeyUsage&(smx509.KeyUsageCertSign|smx509.KeyUsageCRLSign) != smx509.KeyUsageCertSign|smx509.KeyUsageCRLSign {
		return nil, fmt.Errorf("%w: CA %q lacks keyCertSign or cRLSign key usage", ErrInvalidCertificate, chain[0].Subject.CommonName)
	}
	if err := ks.noCA(ctx); err != nil {
		return nil, err
	}
	ref := KeyRef{ID: newKeyID(), Owner: caOwner}
	handle, err := importer.ImportKey(ctx, ref, priv)
	if err != nil {
		return nil, err
	}
	rec.KeyID = ref.ID
	key, err := ks.keyRecord(ref, handle, &priv.PublicKey, rec.CreatedAt)
	if err == nil {
		err = ks.store.PutCA(ctx, rec, &key)
	}
	if err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, fmt.Errorf("keystore: store CA: %w", err)
	}
	return ks.CA(ctx)
}

// verifyCAChain checks an imported chain: SM2 CA certificates, in order from
// the issuing CA to a self-signed root, that verify now. It returns the chain.
func verifyCAChain(certs []*smx509.Certificate, now time.Time) ([]*smx509.Certificate, error) {
	for i, c := range certs {
		if !c.BasicConstraintsValid || !c.IsCA {
			return nil, fmt.Errorf("%w: certificate %d (%q) is not a CA", ErrInvalidCertificate, i, c.Subject.CommonName)
		}
	}
	if !isSM2Key(certs[0].PublicKey) {
		return nil, fmt.Errorf("%w: CA %q does not have an SM2 key", ErrInvalidCertificate, certs[0].Subject.CommonName)
	}
	root := certs[len(certs)-1]
	if !isSelfSigned(root) {
		return nil, fmt.Errorf("%w: the last certificate (%q) is not a self-signed root", ErrUntrustedCertificate, root.Subject.CommonName)
	}
	roots, inter := smx509.NewCertPool(), smx509.NewCertPool()
	roots.AddCert(root)
	for i := 1; i < len(certs)-1; i++ {
		inter.AddCert(certs[i])
	}
	chains, err := certs[0].Verify(smx509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: CA %q: %v", ErrUntrustedCertificate, certs[0].Subject.CommonName, err)
	}
	for _, chain := range chains {
		if len(chain) == len(certs) {
			return chain, nil
		}
	}
	return nil, fmt.Errorf("%w: the chain has %d certificates, but the CA verifies through %d; give exactly the chain",
		ErrInvalidCertificate, len(certs), len(chains[0]))
}

// parsePrivateKeyPEM reads an SM2 private key from one PEM block.
func parsePrivateKeyPEM(data, password []byte) (*sm2.PrivateKey, error) {
	b, rest := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%w: the CA key is not PEM", ErrInvalidCertificate)
	}
	defer clear(b.Bytes)
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: the CA key file holds more than one PEM block", ErrInvalidCertificate)
	}
	if _, ok := b.Headers["Proc-Type"]; ok {
		return nil, fmt.Errorf("%w: legacy encrypted PEM is not supported; use encrypted PKCS#8", ErrInvalidCertificate)
	}
	var (
		key any
		err error
	)
	switch b.Type {
	case "PRIVATE KEY":
		key, err = smx509.ParsePKCS8PrivateKey(b.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		if len(password) == 0 {
			return nil, fmt.Errorf("%w: the CA key is encrypted and no password was given", ErrInvalidCertificate)
		}
		key, err = pkcs8.ParsePKCS8PrivateKeySM2(b.Bytes, password)
	case "EC PRIVATE KEY", "SM2 PRIVATE KEY":
		key, err = smx509.ParseSM2PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrInvalidCertificate, b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the CA key does not parse (wrong password?): %v", ErrInvalidCertificate, err)
	}
	switch k := key.(type) {
	case *sm2.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		if k.Curve == sm2.P256() {
			return new(sm2.PrivateKey).FromECPrivateKey(k)
		}
	}
	return nil, fmt.Errorf("%w: the CA key is %T, not SM2", ErrInvalidCertificate, key)
}

// noCA fails with ErrCAExists if the store has a CA already.
func (ks *Keystore) noCA(ctx context.Context) error {
	_, err := ks.store.CA(ctx)
	switch {
	case err == nil:
		return ErrCAExists
	case errors.Is(err, ErrNoCA):
		return nil
	}
	return fmt.Errorf("keystore: %w", err)
}

// keyRecord describes a key the backend generated or imported.
func (ks *Keystore) keyRecord(ref KeyRef, handle []byte, pub *ecdsa.PublicKey, now time.Time) (KeyRecord, error) {
	spki, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return KeyRecord{}, fmt.Errorf("keystore: encode public key %s: %w", ref.ID, err)
	}
	return KeyRecord{
		ID: ref.ID, Owner: ref.Owner,
		Backend: ks.backend.Name(), BackendID: ks.backend.ID(),
		PublicKey: spki, Handle: handle, CreatedAt: now,
	}, nil
}

// discardKey destroys a key that was never stored. For the software backend
// there is nothing to do: the handle was the only copy.
func (ks *Keystore) discardKey(ctx context.Context, ref KeyRef, handle []byte) {
	_ = ks.backend.DestroyKey(context.WithoutCancel(ctx), ref, handle)
}
