package pdf

import (
	"fmt"
	"math"
)

// The page tree (ISO 32000-2 §7.7.3). The engine finds a page by descending
// from the root with the /Count of each node, so that sealing the last page
// of a long document reads a handful of objects, not the whole tree.

// maxPages bounds the pages the engine walks through.
const maxPages = 1 << 20

// rect is a rectangle in default user space, normalised so that
// llx <= urx and lly <= ury.
type rect struct{ llx, lly, urx, ury float64 }

func (r rect) width() float64  { return r.urx - r.llx }
func (r rect) height() float64 { return r.ury - r.lly }

func (r rect) intersect(o rect) rect {
	return rect{math.Max(r.llx, o.llx), math.Max(r.lly, o.lly), math.Min(r.urx, o.urx), math.Min(r.ury, o.ury)}
}

func (r rect) empty() bool { return r.urx <= r.llx || r.ury <= r.lly }

// letter is the page size readers assume when a page has no usable
// /MediaBox.
var letter = rect{0, 0, 612, 792}

// page is one page, with the attributes it inherits resolved.
type page struct {
	index     int // 0-based
	ref       ref
	dict      dict
	media     rect
	box       rect // the visible area: CropBox within MediaBox
	rotate    int  // 0, 90, 180 or 270, clockwise
	resources dict
}

// inherited carries the inheritable page attributes down the tree.
type inherited struct {
	media, crop, rotate, resources object
}

func (d *document) catalog() (dict, error) {
	return d.getDict(d.trailer.get("Root"), "document catalog")
}

// pagesRoot returns the root of the page tree, and its object number (0
// when the catalog holds it directly) for loop detection.
func (d *document) pagesRoot() (dict, int, error) {
	cat, err := d.catalog()
	if err != nil {
		return nil, 0, err
	}
	num := 0
	if r, ok := cat.get("Pages").(ref); ok {
		num = r.num
	}
	root, err := d.getDict(cat.get("Pages"), "page tree root /Pages")
	return root, num, err
}

// pageCount returns the number of pages, from the root's /Count.
func (d *document) pageCount() (int, error) {
	root, _, err := d.pagesRoot()
	if err != nil {
		return 0, err
	}
	c, err := d.resolve(root.get("Count"))
	if err != nil {
		return 0, err
	}
	n, ok := asInt(c)
	if !ok || n < 0 || n > maxPages {
		return 0, damaged(-1, "page tree /Count is %v", c)
	}
	return int(n), nil
}

// nodeCount is the number of pages under a page tree node.
func (d *document) nodeCount(node dict) (int, bool, error) {
	if t, _ := node.get("Type").(name); t == "Page" {
		return 1, true, nil
	}
	if _, hasKids := node.get("Kids").(array); !hasKids {
		if _, isRef := node.get("Kids").(ref); !isRef {
			return 1, true, nil // a node without kids is a page, whatever its /Type says
		}
	}
	c, err := d.resolve(node.get("Count"))
	if err != nil {
		return 0, false, err
	}
	n, ok := asInt(c)
	if !ok || n < 0 || n > maxPages {
		return 0, false, damaged(-1, "page tree node /Count is %v", c)
	}
	return int(n), false, nil
}

// page returns the page at 0-based index i.
func (d *document) page(i int) (*page, error) {
	node, rootNum, err := d.pagesRoot()
	if err != nil {
		return nil, err
	}
	var inh inherited
	seen := map[int]bool{rootNum: true}
	want := i
	for depth := 0; depth < maxDepth; depth++ {
		inh = inh.with(node)
		kids, err := d.resolve(node.get("Kids"))
		if err != nil {
			return nil, err
		}
		ka, ok := kids.(array)
		if !ok {
			return nil, damaged(-1, "page tree node /Kids is %s", typeName(kids))
		}
		found := false
		for _, k := range ka {
			kr, ok := k.(ref)
			if !ok {
				return nil, damaged(-1, "page tree /Kids entry is %s, not a reference", typeName(k))
			}
			if seen[kr.num] {
				return nil, damaged(-1, "page tree loops at object %d", kr.num)
			}
			kd, err := d.getDict(kr, fmt.Sprintf("page tree node %d", kr.num))
			if err != nil {
				return nil, err
			}
			n, isPage, err := d.nodeCount(kd)
			if err != nil {
				return nil, err
			}
			if i >= n {
				i -= n
				continue
			}
			if isPage {
				return d.makePage(want, kr, kd, inh.with(kd))
			}
			seen[kr.num] = true
			node = kd
			found = true
			break
		}
		if !found {
			return nil, fmt.Errorf("%w: page %d not found in the page tree (its counts disagree)", ErrDamaged, want+1)
		}
	}
	return nil, damaged(-1, "page tree deeper than %d", maxDepth)
}

