package verify

import (
	"bytes"
	"encoding/hex"
	"errors"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Checking a signer's certificates: the chain to a trust anchor, with
// each signature in it verified; validity at the signing time; the
// signer's key usage; and revocation by the CRLs given. Trust comes only
// from the anchors the caller names, never from the system's roots.

// chainCheck is what checking a signer's certificates found.
type chainCheck struct {
	chain              []CertificateInfo
	trusted            bool
	validAtSigningTime bool
	keyUsageOK         bool
	revocation         Revocation
	revokedAt          time.Time
	reasons, warnings  []Problem
}

// maxChain bounds the chains built from embedded certificates.
const maxChain = 10

// checkCertificates checks signer, with the certificates embedded in the
// signature, at the signing time at; now is the verification time. proven
// says that a valid timestamp proves at (see timestamp.go), so that a
// revocation for key compromise after it leaves the signature valid.
func (v *verifier) checkCertificates(signer *smx509.Certificate, embedded []*smx509.Certificate, at, now time.Time, proven bool) chainCheck {
	var cc chainCheck
	inter := smx509.NewCertPool()
	for _, c := range embedded {
		if !c.Equal(signer) {
			inter.AddCert(c)
		}
	}
	for _, c := range v.intermediates {
		inter.AddCert(c)
	}
	opts := smx509.VerifyOptions{Roots: v.roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}
	var chain []*smx509.Certificate
	chains, err := signer.Verify(opts)
	switch {
	case err == nil:
		chain, cc.trusted = chains[0], true
	default:
		// Does it chain when the time is not in question? Then the
		// failure is validity at the signing time.
		var ie smx509.CertificateInvalidError
		if errors.As(err, &ie) && ie.Reason == smx509.Expired {
			for _, t := range []time.Time{signer.NotBefore, signer.NotAfter, signer.NotBefore.Add(signer.NotAfter.Sub(signer.NotBefore) / 2)} {
				opts.CurrentTime = t
				if chains, err2 := signer.Verify(opts); err2 == nil {
					chain, cc.trusted = chains[0], true
					break
				}
			}
		}
		if chain == nil {
			chain = embeddedChain(signer, embedded)
			cc.reasons = append(cc.reasons, problem(CodeUntrusted, "%s: %v", signer.Subject.CommonName, err))
		}
	}
	for i, c := range chain {
		info := CertificateInfo{
			Subject: c.Subject.String(), Issuer: c.Issuer.String(), Serial: hex.EncodeToString(c.SerialNumber.Bytes()),
			NotBefore: c.NotBefore, NotAfter: c.NotAfter, KeyUsage: keyUsageNames(c.KeyUsage),
			ValidAtSigningTime: !at.Before(c.NotBefore) && !at.After(c.NotAfter),
			TrustAnchor:        v.isAnchor(c),
			Revocation:         RevocationUnknown,
		}
		if i+1 < len(chain) {
			info.SignatureValid = c.CheckSignatureFrom(chain[i+1]) == nil
		} else if bytes.Equal(c.RawIssuer, c.RawSubject) {
			info.SignatureValid = c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
		}
		if !info.ValidAtSigningTime && cc.trusted {
			cc.reasons = append(cc.reasons, problem(CodeCertExpired, "%s is valid from %s to %s; signed at %s",
				c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339)))
		}
		cc.chain = append(cc.chain, info)
	}
	cc.validAtSigningTime = len(chain) > 0
	for _, info := range cc.chain {
		cc.validAtSigningTime = cc.validAtSigningTime && info.ValidAtSigningTime
	}

	const signing = smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment
	switch {
	case signer.KeyUsage == 0:
		cc.keyUsageOK = true
		cc.warnings = append(cc.warnings, problem(CodeNoKeyUsage, "%s", signer.Subject.CommonName))
	case signer.KeyUsage&signing != 0:
		cc.keyUsageOK = true
	default:
		cc.reasons = append(cc.reasons, problem(CodeKeyUsage, "%s allows %v, neither digitalSignature nor nonRepudiation",
			signer.Subject.CommonName, keyUsageNames(signer.KeyUsage)))
	}

	// Revocation of every certificate below the anchor, by its issuer's CRL.
	cc.revocation = RevocationUnknown
	for i := 0; i+1 < len(chain); i++ {
		st, when, reason := v.revocation(chain[i], chain[i+1], now, &cc)
		cc.chain[i].Revocation = st
		if i == 0 {
			cc.revocation, cc.revokedAt = st, when
		}
		if st != RevocationRevoked && st != RevocationSuspended {
			continue
		}
		code := CodeRevoked
		if st == RevocationSuspended {
			code = CodeSuspended
		}
		compromised := st == RevocationRevoked && (reason == reasonKeyCompromise || reason == reasonCACompromise)
		if compromised && proven && !when.After(at) {
			cc.reasons = append(cc.reasons, problem(CodeKeyCompromised, "%s (serial %s) revoked for key compromise at %s; the proven signing time %s is not before it",
				chain[i].Subject.CommonName, cc.chain[i].Serial, when.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339Nano)))
			continue
		}
		if compromised && !proven {
			// Whoever stole the key can claim any signing time: until the
			// time is proven by a trusted timestamp, a claim that it came
			// before the revocation proves nothing.
			cc.reasons = append(cc.reasons, problem(CodeKeyCompromised, "%s (serial %s) revoked for key compromise at %s; the signing time %s is only claimed",
				chain[i].Subject.CommonName, cc.chain[i].Serial, when.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339)))
			continue
		}
		// The order is exact on whole seconds: signed strictly before the
		// listing is valid, and a listing in the signing's own second
		// applies, since the second cannot say which came first. The
		// keystore's revocation time is the first whole second after every
		// sealing it let through (its fence), so this rule never voids a
		// document sealed before a suspension.
		if !when.After(at) {
			cc.reasons = append(cc.reasons, problem(code, "%s (serial %s) listed since %s; signed at %s",
				chain[i].Subject.CommonName, cc.chain[i].Serial, when.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339)))
		} else {
			cc.warnings = append(cc.warnings, problem(CodeRevokedLater, "%s %s at %s; signed at %s",
				chain[i].Subject.CommonName, st, when.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339)))
		}
	}
	if len(chain) > 0 && cc.revocation == RevocationUnknown && len(chain) > 1 {
		cc.warnings = append(cc.warnings, problem(CodeRevocationUnknown, "no CRL from %s", chain[1].Subject.CommonName))
	}
	return cc
}

