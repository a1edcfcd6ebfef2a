package archive

import (
	"archive/zip"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/events"
	"github.com/ronganxian/eseal/seal"
)

// Source is what Build reads: in the service, the ledger, the store's
// documents and the keystore.
type Source interface {
	// Head returns the ledger's last sequence number.
	Head(ctx context.Context) (uint64, error)
	// Records returns up to limit records after afterSeq that match f, in
	// sequence order.
	Records(ctx context.Context, f Filter, afterSeq uint64, limit int) ([]*seal.Record, error)
	// Document returns the sealed document of sealing record seq, or an
	// error wrapping seal.ErrDocumentDeleted when the retention policy
	// deleted it.
	Document(ctx context.Context, seq uint64) ([]byte, error)
	// Checkpoint returns the first checkpoint at or after record seq,
	// signing one of the ledger's head when there is none.
	Checkpoint(ctx context.Context, seq uint64) (*seal.Checkpoint, error)
	// TrustBundle returns the county trust bundle, PEM.
	TrustBundle(ctx context.Context) ([]byte, error)
	// CRL returns the latest CRL, DER, or nil when none is published.
	CRL(ctx context.Context) ([]byte, error)
}

// Options say what package to build, and who signs it.
type Options struct {
	Filter Filter
	// Source is the events' source attribute (the county service).
	Source string
	// By and Role name who asked for the package.
	By, Role string
	// Key and Cert are the ledger key and its certificate: they sign each
	// record's event and the manifest.
	Key  crypto.Signer
	Cert *smx509.Certificate
	// Budget bounds the package's size in bytes (default DefaultBudget).
	// Past it, Build fails with ErrTooLarge; what it wrote is not a ZIP
	// file (its central directory is missing), and the caller discards it.
	Budget int64
	// Now is the export time (default time.Now).
	Now func() time.Time
}

// DefaultBudget is Options.Budget when it is not set.
const DefaultBudget = 256 << 20

// recordBytes is about what one record costs in records.jsonl (a signed
// event with its certificate): Build refuses at once a filter whose
// records alone would exceed the budget, before reading any document.
const recordBytes = 1500

// recordPage is how many records Build reads at a time.
const recordPage = 500

// Build writes the package for opts.Filter to w, as it goes (documents
// are read one at a time), and returns its manifest.
func Build(ctx context.Context, w io.Writer, src Source, opts Options) (*Manifest, error) {
	if err := opts.Filter.Check(); err != nil {
		return nil, err
	}
	if opts.Key == nil || opts.Cert == nil {
		return nil, errors.New("archive: no ledger key to sign the package")
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	m := &Manifest{Format: Format, Filter: opts.Filter, Subscription: opts.Filter.String(), Source: opts.Source,
		Exported: now().UTC().Truncate(time.Microsecond), ExportedBy: opts.By, Role: opts.Role}
	head, err := src.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("archive: the ledger head: %w", err)
	}
	m.LedgerHead = head
	recs, err := records(ctx, src, opts.Filter, head, opts.Budget/recordBytes)
	if err != nil {
		return nil, err
	}
	m.Records, m.FirstSeq, m.LastSeq = len(recs), recs[0].Seq, recs[len(recs)-1].Seq
	cp, err := src.Checkpoint(ctx, m.LastSeq)
	if err != nil {
		return nil, fmt.Errorf("archive: a checkpoint at or after record %d: %w", m.LastSeq, err)
	}

	b := &builder{cw: &budgetWriter{w: w, left: opts.Budget}, m: m, modified: m.Exported}
	b.zw = zip.NewWriter(b.cw)
	if err := b.file(RecordsName, zip.Deflate, func(w io.Writer) error { return writeEvents(w, recs, opts, m.Exported) }); err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Result != seal.ResultSealed {
			continue
		}
		doc, err := src.Document(ctx, r.Seq)
		if errors.Is(err, seal.ErrDocumentDeleted) {
			m.Deleted = append(m.Deleted, r.Seq)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("archive: the document of record %d: %w", r.Seq, err)
		}
		if err := b.file(DocumentName(r.Seq), zip.Store, func(w io.Writer) error { _, err := w.Write(doc); return err }); err != nil {
			return nil, err
		}
	}
	cps, err := json.MarshalIndent([]checkpointJSON{toCheckpointJSON(cp)}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := b.bytes(CheckpointsName, zip.Deflate, cps); err != nil {
		return nil, err
	}
	switch crl, err := src.CRL(ctx); {
	case err != nil:
		return nil, fmt.Errorf("archive: the CRL: %w", err)
	case crl != nil:
		if err := b.bytes(CRLName, zip.Store, crl); err != nil {
			return nil, err
		}
	}
	bundle, err := src.TrustBundle(ctx)
	if err != nil {
		return nil, fmt.Errorf("archive: the trust bundle: %w", err)
	}
	if err := b.bytes(TrustName, zip.Deflate, bundle); err != nil {
		return nil, err
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	sig, err := signManifest(mj, opts.Key)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{ManifestName, mj}, {SignatureName, sig}, {CertName, opts.Cert.Raw}} {
		if err := b.write(f.name, zip.Deflate, f.data); err != nil {
			return nil, err
		}
	}
	if err := b.zw.Close(); err != nil {
		return nil, b.fail(err)
	}
	return m, nil
}

