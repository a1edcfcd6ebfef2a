package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"testing"
)

// analyze runs Analyze on b and fails the test on an error or damage.
func analyze(t *testing.T, b []byte) *Analysis {
	t.Helper()
	a, err := Analyze(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{})
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	if a.Damage != nil {
		t.Fatalf("Analyze: damage %v", a.Damage)
	}
	return a
}

// appendUpdate appends an incremental update to in, written by edit with
// the engine's own writer, and returns the new file.
func appendUpdate(t *testing.T, in []byte, edit func(d *document, u *update)) []byte {
	t.Helper()
	d, err := open(bytes.NewReader(in), int64(len(in)), defaultBudget())
	if err != nil {
		t.Fatal(err)
	}
	u := &update{base: int64(len(in)), next: d.maxNum + 1}
	if sz, ok := asInt(d.trailer.get("Size")); ok && int(sz) > u.next {
		u.next = int(sz)
	}
	edit(d, u)
	u.finish(d.trailer, d.startxref, d.xrefStream, u.next)
	return append(append([]byte(nil), in...), u.buf...)
}

// firstPage returns the first page's object and dictionary.
func firstPage(t *testing.T, d *document) (ref, dict) {
	t.Helper()
	p, err := d.page(0)
	if err != nil {
		t.Fatal(err)
	}
	return p.ref, p.dict.clone()
}

func TestRevisionBoundaries(t *testing.T) {
	one := fixture(t, "one.pdf")
	sealed, _ := sealBytes(t, one, baseRequest(t))
	twice, _ := sealBytes(t, sealed, baseRequest(t))
	cases := []struct {
		name string
		b    []byte
		n    int // revisions
	}{
		{"one.pdf", one, 1},
		{"linearized", fixture(t, "one_linearized.pdf"), 1},
		{"hybrid", fixture(t, "one_hybrid.pdf"), 1},
		{"object streams", fixture(t, "one_objstm.pdf"), 1},
		{"sealed", sealed, 2},
		{"sealed twice", twice, 3},
		{"PDFBox", interop(t, "bc-signed-invisible-objstm.pdf"), 2},
		{"with trailing junk", append(append([]byte(nil), sealed...), "junk\n"...), 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := analyze(t, c.b)
			if len(a.Revisions) != c.n {
				t.Fatalf("%d revisions, want %d: %+v", len(a.Revisions), c.n, a.Revisions)
			}
			for i, r := range a.Revisions {
				if !bytes.HasSuffix(c.b[:r.EOF], []byte("%%EOF")) {
					t.Errorf("revision %d: EOF %d is not just past a %%%%EOF", i+1, r.EOF)
				}
				if r.End < r.EOF || r.End > r.EOF+2 || bytes.ContainsFunc(c.b[r.EOF:r.End], func(c rune) bool { return c != '\r' && c != '\n' }) {
					t.Errorf("revision %d: End %d is not EOF %d and its end of line", i+1, r.End, r.EOF)
				}
				if i > 0 && r.End <= a.Revisions[i-1].End {
					t.Errorf("revision %d ends at %d, before revision %d", i+1, r.End, i)
				}
			}
			if i := len(one); c.n > 1 && c.name != "PDFBox" && a.Revisions[0].End != int64(i) {
				t.Errorf("the first revision ends at %d, the original file at %d", a.Revisions[0].End, i)
			}
			junk := c.name == "with trailing junk"
			if a.TrailingJunk != junk || (a.Trailing == 0) == junk {
				t.Errorf("trailing %d bytes, junk %v", a.Trailing, a.TrailingJunk)
			}
		})
	}
}

