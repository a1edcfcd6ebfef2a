package sqlstore

import (
	"context"
	"fmt"

	"github.com/ronganxian/eseal/seal"
)

// CaseRecords implements seal.CaseStore: the records of one case of one
// township (case numbers are unique only within a township), after
// afterSeq, in sequence order, up to limit; every kind (sealings,
// refusals, supervision results). The index ledger_case (township_code,
// case_no, seq) serves it (SQLite migration 11, PostgreSQL 13). It applies
// no access rule: seal.Supervision.Case does, and so must any other caller
// (the archive packages, for one).
func (s *Store) CaseRecords(ctx context.Context, township, caseNo string, afterSeq uint64, limit int) ([]*seal.Record, error) {
	rows, err := s.query(ctx, `SELECT `+recordColumns+` FROM ledger WHERE township_code = ? AND case_no = ? AND seq > ?
		ORDER BY seq LIMIT ?`, township, caseNo, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("records of case %s: %w", caseNo, err)
	}
	out, err := scanRows(rows, scanRecord)
	if err != nil {
		return nil, fmt.Errorf("records of case %s: %w", caseNo, err)
	}
	return out, nil
}
