package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// The keystore's side of the fence (ledger_fence.go): a change that
// suspends or revokes a seal takes the ledger lock, in its own
// transaction, before it writes the seal, and fixes the revocation time
// that the CRL will publish.

// qLatestSealing is the time of the latest sealing the ledger recorded
// with a seal (the index ledger_seal_time makes it one probe).
const qLatestSealing = `SELECT MAX(time_us) FROM ledger WHERE seal_id = ? AND result = 'sealed'`

var fenceSealQueries = []string{qLatestSealing}

// fenceSeal, in the transaction of an update that takes s into the
// suspended or revoked state, takes the ledger lock, so that no append is
// between reading the seal's state and committing, and sets the time the
// CRL lists (SuspendedAt, or EndedAt) to the revocation time: the first
// whole second strictly after both the time the keystore gave the change
// and the latest sealing the ledger holds with the seal.
//
// Every sealing that the fence lets through has committed before this
// point, so its record is read here; a record's time is never before the
// signing time its document claims (seal.Sealer). So every document that
// was ever returned sealed by s claims a signing time strictly before the
// revocation time, and verifies valid against the CRL, whichever
// replica's clock stamped it; every sealing after this change commits is
// refused. The CRL's times are whole seconds, and the verifier treats a
// revocation in the same second as applying, which is why the time is
// rounded up, never down. The proof needs no agreement between clocks: a
// replica whose clock runs ahead only moves the revocation time later, to
// a time at which nothing can be sealed any more.
func (k *Keystore) fenceSeal(ctx context.Context, tx *sql.Tx, s *keystore.Seal) error {
	var at *time.Time
	switch s.State {
	case keystore.StateSuspended:
		at = &s.SuspendedAt
	case keystore.StateRevoked:
		at = &s.EndedAt
	default:
		return nil
	}
	if err := k.b.LockLedger(ctx, tx); err != nil {
		return fmt.Errorf("keystore store: seal %s: locking the ledger: %w", s.ID, err)
	}
	var latest sql.NullInt64
	if err := k.writes.txRow(ctx, tx, qLatestSealing, s.ID).Scan(&latest); err != nil {
		return fmt.Errorf("keystore store: seal %s: its latest sealing: %w", s.ID, err)
	}
	*at = revocationTime(*at, latest)
	return nil
}

// revocationTime is the first whole second strictly after both at and the
// latest sealing (microseconds since the epoch, if valid).
func revocationTime(at time.Time, latest sql.NullInt64) time.Time {
	if latest.Valid {
		if t := time.UnixMicro(latest.Int64); t.After(at) {
			at = t
		}
	}
	return at.UTC().Truncate(time.Second).Add(time.Second)
}
