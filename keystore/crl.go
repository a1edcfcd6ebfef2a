package keystore

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"

	"github.com/emmansun/gmsm/smx509"
)

// PublishCRL signs and stores a new CRL with the next CRL number. It lists
// the certificate of every revoked seal, with its reason and time, and of
// every suspended seal, as certificateHold from the time of suspension.
// Rotated seals are not listed: their certificates remain good for what
// they signed. Only certificates this CA issued are listed. It returns the
// CRL; it fails with ErrNoCAKey if the CA key is not held here.
func (ks *Keystore) PublishCRL(ctx context.Context) (CRLRecord, error) {
	if err := ks.checkOpen(); err != nil {
		return CRLRecord{}, err
	}
	ca, err := ks.loadCA(ctx)
	if err != nil {
		return CRLRecord{}, err
	}
	if ca.signer == nil {
		return CRLRecord{}, fmt.Errorf("%w: the external CA publishes the CRL", ErrNoCAKey)
	}
	rec, err := ks.store.PublishCRL(ctx, func(number int64, listed []Seal) (CRLRecord, error) {
		now := ks.now().UTC()
		tmpl := &smx509.RevocationList{
			Number:             big.NewInt(number),
			ThisUpdate:         now,
			NextUpdate:         now.Add(ks.cfg.CRLValidity),
			SignatureAlgorithm: smx509.SM2WithSM3,
		}
		for _, s := range listed {
			entry, ok, err := crlEntry(s, ca.cert)
			if err != nil {
				return CRLRecord{}, err
			}
			if ok {
				tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, entry)
			}
		}
		der, err := smx509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.signer)
		if err != nil {
			return CRLRecord{}, fmt.Errorf("keystore: sign CRL %d: %w", number, err)
		}
		return CRLRecord{Number: number, ThisUpdate: tmpl.ThisUpdate, NextUpdate: tmpl.NextUpdate, DER: der}, nil
	})
	if err != nil {
		return CRLRecord{}, fmt.Errorf("keystore: publish CRL: %w", err)
	}
	return rec, nil
}

// crlEntry returns the CRL entry of a suspended or revoked seal, and false
// if another CA issued its certificate.
func crlEntry(s Seal, ca *smx509.Certificate) (smx509.RevocationListEntry, bool, error) {
	cert, err := smx509.ParseCertificate(s.Certificate)
	if err != nil {
		return smx509.RevocationListEntry{}, false, fmt.Errorf("%w: seal %s: %v", ErrInvalidCertificate, s.ID, err)
	}
	if !bytes.Equal(cert.RawIssuer, ca.RawSubject) || cert.CheckSignatureFrom(ca) != nil {
		return smx509.RevocationListEntry{}, false, nil
	}
	e := smx509.RevocationListEntry{SerialNumber: cert.SerialNumber}
	switch s.State {
	case StateSuspended:
		e.RevocationTime, e.ReasonCode = s.SuspendedAt, reasonCertificateHold
	case StateRevoked:
		e.RevocationTime, e.ReasonCode = s.EndedAt, int(s.RevocationReason)
	default:
		return smx509.RevocationListEntry{}, false, fmt.Errorf("keystore: store listed seal %s, which is %s, for the CRL", s.ID, s.State)
	}
	return e, true, nil
}

// CRL returns the latest published CRL, or ErrNotFound if none was.
func (ks *Keystore) CRL(ctx context.Context) (CRLRecord, error) {
	rec, err := ks.store.LatestCRL(ctx)
	if err != nil {
		return CRLRecord{}, fmt.Errorf("keystore: CRL: %w", err)
	}
	return rec, nil
}