// TestRevisionSkippedByChain: an update whose /Prev skips the revision
// before it leaves that revision off the chain, so nothing can be signed
// as ending there.
func TestRevisionSkippedByChain(t *testing.T) {
	one := fixture(t, "one.pdf")
	sealed, res := sealBytes(t, one, baseRequest(t))
	d, err := open(bytes.NewReader(one), int64(len(one)), defaultBudget())
	if err != nil {
		t.Fatal(err)
	}
	// Append to the sealed file a section chained to the original's.
	u := &update{base: int64(len(sealed)), next: d.maxNum + 1}
	pr, pd := firstPage(t, d)
	u.put(pr, pd)
	u.finish(d.trailer, d.startxref, d.xrefStream, u.next)
	b := append(append([]byte(nil), sealed...), u.buf...)
	a := analyze(t, b)
	if len(a.Revisions) != 2 || a.Revisions[0].End != int64(len(one)) || a.Revisions[1].End != int64(len(b)) {
		t.Fatalf("revisions %+v, want the original's and the new one's", a.Revisions)
	}
	if len(a.Signatures) != 0 {
		t.Fatalf("the skipped revision's signature is still listed: %+v", a.Signatures)
	}
	if res.ByteRange[2]+res.ByteRange[3] == a.Revisions[1].End {
		t.Fatal("the signature's range ends at a listed revision")
	}
}

func TestSignatureLocated(t *testing.T) {
	sealed, res := sealBytes(t, fixture(t, "one.pdf"), baseRequest(t))
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"ours", sealed},
		{"PDFBox, visible", interop(t, "bc-signed-visible.pdf")},
		{"PDFBox, object streams", interop(t, "bc-signed-invisible-objstm.pdf")},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := analyze(t, c.b)
			if len(a.Signatures) != 1 {
				t.Fatalf("%d signatures", len(a.Signatures))
			}
			s := a.Signatures[0]
			if s.Problem != nil {
				t.Fatal(s.Problem)
			}
			if s.ContentsStart != s.ByteRange[1] || s.ContentsEnd != s.ByteRange[2] {
				t.Errorf("/Contents at [%d, %d), the gap is %v", s.ContentsStart, s.ContentsEnd, s.ByteRange)
			}
			if c.b[s.ContentsStart] != '<' || c.b[s.ContentsEnd-1] != '>' {
				t.Errorf("the located /Contents is %q…%q", c.b[s.ContentsStart], c.b[s.ContentsEnd-1])
			}
			if s.Revision != len(a.Revisions)-1 || !s.CoversWholeFile || s.Type != "Sig" {
				t.Errorf("revision %d of %d, whole file %v, type %q", s.Revision, len(a.Revisions), s.CoversWholeFile, s.Type)
			}
			if !bytes.HasPrefix(c.b[s.Offset:], fmt.Appendf(nil, "%d 0 obj", s.Object)) {
				t.Errorf("object %d is not at %d", s.Object, s.Offset)
			}
		})
	}
	if a := analyze(t, sealed); a.Signatures[0].ByteRange[3] != res.ByteRange[3] {
		t.Errorf("byte range %v, sealed with %v", a.Signatures[0].ByteRange, res.ByteRange)
	}
}

// TestSignatureProblems rewrites the sealed signature dictionary in place
// (same length, so no offset moves) and checks each problem is named.
func TestSignatureProblems(t *testing.T) {
	sealed, _ := sealBytes(t, fixture(t, "one.pdf"), baseRequest(t))
	contents := regexp.MustCompile(`/Contents<[0-9A-F]*>`)
	byteRange := regexp.MustCompile(`/ByteRange\[[0-9 ]*\]`)
	cases := []struct {
		name string
		re   *regexp.Regexp
		repl string
		want error
	}{
		{"contents missing", contents, "", ErrContentsMissing},
		{"contents empty", contents, "/Contents<>", ErrContentsMissing},
		{"contents null", contents, "/Contents null", ErrContentsMissing},
		{"contents literal", contents, "/Contents(0)", ErrContentsMissing},
		{"contents indirect", contents, "/Contents 5 0 R", ErrContentsMissing},
		{"byte range missing", byteRange, "", ErrByteRangeMissing},
		{"byte range null", byteRange, "/ByteRange null", ErrByteRangeMissing},
		{"byte range indirect", byteRange, "/ByteRange 5 0 R", ErrByteRangeMissing},
		{"byte range reals", byteRange, "/ByteRange[0 1.5 2 3]", ErrByteRangeMissing},
		{"byte range twice", byteRange, "/ByteRange[0 1 2 3]/ByteRange[0 1 2 3]", ErrDuplicateEntry},
		{"contents twice", contents, "/Contents<30>/Contents<30>", ErrDuplicateEntry},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(sealed)
			loc := c.re.FindIndex(b)
			n := copy(b[loc[0]:loc[1]], c.repl)
			for i := loc[0] + n; i < loc[1]; i++ {
				b[i] = ' '
			}
			a := analyze(t, b)
			if len(a.Signatures) != 1 {
				t.Fatalf("%d signatures", len(a.Signatures))
			}
			if s := a.Signatures[0]; !errors.Is(s.Problem, c.want) {
				t.Errorf("problem %v, want %v", s.Problem, c.want)
			}
		})
	}
}

