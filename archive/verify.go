package archive

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/events"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/verify"
)

// VerifyOptions say what a verification trusts and may spend.
type VerifyOptions struct {
	// Roots are the trust anchors: the county root, which the user gives.
	// Nothing in the package is trusted as a root.
	Roots []*smx509.Certificate
	// MaxBytes bounds the bytes read from the package, uncompressed
	// (default DefaultMaxVerifyBytes); a package that needs more fails.
	MaxBytes int64
	// Limits bound what reading each PDF may cost (pdf's defaults).
	Limits pdf.Limits
}

// DefaultMaxVerifyBytes is VerifyOptions.MaxBytes when it is not set.
const DefaultMaxVerifyBytes = 2 << 30

// maxSmallFile bounds the manifest, its signature and certificate.
const maxSmallFile = 16 << 20

// Check is the outcome of one file or one aspect of a package.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// Report is what Verify found.
type Report struct {
	// Manifest is the package's manifest, once its signature verified.
	Manifest *Manifest
	// Checks say, file by file, what held and what did not.
	Checks []Check
	// Records, Documents and Deleted count what was checked: records,
	// documents verified, and documents deleted under retention.
	Records, Documents, Deleted int
}

// Valid reports whether every check held (and there was at least one).
func (r *Report) Valid() bool {
	if len(r.Checks) == 0 || r.Manifest == nil {
		return false
	}
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

func (r *Report) pass(name, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: true, Detail: fmt.Sprintf(format, args...)})
}

func (r *Report) fail(name, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, Detail: fmt.Sprintf(format, args...)})
}

// Verify checks a package (size bytes in src) with the user's roots: the
// manifest's signature by a ledger key under them, every file's size and
// SM3 against the manifest and no file unlisted, each record's event
// signature and the prevseq chain, each document's SM3 against its
// record's OutputSM3 and its seals (package verify) at the record's time
// with the package's CRL, and the checkpoint. It fails closed: what
// cannot be checked is a failure. The error is non-nil only when the
// verification could not run (ctx ended); a bad package is a Report that
// is not Valid.
func Verify(ctx context.Context, src io.ReaderAt, size int64, opts VerifyOptions) (*Report, error) {
	rep := &Report{}
	if len(opts.Roots) == 0 {
		rep.fail("trust", "no root given: nothing can be trusted")
		return rep, nil
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxVerifyBytes
	}
	zr, err := zip.NewReader(src, size)
	if err != nil {
		rep.fail("package", "not a ZIP file: %v", err)
		return rep, nil
	}
	v := &verifier{rep: rep, opts: opts, files: map[string]*zip.File{}, left: opts.MaxBytes, roots: smx509.NewCertPool()}
	for _, r := range opts.Roots {
		v.roots.AddCert(r)
	}
	for _, f := range zr.File {
		if _, dup := v.files[f.Name]; dup {
			rep.fail(f.Name, "appears twice in the package")
			return rep, nil
		}
		v.files[f.Name] = f
	}
	if !v.manifest() {
		return rep, nil
	}
	data := v.listed(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	recs := v.records(data[RecordsName])
	if recs == nil {
		rep.fail("documents, checkpoints", "not checked: the records did not verify")
		return rep, nil
	}
	if err := v.documents(ctx, recs); err != nil {
		return nil, err
	}
	v.checkpoints(data[CheckpointsName], recs)
	return rep, nil
}

// verifier holds one verification's state.
type verifier struct {
	rep   *Report
	opts  VerifyOptions
	files map[string]*zip.File
	left  int64 // bytes that may still be read
	roots *smx509.CertPool
	m     *Manifest
	// signer is the ledger certificate (DER) that signed the manifest,
	// under the root at the export's time: it must have signed every
	// record's event too.
	signer []byte
	// crls and intermediates come from the package.
	crls          []*smx509.RevocationList
	intermediates []*smx509.Certificate
}

// read returns the content of file name, which must be exactly size bytes
// when size ≥ 0 (at most maxSmallFile otherwise).
func (v *verifier) read(name string, size int64) ([]byte, error) {
	f, ok := v.files[name]
	if !ok {
		return nil, errors.New("missing from the package")
	}
	limit := size
	if limit < 0 {
		limit = maxSmallFile
	}
	if limit > v.left {
		return nil, fmt.Errorf("would exceed the %d bytes this verification may read", v.opts.MaxBytes)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	v.left -= int64(len(b))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		if size < 0 {
			return nil, fmt.Errorf("larger than %d bytes", limit)
		}
		return nil, fmt.Errorf("larger than the %d bytes the manifest lists", size)
	}
	if size >= 0 && int64(len(b)) != size {
		return nil, fmt.Errorf("%d bytes, the manifest lists %d", len(b), size)
	}
	return b, nil
}

// manifest reads and checks the manifest and its signature.
func (v *verifier) manifest() bool {
	var parts [3][]byte
	for i, name := range []string{ManifestName, SignatureName, CertName} {
		b, err := v.read(name, -1)
		if err != nil {
			v.rep.fail(name, "%v", err)
			return false
		}
		parts[i] = b
	}
	m := &Manifest{}
	if err := json.Unmarshal(parts[0], m); err != nil {
		v.rep.fail(ManifestName, "not a manifest: %v", err)
		return false
	}
	if err := checkManifest(parts[0], parts[1], parts[2], v.roots, m.Exported); err != nil {
		v.rep.fail(SignatureName, "%v", err)
		return false
	}
	switch {
	case m.Format != Format:
		v.rep.fail(ManifestName, "format %q, want %q", m.Format, Format)
		return false
	case m.Filter.Check() != nil:
		v.rep.fail(ManifestName, "%v", m.Filter.Check())
		return false
	case m.Subscription != m.Filter.String():
		v.rep.fail(ManifestName, "subscription %q is not the filter's %q", m.Subscription, m.Filter.String())
		return false
	}
	v.m, v.rep.Manifest = m, m
	v.signer = parts[2]
	v.rep.pass(SignatureName, "the manifest is signed by the ledger key %q under the trusted root; exported %s by %s (%s) for %s",
		certName(parts[2]), m.Exported.Format("2006-01-02 15:04:05Z07:00"), m.ExportedBy, m.Role, m.Subscription)
	return true
}

func certName(der []byte) string {
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		return "?"
	}
	return c.Subject.CommonName
}

