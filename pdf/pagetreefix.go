package pdf

import (
	"fmt"
	"strings"
)

// Mending the page tree of a file being rebuilt (repair.go). Some unsigned
// files that viewers open have a page tree that ISO 32000-2 §7.7.3 does
// not allow, and that the engine's reader (pages.go), like the verifier,
// refuses:
//
//   - a page, or an intermediate node, written in place in its parent's
//     /Kids instead of as an object of its own (qpdf's direct-pages.pdf,
//     pyHanko's page-tree-direct-kid.pdf), which pdf.js, PDFBox and
//     poppler show;
//   - a /Kids entry that is no page or node (null, a number, a reference
//     to nothing), which every reader passes over;
//   - a catalog whose /Pages is itself a page, or a dictionary without
//     /Kids (qpdf's pages-is-page.pdf, pdf.js's issue21436.pdf and
//     issue15590.pdf): pdf.js, PDFBox and poppler show it as the only
//     page, qpdf finds no page at all;
//   - /Count values that disagree with the pages below them.
//
// Sealing such a file by an incremental update would leave a document that
// readers read differently, and that the verifier, strict about every
// revision it may have to judge as signed, refuses. So Seal treats it as
// damaged: the file is rewritten (only when it carries no signatures) with
// the page tree as pdf.js and PDFBox read it, made regular: every page and
// node an object of its own, given its /Parent, the entries that are no
// page dropped, a page given as the root put under a new root, and every
// /Count recounted. Inherited attributes keep their meaning: a node made
// an object keeps its entries, and a new root has none. A loop in the page
// tree is not mended: the page it leads back to has no place (the verifier
// and qpdf refuse it too). Nothing here is used by the verifier.

// treeFix mends the page tree of a document being rebuilt; see fixPageTree.
type treeFix struct {
	d    *document
	next int            // the next free object number
	over map[int]object // rewritten and new objects, by number
	// pages and nodes are the pages and nodes already placed, by number.
	pages, nodes map[int]bool
	// What was mended, for the repair's note.
	madeObjects, dropped, recounted int
	rootWasPage                     bool
}

// fixPageTree mends the page tree under the catalog cat (object root),
// whose objects are numbered up to maxNum. It returns the objects to write
// instead of those the file holds, and the new ones (numbered from
// maxNum+1), and a note of what it did, empty when the tree needed nothing.
func (d *document) fixPageTree(root ref, maxNum int) (map[int]object, string, error) {
	cat, err := d.getDict(root, "document catalog")
	if err != nil {
		return nil, "", err
	}
	f := &treeFix{d: d, next: maxNum + 1, over: map[int]object{}, pages: map[int]bool{}, nodes: map[int]bool{}}
	pv := cat.get("Pages")
	r, _, isPage, ok, err := f.node(pv, ref{}, 0)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", nil // no page tree: the reader says so
	}
	if isPage {
		// A page as the root: a new root above it.
		f.rootWasPage = true
		top := f.alloc()
		f.over[top.num] = dict{{"Type", name("Pages")}, {"Kids", array{r}}, {"Count", int64(1)}}
		pd, err := f.dict(r)
		if err != nil {
			return nil, "", err
		}
		if err := f.inherit(pd); err != nil {
			return nil, "", err
		}
		pd.set("Parent", top)
		f.over[r.num] = pd
		r = top
	}
	if pr, isRef := pv.(ref); !isRef || pr != r {
		c := cat.clone()
		c.set("Pages", r)
		f.over[root.num] = c
	}
	return f.over, f.note(), nil
}

// alloc numbers a new object.
func (f *treeFix) alloc() ref {
	r := ref{f.next, 0}
	f.next++
	return r
}

// dict returns object r as mended so far, or a copy of the file's.
func (f *treeFix) dict(r ref) (dict, error) {
	if o, ok := f.over[r.num]; ok {
		return o.(dict), nil
	}
	o, err := f.d.resolve(r)
	if err != nil {
		return nil, err
	}
	return dictOf(o).clone(), nil
}

