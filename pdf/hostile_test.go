package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/internal/hostilepdf"
)

// hostile returns the generated hostile file name, built once per run.
func hostile(t testing.TB, name string) []byte {
	t.Helper()
	b, ok := hostilepdf.Named(name)
	if !ok {
		t.Fatalf("no hostile file %q", name)
	}
	return b
}

// hostileKeyword is a keyword no hostile file holds, so that keyword
// placement reads the text of every page.
var hostileKeyword = Keyword{Text: "人民政府"}

// TestHostileSeal seals each hostile file with default and with keyword
// placement under the default limits. Each is refused with the limit it
// exceeds (deep nesting, which the parser bounds, as damaged), or sealed
// when what it costs stays within them; the budget's own accounting shows
// that no more than MaxDecodedBytes was decoded either way.
func TestHostileSeal(t *testing.T) {
	for _, tc := range []struct {
		file             string
		defaultLimit     string // "" seals; "damaged" is ErrDamaged
		keywordLimit     string
		defaultIsSuccess bool
	}{
		{"repeated-content-8", "MaxStreamBytes", "MaxStreamBytes", false},
		{"repeated-content-50", "MaxStreamBytes", "MaxStreamBytes", false},
		{"objstms-16x60MiB", "MaxStreamBytes", "MaxStreamBytes", false},
		{"objstms-48x60MiB", "MaxStreamBytes", "MaxStreamBytes", false},
		{"objstms-16x12MiB", "MaxDecodedBytes", "MaxDecodedBytes", false},
		{"flate-bomb", "MaxStreamBytes", "MaxStreamBytes", false},
		{"deep-nesting", "damaged", "damaged", false},
		{"shared-content-200p", "", "MaxDecodedBytes", true},
		{"form-redraw", "MaxDecodedBytes", "MaxDecodedBytes", false},
		{"wide-array", "MaxValues", "MaxValues", false},
		{"xref-bomb", "MaxObjects", "MaxObjects", false},
		{"text-bomb", "glyphs-per-page", "glyphs-per-page", false},
	} {
		in := hostile(t, tc.file)
		for _, p := range []struct {
			name  string
			place Placement
			limit string
		}{{"default", Default{}, tc.defaultLimit}, {"keyword", hostileKeyword, tc.keywordLimit}} {
			t.Run(tc.file+"/"+p.name, func(t *testing.T) {
				req := baseRequest(t)
				req.Image = testSeal(t)
				req.Placements = []Placement{p.place}
				bud := newBudget(context.Background(), Limits{})
				var out bytes.Buffer
				_, err := sealWithin(bud, &out, bytes.NewReader(in), int64(len(in)), req)
				checkRefusal(t, err, p.limit)
				if err != nil && out.Len() != 0 {
					t.Errorf("a refusal wrote %d bytes", out.Len())
				}
				if bud.decoded > bud.lim.MaxDecodedBytes+1 {
					t.Errorf("decoded %d bytes, more than MaxDecodedBytes %d", bud.decoded, bud.lim.MaxDecodedBytes)
				}
				t.Logf("%d-byte file: %v; decoded %d bytes", len(in), err, bud.decoded)
			})
		}
	}
}

// checkRefusal checks that err is the refusal limit names: nil for none,
// "damaged" for ErrDamaged, otherwise a *LimitError of that limit, which
// is ErrTooLarge and whose message names it.
func checkRefusal(t *testing.T, err error, limit string) {
	t.Helper()
	var le *LimitError
	switch {
	case limit == "":
		if err != nil {
			t.Errorf("refused: %v", err)
		}
	case limit == "damaged":
		if !errors.Is(err, ErrDamaged) {
			t.Errorf("got %v, want ErrDamaged", err)
		}
	case !errors.As(err, &le) || !errors.Is(err, ErrTooLarge):
		t.Errorf("got %v, want a *LimitError of %s", err, limit)
	case le.Limit != limit:
		t.Errorf("got %v, want a *LimitError of %s", err, limit)
	case !bytes.Contains([]byte(err.Error()), []byte(limit)):
		t.Errorf("%q does not name %s", err, limit)
	}
}

