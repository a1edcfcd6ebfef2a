package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
)

// The fence between sealing and a seal's suspension or revocation
// (DESIGN.md §6: one seal state, everywhere at once).
//
// Every replica appends under the ledger lock (Backend.LockLedger), and
// the keystore's seal table is in the same database. An append reads the
// state of each seal its group's sealings used, after it holds the lock
// and in the same transaction; a suspension or revocation takes the same
// lock before it changes the seal (Keystore.fenceSeal). The two are
// therefore serialised, and either order is safe:
//   - the append holds the lock first: its sealings commit, and the change,
//     which waits for the lock, computes its revocation time after reading
//     their records, so the time comes after every one of them;
//   - the change holds the lock first: the append, which waits for the
//     lock, reads the state it committed (at READ COMMITTED each statement
//     sees every commit before it; in SQLite the write lock orders whole
//     transactions), and records each of those sealings as a refusal.
// So no sealing commits after the change commits, whatever replica made
// it and whatever its clock says.

// qSealState reads a seal's state in the appending transaction.
const qSealState = `SELECT state FROM keystore_seals WHERE id = ?`

// fenceQueries are prepared before an append's transaction begins.
var fenceQueries = []string{qSealState}

// sealStates returns the state, as tx reads it, of every seal that a
// sealing among calls used. A seal this database's keystore does not hold
// is left out: the fence knows nothing of it and lets it pass (stores that
// hold no keystore, as in the store's own conformance tests).
func (s *Store) sealStates(ctx context.Context, tx *sql.Tx, calls []*appendCall) (map[string]seal.State, error) {
	states := map[string]seal.State{}
	for _, c := range calls {
		id := c.rec.SealID
		if c.rec.Result != seal.ResultSealed || id == "" {
			continue
		}
		if _, seen := states[id]; seen {
			continue
		}
		var st string
		err := s.txQueryRow(ctx, tx, qSealState, id).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the state of seal %s: %w", id, err)
		}
		states[id] = seal.State(st)
	}
	return states, nil
}

// fenced returns the refusal of a sealing whose seal states shows
// suspended, revoked or otherwise unable to sign, and turns rec into that
// refusal's record: no output digest, and no document. It returns nil, and
// leaves rec alone, when the sealing may be recorded.
func fenced(rec *seal.Record, states map[string]seal.State) *seal.Refusal {
	st, known := states[rec.SealID]
	if !known {
		return nil
	}
	r := seal.Fenced(rec.SealID, st)
	if r == nil {
		return nil
	}
	rec.Result, rec.Rule, rec.Detail, rec.OutputSM3 = seal.ResultRefused, r.Rule, r.Message, nil
	return r
}

// documentDiscarder is a DocumentLog that can delete documents that no
// result names (PostgreSQL's table; SQLite's log is only ever appended to).
type documentDiscarder interface {
	DiscardDocuments(refs [][]byte) error
}

// discardUnreferenced deletes, where the DocumentLog can, the documents
// written for calls that the append did not store: a sealing the fence
// refused, whose signed document must not outlive it, and a request sealed
// before. It is best effort: a document left behind is named by no result
// and never read.
func (s *Store) discardUnreferenced(calls []*appendCall) {
	d, ok := s.docs.(documentDiscarder)
	if !ok {
		return
	}
	var refs [][]byte
	for _, c := range calls {
		if c.ref == nil || c.err == nil {
			continue
		}
		if _, refused := seal.AsRefusal(c.err); refused || errors.Is(c.err, store.ErrDuplicateRequest) {
			refs = append(refs, c.ref)
		}
	}
	if len(refs) > 0 {
		_ = d.DiscardDocuments(refs)
	}
}
