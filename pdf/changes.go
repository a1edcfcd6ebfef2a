package pdf

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// What a revision changes. Two revisions are compared as documents: the
// objects whose cross-reference entries differ (added, changed, freed, or
// in an object stream that changed) are read in both, and those whose
// values differ are classified by their roles. A change that only adds to
// the document (a signature with its field and widget, validation data, a
// hidden annotation, metadata) is told apart from one that alters what an
// earlier revision showed or held (page content, a visible annotation, a
// form value, the document's structure, an earlier signature).

// ChangeKind classifies a change that a revision makes.
type ChangeKind string

const (
	// ChangeSignature is a new signature: its dictionary, its field and
	// widget, their appearance, and the form and page entries that list
	// them. Altering an earlier signature's dictionary is one too, with
	// Alters set.
	ChangeSignature ChangeKind = "signature"
	// ChangeTimestamp is a new document timestamp (/Type /DocTimeStamp).
	ChangeTimestamp ChangeKind = "timestamp"
	// ChangeDSS is validation data: the catalog's /DSS and what it holds.
	ChangeDSS ChangeKind = "dss"
	// ChangeAnnotation is an annotation added, changed or removed.
	ChangeAnnotation ChangeKind = "annotation"
	// ChangeFormField is a form field or its widget added or changed (a
	// value filled in), or the form's settings changed.
	ChangeFormField ChangeKind = "form_field"
	// ChangePageContent is a change to a page's content streams,
	// resources or other attributes.
	ChangePageContent ChangeKind = "page_content"
	// ChangePageTree is a page added, removed or moved, or another change
	// to the page tree.
	ChangePageTree ChangeKind = "page_tree"
	// ChangeCatalog is a change to the document catalog or what it
	// reaches besides pages, form and validation data: outlines, names,
	// actions, optional content, permissions, encryption.
	ChangeCatalog ChangeKind = "catalog"
	// ChangeMetadata is a change to the document information dictionary
	// or the XMP metadata, which no page shows.
	ChangeMetadata ChangeKind = "metadata"
	// ChangeUnreferenced is objects that nothing in the document refers
	// to, which no viewer shows.
	ChangeUnreferenced ChangeKind = "unreferenced"
	// ChangeUnparseable is a revision, or part of one, that cannot be read
	// or compared; what it changes is unknown.
	ChangeUnparseable ChangeKind = "unparseable"
)

// Change is one kind of change that a revision makes.
type Change struct {
	Kind ChangeKind
	// Alters is true when the change alters what the earlier revision
	// showed or held, rather than only adding to it: page content, the
	// page tree or catalog, an annotation that draws on a page, a field's
	// value, an earlier signature. Page content, page tree, catalog and
	// unparseable changes always alter.
	Alters bool
	// Objects are the numbers of the objects involved, ascending.
	Objects []int
	// Pages are the 1-based numbers of the pages involved, when known.
	Pages []int
	// Detail says what changed, for a report.
	Detail string
}

// maxDetails bounds the details kept for one kind of change.
const maxDetails = 4

// differ compares revision cur with revision prev, the one before it.
type differ struct {
	prev, cur *document
	pr, cr    *roleMap
	revEnds   []int64 // ends of all revisions, ascending, to check stream extents

	changed map[int]bool
	newSigs map[int]bool   // signature dictionaries new in cur
	signed  map[string]int // names of fields signed in cur -> their object
	memo    map[int]verdict
	out     map[changeKey]*changeAcc
}

type verdict struct {
	kind   ChangeKind
	alters bool
	detail string
	skip   bool
}

type changeKey struct {
	kind   ChangeKind
	alters bool
}

type changeAcc struct {
	Change
	details []string
	more    int
}

// diff returns what cur changes in prev.
func diff(prev, cur *document, pr, cr *roleMap, revEnds []int64) []Change {
	df := &differ{prev: prev, cur: cur, pr: pr, cr: cr, revEnds: revEnds,
		changed: map[int]bool{}, newSigs: map[int]bool{}, signed: map[string]int{},
		memo: map[int]verdict{}, out: map[changeKey]*changeAcc{}}
	df.run()
	return df.result()
}

