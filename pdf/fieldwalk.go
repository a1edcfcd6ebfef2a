package pdf

import "fmt"

// fieldWalk visits the fields of an interactive form: each field object
// once, with its fully qualified name and inherited field type, the tree
// bounded in depth (maxDepth) and in size (maxFields), so a hostile file can
// neither loop nor exhaust memory. seen and count stay with the walk, so a
// caller can go on to the pages' annotations under the same bound.
type fieldWalk struct {
	d     *document
	seen  map[int]bool
	count int
}

func newFieldWalk(d *document) *fieldWalk { return &fieldWalk{d: d, seen: map[int]bool{}} }

// walk calls visit for every field under fields, parents before kids.
func (w *fieldWalk) walk(fields array, visit func(fd dict, fr ref, full string, ft name) error) error {
	return w.walkAt(fields, "", "", 0, visit)
}

func (w *fieldWalk) walkAt(fields array, parent string, ft name, depth int, visit func(dict, ref, string, name) error) error {
	if depth > maxDepth {
		return damaged(-1, "form field tree deeper than %d", maxDepth)
	}
	for _, fo := range fields {
		if r, ok := fo.(ref); ok {
			if w.seen[r.num] {
				continue
			}
			w.seen[r.num] = true
		}
		if w.count++; w.count > maxFields {
			return fmt.Errorf("%w: more than %d form fields", ErrTooLarge, maxFields)
		}
		fd, err := w.d.getDict(fo, "form field")
		if err != nil {
			return err
		}
		fr, _ := fo.(ref)
		full := parent
		if t, ok := fd.get("T").(str); ok {
			if full != "" {
				full += "."
			}
			full += w.d.text(fr, t)
		}
		fft := ft
		if v, ok := fd.get("FT").(name); ok {
			fft = v
		}
		if err := visit(fd, fr, full, fft); err != nil {
			return err
		}
		kids, err := w.d.resolve(fd.get("Kids"))
		if err != nil {
			return err
		}
		if ka, ok := kids.(array); ok {
			if err := w.walkAt(ka, full, fft, depth+1, visit); err != nil {
				return err
			}
		}
	}
	return nil
}