// TestChanges classifies what an update made after sealing changes.
func TestChanges(t *testing.T) {
	req := baseRequest(t)
	req.Image = testSeal(t)
	sealed, _ := sealBytes(t, fixture(t, "one.pdf"), req)
	d0, err := open(bytes.NewReader(sealed), int64(len(sealed)), defaultBudget())
	if err != nil {
		t.Fatal(err)
	}
	pageRef, page := firstPage(t, d0)
	contentRef := page.get("Contents").(ref)
	annots := page.get("Annots").(array)
	sigRef := ref{}
	for _, s := range mustAnalyze(t, sealed).Signatures {
		sigRef = ref{s.Object, 0}
	}
	withPage := func(edit func(p dict) dict) func(d *document, u *update) {
		return func(d *document, u *update) {
			_, p := firstPage(t, d)
			u.put(pageRef, edit(p))
		}
	}
	newAnnot := func(entries dict) func(d *document, u *update) {
		return func(d *document, u *update) {
			r := u.alloc()
			u.put(r, append(dict{{"Type", name("Annot")}, {"P", pageRef}}, entries...))
			_, p := firstPage(t, d)
			p.set("Annots", append(append(array(nil), annots...), r))
			u.put(pageRef, p)
		}
	}
	cases := []struct {
		name   string
		edit   func(d *document, u *update)
		kind   ChangeKind
		alters bool
	}{
		{"content stream added", func(d *document, u *update) {
			r := u.alloc()
			u.put(r, &stream{dict: dict{}, data: []byte("0 0 1 rg 100 100 50 50 re f")})
			_, p := firstPage(t, d)
			p.set("Contents", array{contentRef, r})
			u.put(pageRef, p)
		}, ChangePageContent, true},
		{"content stream replaced", func(d *document, u *update) {
			u.put(contentRef, &stream{dict: dict{}, data: []byte("0 0 1 rg 100 100 50 50 re f")})
		}, ChangePageContent, true},
		{"content redirected to older bytes", func(d *document, u *update) {
			// Point the content stream's number at the page object: a
			// cross-reference entry that changes nothing but where to read.
			u.written = append(u.written, writtenObj{contentRef.num, 0, d.xref[pageRef.num].off})
		}, ChangeUnparseable, true},
		{"media box", withPage(func(p dict) dict { p.set("MediaBox", array{int64(0), int64(0), int64(300), int64(300)}); return p }), ChangePageContent, true},
		{"rotation", withPage(func(p dict) dict { p.set("Rotate", int64(90)); return p }), ChangePageContent, true},
		{"seal widget removed", withPage(func(p dict) dict { p.set("Annots", array{}); return p }), ChangeAnnotation, true},
		{"hidden annotation", newAnnot(dict{{"Subtype", name("Square")}, {"Rect", array{int64(0), int64(0), int64(50), int64(50)}}, {"F", int64(2)}}), ChangeAnnotation, false},
		// Viewers draw a note's icon over the page, appearance or not.
		{"sticky note", newAnnot(dict{{"Subtype", name("Text")}, {"Rect", array{int64(0), int64(0), int64(20), int64(20)}}}), ChangeAnnotation, true},
		{"sticky note with an empty rectangle", newAnnot(dict{{"Subtype", name("Text")}, {"Rect", array{int64(5), int64(5), int64(5), int64(5)}}}), ChangeAnnotation, true},
		{"hidden sticky note", newAnnot(dict{{"Subtype", name("Text")}, {"Rect", array{int64(0), int64(0), int64(20), int64(20)}}, {"F", int64(2)}}), ChangeAnnotation, false},
		{"link", newAnnot(dict{{"Subtype", name("Link")}, {"Rect", array{int64(0), int64(0), int64(20), int64(20)}}}), ChangeAnnotation, false},
		{"white box annotation", newAnnot(dict{{"Subtype", name("Square")}, {"Rect", array{int64(50), int64(600), int64(300), int64(620)}}, {"IC", array{int64(1), int64(1), int64(1)}}}), ChangeAnnotation, true},
		{"free text", newAnnot(dict{{"Subtype", name("FreeText")}, {"Rect", array{int64(50), int64(600), int64(300), int64(620)}}, {"DA", str("/Helv 12 Tf")}, {"Contents", str("x")}}), ChangeAnnotation, true},
		{"open action", func(d *document, u *update) {
			cat, _ := d.catalog()
			cat = cat.clone()
			cat.set("OpenAction", dict{{"S", name("JavaScript")}, {"JS", str("app.alert(1)")}})
			u.put(d.trailer.get("Root").(ref), cat)
		}, ChangeCatalog, true},
		{"catalog key repeated", func(d *document, u *update) {
			cat, _ := d.catalog()
			// get reads the first /Type, unchanged; other readers the second.
			cat = append(cat.clone(), dictEntry{"Type", name("NotACatalog")})
			u.put(d.trailer.get("Root").(ref), cat)
		}, ChangeCatalog, true},
		{"page key repeated", withPage(func(p dict) dict {
			return append(p, dictEntry{"Contents", array{}}) // a second /Contents, which get ignores
		}), ChangePageContent, true},
		{"validation data", func(d *document, u *update) {
			dss := u.alloc()
			u.put(dss, dict{{"Certs", array{}}})
			cat, _ := d.catalog()
			cat = cat.clone()
			cat.set("DSS", dss)
			u.put(d.trailer.get("Root").(ref), cat)
		}, ChangeDSS, false},
		{"metadata", func(d *document, u *update) {
			info := u.alloc()
			u.put(info, dict{{"Producer", str("another tool")}})
			d.trailer.set("Info", info)
		}, ChangeMetadata, false},
		{"unreferenced object", func(d *document, u *update) {
			u.put(u.alloc(), str("nothing refers to me"))
		}, ChangeUnreferenced, false},
		{"earlier signature rewritten", func(d *document, u *update) {
			sd, err := d.getDict(sigRef, "signature")
			if err != nil {
				t.Fatal(err)
			}
			sd = sd.clone()
			sd.set("Reason", str("another reason"))
			u.put(sigRef, sd)
		}, ChangeSignature, true},
		{"page added", func(d *document, u *update) {
			root, rootNum, err := d.pagesRoot()
			if err != nil {
				t.Fatal(err)
			}
			np := u.alloc()
			u.put(np, dict{{"Type", name("Page")}, {"Parent", ref{rootNum, 0}}, {"MediaBox", array{int64(0), int64(0), int64(100), int64(100)}}})
			root = root.clone()
			root.set("Kids", append(append(array(nil), root.get("Kids").(array)...), np))
			root.set("Count", int64(2))
			u.put(ref{rootNum, 0}, root)
		}, ChangePageTree, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := appendUpdate(t, sealed, c.edit)
			a := analyze(t, b)
			if len(a.Revisions) != 3 {
				t.Fatalf("%d revisions", len(a.Revisions))
			}
			changes := a.Revisions[2].Changes
			if !slices.ContainsFunc(changes, func(ch Change) bool { return ch.Kind == c.kind && ch.Alters == c.alters }) {
				t.Errorf("changes %+v, want a %s change with alters %v", changes, c.kind, c.alters)
			}
			if !c.alters {
				for _, ch := range changes {
					if ch.Alters {
						t.Errorf("also an altering change: %+v", ch)
					}
				}
			}
		})
	}
}

