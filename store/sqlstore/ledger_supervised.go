package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ronganxian/eseal/seal"
)

// A supervision result may carry a request id (seal.SupervisionInput), so
// that a department's retry gets the record its first call made. The check
// runs in the appending transaction, under the ledger lock, like a
// sealing's: two calls with one id at once, on one replica or two, store
// one record. No unique index backs it (the ledger's only unique index is
// the sealings'); the lock is what serialises appends. The case index
// (ledger_case) finds the case's records.

// qSupervisedByRequest finds a department's earlier result for a case
// under a request id.
const qSupervisedByRequest = `SELECT ` + recordColumns + ` FROM ledger
	WHERE township_code = ? AND case_no = ? AND result = 'supervised' AND request_id = ? AND principal = ?
	ORDER BY seq LIMIT 1`

// supervisionQueries are prepared before an append's transaction begins.
var supervisionQueries = []string{qSupervisedByRequest}

// supervisedKey is a supervision result's request id, scoped to its case
// and department.
type supervisedKey struct{ township, caseNo, principal, requestID string }

func supervisedKeyOf(r *seal.Record) (supervisedKey, bool) {
	if r.Result != seal.ResultSupervised || r.RequestID == "" {
		return supervisedKey{}, false
	}
	return supervisedKey{r.Township, r.CaseNo, r.Principal, r.RequestID}, true
}

// supervisedBefore returns the stored results that hold the request ids of
// the supervision results among calls.
func (s *Store) supervisedBefore(ctx context.Context, tx *sql.Tx, calls []*appendCall) (map[supervisedKey]*seal.Record, error) {
	found := map[supervisedKey]*seal.Record{}
	for _, c := range calls {
		k, ok := supervisedKeyOf(&c.rec)
		if !ok {
			continue
		}
		if _, seen := found[k]; seen {
			continue
		}
		r, err := scanRecord(s.txQueryRow(ctx, tx, qSupervisedByRequest, k.township, k.caseNo, k.requestID, k.principal))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("looking up supervision request ids: %w", err)
		}
		found[k] = r
	}
	return found, nil
}
