package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// KeystoreBackend is what the keystore's store (Keystore) needs of a
// database beyond Backend: how keystore writes exclude each other, how a
// read locks rows, how times are stored, and how the schema's refusals
// read. Keystore uses Backend's Write, Reader, Writer and Rebind; it never
// closes the backend.
type KeystoreBackend interface {
	Backend

	// LockKeystore makes the calling write transaction the only keystore
	// writer until it ends, in every process sharing the database, so that
	// the checks each write makes before it writes are exact. It may do
	// nothing if Write's transactions already exclude each other.
	LockKeystore(ctx context.Context, tx *sql.Tx) error

	// ForUpdate is the clause appended to a SELECT in a write transaction
	// to lock the rows it reads until the transaction ends (" FOR UPDATE"),
	// or "" where a write transaction already excludes every other writer.
	ForUpdate() string

	// InsertionOrder names the column that orders a keystore table's rows
	// as they were inserted; it breaks ties between equal creation times.
	InsertionOrder() string

	// EncodeTime returns t as the keystore's tables store it. t is not zero.
	EncodeTime(t time.Time) any
	// DecodeTime returns the time a column holds, as the driver returns it
	// (EncodeTime's encoding); NULL (nil) is the zero time.
	DecodeTime(v any) (time.Time, error)

	// KeystoreError turns the refusals of the keystore's constraints and
	// triggers into the keystore's sentinel errors (keystore.ErrConflict,
	// ErrLiveSealExists, …) and returns other errors as they are. state is
	// the state of the seal being written, if any; it tells a second live
	// seal from a second pending one where the database does not.
	KeystoreError(err error, state keystore.State) error
}
