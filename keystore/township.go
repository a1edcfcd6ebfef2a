package keystore

import (
	"context"
	"fmt"
)

// The county office acts on a township's seal, not on a seal id: these
// methods find the township's live seal and change it, and when the change
// is one the CRL lists (a suspension, resumption or revocation), they
// publish a new CRL at once so that verifiers learn of it.

// IssueActive makes the township's seal (制章) and puts it into use.
func (ks *Keystore) IssueActive(ctx context.Context, req SealRequest) (Seal, error) {
	s, err := ks.Issue(ctx, req)
	if err != nil {
		return Seal{}, err
	}
	return ks.Activate(ctx, s.ID)
}

// SuspendTownship suspends the township's seal (挂失) and republishes the CRL.
func (ks *Keystore) SuspendTownship(ctx context.Context, township string) (Seal, error) {
	return ks.changeTownship(ctx, township, true, ks.Suspend)
}

// ResumeTownship resumes the township's suspended seal and republishes the
// CRL.
func (ks *Keystore) ResumeTownship(ctx context.Context, township string) (Seal, error) {
	return ks.changeTownship(ctx, township, true, ks.Resume)
}

// RotateTownship replaces the township's seal with a new key. The old
// certificate is not revoked, so the CRL does not change.
func (ks *Keystore) RotateTownship(ctx context.Context, township string) (Seal, error) {
	return ks.changeTownship(ctx, township, false, ks.Rotate)
}

// RevokeTownship revokes the township's seal (注销) for reason and
// republishes the CRL.
func (ks *Keystore) RevokeTownship(ctx context.Context, township string, reason RevocationReason) (Seal, error) {
	return ks.changeTownship(ctx, township, true, func(ctx context.Context, id string) (Seal, error) {
		return ks.Revoke(ctx, id, reason)
	})
}

// changeTownship applies change to the township's live seal. When the
// change commits but the CRL cannot be published, it returns the changed
// seal with an error wrapping ErrCRLNotPublished: the change stands, and
// the next publication lists it.
func (ks *Keystore) changeTownship(ctx context.Context, township string, listed bool,
	change func(context.Context, string) (Seal, error)) (Seal, error) {
	live, err := ks.LiveSeal(ctx, township)
	if err != nil {
		return Seal{}, err
	}
	s, err := change(ctx, live.ID)
	if err != nil || !listed {
		return s, err
	}
	if _, err := ks.PublishCRL(ctx); err != nil {
		return s, fmt.Errorf("%w: seal %s: %v", ErrCRLNotPublished, s.ID, err)
	}
	return s, nil
}

// ParseRevocationReason reads a reason by its RFC 5280 name, as
// RevocationReason.String writes it; "" is unspecified. It refuses the
// reasons a seal may not be revoked with.
func ParseRevocationReason(name string) (RevocationReason, error) {
	if name == "" {
		return ReasonUnspecified, nil
	}
	for _, r := range []RevocationReason{ReasonUnspecified, ReasonKeyCompromise, ReasonAffiliationChanged,
		ReasonSuperseded, ReasonCessationOfOperation, ReasonPrivilegeWithdrawn} {
		if r.String() == name {
			return r, nil
		}
	}
	return 0, invalid("reason", "%q is not an RFC 5280 reason a seal may be revoked with", name)
}
