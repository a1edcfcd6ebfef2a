package keystore

import (
	"context"
	"fmt"
)

// RotateKEK rewraps the data key of every stored key from the current KEK to
// next, in one store transaction, and from then on uses next. Seals, keys
// and certificates stay as they are: only the wrapping changes. If any key
// fails to rewrap (for example because it is not under the current KEK),
// nothing changes and the current KEK stays in use.
//
// Keep next (WriteKEKFile) before rotating, and configure it afterwards:
// once RotateKEK returns, the old KEK no longer opens the store. Other
// processes using the store must restart with next; until then their key
// loads fail with ErrWrongKEK and they cannot add keys.
func (ks *Keystore) RotateKEK(ctx context.Context, next *KEK) error {
	if err := ks.checkOpen(); err != nil {
		return err
	}
	sb, ok := ks.backend.(*SoftwareBackend)
	if !ok {
		return fmt.Errorf("%w: backend %s has no KEK", ErrUnsupported, ks.backend.Name())
	}
	if next == nil {
		return invalid("next", "must not be nil")
	}
	cur, err := sb.current()
	if err != nil {
		return err
	}
	if next.ID() == "" {
		return invalid("next", "is not a KEK")
	}
	if next.ID() == cur.ID() {
		return invalid("next", "%s is the KEK in use", next)
	}
	_, err = ks.store.RewrapKeys(ctx, cur.ID(), next.ID(), func(k KeyRecord) ([]byte, error) {
		if k.Backend != softwareBackendName {
			return nil, fmt.Errorf("%w: key %s is held by backend %s", ErrUnsupported, k.ID, k.Backend)
		}
		return sb.rewrap(KeyRef{ID: k.ID, Owner: k.Owner}, k.Handle, cur, next)
	})
	if err != nil {
		return fmt.Errorf("keystore: rotate KEK %s to %s: %w", cur.ID(), next.ID(), err)
	}
	sb.kek.Store(next)
	return nil
}
