package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/events"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/seal/cms"
)

const (
	town  = "450224100"
	other = "450224101"
)

// fixture is a county: a root, a CA, a seal and a ledger key, and a ledger
// of sealings and refusals in two townships and two domains.
type fixture struct {
	chain     *testpki.Chain
	ledgerKey crypto.Signer
	ledgerCrt *smx509.Certificate
	recs      []*seal.Record
	docs      map[uint64][]byte
	deleted   map[uint64]bool
	cps       []*seal.Checkpoint
	crl       []byte
	bundle    []byte
}

var fix = func() *fixture {
	f, err := newFixture()
	if err != nil {
		panic(err)
	}
	return f
}()

func newFixture() (*fixture, error) {
	f := &fixture{chain: testpki.MustChain(testpki.Options{Length: 2, LeafName: "测试镇行政审批专用章"}),
		docs: map[uint64][]byte{}, deleted: map[uint64]bool{}}
	var err error
	if f.ledgerKey, f.ledgerCrt, err = f.chain.IssueLedgerLeaf(seal.LedgerKeyPolicyOID); err != nil {
		return nil, err
	}
	src, err := os.ReadFile("testdata/one.pdf")
	if err != nil {
		return nil, err
	}
	signer, err := cms.NewSigner(f.chain.LeafKey(), f.chain.Certs, cms.ProfileDefault)
	if err != nil {
		return nil, err
	}
	start := time.Now().Add(-30 * time.Minute).UTC().Truncate(time.Microsecond)
	type rec struct {
		township, caseNo, domain string
		result                   seal.Result
	}
	var prev *seal.Record
	for i, x := range []rec{
		{town, "CA-1", "农业农村", seal.ResultSealed},  // 1
		{other, "CB-1", "农业农村", seal.ResultSealed}, // 2
		{town, "CA-1", "农业农村", seal.ResultRefused}, // 3
		{town, "CA-2", "民政", seal.ResultSealed},    // 4
		{town, "CA-1", "农业农村", seal.ResultSealed},  // 5
		{town, "CA-3", "农业农村", seal.ResultSealed},  // 6
		{other, "CB-2", "民政", seal.ResultSealed},   // 7
	} {
		at := start.Add(time.Duration(i) * time.Minute)
		r := &seal.Record{Time: at, RequestID: fmt.Sprintf("req-%d", i+1), Township: x.township, SealID: "seal-1",
			CertSerial: f.chain.Leaf().SerialNumber.Text(16), Item: "450224-XK-0002", Domain: x.domain, CaseNo: x.caseNo,
			Principal: "clerk-1", Window: seal.WindowApproval, DocKind: "准予行政许可决定书", Result: x.result}
		in := sm3.Sum(src)
		r.InputSM3 = in[:]
		if x.result != seal.ResultSealed {
			r.Rule, r.Detail = seal.RuleWrongWindow, "not at this window"
		}
		r.Link(prev)
		f.recs = append(f.recs, r)
		prev = r
	}
	// Sealing is not deterministic (the signature's randomness): seal again
	// and keep the output whose digest the record carries.
	for _, r := range f.recs {
		if r.Result != seal.ResultSealed {
			continue
		}
		var out bytes.Buffer
		if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(src), int64(len(src)),
			pdf.Request{Signer: signer, Time: r.Time.Add(-time.Second), SealName: "测试镇行政审批专用章", CaseNumber: r.CaseNo}); err != nil {
			return nil, err
		}
		f.docs[r.Seq] = out.Bytes()
	}
	return f, f.relink()
}