// pages returns every page, in order.
func (d *document) pages() ([]*page, error) {
	var out []*page
	err := d.eachPage(func(p *page) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

// eachPage calls fn with every page, in order, and stops at its error. It
// holds no more than one page at a time.
func (d *document) eachPage(fn func(*page) error) error {
	root, rootNum, err := d.pagesRoot()
	if err != nil {
		return err
	}
	n := 0
	seen := map[int]bool{rootNum: true}
	var walk func(node dict, inh inherited, depth int) error
	walk = func(node dict, inh inherited, depth int) error {
		if depth > maxDepth {
			return damaged(-1, "page tree deeper than %d", maxDepth)
		}
		inh = inh.with(node)
		kids, err := d.resolve(node.get("Kids"))
		if err != nil {
			return err
		}
		ka, ok := kids.(array)
		if !ok {
			return damaged(-1, "page tree node /Kids is %s", typeName(kids))
		}
		for _, k := range ka {
			kr, ok := k.(ref)
			if !ok {
				return damaged(-1, "page tree /Kids entry is %s, not a reference", typeName(k))
			}
			kd, err := d.getDict(kr, fmt.Sprintf("page tree node %d", kr.num))
			if err != nil {
				return err
			}
			_, isPage, err := d.nodeCount(kd)
			if err != nil {
				return err
			}
			// A page object listed twice is shown twice, as qpdf and
			// viewers read it; only an inner node met again is a loop
			// (or a shared subtree, which could double the pages at
			// every level).
			if !isPage && seen[kr.num] {
				return damaged(-1, "page tree loops at object %d", kr.num)
			}
			if isPage {
				if n == maxPages {
					return fmt.Errorf("%w: more than %d pages", ErrTooLarge, maxPages)
				}
				p, err := d.makePage(n, kr, kd, inh.with(kd))
				if err != nil {
					return err
				}
				n++
				if err := fn(p); err != nil {
					return err
				}
				continue
			}
			seen[kr.num] = true
			if err := walk(kd, inh, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(root, inherited{}, 0)
}

func (inh inherited) with(node dict) inherited {
	if v := node.get("MediaBox"); v != nil {
		inh.media = v
	}
	if v := node.get("CropBox"); v != nil {
		inh.crop = v
	}
	if v := node.get("Rotate"); v != nil {
		inh.rotate = v
	}
	if v := node.get("Resources"); v != nil {
		inh.resources = v
	}
	return inh
}

func (d *document) makePage(index int, r ref, pd dict, inh inherited) (*page, error) {
	p := &page{index: index, ref: r, dict: pd}
	media, ok, err := d.box(inh.media)
	if err != nil {
		return nil, err
	}
	if !ok {
		media = letter
	}
	p.media, p.box = media, media
	if crop, ok, err := d.box(inh.crop); err != nil {
		return nil, err
	} else if ok {
		if b := crop.intersect(media); !b.empty() {
			p.box = b
		}
	}
	rot, err := d.resolve(inh.rotate)
	if err != nil {
		return nil, err
	}
	if n, ok := asInt(rot); ok {
		p.rotate = int(((n%360)+360)%360) / 90 * 90
	}
	res, err := d.resolve(inh.resources)
	if err != nil {
		return nil, err
	}
	p.resources, _ = res.(dict)
	return p, nil
}

// box reads a rectangle. Like other readers, it takes a two-number array
// [w h] to mean [0 0 w h].
func (d *document) box(o object) (rect, bool, error) {
	o, err := d.resolve(o)
	if err != nil || o == nil {
		return rect{}, false, err
	}
	a, ok := o.(array)
	if !ok || (len(a) != 4 && len(a) != 2) {
		return rect{}, false, nil
	}
	var v [4]float64
	for i, e := range a {
		e, err := d.resolve(e)
		if err != nil {
			return rect{}, false, err
		}
		f, ok := asNumber(e)
		if !ok || math.IsNaN(f) || math.Abs(f) > 1e7 {
			return rect{}, false, nil
		}
		v[i] = f
	}
	if len(a) == 2 {
		v = [4]float64{0, 0, v[0], v[1]}
	}
	r := rect{math.Min(v[0], v[2]), math.Min(v[1], v[3]), math.Max(v[0], v[2]), math.Max(v[1], v[3])}
	if r.empty() {
		return rect{}, false, nil
	}
	return r, true, nil
}
