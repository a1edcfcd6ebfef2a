package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/ronganxian/eseal/seal"
)

// A group's statements are batched. Under the ledger lock every statement
// is a round trip to PostgreSQL, and on a busy machine each round trip
// waits for the server process to be scheduled: a group of ten appends
// spent 3.7 ms a record in three statements each (the request-id check,
// the record, the result), 37 ms of a 90 ms transaction, while the other
// replicas and callers waited for the lock. One statement for each of the
// three, whatever the group's size, keeps the lock's hold short. A group
// of one uses the prepared single-row statements.

// requestKey is a sealing's request id, scoped to its township.
type requestKey struct{ township, requestID string }

// sealedBefore returns the sealed records that already hold the request
// ids of the sealings among calls.
func (s *Store) sealedBefore(ctx context.Context, tx *sql.Tx, calls []*appendCall) (map[requestKey]*seal.Record, error) {
	found := map[requestKey]*seal.Record{}
	var args []any
	for _, c := range calls {
		if c.rec.Result == seal.ResultSealed {
			args = append(args, c.rec.Township, c.rec.RequestID)
		}
	}
	switch n := len(args) / 2; {
	case n == 0:
		return found, nil
	case n == 1:
		r, err := scanRecord(s.txQueryRow(ctx, tx, qSealedByRequest, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return found, nil
		} else if err != nil {
			return nil, fmt.Errorf("looking up request ids: %w", err)
		}
		found[requestKey{r.Township, r.RequestID}] = r
		return found, nil
	}
	q := `SELECT ` + recordColumns + ` FROM ledger WHERE result = 'sealed' AND (township_code, request_id) IN (` +
		repeatJoin("(?, ?)", len(args)/2) + `)`
	rows, err := tx.QueryContext(ctx, s.b.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("looking up request ids: %w", err)
	}
	recs, err := scanRows(rows, scanRecord)
	if err != nil {
		return nil, fmt.Errorf("looking up request ids: %w", err)
	}
	for _, r := range recs {
		found[requestKey{r.Township, r.RequestID}] = r
	}
	return found, nil
}

// insertRecords stores records, in one statement.
func (s *Store) insertRecords(ctx context.Context, tx *sql.Tx, recs []*seal.Record) error {
	if len(recs) == 0 {
		return nil
	}
	args := make([]any, 0, 19*len(recs))
	for _, rec := range recs {
		args = append(args, rec.Seq, rec.Time.UnixMicro(), rec.RequestID, rec.Township, rec.SealID, rec.CertSerial, rec.Item,
			rec.Domain, rec.CaseNo, rec.Principal, string(rec.Window), rec.DocKind, rec.InputSM3, rec.OutputSM3,
			string(rec.Result), string(rec.Rule), rec.Detail, rec.PrevHash, rec.Hash)
	}
	var err error
	if len(recs) == 1 {
		_, err = s.txExec(ctx, tx, qInsertRecord, args...)
	} else {
		q := `INSERT INTO ledger (` + recordColumns + `) VALUES ` + repeatJoin("("+placeholders(19)+")", len(recs))
		_, err = tx.ExecContext(ctx, s.b.Rebind(q), args...)
	}
	if err != nil {
		return fmt.Errorf("inserting records %d to %d: %w", recs[0].Seq, recs[len(recs)-1].Seq, err)
	}
	return nil
}

// result is a sealed document's row in results.
type result struct {
	township, requestID string
	seq                 uint64
	doc, ref            []byte
}

// insertResults stores the sealed documents' rows, in one statement.
func (s *Store) insertResults(ctx context.Context, tx *sql.Tx, rs []result) error {
	if len(rs) == 0 {
		return nil
	}
	args := make([]any, 0, 5*len(rs))
	for _, r := range rs {
		args = append(args, r.township, r.requestID, r.seq, r.doc, r.ref)
	}
	var err error
	if len(rs) == 1 {
		_, err = s.txExec(ctx, tx, qInsertResult, args...)
	} else {
		q := `INSERT INTO results (township_code, request_id, seq, document, document_ref) VALUES ` +
			repeatJoin("(?, ?, ?, ?, ?)", len(rs))
		_, err = tx.ExecContext(ctx, s.b.Rebind(q), args...)
	}
	if err != nil {
		return fmt.Errorf("storing the results of records %d to %d: %w", rs[0].seq, rs[len(rs)-1].seq, err)
	}
	return nil
}

// repeatJoin returns n copies of s joined by ", ".
func repeatJoin(s string, n int) string {
	return strings.TrimSuffix(strings.Repeat(s+", ", n), ", ")
}
