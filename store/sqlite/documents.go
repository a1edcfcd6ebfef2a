package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// Sealed documents are kept in a log file beside the database, not in it.
// In the database, each document was written three times (into the WAL,
// read back, into the file by the checkpoint), a page at a time: about
// 0.6 ms of system calls per sealing of a 55 KB decision, a sixth of its
// CPU. The log takes each document in one write, and the database keeps a
// reference to it.
//
// A group's documents are written and synced before the transaction that
// refers to them begins, so a committed reference never points at bytes
// that a crash could lose. A crash in between leaves bytes no reference
// names, which are never read. Each reference carries the document's
// CRC-32C, and reading checks it: a damaged or truncated log gives an
// error, never other bytes. (The checksum guards against accident; the
// ledger record's SM3 of the output is what vouches for the document.)
//
// What it touches: the file <database>-documents, created with mode 0600
// and only ever appended to.

// ErrDocumentDamaged means the log does not hold what a reference names.
var ErrDocumentDamaged = errors.New("sqlite: sealed document damaged")

// documentRefVersion is the first byte of a reference.
const documentRefVersion = 1

// documentRefLen is a reference's length: version, offset, length, CRC-32C.
const documentRefLen = 1 + 8 + 4 + 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxLoggedDocument bounds the length a reference may name.
const maxLoggedDocument = 1 << 30

// documentLog is the append-only file of sealed documents.
type documentLog struct {
	mu   sync.Mutex // one writer at a time in this process
	f    *os.File
	path string
}

func openDocumentLog(path string) (*documentLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open the document log: %w", err)
	}
	return &documentLog{f: f, path: path}, nil
}

// write appends docs, syncs the file, and returns a reference to each.
// O_APPEND places every write at the end, so a writer in another process
// cannot interleave with one, and each offset is read back from the file.
func (l *documentLog) write(docs [][]byte) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	refs := make([][]byte, len(docs))
	for i, d := range docs {
		if len(d) > maxLoggedDocument {
			return nil, fmt.Errorf("sqlite: a %d-byte document is too large for the document log", len(d))
		}
		if _, err := l.f.Write(d); err != nil {
			return nil, fmt.Errorf("sqlite: writing to the document log: %w", err)
		}
		end, err := l.f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("sqlite: writing to the document log: %w", err)
		}
		ref := make([]byte, 0, documentRefLen)
		ref = append(ref, documentRefVersion)
		ref = binary.BigEndian.AppendUint64(ref, uint64(end)-uint64(len(d)))
		ref = binary.BigEndian.AppendUint32(ref, uint32(len(d)))
		refs[i] = binary.BigEndian.AppendUint32(ref, crc32.Checksum(d, castagnoli))
	}
	if err := l.f.Sync(); err != nil {
		return nil, fmt.Errorf("sqlite: syncing the document log: %w", err)
	}
	return refs, nil
}

// read returns the document ref names, checked against its hash.
func (l *documentLog) read(ref []byte) ([]byte, error) {
	if len(ref) != documentRefLen || ref[0] != documentRefVersion {
		return nil, fmt.Errorf("%w: malformed reference", ErrDocumentDamaged)
	}
	off := binary.BigEndian.Uint64(ref[1:9])
	n := binary.BigEndian.Uint32(ref[9:13])
	if n > maxLoggedDocument || off > 1<<62 {
		return nil, fmt.Errorf("%w: reference to %d bytes at %d", ErrDocumentDamaged, n, off)
	}
	// Check the length against the file before allocating it: a damaged
	// reference must not make us allocate a gigabyte.
	fi, err := l.f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the document log: %w", err)
	}
	if off+uint64(n) > uint64(fi.Size()) {
		return nil, fmt.Errorf("%w: %s ends before the %d bytes at %d", ErrDocumentDamaged, l.path, n, off)
	}
	doc := make([]byte, n)
	if _, err := l.f.ReadAt(doc, int64(off)); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s ends before the %d bytes at %d", ErrDocumentDamaged, l.path, n, off)
		}
		return nil, fmt.Errorf("sqlite: reading the document log: %w", err)
	}
	if crc32.Checksum(doc, castagnoli) != binary.BigEndian.Uint32(ref[13:]) {
		return nil, fmt.Errorf("%w: the %d bytes at %d in %s do not match their checksum", ErrDocumentDamaged, n, off, l.path)
	}
	return doc, nil
}

func (l *documentLog) close() error { return l.f.Close() }