// revocation looks c up in the newest CRL that issuer signed.
// It returns the status, when it took effect, and the CRL's reason code.
func (v *verifier) revocation(c, issuer *smx509.Certificate, now time.Time, cc *chainCheck) (Revocation, time.Time, int) {
	var best *smx509.RevocationList
	for _, rl := range v.crls {
		if !bytes.Equal(rl.RawIssuer, issuer.RawSubject) {
			continue
		}
		if err := rl.CheckSignatureFrom(issuer); err != nil {
			cc.warnings = append(cc.warnings, problem(CodeCRLIgnored, "CRL of %s issued %s: %v", issuer.Subject.CommonName, rl.ThisUpdate.UTC().Format(time.RFC3339), err))
			continue
		}
		if best == nil || rl.ThisUpdate.After(best.ThisUpdate) {
			best = rl
		}
	}
	if best == nil {
		return RevocationUnknown, time.Time{}, 0
	}
	if !best.NextUpdate.IsZero() && best.NextUpdate.Before(now) {
		cc.warnings = append(cc.warnings, problem(CodeCRLStale, "CRL of %s issued %s, next update %s", issuer.Subject.CommonName,
			best.ThisUpdate.UTC().Format(time.RFC3339), best.NextUpdate.UTC().Format(time.RFC3339)))
	}
	for _, e := range best.RevokedCertificateEntries {
		if e.SerialNumber != nil && e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			if e.ReasonCode == reasonCertificateHold {
				return RevocationSuspended, e.RevocationTime, e.ReasonCode
			}
			return RevocationRevoked, e.RevocationTime, e.ReasonCode
		}
	}
	return RevocationGood, time.Time{}, 0
}

// CRL reason codes (RFC 5280 §5.3.1). certificateHold is what the keystore
// writes for a seal that is 挂失; keyCompromise and cACompromise mean that
// someone else may hold the key.
const (
	reasonKeyCompromise   = 1
	reasonCACompromise    = 2
	reasonCertificateHold = 6
)

func (v *verifier) isAnchor(c *smx509.Certificate) bool {
	for _, r := range v.anchors {
		if r.Equal(c) {
			return true
		}
	}
	return false
}

// embeddedChain orders the embedded certificates from signer up, by
// issuer name and signature, for a report of a chain that is not trusted.
func embeddedChain(signer *smx509.Certificate, embedded []*smx509.Certificate) []*smx509.Certificate {
	chain := []*smx509.Certificate{signer}
	for len(chain) < maxChain {
		cur := chain[len(chain)-1]
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
		var next *smx509.Certificate
		for _, c := range embedded {
			if bytes.Equal(c.RawSubject, cur.RawIssuer) && !c.Equal(cur) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
	}
	return chain
}

var keyUsageBits = []struct {
	bit  smx509.KeyUsage
	name string
}{
	{smx509.KeyUsageDigitalSignature, "digitalSignature"},
	{smx509.KeyUsageContentCommitment, "nonRepudiation"},
	{smx509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{smx509.KeyUsageDataEncipherment, "dataEncipherment"},
	{smx509.KeyUsageKeyAgreement, "keyAgreement"},
	{smx509.KeyUsageCertSign, "keyCertSign"},
	{smx509.KeyUsageCRLSign, "cRLSign"},
	{smx509.KeyUsageEncipherOnly, "encipherOnly"},
	{smx509.KeyUsageDecipherOnly, "decipherOnly"},
}

func keyUsageNames(ku smx509.KeyUsage) []string {
	var out []string
	for _, b := range keyUsageBits {
		if ku&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}
