package pdf

import "fmt"

// Object streams (ISO 32000-2 §7.5.7) hold non-stream objects, compressed
// together. The reader decodes an object stream once, on first use, and
// keeps it for the other objects it holds.

// maxObjStmObjects bounds the objects one object stream may hold.
const maxObjStmObjects = 1 << 20

type objStream struct {
	data  []byte
	first int
	nums  []int
	offs  []int
}

func (d *document) objStream(num int) (*objStream, error) {
	if os, ok := d.objstms[num]; ok {
		return os, nil
	}
	o, err := d.get(ref{num, 0})
	if err != nil {
		return nil, err
	}
	s, ok := o.(*stream)
	if !ok {
		return nil, damaged(-1, "object stream %d is %s", num, typeName(o))
	}
	n, ok1 := asInt(s.dict.get("N"))
	first, ok2 := asInt(s.dict.get("First"))
	if !ok1 || !ok2 || n < 0 || n > maxObjStmObjects || first < 0 {
		return nil, damaged(-1, "object stream %d lacks a valid /N or /First", num)
	}
	data, err := d.streamData(s)
	if err != nil {
		return nil, err
	}
	if first > int64(len(data)) || n*4 > first+4 {
		return nil, damaged(-1, "object stream %d: /First %d and /N %d do not fit its %d bytes", num, first, n, len(data))
	}
	os := &objStream{data: data, first: int(first), nums: make([]int, n), offs: make([]int, n)}
	l := lexer{buf: data[:first], eof: true}
	for i := range os.nums {
		a, err1 := l.next()
		b, err2 := l.next()
		if err1 != nil || err2 != nil || a.kind != tokInt || b.kind != tokInt || a.i < 0 || b.i < 0 || b.i > int64(len(data))-first {
			return nil, damaged(-1, "object stream %d: bad header entry %d", num, i)
		}
		os.nums[i], os.offs[i] = int(a.i), int(b.i)
	}
	if d.objstms == nil {
		d.objstms = make(map[int]*objStream)
	}
	d.objstms[num] = os
	return os, nil
}

// compressedObject reads object num, the idx-th object of object stream stm.
func (d *document) compressedObject(stm, idx, num int) (object, error) {
	os, err := d.objStream(stm)
	if err != nil {
		return nil, err
	}
	if idx < 0 || idx >= len(os.nums) || os.nums[idx] != num {
		// Tolerate a wrong index when the number is present.
		idx = -1
		for i, n := range os.nums {
			if n == num {
				idx = i
				break
			}
		}
		if idx < 0 {
			return nil, damaged(-1, "object %d is not in object stream %d", num, stm)
		}
	}
	start := os.first + os.offs[idx]
	if start > len(os.data) {
		return nil, damaged(-1, "object %d lies past the end of object stream %d", num, stm)
	}
	end := len(os.data)
	if idx+1 < len(os.offs) && os.first+os.offs[idx+1] > start {
		end = os.first + os.offs[idx+1]
	}
	p := newParser(os.data[start:end], true)
	o, err := p.object()
	if err != nil {
		return nil, fmt.Errorf("object %d in object stream %d: %w", num, stm, syntaxErr(-1, "object", err))
	}
	return o, nil
}