// TestObjStmBudget seals a smaller document of the kind of
// objstms-16x12MiB, whose pages lie in object streams of 1 MiB, within
// limits that its reading exceeds, and within limits that allow it: the
// limits, not a failure to read, are what refuse it. A cache smaller
// than one stream still keeps the last one, so that a page's objects,
// which lie in one stream, decode it once.
func TestObjStmBudget(t *testing.T) {
	in := hostilepdf.ObjStms(8, hostilepdf.MiB)
	for _, tc := range []struct {
		name    string
		place   Placement
		l       Limits
		want    error // nil seals
		limit   string
		decoded int64 // MiB, when it does not refuse: the pages' 8 streams, once each
	}{
		{"default, within", Default{}, Limits{}, nil, "", 8},
		{"keyword, within", hostileKeyword, Limits{}, ErrKeywordNotFound, "", 8},
		{"keyword, a cache smaller than a stream", hostileKeyword, Limits{ObjStmCacheBytes: 1}, ErrKeywordNotFound, "", 8},
		{"keyword, past", hostileKeyword, Limits{MaxDecodedBytes: 4 * hostilepdf.MiB}, ErrTooLarge, "MaxDecodedBytes", 0},
		{"keyword, a cache smaller than a stream, past", hostileKeyword, Limits{MaxDecodedBytes: 6 * hostilepdf.MiB, ObjStmCacheBytes: 1}, ErrTooLarge, "MaxDecodedBytes", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := baseRequest(t)
			req.Image = testSeal(t)
			req.Placements = []Placement{tc.place}
			bud := newBudget(context.Background(), tc.l)
			_, err := sealWithin(bud, io.Discard, bytes.NewReader(in), int64(len(in)), req)
			if tc.limit != "" {
				checkRefusal(t, err, tc.limit)
			} else if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if want := tc.decoded * hostilepdf.MiB; tc.decoded > 0 && (bud.decoded < want || bud.decoded > want+64<<10) {
				t.Errorf("decoded %d bytes, want %d and a little", bud.decoded, want)
			}
		})
	}
}

// TestFormDecodedOnce checks that a form drawn many times, as a letterhead
// is on every page, is decoded once, and that the forms a placer keeps
// decoded are bounded.
func TestFormDecodedOnce(t *testing.T) {
	for _, tc := range []struct {
		form, draws int
		decodes     int64 // of the form
	}{
		{hostilepdf.MiB, 1000, 1},
		{maxFormCache + 1, 2, 2},
	} {
		in := hostilepdf.FormRedraw(tc.draws, tc.form)
		req := baseRequest(t)
		req.Image = testSeal(t)
		bud := newBudget(context.Background(), Limits{})
		if _, err := sealWithin(bud, io.Discard, bytes.NewReader(in), int64(len(in)), req); err != nil {
			t.Fatal(err)
		}
		// Besides the form, the page's content and the cross-reference
		// stream are decoded, once each.
		content := int64(len("/Fm0 Do\n") * tc.draws)
		form := int64(len(hostilepdf.RepeatedDrawing(64<<10)) + tc.form)
		if got, want := bud.decoded-content, tc.decodes*form; got < want || got > want+64<<10 {
			t.Errorf("a %d-byte form drawn %d times: decoded %d bytes besides the page's content, want %d and the cross-reference stream", form, tc.draws, got, want)
		}
	}
}

// countdownCtx is a context whose Err reports it canceled from the n-th
// look on, so that a test can end a context in the middle of the work
// without depending on time.
type countdownCtx struct {
	context.Context
	n int
}

func (c *countdownCtx) Err() error {
	if c.n--; c.n <= 0 {
		return context.Canceled
	}
	return nil
}

// CountdownContext is a countdownCtx ending at the n-th look, for the
// verification tests of package pdf_test.
func CountdownContext(n int) context.Context {
	return &countdownCtx{Context: context.Background(), n: n}
}

// TestSealCancelled checks that sealing stops with the context's error,
// both when the context has ended before and when it ends while the
// document's content is decoded; then less than the whole has been
// decoded, however large the budget.
func TestSealCancelled(t *testing.T) {
	in := hostile(t, "shared-content-200p")
	req := baseRequest(t)
	req.Image = testSeal(t)
	req.Placements = []Placement{hostileKeyword}
	req.Limits = Limits{MaxDecodedBytes: 1 << 40}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{
		{"ended before", ended},
		{"ends while decoding", &countdownCtx{Context: context.Background(), n: 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bud := newBudget(tc.ctx, req.Limits)
			var out bytes.Buffer
			_, err := sealWithin(bud, &out, bytes.NewReader(in), int64(len(in)), req)
			if !errors.Is(err, context.Canceled) || out.Len() != 0 {
				t.Fatalf("got %v and %d bytes written, want context.Canceled and none", err, out.Len())
			}
			if all := int64(hostilepdf.SharedPages * hostilepdf.MidStream); bud.decoded >= all {
				t.Errorf("decoded %d bytes, the whole %d", bud.decoded, all)
			}
		})
	}
}

