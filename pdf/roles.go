package pdf

import "fmt"

// The role of each object in a document: what it is to the pages, the
// form and the signatures. Comparing two revisions object by object says
// which objects changed; their roles say what the change means, for
// example that the object is a page's content stream, or the appearance
// of an annotation added with a signature. The roles are found by walking
// the document from its trailer, following every reference.

// role is a set of roles; an object shared by several parts of the
// document has several.
type role uint32

const (
	roleCatalog   role = 1 << iota // the document catalog
	rolePageNode                   // an intermediate node of the page tree
	rolePage                       // a page
	roleContent                    // a page's content stream, or its array of them
	roleResource                   // what a page is drawn with: resources, fonts, images, forms, and its other attributes
	roleAnnots                     // a page's /Annots array, as an object of its own
	roleAnnot                      // an annotation, widgets included
	roleField                      // a form field
	roleFields                     // a /Fields or /Kids array, as an object of its own
	roleSigValue                   // a signature dictionary: a signature field's /V
	roleAcroForm                   // the interactive form dictionary
	roleAnnotPart                  // what an annotation holds: its appearance streams and their resources
	roleFieldPart                  // what a field holds but its kids and signature: its value, lock, resources
	roleSigPart                    // what a signature dictionary holds
	roleDSS                        // the document security store (validation data)
	roleMetadata                   // document information and XMP metadata
	roleOther                      // anything else the catalog reaches: outlines, names, actions, structure
)

// maxRoleVisits bounds the objects visited in one walk.
const maxRoleVisits = 1 << 18

// objRole is what the walk learned about one object.
type objRole struct {
	roles role
	page  int // 1-based page of a page, its content or annotations; 0 when unknown
	owner int // for parts: the annotation, field or signature holding it, the first found
}

// roleMap holds the roles of a document's objects, by object number.
type roleMap struct {
	d    *document
	objs map[int]*objRole
}

// walkItem is one value still to visit.
type walkItem struct {
	o     object
	r     role
	page  int
	owner int
}

// roles walks the document from its trailer.
func (d *document) roles() (*roleMap, error) {
	rm := &roleMap{d: d, objs: make(map[int]*objRole)}
	w := &walker{rm: rm}
	w.push(d.trailer.get("Info"), roleMetadata, 0, 0)
	cat, err := d.catalog()
	if err != nil {
		return nil, err
	}
	if r, ok := d.trailer.get("Root").(ref); ok {
		rm.mark(r.num, roleCatalog, 0, 0)
	}
	for _, e := range cat {
		switch e.key {
		case "Pages":
			if err := w.pageTree(e.val, 0); err != nil {
				return nil, err
			}
		case "AcroForm":
			w.push(e.val, roleAcroForm, 0, 0)
		case "DSS":
			w.push(e.val, roleDSS, 0, 0)
		case "Metadata", "Extensions":
			w.push(e.val, roleMetadata, 0, 0)
		default:
			w.push(e.val, roleOther, 0, 0)
		}
	}
	if err := w.run(); err != nil {
		return nil, err
	}
	return rm, nil
}

// mark records role r of object num, and reports whether it is new.
func (rm *roleMap) mark(num int, r role, page, owner int) bool {
	o := rm.objs[num]
	if o == nil {
		o = &objRole{}
		rm.objs[num] = o
	}
	if o.page == 0 {
		o.page = page
	}
	if o.roles&r != 0 {
		return false
	}
	o.roles |= r
	if o.owner == 0 {
		o.owner = owner
	}
	return true
}

// walker visits values from a work list, so that long chains (outline
// items linked by /Next) do not deepen the stack.
type walker struct {
	rm     *roleMap
	todo   []walkItem
	visits int
	pages  int
}

func (w *walker) push(o object, r role, page, owner int) {
	switch o.(type) {
	case ref, dict, array, *stream:
		w.todo = append(w.todo, walkItem{o, r, page, owner})
	}
}

// pageTree walks the page tree in order, numbering the pages, and queues
// what each page holds.
func (w *walker) pageTree(o object, depth int) error {
	d := w.rm.d
	if depth > maxDepth {
		return damaged(-1, "page tree deeper than %d", maxDepth)
	}
	r, isRef := o.(ref)
	if !isRef {
		return damaged(-1, "page tree node is %s, not a reference", typeName(o))
	}
	node, err := d.getDict(r, fmt.Sprintf("page tree node %d", r.num))
	if err != nil {
		return err
	}
	if w.visits++; w.visits > maxRoleVisits {
		return fmt.Errorf("%w: more than %d objects to walk", ErrTooLarge, maxRoleVisits)
	}
	_, isPage, err := d.nodeCount(node)
	if err != nil {
		return err
	}
	if isPage {
		w.pages++
		if !w.rm.mark(r.num, rolePage, w.pages, 0) {
			return damaged(-1, "page %d appears twice in the page tree", r.num)
		}
		w.expand(node, r, rolePage, w.pages, r.num, 0)
		return nil
	}
	if !w.rm.mark(r.num, rolePageNode, 0, 0) {
		return damaged(-1, "page tree loops at object %d", r.num)
	}
	kids, err := d.resolve(node.get("Kids"))
	if err != nil {
		return err
	}
	if kr, ok := node.get("Kids").(ref); ok {
		w.rm.mark(kr.num, rolePageNode, 0, 0)
	}
	ka, _ := kids.(array)
	for _, k := range ka {
		if err := w.pageTree(k, depth+1); err != nil {
			return err
		}
	}
	for _, e := range node {
		if e.key != "Kids" && e.key != "Parent" {
			w.push(e.val, roleResource, 0, r.num) // inherited attributes
		}
	}
	return nil
}

