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

// Sealed documents are kept for the retention period (the service's
// documents_retention_days); the archive package is what is kept for ever.
// Deleting a document deletes its row in results and, after that
// transaction commits, its bytes where the backend keeps them apart (the
// SQLite log: the range is punched out or zeroed; the PostgreSQL documents
// table: the row). The ledger record stays, with its InputSM3, OutputSM3,
// prevHash and hash, and so does the chain and every checkpoint: a sealed
// record whose results row is gone is a document deleted under retention,
// and nothing else leaves that state (the append stores a sealing's record
// and its result in one transaction).
//
// A crash between the transaction and the erasure leaves bytes that no
// result names: they are never read, and never deleted either (the SQLite
// log keeps them until it is compacted by hand; PostgreSQL keeps the row).

// documentPurger is a DocumentLog that can erase documents whose results
// were deleted (the SQLite log). A DocumentLog that is a documentDiscarder
// (PostgreSQL's table) deletes them as it deletes unreferenced ones.
type documentPurger interface {
	PurgeDocuments(refs [][]byte) error
}

// maxPurgeBatch bounds the results one purge transaction deletes, so that
// it holds the writer (and, on SQLite, every sealing) only briefly.
const maxPurgeBatch = 500

// PurgeDocuments deletes the sealed documents of records made before
// before, up to limit of them (at most maxPurgeBatch; limit ≤ 0 means
// that), oldest first, and returns how many it deleted. Call it again
// until it returns fewer than asked for. The ledger records stay.
func (s *Store) PurgeDocuments(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 || limit > maxPurgeBatch {
		limit = maxPurgeBatch
	}
	var refs [][]byte
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		refs, n = nil, 0
		rows, err := tx.QueryContext(ctx, s.b.Rebind(`SELECT r.seq, r.document_ref FROM results r JOIN ledger l ON l.seq = r.seq
			WHERE l.time_us < ? ORDER BY r.seq LIMIT ?`), before.UnixMicro(), limit)
		if err != nil {
			return err
		}
		var seqs []uint64
		for rows.Next() {
			var seq uint64
			var ref []byte
			if err := rows.Scan(&seq, &ref); err != nil {
				rows.Close()
				return err
			}
			seqs = append(seqs, seq)
			if len(ref) > 0 {
				refs = append(refs, ref)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, seq := range seqs {
			if _, err := tx.ExecContext(ctx, s.b.Rebind(`DELETE FROM results WHERE seq = ?`), seq); err != nil {
				return fmt.Errorf("deleting the result of record %d: %w", seq, err)
			}
		}
		n = len(seqs)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purging sealed documents before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	if len(refs) > 0 {
		if err := s.eraseDocuments(refs); err != nil {
			return n, fmt.Errorf("purging sealed documents: their results are deleted, but erasing their bytes failed: %w", err)
		}
	}
	return n, nil
}

// eraseDocuments deletes the bytes of documents whose results are gone.
func (s *Store) eraseDocuments(refs [][]byte) error {
	switch d := s.docs.(type) {
	case documentPurger:
		return d.PurgeDocuments(refs)
	case documentDiscarder:
		return d.DiscardDocuments(refs)
	}
	return nil
}

// Document returns the sealing record seq and its sealed document. It
// fails with store.ErrNotFound when there is no record seq or it is a
// refusal, and returns the record and seal.ErrDocumentDeleted when the
// document was deleted under the retention policy.
func (s *Store) Document(ctx context.Context, seq uint64) (*seal.Record, []byte, error) {
	r, err := s.Record(ctx, seq)
	if err != nil {
		return nil, nil, err
	}
	if r.Result != seal.ResultSealed {
		return nil, nil, fmt.Errorf("ledger record %d is a refusal, which has no document: %w", seq, store.ErrNotFound)
	}
	var doc, ref []byte
	err = s.queryRow(ctx, `SELECT document, document_ref FROM results WHERE seq = ?`, seq).Scan(&doc, &ref)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil, fmt.Errorf("ledger record %d: %w", seq, seal.ErrDocumentDeleted)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the document of ledger record %d: %w", seq, err)
	}
	if len(ref) > 0 {
		if s.docs == nil {
			return nil, nil, fmt.Errorf("the document of ledger record %d is kept outside this database", seq)
		}
		if doc, err = s.docs.ReadDocument(ref); err != nil {
			return nil, nil, fmt.Errorf("the document of ledger record %d: %w", seq, err)
		}
	}
	return r, doc, nil
}

// deletedResult tells a request whose result is not stored apart from one
// that was sealed and whose document was deleted under retention: the
// first is store.ErrNotFound, the second its record and
// seal.ErrDocumentDeleted.
func (s *Store) deletedResult(ctx context.Context, township, requestID string) (*seal.Record, []byte, error) {
	r, err := scanRecord(s.queryRow(ctx, qSealedByRequest, township, requestID))
	if err != nil {
		return nil, nil, notFound(err, "result of request "+requestID)
	}
	return r, nil, fmt.Errorf("result of request %s (ledger record %d): %w", requestID, r.Seq, seal.ErrDocumentDeleted)
}

// ArchiveFilter selects the records of an archive package: a township's,
// optionally of one case, of some domains, and made in [From, To). Zero
// fields match everything.
type ArchiveFilter struct {
	Township string
	CaseNo   string
	Domains  []string
	From, To time.Time
}

// ArchiveRecords returns up to limit records after afterSeq that match f,
// in sequence order.
func (s *Store) ArchiveRecords(ctx context.Context, f ArchiveFilter, afterSeq uint64, limit int) ([]*seal.Record, error) {
	q := `SELECT ` + recordColumns + ` FROM ledger WHERE seq > ?`
	args := []any{afterSeq}
	if f.Township != "" {
		q += ` AND township_code = ?`
		args = append(args, f.Township)
	}
	if f.CaseNo != "" {
		q += ` AND case_no = ?`
		args = append(args, f.CaseNo)
	}
	if len(f.Domains) > 0 {
		q += ` AND domain IN (` + placeholders(len(f.Domains)) + `)`
		for _, d := range f.Domains {
			args = append(args, d)
		}
	}
	if !f.From.IsZero() {
		q += ` AND time_us >= ?`
		args = append(args, f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		q += ` AND time_us < ?`
		args = append(args, f.To.UnixMicro())
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	rows, err := s.b.Reader().QueryContext(ctx, s.b.Rebind(q), args...) // dynamic: not cached
	if err != nil {
		return nil, fmt.Errorf("archive records: %w", err)
	}
	out, err := scanRows(rows, scanRecord)
	if err != nil {
		return nil, fmt.Errorf("archive records: %w", err)
	}
	return out, nil
}