// listed checks every file the manifest lists against its size and SM3,
// and that the package holds no other, and returns the content of those
// it needs whole (not the documents, which documents reads).
func (v *verifier) listed(ctx context.Context) map[string][]byte {
	out := map[string][]byte{}
	seen := map[string]bool{ManifestName: true, SignatureName: true, CertName: true}
	for _, f := range v.m.Files {
		if ctx.Err() != nil {
			return out
		}
		if seen[f.Name] {
			v.rep.fail(f.Name, "listed twice in the manifest")
			continue
		}
		seen[f.Name] = true
		if strings.HasPrefix(f.Name, documentsDir) {
			continue // documents: read, hashed and verified one by one
		}
		b, err := v.read(f.Name, f.Size)
		if err == nil {
			err = sameSM3(b, f.SM3)
		}
		if err != nil {
			v.rep.fail(f.Name, "%v", err)
			continue
		}
		out[f.Name] = b
		v.rep.pass(f.Name, "%d bytes, SM3 as listed", f.Size)
	}
	for name := range v.files {
		if !seen[name] {
			v.rep.fail(name, "in the package but not in the signed manifest")
		}
	}
	for _, need := range []string{RecordsName, CheckpointsName, TrustName} {
		if !seen[need] {
			v.rep.fail(need, "not listed in the manifest")
		}
	}
	if b, ok := out[CRLName]; ok {
		crls, err := verify.ParseCRLs(b)
		if err != nil {
			v.rep.fail(CRLName, "%v", err)
		}
		v.crls = crls
	}
	if b, ok := out[TrustName]; ok {
		certs, err := verify.ParseCertificates(b)
		if err != nil {
			v.rep.fail(TrustName, "%v", err)
		}
		for _, c := range certs {
			if !bytes.Equal(c.RawIssuer, c.RawSubject) { // the package's roots are never trusted
				v.intermediates = append(v.intermediates, c)
			}
		}
	}
	return out
}

func sameSM3(b []byte, want string) error {
	sum := sm3.Sum(b)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("SM3 %s…, the manifest lists %.16s…", got[:16], want)
	}
	return nil
}

