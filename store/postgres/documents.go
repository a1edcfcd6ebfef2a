package postgres

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sealed documents are kept in their own table, written before the ledger
// append's transaction, not inside it (sqlstore.DocumentLog). Inside it,
// each group's documents (tens of 55 KB PDFs) were copied, TOASTed and
// flushed to the WAL while the ledger lock was held, and every replica
// waited for it. Written before, in a transaction of their own, they are
// durable when the append begins, as the contract asks, and the append
// holds the lock for small rows only. A result refers to its document by
// its row id.
//
// A document whose append then fails, or that the fence refuses, is named
// by no result. Documents the append knows to be unreferenced (a refused
// sealing, a duplicate request) are deleted at once (DiscardDocuments); a
// failure between the two transactions leaves a row that nothing reads.

// documentRefPrefix starts a reference: a version byte, then the row id.
const documentRefPrefix = 'p'

// documentRefLen is a reference's length.
const documentRefLen = 1 + 8

// documentsTimeout bounds writing one group's documents.
const documentsTimeout = time.Minute

// WriteDocuments implements sqlstore.DocumentLog: it stores docs in one
// statement, committed before it returns, and returns their references.
// Each row's id is drawn at random here, so that each reference is known
// without relying on the order in which rows come back.
func (b backend) WriteDocuments(docs [][]byte) ([][]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), documentsTimeout)
	defer cancel()
	refs := make([][]byte, len(docs))
	args := make([]any, 0, 2*len(docs))
	var q strings.Builder
	q.WriteString("INSERT INTO documents (id, document) VALUES ")
	for i, d := range docs {
		var id [8]byte
		if _, err := rand.Read(id[:]); err != nil {
			return nil, fmt.Errorf("postgres: a sealed document's id: %w", err)
		}
		n := int64(binary.BigEndian.Uint64(id[:]) >> 1) // a positive BIGINT
		refs[i] = documentRef(n)
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "($%d, $%d)", 2*i+1, 2*i+2)
		args = append(args, n, d)
	}
	if _, err := b.db.ExecContext(ctx, q.String(), args...); err != nil {
		return nil, fmt.Errorf("postgres: storing %d sealed documents: %w", len(docs), err)
	}
	return refs, nil
}

// ReadDocument implements sqlstore.DocumentLog.
func (b backend) ReadDocument(ref []byte) ([]byte, error) {
	id, err := documentID(ref)
	if err != nil {
		return nil, err
	}
	var doc []byte
	err = b.db.QueryRowContext(context.Background(), "SELECT document FROM documents WHERE id = $1", id).Scan(&doc)
	if err != nil {
		return nil, fmt.Errorf("postgres: sealed document %d: %w", id, err)
	}
	return doc, nil
}

// DiscardDocuments deletes documents that no result names: the append
// that was to refer to them refused them, or found their request sealed
// before.
func (b backend) DiscardDocuments(refs [][]byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), documentsTimeout)
	defer cancel()
	var errs []error
	for _, ref := range refs {
		id, err := documentID(ref)
		if err == nil {
			_, err = b.db.ExecContext(ctx, "DELETE FROM documents WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM results WHERE document_ref = $2)", id, ref)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func documentRef(id int64) []byte {
	ref := make([]byte, documentRefLen)
	ref[0] = documentRefPrefix
	binary.BigEndian.PutUint64(ref[1:], uint64(id))
	return ref
}

func documentID(ref []byte) (int64, error) {
	if len(ref) != documentRefLen || ref[0] != documentRefPrefix {
		return 0, fmt.Errorf("postgres: %x is not a reference to a sealed document", ref)
	}
	return int64(binary.BigEndian.Uint64(ref[1:])), nil
}