// records reads the records that match f up to the ledger head, at most
// limit of them.
func records(ctx context.Context, src Source, f Filter, head uint64, limit int64) ([]*seal.Record, error) {
	var out []*seal.Record
	var after uint64
	for {
		page, err := src.Records(ctx, f, after, recordPage)
		if err != nil {
			return nil, fmt.Errorf("archive: ledger records: %w", err)
		}
		for _, r := range page {
			if r.Seq > head {
				page = nil // appended after the head was read: the next package has it
				break
			}
			if !f.Matches(r) {
				return nil, fmt.Errorf("archive: the source returned record %d, which does not match %s", r.Seq, f)
			}
			out = append(out, r)
		}
		if int64(len(out)) > limit {
			return nil, fmt.Errorf("%w: more than %d records match %s", ErrTooLarge, limit, f)
		}
		if len(page) < recordPage {
			break
		}
		after = page[len(page)-1].Seq
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoRecords, f)
	}
	return out, nil
}

// writeEvents writes each record as an event signed by the ledger key at
// the export's time, whose prevseq is the record before it in the package.
func writeEvents(w io.Writer, recs []*seal.Record, opts Options, exported time.Time) error {
	sub := opts.Filter.String()
	var prev uint64
	for _, r := range recs {
		e := events.New(r, opts.Source, sub, prev)
		if err := e.SignAt(opts.Key, opts.Cert, exported); err != nil {
			return err
		}
		line, err := e.Marshal()
		if err != nil {
			return err
		}
		if _, err := w.Write(append(line, '\n')); err != nil {
			return err
		}
		prev = r.Seq
	}
	return nil
}

// checkpointJSON is a checkpoint in checkpoints.json.
type checkpointJSON struct {
	Seq       uint64    `json:"seq"`
	Head      string    `json:"head"` // hex
	Time      time.Time `json:"time"`
	Signature string    `json:"signature"`   // base64 DER
	Cert      string    `json:"certificate"` // base64 DER
}

func toCheckpointJSON(c *seal.Checkpoint) checkpointJSON {
	return checkpointJSON{Seq: c.Seq, Head: hex.EncodeToString(c.Head), Time: c.Time.UTC(),
		Signature: base64.StdEncoding.EncodeToString(c.Signature), Cert: base64.StdEncoding.EncodeToString(c.Cert)}
}

func (c checkpointJSON) checkpoint() (*seal.Checkpoint, error) {
	out := &seal.Checkpoint{Seq: c.Seq, Time: c.Time.UTC()}
	var err error
	if out.Head, err = hex.DecodeString(c.Head); err != nil {
		return nil, fmt.Errorf("checkpoint %d: head is not hex", c.Seq)
	}
	if out.Signature, err = base64.StdEncoding.DecodeString(c.Signature); err != nil {
		return nil, fmt.Errorf("checkpoint %d: signature is not base64", c.Seq)
	}
	if out.Cert, err = base64.StdEncoding.DecodeString(c.Cert); err != nil {
		return nil, fmt.Errorf("checkpoint %d: certificate is not base64", c.Seq)
	}
	return out, nil
}

// builder writes the ZIP and lists each file in the manifest.
type builder struct {
	zw       *zip.Writer
	cw       *budgetWriter
	m        *Manifest
	modified time.Time
}

// file writes one listed file, produced by fill, hashing it as it goes.
func (b *builder) file(name string, method uint16, fill func(io.Writer) error) error {
	fw, err := b.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: b.modified})
	if err != nil {
		return b.fail(err)
	}
	h := &hashCounter{h: sm3.New()}
	if err := fill(io.MultiWriter(fw, h)); err != nil {
		return b.fail(err)
	}
	b.m.Files = append(b.m.Files, File{Name: name, Size: h.n, SM3: hex.EncodeToString(h.h.Sum(nil))})
	return nil
}

func (b *builder) bytes(name string, method uint16, data []byte) error {
	return b.file(name, method, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// write writes a file the manifest does not list (the manifest and its
// signature).
func (b *builder) write(name string, method uint16, data []byte) error {
	fw, err := b.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: b.modified})
	if err == nil {
		_, err = fw.Write(data)
	}
	return b.fail(err)
}

// fail returns err, or ErrTooLarge when the budget ran out underneath it.
func (b *builder) fail(err error) error {
	if err == nil {
		return nil
	}
	if b.cw.over {
		return fmt.Errorf("%w (%d bytes)", ErrTooLarge, b.cw.budget())
	}
	return fmt.Errorf("archive: writing the package: %w", err)
}

// budgetWriter passes writes on until the budget is spent.
type budgetWriter struct {
	w     io.Writer
	left  int64
	spent int64
	over  bool
}

func (c *budgetWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		c.over = true
		return 0, ErrTooLarge
	}
	n, err := c.w.Write(p)
	c.left -= int64(n)
	c.spent += int64(n)
	return n, err
}

func (c *budgetWriter) budget() int64 { return c.left + c.spent }

type hashCounter struct {
	h hash.Hash
	n int64
}

func (h *hashCounter) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	return h.h.Write(p)
}
