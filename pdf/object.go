package pdf

// The PDF object model. An object is one of:
//
//	nil        null
//	bool       boolean
//	int64      integer
//	real       real number
//	name       name, without the slash, # escapes decoded
//	str        string, escapes decoded (literal and hex alike)
//	array      array
//	dict       dictionary, in the order its keys were read
//	ref        indirect reference
//	*stream    stream: its dictionary and where its data lies
//
// The model is small on purpose: the engine reads only the objects it needs
// and writes them back unchanged but for the entries it adds.
type object = any

type (
	name  string
	real  float64
	str   []byte
	array []object
	ref   struct{ num, gen int }
)

// dict keeps its entries in order, so that an object that is rewritten with
// an entry added reads like the original.
type dict []dictEntry

type dictEntry struct {
	key name
	val object
}

// get returns the value of key, nil when absent.
func (d dict) get(key name) object {
	for i := range d {
		if d[i].key == key {
			return d[i].val
		}
	}
	return nil
}

// has reports whether key is present (with any value, null included).
func (d dict) has(key name) bool {
	for i := range d {
		if d[i].key == key {
			return true
		}
	}
	return false
}

// set replaces the value of key, or appends the entry.
func (d *dict) set(key name, val object) {
	for i := range *d {
		if (*d)[i].key == key {
			(*d)[i].val = val
			return
		}
	}
	*d = append(*d, dictEntry{key, val})
}

// del removes key.
func (d *dict) del(key name) {
	for i := range *d {
		if (*d)[i].key == key {
			*d = append((*d)[:i:i], (*d)[i+1:]...)
			return
		}
	}
}

// clone returns a copy of d whose entries can be changed without touching
// d; the values themselves are shared.
func (d dict) clone() dict {
	return append(dict(nil), d...)
}

// stream is a stream object. A stream read from a file records where its
// raw (still encoded) data lies; a stream the engine creates holds its data.
type stream struct {
	dict dict
	ref  ref   // the stream's object, when read (streams are indirect)
	off  int64 // offset of the data in the source, when read
	n    int64 // length of the raw data, when read
	data []byte
}

// Typed accessors that accept only the type asked for. The engine resolves
// references before calling them.

func asInt(o object) (int64, bool) {
	switch v := o.(type) {
	case int64:
		return v, true
	case real:
		if v == real(int64(v)) {
			return int64(v), true
		}
	}
	return 0, false
}

func asNumber(o object) (float64, bool) {
	switch v := o.(type) {
	case int64:
		return float64(v), true
	case real:
		return float64(v), true
	}
	return 0, false
}
