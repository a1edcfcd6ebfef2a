package seal_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/sqlite"
)

type sealerFixture struct {
	sealer *seal.Sealer
	store  store.Store
	clerk  *seal.Principal
	doc    []byte
}

func newSealerFixture(t *testing.T) *sealerFixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := db.Service()
	t.Cleanup(func() { st.Close() })
	loadCatalogInto(t, st)
	chain := testpki.MustChain(testpki.Options{})
	png, err := os.ReadFile("../testdata/interop/seal.png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := pdf.NewSealImage(png, 42)
	if err != nil {
		t.Fatal(err)
	}
	leaf := chain.Leaf()
	keys := memKeys{"450224100": {ID: "seal-1", Name: "融安县长安镇人民政府行政审批专用章", State: seal.StateActive,
		NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter, Signer: chain.LeafKey(), Chain: chain.Certs, Image: img}}
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	return &sealerFixture{
		sealer: &seal.Sealer{
			Policy: &seal.Policy{Registry: st, Keys: keys},
			Ledger: seal.NewLedger(st, nil),
		},
		store: st,
		clerk: &seal.Principal{ID: "clerk-1", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}},
		doc:   doc,
	}
}

func loadCatalogInto(t *testing.T, st store.Store) {
	t.Helper()
	reg := newMemRegistry(t)
	c := &seal.Catalog{}
	for _, x := range reg.towns {
		c.Townships = append(c.Townships, x)
	}
	for _, x := range reg.items {
		c.Items = append(c.Items, x)
	}
	for x := range reg.impl {
		c.Implementations = append(c.Implementations, x)
	}
	if err := st.ImportCatalog(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func (f *sealerFixture) input(reqID string) seal.Input {
	return seal.Input{
		Request:   seal.Request{Item: "450224-XK-0002", CaseNo: "长安-2026-0042", DocKind: "准予行政许可决定书"},
		RequestID: reqID, Document: f.doc,
	}
}

func TestSealerSeals(t *testing.T) {
	f := newSealerFixture(t)
	ctx := context.Background()
	out, err := f.sealer.Seal(ctx, f.clerk, f.input("r-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out.Document, f.doc) {
		t.Fatal("the original bytes are not kept at the front")
	}
	in, sealed := sm3.Sum(f.doc), sm3.Sum(out.Document)
	r := out.Record
	if r.Result != seal.ResultSealed || r.Seq != 1 || !bytes.Equal(r.InputSM3, in[:]) || !bytes.Equal(r.OutputSM3, sealed[:]) ||
		r.Domain != "农业农村" || r.Window != seal.WindowApproval || r.SealID != "seal-1" || r.CertSerial == "" {
		t.Fatalf("record %+v", r)
	}
	sigs, err := pdf.Signatures(bytes.NewReader(out.Document), int64(len(out.Document)))
	if err != nil || len(sigs) != 1 {
		t.Fatalf("signatures: %v, %v", sigs, err)
	}
	sg := sigs[0]
	if sg.ItemCode != "450224-XK-0002" || sg.CaseNumber != "长安-2026-0042" || sg.Reason != "农村村民宅基地审批" || !sg.CoversWholeFile {
		t.Errorf("signature dictionary %+v", sg)
	}
	der, err := cms.TrimPadding(sg.Contents)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Verify(der, sg.SignedBytes(bytes.NewReader(out.Document)), nil); err != nil {
		t.Fatalf("the seal does not verify: %v", err)
	}

	// The same request again: the first result, not a second sealing.
	again, err := f.sealer.Seal(ctx, f.clerk, f.input("r-1"))
	if err != nil || !again.Replayed || !bytes.Equal(again.Document, out.Document) || again.Record.Seq != 1 {
		t.Fatalf("replay: %+v, %v", again, err)
	}
	if head, _ := f.store.Head(ctx); head.Seq != 1 {
		t.Errorf("the replay was recorded again: head %d", head.Seq)
	}
	other := f.input("r-1")
	other.CaseNo = "长安-2026-0043"
	if _, err := f.sealer.Seal(ctx, f.clerk, other); !errors.Is(err, seal.ErrRequestConflict) {
		t.Errorf("request id reused for another case: %v", err)
	}
}

func TestSealerRecordsRefusals(t *testing.T) {
	f := newSealerFixture(t)
	ctx := context.Background()
	service := &seal.Principal{ID: "clerk-2", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowService}}
	for i, tc := range []struct {
		name string
		who  *seal.Principal
		edit func(*seal.Input)
		want seal.Rule
	}{
		{"wrong window", service, func(*seal.Input) {}, seal.RuleWrongWindow},
		{"garbage", f.clerk, func(in *seal.Input) { in.Document = []byte("not a pdf at all") }, seal.RuleBadDocument},
		{"truncated", f.clerk, func(in *seal.Input) { in.Document = f.doc[:len(f.doc)/2] }, seal.RuleBadDocument},
		{"keyword not found", f.clerk, func(in *seal.Input) {
			in.Placements = []pdf.Placement{pdf.Keyword{Text: "不存在的关键字"}}
		}, seal.RulePlacement},
		{"page out of range", f.clerk, func(in *seal.Input) { in.Placements = []pdf.Placement{pdf.At{Page: 9}} }, seal.RulePlacement},
		{"no request id", f.clerk, func(in *seal.Input) { in.RequestID = "" }, seal.RuleBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := f.input("refused-" + tc.name)
			tc.edit(&in)
			before, _ := f.store.Head(ctx)
			out, err := f.sealer.Seal(ctx, tc.who, in)
			r, ok := seal.AsRefusal(err)
			if !ok || r.Rule != tc.want || out != nil {
				t.Fatalf("got output %v, error %v; want a refusal by %s", out != nil, err, tc.want)
			}
			head, _ := f.store.Head(ctx)
			if head == nil || (before != nil && head.Seq != before.Seq+1) || head.Result != seal.ResultRefused || head.Rule != tc.want {
				t.Fatalf("refusal not recorded: %+v (case %d)", head, i)
			}
			sum := sm3.Sum(in.Document)
			if !bytes.Equal(head.InputSM3, sum[:]) || head.OutputSM3 != nil {
				t.Errorf("refusal record digests: %x %x", head.InputSM3, head.OutputSM3)
			}
		})
	}
}

// TestSealerResult: a result is given again only to the clerk who sealed
// it, with its case number; to anyone else the request id does not exist.
func TestSealerResult(t *testing.T) {
	f := newSealerFixture(t)
	ctx := context.Background()
	out, err := f.sealer.Seal(ctx, f.clerk, f.input("r-1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.sealer.Result(ctx, f.clerk, "r-1", "长安-2026-0042")
	if err != nil || !bytes.Equal(got.Document, out.Document) || got.Record.Seq != out.Record.Seq {
		t.Fatalf("the sealer's own result: %+v, %v", got, err)
	}
	colleague := &seal.Principal{ID: "clerk-9", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}}
	for _, tc := range []struct {
		name   string
		who    *seal.Principal
		id     string
		caseNo string
	}{
		{"another clerk", colleague, "r-1", "长安-2026-0042"},
		{"the wrong case", f.clerk, "r-1", "长安-2026-0043"},
		{"no credentials", nil, "r-1", "长安-2026-0042"},
		{"an unknown request", f.clerk, "r-2", "长安-2026-0042"},
	} {
		if got, err := f.sealer.Result(ctx, tc.who, tc.id, tc.caseNo); !errors.Is(err, seal.ErrNotFound) || got != nil {
			t.Errorf("%s: %v, %v; want ErrNotFound", tc.name, got, err)
		}
	}
}

// TestSealerZone: the signing time in the PDF (/M) is written in the
// Sealer's zone, with its offset.
func TestSealerZone(t *testing.T) {
	f := newSealerFixture(t)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	f.sealer.Zone = shanghai
	f.sealer.Now = func() time.Time { return time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC) }
	out, err := f.sealer.Seal(context.Background(), f.clerk, f.input("zone-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Document, []byte("/M(D:20261203173000+08'00')")) && !bytes.Contains(out.Document, []byte("/M (D:20261203173000+08'00')")) {
		i := bytes.Index(out.Document, []byte("/M"))
		t.Fatalf("the signing time is not written at +08:00: %q", out.Document[i:min(i+40, len(out.Document))])
	}
}