// relink sets each sealing's OutputSM3 to its document's, rechains the
// records, and signs a checkpoint of the head.
func (f *fixture) relink() error {
	var prev *seal.Record
	for _, r := range f.recs {
		if d, ok := f.docs[r.Seq]; ok {
			sum := sm3.Sum(d)
			r.OutputSM3 = sum[:]
		}
		r.Link(prev)
		prev = r
	}
	cp, err := seal.SignCheckpoint(prev, time.Now(), f.ledgerKey, f.ledgerCrt)
	if err != nil {
		return err
	}
	f.cps = []*seal.Checkpoint{cp}
	now := time.Now()
	ca, caKey := f.chain.Certs[1], f.chain.Keys[1]
	if f.crl, err = smx509.CreateRevocationList(rand.Reader, &smx509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(7 * 24 * time.Hour)}, ca, caKey); err != nil {
		return err
	}
	var b bytes.Buffer
	for _, c := range f.chain.Certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	f.bundle = b.Bytes()
	return nil
}

// source serves the fixture as Build's Source.
type source struct {
	f *fixture
}

func (s source) Head(context.Context) (uint64, error) { return s.f.recs[len(s.f.recs)-1].Seq, nil }

func (s source) Records(_ context.Context, f Filter, after uint64, limit int) ([]*seal.Record, error) {
	var out []*seal.Record
	for _, r := range s.f.recs {
		if r.Seq > after && f.Matches(r) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s source) Document(_ context.Context, seq uint64) ([]byte, error) {
	if s.f.deleted[seq] {
		return nil, fmt.Errorf("record %d: %w", seq, seal.ErrDocumentDeleted)
	}
	return s.f.docs[seq], nil
}

func (s source) Checkpoint(_ context.Context, seq uint64) (*seal.Checkpoint, error) {
	for _, c := range s.f.cps {
		if c.Seq >= seq {
			return c, nil
		}
	}
	return nil, errors.New("no checkpoint")
}

func (s source) TrustBundle(context.Context) ([]byte, error) { return s.f.bundle, nil }
func (s source) CRL(context.Context) ([]byte, error)         { return s.f.crl, nil }

func build(t *testing.T, src Source, f Filter) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := Build(context.Background(), &b, src, Options{Filter: f, Source: "/eseal/county", By: "sup-agri",
		Role: "supervisor", Key: fix.ledgerKey, Cert: fix.ledgerCrt}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func check(t *testing.T, pkg []byte, roots ...*smx509.Certificate) *Report {
	t.Helper()
	if roots == nil {
		roots = []*smx509.Certificate{fix.chain.Root()}
	}
	rep, err := Verify(context.Background(), bytes.NewReader(pkg), int64(len(pkg)), VerifyOptions{Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func failures(r *Report) string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return strings.Join(out, "\n")
}

// entries reads a package into its files, in order.
type entry struct {
	name string
	data []byte
}

func entries(t *testing.T, pkg []byte) []entry {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{f.Name, b})
	}
	return out
}

func pack(t *testing.T, es []entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range es {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func get(es []entry, name string) []byte {
	for _, e := range es {
		if e.name == name {
			return e.data
		}
	}
	return nil
}

func set(es []entry, name string, data []byte) []entry {
	out := slices.Clone(es)
	for i := range out {
		if out[i].name == name {
			out[i].data = data
			return out
		}
	}
	return append(out, entry{name, data})
}

func drop(es []entry, name string) []entry {
	return slices.DeleteFunc(slices.Clone(es), func(e entry) bool { return e.name == name })
}

// resign rewrites the manifest (after edit) to list the files as they are
// now, and signs it with key: what someone holding a ledger key could do.
func resign(t *testing.T, es []entry, key crypto.Signer, cert *smx509.Certificate, edit func(*Manifest)) []entry {
	t.Helper()
	var m Manifest
	if err := json.Unmarshal(get(es, ManifestName), &m); err != nil {
		t.Fatal(err)
	}
	m.Files = nil
	for _, e := range es {
		if e.name == ManifestName || e.name == SignatureName || e.name == CertName {
			continue
		}
		sum := sm3.Sum(e.data)
		m.Files = append(m.Files, File{Name: e.name, Size: int64(len(e.data)), SM3: fmt.Sprintf("%x", sum)})
	}
	if edit != nil {
		edit(&m)
	}
	mj, _ := json.Marshal(&m)
	sig, err := signManifest(mj, key)
	if err != nil {
		t.Fatal(err)
	}
	es = set(es, ManifestName, mj)
	es = set(es, SignatureName, sig)
	return set(es, CertName, cert.Raw)
}

func TestBuildAndVerify(t *testing.T) {
	from, to := fix.recs[0].Time, fix.recs[len(fix.recs)-1].Time.Add(time.Second)
	for _, c := range []struct {
		name      string
		filter    Filter
		records   []uint64
		documents int
	}{
		{"case", Filter{Township: town, CaseNo: "CA-1"}, []uint64{1, 3, 5}, 2},
		{"township and period", Filter{Township: town, From: from, To: to}, []uint64{1, 3, 4, 5, 6}, 4},
		{"a supervisor's domain in the period", Filter{Township: town, Domains: []string{"民政"}, From: from, To: to}, []uint64{4}, 1},
		{"part of the period", Filter{Township: other, From: fix.recs[2].Time, To: to}, []uint64{7}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			pkg := build(t, source{f: fix}, c.filter)
			rep := check(t, pkg)
			if !rep.Valid() {
				t.Fatalf("the package does not verify:\n%s", failures(rep))
			}
			if rep.Records != len(c.records) || rep.Documents != c.documents {
				t.Errorf("verified %d records and %d documents, want %d and %d", rep.Records, rep.Documents, len(c.records), c.documents)
			}
			var got []uint64
			for _, e := range entries(t, pkg) {
				var seq uint64
				if _, err := fmt.Sscanf(e.name, "documents/%d.pdf", &seq); err == nil {
					got = append(got, seq)
				}
			}
			for _, seq := range got {
				if !slices.Contains(c.records, seq) {
					t.Errorf("the package holds document %d, which the filter does not select", seq)
				}
			}
		})
	}
}

func TestVerifyRefusesTamperedPackages(t *testing.T) {
	f := Filter{Township: town, From: fix.recs[0].Time, To: fix.recs[len(fix.recs)-1].Time.Add(time.Second)}
	good := build(t, source{f: fix}, f)
	es := entries(t, good)
	other := build(t, source{f: fix}, Filter{Township: town, CaseNo: "CA-1"})
	foreign := testpki.MustChain(testpki.Options{Length: 2})
	fkey, fcert, err := foreign.IssueLedgerLeaf(seal.LedgerKeyPolicyOID)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, at int) []byte { b = slices.Clone(b); b[at] ^= 1; return b }
	doc4 := DocumentName(4)
	lines := strings.SplitAfter(string(get(es, RecordsName)), "\n")
	for _, c := range []struct {
		name  string
		pkg   func() []byte
		roots []*smx509.Certificate
		want  string // in the failing check's name or detail
	}{
		{"changed PDF byte", func() []byte { return pack(t, set(es, doc4, flip(get(es, doc4), 1000))) }, nil, "SM3"},
		{"changed PDF byte, manifest re-hashed by a foreign key", func() []byte {
			return pack(t, resign(t, set(es, doc4, flip(get(es, doc4), 1000)), fkey, fcert, nil))
		}, nil, "not under the trusted root"},
		{"changed PDF byte, manifest and record re-signed by the ledger key", func() []byte {
			return pack(t, resign(t, set(es, doc4, flip(get(es, doc4), 1000)), fix.ledgerKey, fix.ledgerCrt, nil))
		}, nil, "OutputSM3"},
		{"removed record", func() []byte {
			return pack(t, set(es, RecordsName, []byte(lines[0]+strings.Join(lines[2:], ""))))
		}, nil, "bytes, the manifest lists"},
		{"a record of no known kind, its event signed by the ledger key at the export", func() []byte {
			e, err := events.Parse([]byte(lines[0]))
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.Data.Record()
			if err != nil {
				t.Fatal(err)
			}
			r.Result = "archived"
			r.Hash = r.ComputeHash()
			prev, _ := e.Prev()
			n := events.New(r, e.Source, e.Subscription, prev)
			if err := n.SignAt(fix.ledgerKey, fix.ledgerCrt, e.SignedAt); err != nil {
				t.Fatal(err)
			}
			line, _ := n.Marshal()
			recs := []byte(string(line) + "\n" + strings.Join(lines[1:], ""))
			return pack(t, resign(t, set(es, RecordsName, recs), fix.ledgerKey, fix.ledgerCrt, nil))
		}, nil, "unknown kind"},
		{"removed record, manifest re-signed by the ledger key", func() []byte {
			es := set(es, RecordsName, []byte(lines[0]+strings.Join(lines[2:], "")))
			return pack(t, resign(t, es, fix.ledgerKey, fix.ledgerCrt, func(m *Manifest) { m.Records-- }))
		}, nil, "records are missing"},
		{"first record removed, manifest re-signed by the ledger key", func() []byte {
			es := drop(set(es, RecordsName, []byte(strings.Join(lines[1:], ""))), DocumentName(1))
			return pack(t, resign(t, es, fix.ledgerKey, fix.ledgerCrt, func(m *Manifest) { m.Records--; m.FirstSeq = 3 }))
		}, nil, "records before it are missing"},
		{"swapped manifest", func() []byte {
			oe := entries(t, other)
			es := set(es, ManifestName, get(oe, ManifestName))
			return pack(t, set(es, SignatureName, get(oe, SignatureName)))
		}, nil, "not in the signed manifest"},
		{"foreign root", func() []byte { return good }, []*smx509.Certificate{foreign.Root()}, "not under the trusted root"},
		{"record signed by a foreign ledger key", func() []byte {
			return pack(t, resign(t, es, fkey, fcert, nil))
		}, []*smx509.Certificate{foreign.Root()}, "records.jsonl"},
		{"document removed", func() []byte { return pack(t, drop(es, doc4)) }, nil, "missing"},
		{"file added", func() []byte { return pack(t, append(slices.Clone(es), entry{"documents/99.pdf", []byte("%PDF")})) }, nil, "not in the signed manifest"},
		{"checkpoint removed, manifest re-signed", func() []byte {
			return pack(t, resign(t, set(es, CheckpointsName, []byte("[]")), fix.ledgerKey, fix.ledgerCrt, nil))
		}, nil, "no checkpoint"},
		{"checkpoint forged", func() []byte {
			var cps []checkpointJSON
			json.Unmarshal(get(es, CheckpointsName), &cps)
			cps[0].Seq++
			b, _ := json.Marshal(cps)
			return pack(t, resign(t, set(es, CheckpointsName, b), fix.ledgerKey, fix.ledgerCrt, nil))
		}, nil, "checkpoint signature does not verify"},
		{"document listed as deleted but kept out", func() []byte {
			return pack(t, resign(t, drop(es, doc4), fix.ledgerKey, fix.ledgerCrt, func(m *Manifest) { m.Deleted = []uint64{2} }))
		}, nil, "neither in the package nor listed as deleted"},
		{"no root", func() []byte { return good }, []*smx509.Certificate{}, "no root"},
		{"truncated", func() []byte { return good[:len(good)-100] }, nil, "not a ZIP"},
	} {
		t.Run(c.name, func(t *testing.T) {
			roots := c.roots
			if roots == nil {
				roots = []*smx509.Certificate{fix.chain.Root()}
			}
			pkg := c.pkg()
			rep, err := Verify(context.Background(), bytes.NewReader(pkg), int64(len(pkg)), VerifyOptions{Roots: roots})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Valid() {
				t.Fatalf("a tampered package verifies")
			}
			if fs := failures(rep); !strings.Contains(fs, c.want) {
				t.Errorf("failures do not say %q:\n%s", c.want, fs)
			}
		})
	}
}

func TestDeletedDocuments(t *testing.T) {
	f := *fix
	f.deleted = map[uint64]bool{1: true}
	pkg := build(t, source{f: &f}, Filter{Township: town, CaseNo: "CA-1"})
	rep := check(t, pkg)
	if !rep.Valid() || rep.Deleted != 1 || rep.Documents != 1 || !slices.Equal(rep.Manifest.Deleted, []uint64{1}) {
		t.Fatalf("valid %v, deleted %d, documents %d, manifest %v:\n%s", rep.Valid(), rep.Deleted, rep.Documents, rep.Manifest.Deleted, failures(rep))
	}
	if get(entries(t, pkg), DocumentName(1)) != nil {
		t.Error("the package holds a deleted document")
	}
}

func TestBuildRefuses(t *testing.T) {
	ok := Filter{Township: town, CaseNo: "CA-1"}
	for _, c := range []struct {
		name   string
		filter Filter
		budget int64
		want   error
	}{
		{"over budget", ok, 20 << 10, ErrTooLarge},
		{"records alone over budget", ok, 2 * recordBytes, ErrTooLarge},
		{"no township", Filter{CaseNo: "CA-1"}, 0, ErrInvalidFilter},
		{"no case and no period", Filter{Township: town}, 0, ErrInvalidFilter},
		{"period backwards", Filter{Township: town, From: time.Now(), To: time.Now().Add(-time.Hour)}, 0, ErrInvalidFilter},
		{"no such case", Filter{Township: town, CaseNo: "CA-404"}, 0, ErrNoRecords},
		{"a case number that would forge the filter line", Filter{Township: town, CaseNo: "CA-1 domains=民政"}, 0, ErrInvalidFilter},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			_, err := Build(context.Background(), &b, source{f: fix}, Options{Filter: c.filter, Key: fix.ledgerKey,
				Cert: fix.ledgerCrt, Budget: c.budget})
			if !errors.Is(err, c.want) {
				t.Fatalf("Build = %v, want %v", err, c.want)
			}
			if int64(b.Len()) > max(c.budget, 0) && c.budget > 0 {
				t.Errorf("wrote %d bytes past a %d-byte budget", b.Len(), c.budget)
			}
		})
	}
}

