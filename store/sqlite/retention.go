package sqlite

import (
	"encoding/binary"
	"fmt"
	"os"
)

// PurgeDocuments erases documents from the log whose results the
// retention purge deleted (sqlstore's documentPurger): each one's range of
// the log is punched out where the file system can (Linux), and
// overwritten with zeros elsewhere. The log keeps its length and every
// other document's offset. A reference to an erased range reads as
// ErrDocumentDamaged (its checksum no longer matches), but no result names
// one: the purge deleted them first.
func (b serviceBackend) PurgeDocuments(refs [][]byte) error { return b.db.docs.erase(refs) }

// erase removes the bytes refs name. It opens the log again for writing
// in place: the log's own descriptor appends.
func (l *documentLog) erase(refs [][]byte) error {
	f, err := os.OpenFile(l.path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("sqlite: opening the document log to erase: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sqlite: erasing from the document log: %w", err)
	}
	for _, ref := range refs {
		if len(ref) != documentRefLen || ref[0] != documentRefVersion {
			return fmt.Errorf("%w: malformed reference", ErrDocumentDamaged)
		}
		off, n := int64(binary.BigEndian.Uint64(ref[1:9])), int64(binary.BigEndian.Uint32(ref[9:13]))
		if off < 0 || off+n > fi.Size() {
			return fmt.Errorf("%w: reference to %d bytes at %d beyond the log's end", ErrDocumentDamaged, n, off)
		}
		if err := eraseRange(f, off, n); err != nil {
			return fmt.Errorf("sqlite: erasing %d bytes at %d of the document log: %w", n, off, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sqlite: syncing the document log after erasing: %w", err)
	}
	return nil
}

// zeroRange overwrites n bytes at off with zeros.
func zeroRange(f *os.File, off, n int64) error {
	zeros := make([]byte, min(n, 1<<20))
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := f.WriteAt(zeros[:k], off); err != nil {
			return err
		}
		off, n = off+k, n-k
	}
	return nil
}
