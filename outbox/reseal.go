package outbox

import (
	"context"
	"errors"
	"fmt"
)

// ResealSecrets keeps the receivers' credentials openable across a KEK
// rotation: it opens each under the current KEK, runs rotate (which
// switches the KEK: keystore.RotateKEK), and seals each again under the new
// one. The credentials are not in the keystore's transaction: if the
// process dies between the rotation and the last reseal, a subscription
// whose credential is still under the old KEK is parked at its next
// delivery ("opening its credential"), and is fixed by creating it again
// with its secret.
func (o *Outbox) ResealSecrets(ctx context.Context, rotate func() error) error {
	subs, err := o.st.Subscriptions(ctx)
	if err != nil {
		return err
	}
	open := map[string][]byte{}
	defer func() {
		for _, s := range open {
			clear(s)
		}
	}()
	for _, s := range subs {
		if len(s.Credential) == 0 {
			continue
		}
		pt, err := o.secrets.OpenSecret(secretOwner(s.ID), s.Credential)
		if err != nil {
			return fmt.Errorf("subscription %s: opening its credential before the KEK rotation: %w", s.ID, err)
		}
		open[s.ID] = pt
	}
	if err := rotate(); err != nil {
		return err
	}
	var errs []error
	for id, pt := range open {
		sealed, err := o.secrets.SealSecret(secretOwner(id), pt)
		if err == nil {
			err = o.st.SetSubscriptionCredential(ctx, id, sealed)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("subscription %s: sealing its credential under the new KEK: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
