package keystore

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// The checks a certificate from an external CA passes before the keystore
// accepts it, for a seal (AcceptCertificate) or for the ledger key
// (AcceptLedgerCertificate). Each caller checks, in this order, that the
// certificate is for the stored key (checkCertifiesKey), that it has the
// profile of its use, and then what every such certificate must satisfy
// whatever its use (checkCertificateNow): a positive serial number,
// validity now, and a chain to the CA's trust bundle. The two accept paths
// share these, so that they cannot drift apart.

// checkCertifiesKey checks that cert certifies the stored key keyID, which
// belongs to owner (named in errors: "seal S1", "ledger key L1").
func (ks *Keystore) checkCertifiesKey(ctx context.Context, cert *smx509.Certificate, keyID, owner string) error {
	key, err := ks.store.Key(ctx, keyID)
	if err != nil {
		return fmt.Errorf("keystore: %s: key %s: %w", owner, keyID, err)
	}
	keyPub, err := smx509.ParsePKIXPublicKey(key.PublicKey)
	if err != nil {
		return fmt.Errorf("%w: %s: stored public key does not parse", ErrKeyCorrupt, owner)
	}
	if certPub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !certPub.Equal(keyPub) {
		return fmt.Errorf("%w: the certificate is not for the key of %s", ErrCertificateMismatch, owner)
	}
	return nil
}

// checkCertificateNow checks cert against the CA's trust bundle at the
// keystore's current time; see checkCertificateAt.
func (ks *Keystore) checkCertificateNow(ctx context.Context, cert *smx509.Certificate) error {
	now := ks.now()
	ca, err := ks.loadCA(ctx)
	if err != nil {
		return err
	}
	return checkCertificateAt(cert, ca.bundle, now)
}

// checkCertificateAt checks what any certificate an external CA issues for
// a key held here must satisfy, at now: its serial number is positive, as
// RFC 5280 requires (ErrInvalidCertificate); now lies within its validity
// period, both ends included (ErrCertificateExpired); and it chains to
// bundle with the seal profile's key usage (ErrUntrustedCertificate).
func checkCertificateAt(cert *smx509.Certificate, bundle []*smx509.Certificate, now time.Time) error {
	if cert.SerialNumber == nil || cert.SerialNumber.Sign() <= 0 {
		return fmt.Errorf("%w: the serial number must be positive, not %v", ErrInvalidCertificate, cert.SerialNumber)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return fmt.Errorf("%w: the certificate is valid from %s to %s, not at %s", ErrCertificateExpired,
			cert.NotBefore.Format(time.RFC3339), cert.NotAfter.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	return verifySealCertificate(cert, bundle, now)
}
