package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
)

const recordColumns = `seq, time_us, request_id, township_code, seal_id, cert_serial, item_code, domain, case_no,
	principal, service_window, doc_kind, input_sm3, output_sm3, result, rule, detail, prev_hash, hash`

func scanRecord(row scanner) (*seal.Record, error) {
	r := &seal.Record{}
	var us int64
	if err := row.Scan(&r.Seq, &us, &r.RequestID, &r.Township, &r.SealID, &r.CertSerial, &r.Item, &r.Domain,
		&r.CaseNo, &r.Principal, &r.Window, &r.DocKind, &r.InputSM3, &r.OutputSM3, &r.Result, &r.Rule, &r.Detail,
		&r.PrevHash, &r.Hash); err != nil {
		return nil, err
	}
	r.Time = time.UnixMicro(us).UTC()
	if len(r.InputSM3) == 0 {
		r.InputSM3 = nil
	}
	if len(r.OutputSM3) == 0 {
		r.OutputSM3 = nil
	}
	return r, nil
}

// Append implements store.Ledger. Appends that arrive together are
// committed together (see groupCommit).
func (s *Store) Append(ctx context.Context, r *seal.Record, document []byte) (*seal.Record, error) {
	c := &appendCall{ctx: ctx, rec: *r, doc: document}
	s.appends.do(c, s.writeGroup)
	return c.out, c.err
}

// appendTimeout bounds one group's transaction. It runs on its own
// context: a caller that gives up must not fail the others' appends.
const appendTimeout = time.Minute

// writeGroup appends the calls of one group in one transaction. If that
// transaction fails, each call is tried again alone, so that a call that
// cannot be stored fails only itself.
func (s *Store) writeGroup(group []*appendCall) {
	live := group[:0:0]
	for _, c := range group {
		if err := c.ctx.Err(); err != nil {
			c.err = fmt.Errorf("ledger append: %w", err)
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	if err := s.writeDocuments(live); err != nil {
		for _, c := range live {
			c.out, c.err = nil, fmt.Errorf("ledger append: %w", err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), appendTimeout)
	defer cancel()
	defer s.discardUnreferenced(live)
	err := s.appendInTx(ctx, live)
	if err == nil {
		return
	}
	if len(live) == 1 {
		live[0].out, live[0].err = nil, fmt.Errorf("ledger append: %w", err)
		return
	}
	for _, c := range live {
		if err := s.appendInTx(ctx, []*appendCall{c}); err != nil {
			c.out, c.err = nil, fmt.Errorf("ledger append: %w", err)
		}
	}
}

// writeDocuments stores the sealed documents of calls in the backend's
// DocumentLog, if it has one, before their transaction begins, and keeps
// each reference in its call.
func (s *Store) writeDocuments(calls []*appendCall) error {
	if s.docs == nil {
		return nil
	}
	var docs [][]byte
	var owners []*appendCall
	for _, c := range calls {
		if c.rec.Result == seal.ResultSealed {
			docs = append(docs, c.doc)
			owners = append(owners, c)
		}
	}
	if len(docs) == 0 {
		return nil
	}
	refs, err := s.docs.WriteDocuments(docs)
	if err != nil {
		return err
	}
	for i, c := range owners {
		c.ref = refs[i]
	}
	return nil
}

// appendInTx chains and stores the calls' records, in order, in one
// transaction (with one statement for each kind of row: ledger_batch.go),
// and sets each call's out and err. A sealing whose request
// id is stored already (before, or earlier in this group) gets the stored
// record and ErrDuplicateRequest, and stores nothing. The returned error
// is the transaction's: when it is not nil, nothing was stored.
//
// Under the ledger lock it reads the state of the sealings' seals (the
// fence, ledger_fence.go): a sealing whose seal is no longer active is
// stored as a refusal by its rule, without its document, and its call gets
// that record and the *seal.Refusal.
func (s *Store) appendInTx(ctx context.Context, calls []*appendCall) error {
	if err := s.writes.prepare(ctx, append(fenceQueries[:len(fenceQueries):len(fenceQueries)], supervisionQueries...)); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := s.b.LockLedger(ctx, tx); err != nil {
			return fmt.Errorf("locking the ledger: %w", err)
		}
		head, err := scanRecord(s.txQueryRow(ctx, tx, qHead))
		if errors.Is(err, sql.ErrNoRows) {
			head = nil
		} else if err != nil {
			return fmt.Errorf("reading the head: %w", err)
		}
		states, err := s.sealStates(ctx, tx, calls)
		if err != nil {
			return err
		}
		sealed, err := s.sealedBefore(ctx, tx, calls)
		if err != nil {
			return err
		}
		supervised, err := s.supervisedBefore(ctx, tx, calls) // ledger_supervised.go
		if err != nil {
			return err
		}
		var (
			recs    []*seal.Record
			results []result
		)
		for _, c := range calls {
			c.out, c.err = nil, nil
			rec := c.rec
			key := requestKey{rec.Township, rec.RequestID}
			if rec.Result == seal.ResultSealed {
				if earlier, ok := sealed[key]; ok {
					c.out, c.err = earlier, store.ErrDuplicateRequest
					continue
				}
			}
			sk, keyed := supervisedKeyOf(&rec)
			if earlier, ok := supervised[sk]; keyed && ok {
				c.out, c.err = earlier, store.ErrDuplicateRequest
				continue
			}
			refusal := fenced(&rec, states)
			rec.Link(head)
			recs = append(recs, &rec)
			c.out, head = &rec, &rec
			if keyed {
				supervised[sk] = &rec
			}
			if refusal != nil {
				c.err = refusal
				continue
			}
			if rec.Result != seal.ResultSealed {
				continue
			}
			sealed[key] = &rec
			doc := c.doc
			if c.ref != nil {
				doc = []byte{} // the document is in the log
			}
			results = append(results, result{rec.Township, rec.RequestID, rec.Seq, doc, c.ref})
		}
		if err := s.insertRecords(ctx, tx, recs); err != nil {
			return err
		}
		return s.insertResults(ctx, tx, results)
	})
}

// Head implements store.Ledger.
func (s *Store) Head(ctx context.Context) (*seal.Record, error) {
	r, err := scanRecord(s.queryRow(ctx, `SELECT `+recordColumns+` FROM ledger ORDER BY seq DESC LIMIT 1`))
	if err != nil {
		return nil, notFound(err, "ledger head")
	}
	return r, nil
}

// Record implements store.Ledger.
func (s *Store) Record(ctx context.Context, seq uint64) (*seal.Record, error) {
	r, err := scanRecord(s.queryRow(ctx, `SELECT `+recordColumns+` FROM ledger WHERE seq = ?`, seq))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("ledger record %d", seq))
	}
	return r, nil
}