// records checks records.jsonl: each event's signature and hash, its
// subscription (the filter) and source, that its record matches the
// filter, and the chain of prevseq from 0; and against the manifest, the
// count and the first and last sequence numbers.
func (v *verifier) records(data []byte) []*seal.Record {
	if data == nil {
		return nil // listed reported why
	}
	var recs []*seal.Record
	var prev *seal.Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	bad := func(n int, format string, args ...any) []*seal.Record {
		v.rep.fail(RecordsName, "line %d: %s", n, fmt.Sprintf(format, args...))
		return nil
	}
	for n := 1; sc.Scan(); n++ {
		e, err := events.Parse(sc.Bytes())
		if err != nil {
			return bad(n, "%v", err)
		}
		r, err := v.event(e)
		if err != nil {
			return bad(n, "%v", err)
		}
		p, _ := e.Prev()
		var want uint64
		if prev != nil {
			want = prev.Seq
		}
		switch {
		case e.Subscription != v.m.Subscription:
			return bad(n, "record %d was signed for %q, not this package's %q", r.Seq, e.Subscription, v.m.Subscription)
		case e.Source != v.m.Source:
			return bad(n, "record %d's source is %q, the manifest's %q", r.Seq, e.Source, v.m.Source)
		case !v.m.Filter.Matches(r):
			return bad(n, "record %d (township %s, case %s, domain %s, %s) does not match the filter", r.Seq,
				r.Township, r.CaseNo, r.Domain, r.Time.Format("2006-01-02T15:04:05Z07:00"))
		case p != want && prev == nil:
			return bad(n, "record %d names %d as the record before it that matches the filter: records before it are missing", r.Seq, p)
		case p != want:
			return bad(n, "record %d names %d as the record before it that matches the filter, the package has %d: records are missing", r.Seq, p, want)
		case prev != nil && r.Seq <= prev.Seq:
			return bad(n, "record %d after record %d: out of order", r.Seq, prev.Seq)
		case prev != nil && r.Seq == prev.Seq+1 && !bytes.Equal(r.PrevHash, prev.Hash):
			return bad(n, "record %d does not chain to record %d", r.Seq, prev.Seq)
		}
		recs = append(recs, r)
		prev = r
	}
	if err := sc.Err(); err != nil {
		v.rep.fail(RecordsName, "%v", err)
		return nil
	}
	switch {
	case len(recs) != v.m.Records:
		v.rep.fail(RecordsName, "%d records, the manifest lists %d", len(recs), v.m.Records)
		return nil
	case len(recs) == 0:
		v.rep.fail(RecordsName, "no records")
		return nil
	case recs[0].Seq != v.m.FirstSeq || prev.Seq != v.m.LastSeq:
		v.rep.fail(RecordsName, "records %d to %d, the manifest lists %d to %d", recs[0].Seq, prev.Seq, v.m.FirstSeq, v.m.LastSeq)
		return nil
	case prev.Seq > v.m.LedgerHead:
		v.rep.fail(RecordsName, "record %d is after the ledger head %d the manifest names", prev.Seq, v.m.LedgerHead)
		return nil
	}
	v.rep.Records = len(recs)
	v.rep.pass(RecordsName, "%d records, %d to %d, each signed by the ledger key for this filter, none missing between them or before the first; the manifest says none after the last up to record %d",
		len(recs), recs[0].Seq, prev.Seq, v.m.LedgerHead)
	return recs
}

// documents checks each sealing record's document, or that the manifest
// lists it as deleted under retention, and that no other document is in
// the package.
func (v *verifier) documents(ctx context.Context, recs []*seal.Record) error {
	listed := map[string]File{}
	for _, f := range v.m.Files {
		if strings.HasPrefix(f.Name, documentsDir) {
			listed[f.Name] = f
		}
	}
	sealed := map[uint64]bool{}
	for _, r := range recs {
		if r.Result != seal.ResultSealed {
			continue
		}
		sealed[r.Seq] = true
		name := DocumentName(r.Seq)
		f, ok := listed[name]
		delete(listed, name)
		if slices.Contains(v.m.Deleted, r.Seq) {
			if ok {
				v.rep.fail(name, "the manifest lists record %d's document as deleted, and the package holds it", r.Seq)
				continue
			}
			v.rep.Deleted++
			v.rep.pass(name, "deleted under the retention policy; the record keeps its SM3 %x…", r.OutputSM3[:min(8, len(r.OutputSM3))])
			continue
		}
		if !ok {
			v.rep.fail(name, "record %d is a sealing, and its document is neither in the package nor listed as deleted", r.Seq)
			continue
		}
		b, err := v.read(name, f.Size)
		if err == nil {
			err = sameSM3(b, f.SM3)
		}
		if err != nil {
			v.rep.fail(name, "%v", err)
			continue
		}
		if sum := sm3.Sum(b); !bytes.Equal(sum[:], r.OutputSM3) {
			v.rep.fail(name, "its SM3 is not record %d's OutputSM3", r.Seq)
			continue
		}
		at := r.Time
		fr, err := verify.PDF(ctx, bytes.NewReader(b), int64(len(b)), verify.Options{Roots: v.opts.Roots,
			Intermediates: v.intermediates, CRLs: v.crls, Now: func() time.Time { return at }, Limits: v.opts.Limits})
		if err != nil {
			return err
		}
		if fr.Verdict != verify.VerdictValid {
			var why []string
			for _, p := range fr.Reasons {
				why = append(why, p.String())
			}
			v.rep.fail(name, "%s: %s", fr.Verdict, strings.Join(why, "; "))
			continue
		}
		v.rep.Documents++
		v.rep.pass(name, "SM3 is record %d's OutputSM3; %d signature(s) valid at %s against the trusted root and the package's CRL",
			r.Seq, len(fr.Signatures), at.Format("2006-01-02 15:04:05Z07:00"))
	}
	for name := range listed {
		v.rep.fail(name, "no sealing record of the package names this document")
	}
	for _, seq := range v.m.Deleted {
		if !sealed[seq] {
			v.rep.fail(ManifestName, "lists record %d's document as deleted, but the package has no such sealing record", seq)
		}
	}
	return nil
}

