package sqlstore

import (
	"context"
	"fmt"

	"github.com/ronganxian/eseal/seal"
)

// The public lookup of a sealing by the short form of its input's SM3 (the
// verification QR code, seal/verifyqr.go): the sealed records whose
// input_sm3 begins with the short form's 100 bits. The prefix is a range
// of byte strings, [lo, hi), which both SQLite (memcmp on BLOBs) and
// PostgreSQL (bytea) compare as bytes, so the partial index on sealed
// records' input_sm3 (SQLite migration lookup_schema.go, PostgreSQL
// likewise) answers it without reading the ledger. Refusals, supervision
// and lifecycle records are never found.

// SealedByInputPrefix returns, oldest first, at most limit sealed records
// whose InputSM3 begins with the seal.ShortBits of prefix
// (seal.ParseShortForm).
func (s *Store) SealedByInputPrefix(ctx context.Context, prefix []byte, limit int) ([]*seal.Record, error) {
	if len(prefix) != seal.ShortPrefixLen {
		return nil, fmt.Errorf("ledger lookup: a prefix of %d bytes, want %d", len(prefix), seal.ShortPrefixLen)
	}
	lo, hi := prefixRange(prefix)
	q := `SELECT ` + recordColumns + ` FROM ledger WHERE result = 'sealed' AND input_sm3 >= ?`
	args := []any{lo}
	if hi != nil {
		q += ` AND input_sm3 < ?`
		args = append(args, hi)
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	rows, err := s.b.Reader().QueryContext(ctx, s.b.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger lookup: %w", err)
	}
	recs, err := scanRows(rows, scanRecord)
	if err != nil {
		return nil, fmt.Errorf("ledger lookup: %w", err)
	}
	out := recs[:0]
	for _, r := range recs {
		if seal.HasShortPrefix(r.InputSM3, prefix) {
			out = append(out, r)
		}
	}
	return out, nil
}

// prefixRange is the range of byte strings that begin with the ShortBits
// of prefix: lo is the prefix with its unused low bits zero, hi the next
// prefix (nil when there is none: every bit of the prefix is one).
func prefixRange(prefix []byte) (lo, hi []byte) {
	lo = append([]byte(nil), prefix...)
	const unused = seal.ShortPrefixLen*8 - seal.ShortBits
	lo[len(lo)-1] &^= 1<<unused - 1
	hi = append([]byte(nil), lo...)
	carry := 1 << unused
	for i := len(hi) - 1; i >= 0 && carry != 0; i-- {
		v := int(hi[i]) + carry
		hi[i], carry = byte(v), v>>8
	}
	if carry != 0 {
		return lo, nil
	}
	return lo, hi
}