// TestSealingAgainAddsASignature: sealing again, with a visible seal and
// a cross-page seal whose strips are stamps of the new signature, only
// adds a signature.
func TestSealingAgainAddsASignature(t *testing.T) {
	var doc bytes.Buffer
	if err := writeLargePDF(&doc, 3, 500); err != nil {
		t.Fatal(err)
	}
	req := baseRequest(t)
	req.Image = testSeal(t)
	sealed, _ := sealBytes(t, doc.Bytes(), req)
	req.Placements = []Placement{Default{}, Riding{Y: 60}}
	again, res := sealBytes(t, sealed, req)
	if len(res.Seals) != 4 {
		t.Fatalf("%d seals drawn, want the seal and three strips", len(res.Seals))
	}
	a := analyze(t, again)
	changes := a.Revisions[2].Changes
	if len(changes) != 1 || changes[0].Kind != ChangeSignature || changes[0].Alters {
		t.Errorf("changes %+v, want one signature", changes)
	}
	if len(changes) > 0 && !slices.Equal(changes[0].Pages, []int{1, 2, 3}) {
		t.Errorf("the signature is on pages %v, want 1 to 3", changes[0].Pages)
	}
}

func mustAnalyze(t *testing.T, b []byte) *Analysis { return analyze(t, b) }