// run visits the work list until it is empty.
func (w *walker) run() error {
	for len(w.todo) > 0 {
		it := w.todo[len(w.todo)-1]
		w.todo = w.todo[:len(w.todo)-1]
		if w.visits++; w.visits > maxRoleVisits || len(w.todo) > maxRoleVisits {
			return fmt.Errorf("%w: more than %d objects to walk", ErrTooLarge, maxRoleVisits)
		}
		num := 0
		o := it.o
		if r, ok := o.(ref); ok {
			if !w.rm.mark(r.num, it.r, it.page, it.owner) {
				continue
			}
			num = r.num
			v, err := w.rm.d.get(r)
			if err != nil {
				return err
			}
			o = v
		}
		switch v := o.(type) {
		case array:
			for _, e := range v {
				w.push(e, w.elementRole(it.r), it.page, it.owner)
			}
		case dict:
			w.expand(v, it.o, it.r, it.page, num, it.owner)
		case *stream:
			w.expand(v.dict, it.o, it.r, it.page, num, it.owner)
		}
	}
	return nil
}

// elementRole is the role of the elements of an array that has role r.
func (w *walker) elementRole(r role) role {
	switch r {
	case roleAnnots:
		return roleAnnot
	case roleFields:
		return roleField
	}
	return r
}

// expand queues the entries of dictionary v, which has role r. orig is
// how it was reached: its reference, or v itself when it is direct; num is
// its object number, 0 when direct.
func (w *walker) expand(v dict, orig object, r role, page, num, owner int) {
	self := num
	if self == 0 {
		self = owner
	}
	switch r {
	case rolePage:
		for _, e := range v {
			switch e.key {
			case "Parent":
			case "Contents":
				w.push(e.val, roleContent, page, num)
			case "Annots":
				w.push(e.val, roleAnnots, page, num)
			case "B":
				w.push(e.val, roleOther, page, num)
			default:
				w.push(e.val, roleResource, page, num)
			}
		}
	case roleAnnot:
		if num != 0 && (v.has("FT") || v.has("T") || v.has("Kids")) {
			w.push(orig, roleField, page, 0) // a field merged with its widget
		}
		for _, e := range v {
			switch e.key {
			case "P", "IRT", "V", "Kids", "T", "FT":
			case "Parent":
				w.push(e.val, roleField, 0, 0)
			case "Popup":
				w.push(e.val, roleAnnot, page, 0)
			default:
				w.push(e.val, roleAnnotPart, page, self)
			}
		}
	case roleField:
		if num != 0 && nameOf(v.get("Subtype")) == "Widget" {
			w.push(orig, roleAnnot, page, 0)
		}
		isSig := w.rm.d.fieldType(v) == "Sig"
		for _, e := range v {
			switch e.key {
			case "Parent", "P":
			case "Kids":
				w.push(e.val, roleFields, page, self)
			case "V":
				if isSig {
					w.push(e.val, roleSigValue, page, self)
				} else {
					w.push(e.val, roleFieldPart, page, self)
				}
			case "AP", "MK", "Rect", "F", "Subtype", "Type", "Popup", "IRT":
				// the widget's, visited as an annotation
			default:
				w.push(e.val, roleFieldPart, page, self)
			}
		}
	case roleSigValue:
		for _, e := range v {
			w.push(e.val, roleSigPart, page, self)
		}
	case roleAcroForm:
		for _, e := range v {
			if e.key == "Fields" {
				w.push(e.val, roleFields, 0, self)
			} else {
				w.push(e.val, roleFieldPart, 0, self)
			}
		}
	default:
		child := r
		switch r {
		case roleContent:
			child = roleContent
		case rolePageNode:
			child = roleResource
		}
		for _, e := range v {
			if e.key == "Parent" || e.key == "P" {
				continue
			}
			w.push(e.val, child, page, owner0(owner, num))
		}
	}
}

func owner0(owner, num int) int {
	if owner != 0 {
		return owner
	}
	return num
}

// fieldType returns a field's /FT, inherited from its ancestors.
func (d *document) fieldType(v dict) name {
	for i := 0; i < maxDepth && v != nil; i++ {
		if ft, ok := v.get("FT").(name); ok {
			return ft
		}
		p, err := d.resolve(v.get("Parent"))
		if err != nil {
			return ""
		}
		v, _ = p.(dict)
	}
	return ""
}