// checkpoints checks checkpoints.json: each checkpoint's signature by a
// ledger key under the root, that one is at or after the newest record,
// and that a record of the package at a checkpoint's sequence number has
// its head hash.
func (v *verifier) checkpoints(data []byte, recs []*seal.Record) {
	if data == nil {
		return // listed reported why
	}
	var list []checkpointJSON
	if err := json.Unmarshal(data, &list); err != nil {
		v.rep.fail(CheckpointsName, "%v", err)
		return
	}
	var cps []*seal.Checkpoint
	for _, c := range list {
		cp, err := c.checkpoint()
		if err != nil {
			v.rep.fail(CheckpointsName, "%v", err)
			return
		}
		cps = append(cps, cp)
	}
	if _, err := seal.NewChainVerifier(cps, &seal.CheckpointTrust{Roots: v.roots, IsLedgerKey: seal.IsLedgerCertificate}); err != nil {
		v.rep.fail(CheckpointsName, "%v", err)
		return
	}
	var last *seal.Record
	bySeq := map[uint64]*seal.Record{}
	for _, r := range recs {
		last, bySeq[r.Seq] = r, r
	}
	covering := false
	for _, c := range cps {
		if r, ok := bySeq[c.Seq]; ok && !bytes.Equal(r.Hash, c.Head) {
			v.rep.fail(CheckpointsName, "checkpoint %d's head is not record %d's hash", c.Seq, c.Seq)
			return
		}
		if last != nil && c.Seq >= last.Seq {
			covering = true
		}
	}
	if !covering {
		v.rep.fail(CheckpointsName, "no checkpoint at or after the newest record")
		return
	}
	v.rep.pass(CheckpointsName, "%d checkpoint(s) signed by the ledger key under the trusted root, at or after record %d (proves the ledger's head then, not that each record is in that chain: see the README)",
		len(cps), last.Seq)
}

// event checks one record's event: its record hashes to its chain hash,
// its id, type and time are the record's, and it is signed, at the
// export's time (its signedat), by the ledger certificate that signed the
// manifest, which checkManifest found under the root at that time. The
// package signs every record, old ones too, when it is made, with the
// ledger key of then; events.Verifier checks events pushed to receivers
// the same way, at their signedat.
func (v *verifier) event(e *events.Event) (*seal.Record, error) {
	r, err := e.CheckedRecord()
	if err != nil {
		return nil, err
	}
	switch {
	case e.SignerCert != base64.StdEncoding.EncodeToString(v.signer):
		return nil, fmt.Errorf("event %d is signed by another certificate than the manifest's", r.Seq)
	case !e.SignedAt.Equal(v.m.Exported.Truncate(time.Millisecond)):
		return nil, fmt.Errorf("event %d says it was signed at %s, not at the export (%s)", r.Seq,
			e.SignedAt.Format(time.RFC3339Nano), v.m.Exported.Format(time.RFC3339Nano))
	}
	cert, err := smx509.ParseCertificate(v.signer)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if !ok || err != nil || !sm2.VerifyASN1WithSM2(pub, nil, e.Message(), sig) {
		return nil, fmt.Errorf("record %d: the signature does not verify", r.Seq)
	}
	return r, nil
}
