package pdf

import "fmt"

// Object streams (ISO 32000-2 §7.5.7) hold non-stream objects, compressed
// together. The reader decodes an object stream on first use and keeps it
// for the other objects it holds, in a cache of ObjStmCacheBytes: a file
// of many large object streams would otherwise hold them all decoded at
// once. An object stream the cache let go is decoded again when needed,
// which counts against MaxDecodedBytes like the first time.

// maxObjStmObjects bounds the objects one object stream may hold.
const maxObjStmObjects = 1 << 20

type objStream struct {
	d     *document // whose it is
	num   int
	data  []byte
	first int
	nums  []int
	offs  []int
	// prev and next link the cache's streams, most recently used first.
	prev, next *objStream
}

// size is what the stream holds in memory, as the cache counts it.
func (os *objStream) size() int64 { return int64(len(os.data)) + 16*int64(len(os.nums)) }

// objStmCache keeps decoded object streams, of all the documents of one
// budget, up to ObjStmCacheBytes, and lets go of the least recently used
// first. A stream larger than that is used and not kept.
type objStmCache struct {
	max, bytes int64
	m          map[objStmKey]*objStream
	head, tail *objStream // most and least recently used
}

type objStmKey struct {
	d   *document
	num int
}

// get returns stream num of d if it is kept, and marks it most recently
// used.
func (c *objStmCache) get(d *document, num int) *objStream {
	os := c.m[objStmKey{d, num}]
	if os != nil && os != c.head {
		c.unlink(os)
		c.pushFront(os)
	}
	return os
}

// put keeps os, letting go of the least recently used streams to make
// room for it. A stream larger than the cache is kept alone: the objects
// of one stream are mostly read together, and decoding it again for each
// of them would spend the document's decoding budget many times over on
// one stream (pdf.js bug1978317.pdf, 65,542 objects in a 13 MB stream,
// sealed, then went past MaxDecodedBytes in our own verifier). One stream
// is at most MaxStreamBytes, so the cache holds at most the larger of
// that and ObjStmCacheBytes.
func (c *objStmCache) put(os *objStream) {
	for c.tail != nil && c.bytes+os.size() > c.max {
		c.drop(c.tail)
	}
	if c.m == nil {
		c.m = make(map[objStmKey]*objStream)
	}
	c.m[objStmKey{os.d, os.num}] = os
	c.bytes += os.size()
	c.pushFront(os)
}

// drop lets go of os.
func (c *objStmCache) drop(os *objStream) {
	c.unlink(os)
	delete(c.m, objStmKey{os.d, os.num})
	c.bytes -= os.size()
}

// release lets go of d's streams.
func (c *objStmCache) release(d *document) {
	for os := c.head; os != nil; {
		next := os.next
		if os.d == d {
			c.drop(os)
		}
		os = next
	}
}

func (c *objStmCache) unlink(os *objStream) {
	if os.prev != nil {
		os.prev.next = os.next
	} else {
		c.head = os.next
	}
	if os.next != nil {
		os.next.prev = os.prev
	} else {
		c.tail = os.prev
	}
	os.prev, os.next = nil, nil
}

func (c *objStmCache) pushFront(os *objStream) {
	os.next = c.head
	if c.head != nil {
		c.head.prev = os
	}
	c.head = os
	if c.tail == nil {
		c.tail = os
	}
}

func (d *document) objStream(num int) (*objStream, error) {
	if os := d.bud.objstms.get(d, num); os != nil {
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
	if n > d.bud.lim.MaxObjects {
		return nil, &LimitError{Limit: "MaxObjects", Max: d.bud.lim.MaxObjects, What: fmt.Sprintf("object stream %d of %d objects", num, n)}
	}
	data, err := d.streamData(s)
	if err != nil {
		return nil, fmt.Errorf("object stream %d: %w", num, err)
	}
	if first > int64(len(data)) || n*4 > first+4 {
		return nil, damaged(-1, "object stream %d: /First %d and /N %d do not fit its %d bytes", num, first, n, len(data))
	}
	os := &objStream{d: d, num: num, data: data, first: int(first), nums: make([]int, n), offs: make([]int, n)}
	l := lexer{buf: data[:first], eof: true}
	for i := range os.nums {
		a, err1 := l.next()
		b, err2 := l.next()
		if err1 != nil || err2 != nil || a.kind != tokInt || b.kind != tokInt || a.i < 0 || b.i < 0 || b.i > int64(len(data))-first {
			return nil, damaged(-1, "object stream %d: bad header entry %d", num, i)
		}
		os.nums[i], os.offs[i] = int(a.i), int(b.i)
	}
	d.bud.objstms.put(os)
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
	p.values = &d.values
	o, err := p.object()
	if err != nil {
		return nil, fmt.Errorf("object %d in object stream %d: %w", num, stm, syntaxErr(-1, "object", err))
	}
	return o, nil
}