// TestDecodeLimits checks each filter against the budget: a stream may
// decode to no more than MaxStreamBytes, the document to no more than
// MaxDecodedBytes, and the second refusal sticks.
func TestDecodeLimits(t *testing.T) {
	flate1k := hostilepdf.ZlibPadded(nil, 'x', 1000)
	for _, tc := range []struct {
		name   string
		filter string
		raw    []byte
		want   int // decoded length
	}{
		{"flate", "/FlateDecode", flate1k, 1000},
		{"none", "", bytes.Repeat([]byte("x"), 1000), 1000},
		{"hex", "/ASCIIHexDecode", bytes.Repeat([]byte("78"), 1000), 1000},
		{"a85", "/ASCII85Decode", bytes.Repeat([]byte("z"), 250), 1000},
		{"runlength", "/RunLengthDecode", bytes.Repeat([]byte{0x81, 'x'}, 8), 1024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &stream{ref: ref{7, 0}, n: int64(len(tc.raw))}
			if tc.filter != "" {
				s.dict = dict{{"Filter", name(tc.filter[1:])}}
			}
			for _, lim := range []struct {
				l     Limits
				limit string // "" decodes
			}{
				{Limits{}, ""},
				{Limits{MaxStreamBytes: int64(tc.want)}, ""},
				{Limits{MaxStreamBytes: int64(tc.want) - 1}, "MaxStreamBytes"},
				{Limits{MaxStreamBytes: int64(tc.want), MaxDecodedBytes: int64(tc.want) - 1}, "MaxDecodedBytes"},
			} {
				d := newDocument(bytes.NewReader(nil), 0, newBudget(context.Background(), lim.l))
				got, err := d.decodeFilters(s, tc.raw)
				if lim.limit == "" {
					if err != nil || len(got) != tc.want || d.bud.decoded != int64(tc.want) {
						t.Errorf("%+v: %d bytes, %v, %d counted; want %d", lim.l, len(got), err, d.bud.decoded, tc.want)
					}
					continue
				}
				checkRefusal(t, err, lim.limit)
				_, again := d.decodeFilters(s, tc.raw)
				if sticks := lim.limit == "MaxDecodedBytes"; sticks != (again == err) {
					t.Errorf("%+v: then %v", lim.l, again)
				}
			}
		})
	}
}

// TestObjStmCache checks that the cache of a budget keeps at most
// ObjStmCacheBytes of its documents' object streams, or one larger stream
// alone, lets go of the least recently used first, and of a document's
// streams when it is released.
func TestObjStmCache(t *testing.T) {
	bud := newBudget(context.Background(), Limits{ObjStmCacheBytes: 300})
	c := &bud.objstms
	d, other := newDocument(nil, 0, bud), newDocument(nil, 0, bud)
	mk := func(d *document, num, n int) *objStream { return &objStream{d: d, num: num, data: make([]byte, n)} }
	kept := func() string {
		var s []string
		for os := c.head; os != nil; os = os.next {
			s = append(s, fmt.Sprint(os.num))
		}
		return fmt.Sprint(s, c.bytes)
	}
	c.put(mk(d, 1, 100))
	c.put(mk(d, 2, 100))
	c.get(d, 1) // 2 is now the least recently used
	c.put(mk(d, 3, 150))
	if got := kept(); got != "[3 1] 250" {
		t.Errorf("kept %s, want [3 1] 250", got)
	}
	c.put(mk(d, 4, 400)) // larger than the cache: kept alone
	if got := kept(); got != "[4] 400" || c.get(d, 4) == nil {
		t.Errorf("after a stream larger than the cache: kept %s, want [4] 400", got)
	}
	c.put(mk(d, 1, 100))
	c.put(mk(d, 3, 150))
	c.put(mk(other, 3, 100)) // another document's stream 3
	if got := kept(); got != "[3 3] 250" || c.get(other, 3) == nil || c.get(d, 1) != nil {
		t.Errorf("after another document's stream: kept %s", got)
	}
	for i := 5; i < 50; i++ {
		c.put(mk(d, i, 7*i%200))
		if c.bytes > 300 {
			t.Fatalf("holds %d bytes, more than 300", c.bytes)
		}
	}
	d.release()
	other.release()
	if got := kept(); got != "[] 0" {
		t.Errorf("released, kept %s", got)
	}
}

// TestObjectLimits checks MaxObjects against the cross-reference data,
// MaxValues against parsing, and MaxStreamBytes against an object's size,
// on documents within them and past them.
func TestObjectLimits(t *testing.T) {
	one := fixture(t, "one_objstm.pdf")
	b := hostilepdf.NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R/Note("+strings.Repeat("x", 8<<10)+")>>")
	b.Obj(2, hostilepdf.PagesObj(3, 1))
	b.Obj(3, "<</Type/Page/Parent 2 0 R>>")
	longString := b.Finish(1)
	for _, tc := range []struct {
		in    []byte
		l     Limits
		limit string
	}{
		{one, Limits{}, ""},
		{one, Limits{MaxObjects: 3}, "MaxObjects"},
		{one, Limits{MaxValues: 3}, "MaxValues"},
		{longString, Limits{}, ""},
		{longString, Limits{MaxValues: 500}, "MaxValues"}, // 8 KiB of string counts 512
		{longString, Limits{MaxStreamBytes: 4 << 10}, "MaxStreamBytes"},
	} {
		_, err := Seal(context.Background(), io.Discard, bytes.NewReader(tc.in), int64(len(tc.in)), Request{Signer: baseRequest(t).Signer, Limits: tc.l})
		checkRefusal(t, err, tc.limit)
	}
}
