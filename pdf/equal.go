package pdf

import "bytes"

// equalObjects reports whether a, read from document da, and b, read
// from db, are the same value. References are equal when they name the
// same object: what they refer to is compared where it is itself
// compared. Streams are equal when their dictionaries are and their raw
// (still encoded) data are.
func equalObjects(a, b object, da, db *document) (bool, error) {
	return equalDepth(a, b, da, db, 0)
}

func equalDepth(a, b object, da, db *document, depth int) (bool, error) {
	if depth > maxDepth {
		return false, nil
	}
	switch x := a.(type) {
	case nil:
		return b == nil, nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y, nil
	case int64:
		y, ok := b.(int64)
		return ok && x == y, nil
	case real:
		y, ok := b.(real)
		return ok && x == y, nil
	case name:
		y, ok := b.(name)
		return ok && x == y, nil
	case str:
		y, ok := b.(str)
		return ok && bytes.Equal(x, y), nil
	case ref:
		y, ok := b.(ref)
		return ok && x == y, nil
	case array:
		y, ok := b.(array)
		if !ok || len(x) != len(y) {
			return false, nil
		}
		for i := range x {
			if eq, err := equalDepth(x[i], y[i], da, db, depth+1); err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	case dict:
		y, ok := b.(dict)
		if !ok {
			return false, nil
		}
		return equalDicts(x, y, da, db, depth)
	case *stream:
		y, ok := b.(*stream)
		if !ok {
			return false, nil
		}
		if eq, err := equalDicts(x.dict, y.dict, da, db, depth); err != nil || !eq {
			return false, err
		}
		return equalStreamData(x, y, da, db)
	}
	return false, nil
}

// equalDicts compares dictionaries as maps: the order of their entries
// does not matter.
func equalDicts(x, y dict, da, db *document, depth int) (bool, error) {
	if len(x) != len(y) {
		return false, nil
	}
	for _, e := range x {
		if !y.has(e.key) {
			return false, nil
		}
		if eq, err := equalDepth(e.val, y.get(e.key), da, db, depth+1); err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

func equalStreamData(x, y *stream, da, db *document) (bool, error) {
	if x.data != nil || y.data != nil {
		return bytes.Equal(x.data, y.data), nil
	}
	if x.n != y.n {
		return false, nil
	}
	if x.off == y.off {
		return true, nil // the same bytes of the same file
	}
	// In chunks, so that comparing two large streams holds little of them.
	var bx, by []byte
	for done := int64(0); done < x.n; {
		n := int(min(x.n-done, compareChunk))
		var err error
		if bx, _, err = da.windowInto(bx, x.off+done, n); err != nil {
			return false, err
		}
		if by, _, err = db.windowInto(by, y.off+done, n); err != nil {
			return false, err
		}
		if !bytes.Equal(bx, by) {
			return false, nil
		}
		done += int64(n)
	}
	return true, nil
}

// compareChunk is how much of two streams equalStreamData compares at a
// time.
const compareChunk = 256 << 10

// isPrefix reports whether array a, read from da, is the start of array
// b, read from db: what an update that only appends leaves.
func isPrefix(a, b array, da, db *document) (bool, error) {
	if len(a) > len(b) {
		return false, nil
	}
	for i := range a {
		if eq, err := equalObjects(a[i], b[i], da, db); err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}