func (df *differ) add(kind ChangeKind, alters bool, num, page int, detail string) {
	k := changeKey{kind, alters || kind == ChangePageContent || kind == ChangePageTree || kind == ChangeCatalog || kind == ChangeUnparseable}
	a := df.out[k]
	if a == nil {
		a = &changeAcc{Change: Change{Kind: kind, Alters: k.alters}}
		df.out[k] = a
	}
	if num > 0 && !slices.Contains(a.Objects, num) {
		a.Objects = append(a.Objects, num)
	}
	if page > 0 && !slices.Contains(a.Pages, page) {
		a.Pages = append(a.Pages, page)
	}
	if detail != "" && !slices.Contains(a.details, detail) {
		if len(a.details) < maxDetails {
			a.details = append(a.details, detail)
		} else {
			a.more++
		}
	}
}

// result orders the changes: those that alter first, then by kind.
func (df *differ) result() []Change {
	var out []Change
	for _, a := range df.out {
		sort.Ints(a.Objects)
		sort.Ints(a.Pages)
		a.Detail = strings.Join(a.details, "; ")
		if a.more > 0 {
			a.Detail += fmt.Sprintf("; and %d more", a.more)
		}
		out = append(out, a.Change)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Alters != out[j].Alters {
			return out[i].Alters
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// live reports whether d has an object numbered num.
func live(d *document, num int) bool {
	e, ok := d.xref[num]
	return ok && e.kind != xrefFree
}

func (df *differ) run() {
	prev, cur := df.prev, df.cur
	// Objects whose entries differ, and those in object streams that did.
	for num, e := range cur.xref {
		if pe, ok := prev.xref[num]; ok && pe == e {
			continue
		}
		if !live(cur, num) && !live(prev, num) {
			continue
		}
		df.changed[num] = true
	}
	for num := range prev.xref {
		if _, ok := cur.xref[num]; !ok && live(prev, num) {
			df.changed[num] = true
		}
	}
	for num, e := range cur.xref {
		if e.kind == xrefCompressed && df.changed[int(e.off)] {
			df.changed[num] = true
		}
	}
	nums := make([]int, 0, len(df.changed))
	for num := range df.changed {
		nums = append(nums, num)
	}
	sort.Ints(nums)

	if prev.trailer.has("Encrypt") != cur.trailer.has("Encrypt") {
		df.add(ChangeCatalog, true, 0, 0, "encryption added or removed")
	}
	if eq, _ := equalObjects(prev.trailer.get("Info"), cur.trailer.get("Info"), prev, cur); !eq {
		df.add(ChangeMetadata, false, 0, 0, "document information dictionary replaced")
	}
	df.checkStreamExtents()

	// Signatures new in this revision, and the fields they sign.
	for _, num := range nums {
		if o := df.cr.objs[num]; o != nil && o.roles&roleSigValue != 0 && !live(prev, num) {
			df.newSigs[num] = true
		}
	}
	for _, num := range nums {
		o := df.cr.objs[num]
		if o == nil || o.roles&(roleField|roleAnnot) == 0 {
			continue
		}
		if fd, err := cur.getDict(ref{num, int(cur.xref[num].gen)}, "field"); err == nil {
			if _, isNew := df.signsNew(fd); isNew {
				if t, ok := fd.get("T").(str); ok {
					df.signed[decodeText(t)] = num
				}
			}
		}
	}

	df.compareCatalogs()
	for _, num := range nums {
		v := df.classify(num)
		if v.skip {
			continue
		}
		page := 0
		if o := df.cr.objs[num]; o != nil {
			page = o.page
		} else if o := df.pr.objs[num]; o != nil {
			page = o.page
		}
		df.add(v.kind, v.alters, num, page, v.detail)
	}
}

// checkStreamExtents flags streams whose data runs past the end of the
// revision that holds them: their content changes with later bytes
// without any cross-reference entry changing.
func (df *differ) checkStreamExtents() {
	for num, o := range df.cur.cache {
		s, ok := o.(*stream)
		if !ok || s.data != nil {
			continue
		}
		e := df.cur.xref[num]
		if e.kind != xrefOffset {
			continue
		}
		for _, end := range df.revEnds {
			if e.off < end {
				if s.off+s.n > end {
					df.add(ChangeUnparseable, true, num, 0, fmt.Sprintf("stream of object %d runs past the end of its revision at byte %d", num, end))
				}
				break
			}
		}
	}
}

// signsNew reports whether field fd is a signature field whose value is
// a signature dictionary new in this revision, and its type.
func (df *differ) signsNew(fd dict) (ChangeKind, bool) {
	if df.cur.fieldType(fd) != "Sig" {
		return "", false
	}
	v := fd.get("V")
	if fd.get("V") == nil {
		if p, err := df.cur.getDict(fd.get("Parent"), "field"); err == nil {
			v = p.get("V")
		}
	}
	r, ok := v.(ref)
	if !ok || !df.newSigs[r.num] {
		return "", false
	}
	return df.sigKind(r), true
}

// sigKind tells a document timestamp from a signature.
func (df *differ) sigKind(r ref) ChangeKind {
	sd, err := df.cur.getDict(r, "signature")
	if err == nil && (nameOf(sd.get("Type")) == "DocTimeStamp" || nameOf(sd.get("SubFilter")) == "ETSI.RFC3161") {
		return ChangeTimestamp
	}
	return ChangeSignature
}

// value reads object num in d, nil when d has none.
func value(d *document, num int) (object, error) {
	if !live(d, num) {
		return nil, nil
	}
	return d.get(ref{num, int(d.xref[num].gen)})
}

// classify says what the change of object num is.
func (df *differ) classify(num int) verdict {
	if v, ok := df.memo[num]; ok {
		return v
	}
	df.memo[num] = verdict{kind: ChangeUnparseable, alters: true, detail: fmt.Sprintf("object %d refers to itself", num)}
	v := df.classifyOnce(num)
	df.memo[num] = v
	return v
}

func (df *differ) classifyOnce(num int) verdict {
	prev, cur := df.prev, df.cur
	pv, err := value(prev, num)
	if err != nil {
		return verdict{kind: ChangeUnparseable, alters: true, detail: fmt.Sprintf("object %d: %v", num, err)}
	}
	cv, err := value(cur, num)
	if err != nil {
		return verdict{kind: ChangeUnparseable, alters: true, detail: fmt.Sprintf("object %d: %v", num, err)}
	}
	isNew, removed := !live(prev, num), !live(cur, num)
	if !isNew && !removed {
		eq, err := equalObjects(pv, cv, prev, cur)
		if err != nil {
			return verdict{kind: ChangeUnparseable, alters: true, detail: fmt.Sprintf("object %d: %v", num, err)}
		}
		if eq {
			return verdict{skip: true}
		}
	}
	var rs role
	var page int
	if o := df.cr.objs[num]; o != nil {
		rs |= o.roles
		page = o.page
	}
	if o := df.pr.objs[num]; o != nil {
		rs |= o.roles
		if page == 0 {
			page = o.page
		}
	}
	where := ""
	if page > 0 {
		where = fmt.Sprintf("page %d: ", page)
	}
	if removed {
		if rs == 0 {
			return verdict{kind: ChangeUnreferenced, detail: fmt.Sprintf("unused object %d freed", num)}
		}
		return verdict{kind: kindOf(rs), alters: true, detail: fmt.Sprintf("%s%s object %d removed", where, roleName(rs), num)}
	}
	switch {
	case rs&roleCatalog != 0:
		return verdict{skip: true} // compared in compareCatalogs
	case rs&rolePageNode != 0:
		return verdict{kind: ChangePageTree, alters: true, detail: fmt.Sprintf("page tree node %d %s", num, addedOr(isNew))}
	case rs&rolePage != 0:
		if isNew {
			return verdict{kind: ChangePageTree, alters: true, detail: fmt.Sprintf("page %d added as object %d", page, num)}
		}
		return df.comparePage(num, page, pv, cv)
	case rs&roleContent != 0:
		return verdict{kind: ChangePageContent, alters: true, detail: fmt.Sprintf("%scontent stream %d %s", where, num, addedOr(isNew))}
	case rs&roleResource != 0:
		return verdict{kind: ChangePageContent, alters: true, detail: fmt.Sprintf("%sresource object %d %s", where, num, addedOr(isNew))}
	case rs&roleAnnots != 0:
		if ok, err := df.appended(pv, cv); err != nil || !ok {
			return verdict{kind: ChangeAnnotation, alters: true, detail: where + "annotations removed or reordered"}
		}
		return verdict{skip: true} // the new annotations are classified themselves
	case rs&roleAnnot != 0:
		return df.annotation(num, page, cv, isNew)
	case rs&roleField != 0:
		return df.field(num, cv, isNew)
	case rs&roleSigValue != 0:
		if isNew {
			return verdict{kind: df.sigKind(ref{num, int(cur.xref[num].gen)}), detail: fmt.Sprintf("signature dictionary %d added", num)}
		}
		return verdict{kind: ChangeSignature, alters: true, detail: fmt.Sprintf("signature dictionary %d of an earlier signature rewritten", num)}
	case rs&roleAcroForm != 0:
		return df.compareAcroForm(pv, cv)
	case rs&roleFields != 0:
		if ok, err := df.appended(pv, cv); err != nil || !ok {
			return verdict{kind: ChangeFormField, alters: true, detail: "form fields removed or reordered"}
		}
		return verdict{skip: true}
	case rs&roleAnnotPart != 0:
		return df.part(num, isNew, ChangeAnnotation, "annotation")
	case rs&roleSigPart != 0:
		return df.part(num, isNew, ChangeSignature, "signature dictionary")
	case rs&roleFieldPart != 0:
		return df.part(num, isNew, ChangeFormField, "form field")
	case rs&roleDSS != 0:
		return verdict{kind: ChangeDSS, detail: fmt.Sprintf("validation data object %d %s", num, addedOr(isNew))}
	case rs&roleMetadata != 0:
		return verdict{kind: ChangeMetadata, detail: fmt.Sprintf("metadata object %d %s", num, addedOr(isNew))}
	case rs&roleOther != 0:
		return verdict{kind: ChangeCatalog, alters: true, detail: fmt.Sprintf("object %d reached from the catalog (outlines, names, actions…) %s", num, addedOr(isNew))}
	}
	if s, ok := cv.(*stream); ok {
		if t := nameOf(s.dict.get("Type")); t == "XRef" || t == "ObjStm" {
			return verdict{skip: true} // the update's own cross-reference or object stream
		}
	}
	return verdict{kind: ChangeUnreferenced, detail: fmt.Sprintf("object %d, which nothing refers to, %s", num, addedOr(isNew))}
}

func addedOr(isNew bool) string {
	if isNew {
		return "added"
	}
	return "changed"
}

// part classifies an object held by an annotation, field or signature. A
// new object added with a new holder belongs to the holder's change, and
// one added to a holder that changed takes that change's verdict; a new
// object that an unchanged holder now reaches (through a reference that
// pointed nowhere before), and any changed one, alter the holder.
func (df *differ) part(num int, isNew bool, kind ChangeKind, what string) verdict {
	owner := 0
	if o := df.cr.objs[num]; o != nil {
		owner = o.owner
	}
	switch {
	case !isNew:
		return verdict{kind: kind, alters: true, detail: fmt.Sprintf("object %d of %s %d changed", num, what, owner)}
	case owner == 0 || owner == num:
	case !live(df.prev, owner):
		return verdict{kind: df.classify(owner).kindOr(kind), detail: fmt.Sprintf("object %d of new %s %d", num, what, owner)}
	case df.changed[owner]:
		v := df.classify(owner)
		return verdict{kind: v.kindOr(kind), alters: v.alters, detail: fmt.Sprintf("object %d of %s %d added", num, what, owner)}
	}
	return verdict{kind: kind, alters: true, detail: fmt.Sprintf("object %d added to unchanged %s %d", num, what, owner)}
}

// kindOr is v's kind, or kind when v is skipped.
func (v verdict) kindOr(kind ChangeKind) ChangeKind {
	if v.skip {
		return kind
	}
	return v.kind
}

// appended reports whether array value cv only appends to pv.
func (df *differ) appended(pv, cv object) (bool, error) {
	pa, err := df.prev.resolve(pv)
	if err != nil {
		return false, err
	}
	ca, err := df.cur.resolve(cv)
	if err != nil {
		return false, err
	}
	a, ok1 := pa.(array)
	b, ok2 := ca.(array)
	if pa == nil && ok2 {
		return true, nil
	}
	if !ok1 || !ok2 {
		return false, nil
	}
	return isPrefix(a, b, df.prev, df.cur)
}

// comparePage allows a page to change only by appending annotations.
func (df *differ) comparePage(num, page int, pv, cv object) verdict {
	pd, ok1 := pv.(dict)
	cd, ok2 := cv.(dict)
	if !ok1 || !ok2 {
		return verdict{kind: ChangePageTree, alters: true, detail: fmt.Sprintf("page %d (object %d) is no longer a dictionary", page, num)}
	}
	if k, ok := repeated(cd); ok {
		return verdict{kind: ChangePageContent, alters: true, detail: fmt.Sprintf("page %d: its dictionary repeats /%s", page, k)}
	}
	var keys []string
	annots := false
	for _, k := range unionKeys(pd, cd) {
		if eq, err := equalObjects(pd.get(k), cd.get(k), df.prev, df.cur); err == nil && eq {
			continue
		}
		if k == "Annots" {
			if ok, err := df.appended(pd.get(k), cd.get(k)); err == nil && ok {
				continue
			}
			annots = true
			continue
		}
		keys = append(keys, "/"+string(k))
	}
	switch {
	case len(keys) > 0:
		return verdict{kind: ChangePageContent, alters: true, detail: fmt.Sprintf("page %d: %s changed", page, strings.Join(keys, ", "))}
	case annots:
		return verdict{kind: ChangeAnnotation, alters: true, detail: fmt.Sprintf("page %d: annotations removed or reordered", page)}
	}
	return verdict{skip: true}
}

// repeated returns a key that dictionary d holds twice, if any: readers
// may take either value, so a key-by-key comparison cannot vouch for it.
func repeated(d dict) (name, bool) {
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			if d[i].key == d[j].key {
				return d[i].key, true
			}
		}
	}
	return "", false
}

func unionKeys(a, b dict) []name {
	var keys []name
	for _, e := range a {
		keys = append(keys, e.key)
	}
	for _, e := range b {
		if !a.has(e.key) {
			keys = append(keys, e.key)
		}
	}
	return keys
}

// compareCatalogs compares the catalogs of the two revisions, whatever
// their object numbers: an update may write the catalog as a new object.
func (df *differ) compareCatalogs() {
	pc, err1 := df.prev.catalog()
	cc, err2 := df.cur.catalog()
	if err1 != nil || err2 != nil {
		df.add(ChangeUnparseable, true, 0, 0, "the catalog cannot be read")
		return
	}
	root := 0
	if r, ok := df.cur.trailer.get("Root").(ref); ok {
		root = r.num
	}
	if k, ok := repeated(cc); ok {
		df.add(ChangeCatalog, true, root, 0, fmt.Sprintf("the catalog repeats /%s", k))
	}
	for _, k := range unionKeys(pc, cc) {
		pv, cv := pc.get(k), cc.get(k)
		if eq, err := equalObjects(pv, cv, df.prev, df.cur); err == nil && eq {
			continue
		}
		switch k {
		case "AcroForm":
			if v := df.compareAcroForm(pv, cv); !v.skip {
				df.add(v.kind, v.alters, root, 0, v.detail)
			}
		case "Pages":
			df.add(ChangePageTree, true, root, 0, "catalog /Pages replaced")
		case "DSS":
			df.add(ChangeDSS, false, root, 0, "validation data (/DSS) added to the catalog")
		case "Metadata", "Extensions", "Version":
			df.add(ChangeMetadata, false, root, 0, fmt.Sprintf("catalog /%s changed", k))
		default:
			df.add(ChangeCatalog, true, root, 0, fmt.Sprintf("catalog /%s changed", k))
		}
	}
}

// compareAcroForm allows the form to list new fields after the old ones,
// and to change its signature flags; a new default appearance or
// resources is reported without altering anything shown.
func (df *differ) compareAcroForm(pv, cv object) verdict {
	po, err1 := df.prev.resolve(pv)
	co, err2 := df.cur.resolve(cv)
	if err1 != nil || err2 != nil {
		return verdict{kind: ChangeUnparseable, alters: true, detail: "the interactive form cannot be read"}
	}
	pd, _ := po.(dict)
	cd, ok := co.(dict)
	if !ok {
		return verdict{kind: ChangeFormField, alters: true, detail: "the interactive form was removed"}
	}
	if k, ok := repeated(cd); ok {
		return verdict{kind: ChangeFormField, alters: true, detail: fmt.Sprintf("the interactive form repeats /%s", k)}
	}
	var alters, quiet []string
	for _, k := range unionKeys(pd, cd) {
		if eq, err := equalObjects(pd.get(k), cd.get(k), df.prev, df.cur); err == nil && eq {
			continue
		}
		switch k {
		case "Fields":
			if ok, err := df.appended(pd.get(k), cd.get(k)); err != nil || !ok {
				alters = append(alters, "fields removed or reordered")
			}
		case "SigFlags":
		case "DA", "DR":
			if pd != nil {
				quiet = append(quiet, "/"+string(k))
			}
		case "NeedAppearances":
			if b, _ := cd.get(k).(bool); b {
				alters = append(alters, "/NeedAppearances set, so viewers redraw the fields")
			}
		default:
			alters = append(alters, fmt.Sprintf("/%s changed", k))
		}
	}
	switch {
	case len(alters) > 0:
		return verdict{kind: ChangeFormField, alters: true, detail: "interactive form: " + strings.Join(alters, ", ")}
	case len(quiet) > 0:
		return verdict{kind: ChangeFormField, detail: "interactive form: " + strings.Join(quiet, ", ") + " changed"}
	}
	return verdict{skip: true}
}

// annotation classifies an annotation added or changed.
func (df *differ) annotation(num, page int, cv object, isNew bool) verdict {
	ad, ok := cv.(dict)
	if !ok {
		return verdict{kind: ChangeAnnotation, alters: true, detail: fmt.Sprintf("annotation %d is %s", num, typeName(cv))}
	}
	sub := nameOf(ad.get("Subtype"))
	where := ""
	if page > 0 {
		where = fmt.Sprintf("page %d: ", page)
	}
	if kind, ok := df.signsNew(ad); ok {
		return verdict{kind: kind, detail: fmt.Sprintf("%swidget %d of the new signature", where, num)}
	}
	if p, err := df.cur.getDict(ad.get("Parent"), "field"); err == nil {
		if kind, ok := df.signsNew(p); ok {
			return verdict{kind: kind, detail: fmt.Sprintf("%swidget %d of the new signature", where, num)}
		}
	}
	if !isNew {
		if sub == "Widget" {
			return verdict{kind: ChangeFormField, alters: true, detail: fmt.Sprintf("%swidget %d changed", where, num)}
		}
		return verdict{kind: ChangeAnnotation, alters: true, detail: fmt.Sprintf("%s/%s annotation %d changed", where, sub, num)}
	}
	if nm, ok := ad.get("NM").(str); ok && sub == "Stamp" {
		for field := range df.signed {
			if strings.HasPrefix(decodeText(nm), field+"-") {
				return verdict{kind: ChangeSignature, detail: fmt.Sprintf("%sseal strip %d of signature field %s", where, num, field)}
			}
		}
	}
	kind := ChangeAnnotation
	if sub == "Widget" {
		kind = ChangeFormField
	}
	if df.cur.paints(ad) {
		what := "which draws on the page"
		if ap, _ := df.cur.resolve(ad.get("AP")); sub == "Text" && ap == nil {
			what = "which viewers draw as a note icon over the page"
		}
		return verdict{kind: kind, alters: true, detail: fmt.Sprintf("%s/%s annotation %d added%s, %s", where, sub, num, df.cur.at(ad), what)}
	}
	return verdict{kind: kind, detail: fmt.Sprintf("%s/%s annotation %d added, which does not draw on the page", where, sub, num)}
}

// field classifies a form field (not a widget) added or changed.
func (df *differ) field(num int, cv object, isNew bool) verdict {
	fd, ok := cv.(dict)
	if !ok {
		return verdict{kind: ChangeFormField, alters: true, detail: fmt.Sprintf("form field %d is %s", num, typeName(cv))}
	}
	if kind, ok := df.signsNew(fd); ok {
		return verdict{kind: kind, detail: fmt.Sprintf("signature field %d signed", num)}
	}
	if isNew {
		return verdict{kind: ChangeFormField, detail: fmt.Sprintf("form field %d added", num)}
	}
	return verdict{kind: ChangeFormField, alters: true, detail: fmt.Sprintf("form field %d changed (its value or state)", num)}
}

// paints reports whether annotation a can draw on its page: it is not
// hidden, and it is of a kind that draws and has an area. A pop-up window
// and a link without an appearance stream draw nothing over the page's
// content. A note (/Text) without one does: viewers draw their note icon
// at its corner, whatever its rectangle, so it draws unless hidden.
func (d *document) paints(a dict) bool {
	f, _ := d.resolve(a.get("F"))
	if n, ok := asInt(f); ok && n&(annotHidden|annotNoView) != 0 {
		return false
	}
	sub := nameOf(a.get("Subtype"))
	if sub == "Popup" {
		return false
	}
	ap, _ := d.resolve(a.get("AP"))
	switch {
	case sub == "Link" && ap == nil:
		return false
	case sub == "Text" && ap == nil:
		return true
	}
	r, ok, err := d.box(a.get("Rect"))
	if err != nil {
		return true
	}
	return ok && !r.empty()
}

// at names annotation a's rectangle for a change's detail, or nothing.
func (d *document) at(a dict) string {
	r, ok, err := d.box(a.get("Rect"))
	if err != nil || !ok {
		return ""
	}
	return fmt.Sprintf(" at [%g %g %g %g]", r.llx, r.lly, r.urx, r.ury)
}

// Annotation flags that keep an annotation from being drawn.
const (
	annotHidden = 1 << 1
	annotNoView = 1 << 5
)

// kindOf is the kind of change to an object with roles rs.
func kindOf(rs role) ChangeKind {
	switch {
	case rs&roleCatalog != 0, rs&roleOther != 0:
		return ChangeCatalog
	case rs&(rolePageNode|rolePage) != 0:
		return ChangePageTree
	case rs&(roleContent|roleResource) != 0:
		return ChangePageContent
	case rs&(roleAnnots|roleAnnot|roleAnnotPart) != 0:
		return ChangeAnnotation
	case rs&(roleField|roleFields|roleAcroForm|roleFieldPart) != 0:
		return ChangeFormField
	case rs&(roleSigValue|roleSigPart) != 0:
		return ChangeSignature
	case rs&roleDSS != 0:
		return ChangeDSS
	case rs&roleMetadata != 0:
		return ChangeMetadata
	}
	return ChangeUnreferenced
}

// roleName names the most telling of roles rs, for a detail.
func roleName(rs role) string {
	switch {
	case rs&roleCatalog != 0:
		return "catalog"
	case rs&rolePageNode != 0:
		return "page tree node"
	case rs&rolePage != 0:
		return "page"
	case rs&roleContent != 0:
		return "content stream"
	case rs&roleResource != 0:
		return "page resource"
	case rs&roleAnnot != 0:
		return "annotation"
	case rs&roleField != 0:
		return "form field"
	case rs&roleSigValue != 0:
		return "signature dictionary"
	}
	return "document"
}