// node mends o, an entry of parent's /Kids (parent zero for the root), and
// returns what to list in its place, the pages under it, and whether it
// is a page. ok is false when o is no page or node, to be dropped.
func (f *treeFix) node(o object, parent ref, depth int) (r ref, count int, isPage, ok bool, err error) {
	if depth > maxDepth {
		return ref{}, 0, false, false, damaged(-1, "page tree deeper than %d", maxDepth)
	}
	var nd dict
	changed := false // nd is a copy, to be written
	own := func() {
		if !changed {
			nd = nd.clone()
			changed = true
		}
	}
	switch v := o.(type) {
	case ref:
		if f.pages[v.num] {
			return v, 1, true, true, nil // a page listed again: shown again
		}
		if f.nodes[v.num] {
			return ref{}, 0, false, false, damaged(-1, "page tree loops at object %d", v.num)
		}
		x, err := f.d.resolve(v)
		if err != nil {
			return ref{}, 0, false, false, err
		}
		if _, isStream := x.(*stream); isStream {
			// Not a page that any reader shows; left for the reader to judge.
			return v, 1, true, true, nil
		}
		d, isDict := x.(dict)
		if !isDict {
			f.dropped++
			return ref{}, 0, false, false, nil
		}
		r, nd = v, d
	case dict:
		r, nd, changed = f.alloc(), v.clone(), true
		f.madeObjects++
	default:
		f.dropped++
		return ref{}, 0, false, false, nil
	}
	if _, isRef := o.(ref); !isRef && parent.num != 0 {
		// A page or node made an object gets the /Parent it lacked
		// (or had wrong: it was not an object to point to). Those
		// that were objects keep theirs, inheritance read through it
		// included.
		nd.set("Parent", parent)
	}
	kids, err := f.d.resolve(nd.get("Kids"))
	if err != nil {
		return ref{}, 0, false, false, err
	}
	ka, hasKids := kids.(array)
	if nameOf(nd.get("Type")) == "Page" || !hasKids {
		f.pages[r.num] = true
		if changed {
			f.over[r.num] = nd
		}
		return r, 1, true, true, nil
	}
	f.nodes[r.num] = true
	var list array
	kidsChanged := false
	for _, k := range ka {
		kr, n, _, ok, err := f.node(k, r, depth+1)
		if err != nil {
			return ref{}, 0, false, false, err
		}
		if !ok {
			kidsChanged = true
			continue
		}
		if k != kr {
			kidsChanged = true
		}
		list = append(list, kr)
		count += n
		if count > maxPages {
			return ref{}, 0, false, false, fmt.Errorf("%w: more than %d pages", ErrTooLarge, maxPages)
		}
	}
	c, err := f.d.resolve(nd.get("Count"))
	if err != nil {
		return ref{}, 0, false, false, err
	}
	if n, isInt := asInt(c); !isInt || n != int64(count) {
		f.recounted++
		kidsChanged = true
	}
	if changed || kidsChanged {
		own()
		nd.set("Kids", list)
		nd.set("Count", int64(count))
		f.over[r.num] = nd
	}
	return r, count, false, true, nil
}

// note says what fixPageTree mended, empty when nothing.
func (f *treeFix) note() string {
	var parts []string
	if f.madeObjects > 0 {
		parts = append(parts, fmt.Sprintf("%d page(s) or node(s) written in place in /Kids made objects of their own", f.madeObjects))
	}
	if f.dropped > 0 {
		parts = append(parts, fmt.Sprintf("%d /Kids entr(ies) that are no page dropped", f.dropped))
	}
	if f.rootWasPage {
		parts = append(parts, "the page given as the root of the page tree put under a new root")
	}
	if f.recounted > 0 {
		parts = append(parts, fmt.Sprintf("%d page count(s) corrected", f.recounted))
	}
	if len(parts) == 0 {
		return ""
	}
	return "mended the page tree: " + strings.Join(parts, ", ")
}

// inheritable are the page attributes a page may take from its ancestors
// (ISO 32000-2 Table 31).
var inheritable = []name{"Resources", "MediaBox", "CropBox", "Rotate"}

// inherit copies into page pd the attributes it lacks that pdf.js and
// PDFBox, which show a page given as the root, take from its /Parent
// chain: the page is put under a new root, which has none.
func (f *treeFix) inherit(pd dict) error {
	seen := map[int]bool{}
	p := pd.get("Parent")
	for depth := 0; depth < maxDepth; depth++ {
		r, ok := p.(ref)
		if !ok || seen[r.num] {
			return nil
		}
		seen[r.num] = true
		o, err := f.d.resolve(r)
		if err != nil {
			return err
		}
		anc := dictOf(o)
		if anc == nil {
			return nil
		}
		for _, k := range inheritable {
			if !pd.has(k) && anc.has(k) {
				pd.set(k, anc.get(k))
			}
		}
		p = anc.get("Parent")
	}
	return nil
}