// TestRenewedLedgerCertificate: a package of records older than the
// ledger certificate that signs it (renewed since, or made after the
// first sealings) verifies: the package is signed when it is made, and its
// certificate is checked then, at each event's signedat, by the package's
// verifier and by events.Verifier alike.
func TestRenewedLedgerCertificate(t *testing.T) {
	ext, err := testpki.LedgerPolicy(seal.LedgerKeyPolicyOID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	key, cert, err := fix.chain.IssueLeaf("测试县用印账本签名 (续)", []pkix.Extension{ext}, now.Add(-time.Minute), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !cert.NotBefore.After(fix.recs[0].Time) {
		t.Fatal("the renewed certificate is not younger than the records: the test would prove nothing")
	}
	var b bytes.Buffer
	if _, err := Build(context.Background(), &b, source{f: fix}, Options{Filter: Filter{Township: town, CaseNo: "CA-1"},
		Source: "/eseal/county", Key: key, Cert: cert}); err != nil {
		t.Fatal(err)
	}
	rep := check(t, b.Bytes())
	if !rep.Valid() || rep.Records != 3 {
		t.Fatalf("valid %v, %d records:\n%s", rep.Valid(), rep.Records, failures(rep))
	}
	line, _, _ := bytes.Cut(get(entries(t, b.Bytes()), RecordsName), []byte("\n"))
	e, err := events.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	pool := smx509.NewCertPool()
	pool.AddCert(fix.chain.Root())
	if err := events.NewVerifier(pool).Verify(e); err != nil {
		t.Errorf("events.Verifier refuses a record older than the certificate that signed its event: %v", err)
	}
	if !e.SignedAt.Equal(rep.Manifest.Exported.Truncate(time.Millisecond)) {
		t.Errorf("the event was signed at %s, not at the export (%s)", e.SignedAt, rep.Manifest.Exported)
	}
}