// TestChangesOnlyAfterSignature: revisions before the first signed one
// are not compared.
func TestChangesOnlyAfterSignature(t *testing.T) {
	one := fixture(t, "one.pdf")
	edited := appendUpdate(t, one, func(d *document, u *update) {
		u.put(u.alloc(), str("an object before sealing"))
	})
	sealed, _ := sealBytes(t, edited, baseRequest(t))
	a := analyze(t, sealed)
	if len(a.Revisions) != 3 {
		t.Fatalf("%d revisions", len(a.Revisions))
	}
	for i, r := range a.Revisions {
		if r.Changes != nil {
			t.Errorf("revision %d, not after the signed one, has changes %+v", i+1, r.Changes)
		}
	}
}

// TestStreamRunsIntoLaterRevision: a stream in the signed revision whose
// /Length reaches past the revision's end reads, in the file as it is now,
// bytes appended later, though no cross-reference entry changes. The
// stream is signed with the length a reader finds by its endstream; a
// later revision puts another endstream where /Length points.
func TestStreamRunsIntoLaterRevision(t *testing.T) {
	one := fixture(t, "one.pdf")
	d0, err := open(bytes.NewReader(one), int64(len(one)), defaultBudget())
	if err != nil {
		t.Fatal(err)
	}
	_, page := firstPage(t, d0)
	contentRef := page.get("Contents").(ref)
	const placeholder = "0000099999"
	var lengthAt, dataAt int
	prepared := appendUpdate(t, one, func(d *document, u *update) {
		u.begin(contentRef)
		u.buf = append(u.buf, "<</Length "...)
		lengthAt = len(one) + len(u.buf)
		u.buf = append(u.buf, placeholder+">>\nstream\n"...)
		dataAt = len(one) + len(u.buf)
		u.buf = append(u.buf, "0 0 1 rg 100 100 50 50 re f\nendstream"...)
		u.end()
	})
	dry, _ := sealBytes(t, prepared, baseRequest(t))
	target := len(dry) + 40 // inside the next revision
	copy(prepared[lengthAt:], fmt.Sprintf("%010d", target-dataAt))
	sealed, _ := sealBytes(t, prepared, baseRequest(t))
	if len(sealed) != len(dry) {
		t.Fatalf("sealing again gave %d bytes, not %d", len(sealed), len(dry))
	}
	if a := analyze(t, sealed); len(a.Signatures) != 1 || a.Signatures[0].Revision != 2 {
		t.Fatalf("the sealed file does not read as signed: %+v", a.Signatures)
	}
	later := appendUpdate(t, sealed, func(d *document, u *update) {
		pad := target - len(sealed)
		u.buf = append(u.buf, '%')
		u.buf = append(u.buf, bytes.Repeat([]byte{'x'}, pad-2)...)
		u.buf = append(u.buf, "\nendstream\n"...)
		u.put(u.alloc(), str("after the endstream"))
	})
	if !bytes.HasPrefix(later[target:], []byte("endstream")) {
		t.Fatalf("no endstream at %d", target)
	}
	changes := analyze(t, later).Revisions[3].Changes
	if !slices.ContainsFunc(changes, func(c Change) bool { return c.Kind == ChangeUnparseable && slices.Contains(c.Objects, contentRef.num) }) {
		t.Errorf("changes %+v, want the content stream that runs past its revision", changes)
	}
}