// Records implements store.Ledger.
func (s *Store) Records(ctx context.Context, f store.RecordFilter, afterSeq uint64, limit int) ([]*seal.Record, error) {
	q := `SELECT ` + recordColumns + ` FROM ledger WHERE seq > ?`
	args := []any{afterSeq}
	if f.Township != "" {
		q += ` AND township_code = ?`
		args = append(args, f.Township)
	}
	if len(f.Domains) > 0 {
		q += ` AND domain IN (` + placeholders(len(f.Domains)) + `, '` + seal.AllDomains + `')` // a seal's lifecycle concerns every domain
		for _, d := range f.Domains {
			args = append(args, d)
		}
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	rows, err := s.b.Reader().QueryContext(ctx, s.b.Rebind(q), args...) // dynamic: not cached
	if err != nil {
		return nil, fmt.Errorf("ledger records: %w", err)
	}
	out, err := scanRows(rows, scanRecord)
	if err != nil {
		return nil, fmt.Errorf("ledger records: %w", err)
	}
	return out, nil
}

// Result implements store.Ledger.
func (s *Store) Result(ctx context.Context, township, requestID string) (*seal.Record, []byte, error) {
	var doc, ref []byte
	var seq uint64
	err := s.queryRow(ctx, `SELECT seq, document, document_ref FROM results WHERE township_code = ? AND request_id = ?`,
		township, requestID).Scan(&seq, &doc, &ref)
	if errors.Is(err, sql.ErrNoRows) {
		return s.deletedResult(ctx, township, requestID) // retention.go
	}
	if err != nil {
		return nil, nil, notFound(err, "result of request "+requestID)
	}
	if len(ref) > 0 {
		if s.docs == nil {
			return nil, nil, fmt.Errorf("result of request %s: its document is kept outside this database", requestID)
		}
		if doc, err = s.docs.ReadDocument(ref); err != nil {
			return nil, nil, fmt.Errorf("result of request %s: %w", requestID, err)
		}
	}
	r, err := s.Record(ctx, seq)
	if err != nil {
		return nil, nil, err
	}
	return r, doc, nil
}

// AddCheckpoint implements store.Ledger.
func (s *Store) AddCheckpoint(ctx context.Context, c *seal.Checkpoint) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, qInsertCheckpoint,
			c.Seq, c.Head, c.Time.UnixMicro(), c.Signature, c.Cert)
		if err != nil {
			return fmt.Errorf("storing checkpoint %d: %w", c.Seq, err)
		}
		return nil
	})
}

// Checkpoints implements store.Ledger.
func (s *Store) Checkpoints(ctx context.Context) ([]*seal.Checkpoint, error) {
	rows, err := s.query(ctx, `SELECT seq, head, time_us, signature, certificate FROM checkpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	defer rows.Close()
	var out []*seal.Checkpoint
	for rows.Next() {
		c := &seal.Checkpoint{}
		var us int64
		if err := rows.Scan(&c.Seq, &c.Head, &us, &c.Signature, &c.Cert); err != nil {
			return nil, fmt.Errorf("checkpoints: %w", err)
		}
		c.Time = time.UnixMicro(us).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
