package pdf

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"
)

// errOverLimit is what a decoder returns when its output would pass the
// limit it was given; decodeFilters turns it into a *LimitError.
var errOverLimit = errors.New("pdf: decoded data over its limit")

// decodeFilters applies the stream's filters to raw data. Each filter's
// output counts against the budget (data without filters counts as it
// is), and may be no longer than what the budget has room for.
func (d *document) decodeFilters(s *stream, raw []byte) ([]byte, error) {
	f, err := d.resolve(s.dict.get("Filter"))
	if err != nil {
		return nil, err
	}
	parms, err := d.resolve(s.dict.get("DecodeParms"))
	if err != nil {
		return nil, err
	}
	var filters []name
	var params []object
	switch v := f.(type) {
	case nil:
		if int64(len(raw)) > d.bud.room() {
			return nil, d.bud.exceeded(fmt.Sprintf("stream %d", s.ref.num))
		}
		d.bud.charge(int64(len(raw)))
		return raw, nil
	case name:
		filters = []name{v}
		params = []object{parms}
	case array:
		for i, e := range v {
			e, err := d.resolve(e)
			if err != nil {
				return nil, err
			}
			n, ok := e.(name)
			if !ok {
				return nil, damaged(-1, "stream /Filter entry %d is not a name", i)
			}
			filters = append(filters, n)
			var p object
			if pa, ok := parms.(array); ok && i < len(pa) {
				p = pa[i]
			}
			params = append(params, p)
		}
	default:
		return nil, damaged(-1, "stream /Filter is %T", f)
	}
	if len(filters) > 8 {
		return nil, fmt.Errorf("%w: %d chained stream filters", ErrUnsupported, len(filters))
	}
	data := raw
	for i, fn := range filters {
		p, err := d.resolve(params[i])
		if err != nil {
			return nil, err
		}
		pd, _ := p.(dict)
		room := int(d.bud.room())
		switch fn {
		case "FlateDecode", "Fl":
			data, err = inflate(data, room, d.bud.decoding)
			if err == nil {
				data, err = d.unpredict(data, pd) // never longer than its input
			}
		case "ASCIIHexDecode", "AHx":
			if err = d.bud.decoding(int64(min(room, len(data)/2+1))); err == nil {
				data, err = asciiHexDecode(data, room)
			}
		case "ASCII85Decode", "A85":
			if err = d.bud.decoding(int64(min(room, 4*len(data)+4))); err == nil { // "z" is four bytes
				data, err = ascii85Decode(data, room)
			}
		case "RunLengthDecode", "RL":
			if err = d.bud.decoding(int64(min(room, 128*len(data)))); err == nil {
				data, err = runLengthDecode(data, room)
			}
		case "Crypt":
			if n := nameOf(pd.get("Name")); n != "" && n != "Identity" {
				return nil, fmt.Errorf("%w: stream crypt filter /%s", ErrUnsupported, n)
			}
			continue // the data as it is, counted by the other filters
		default:
			return nil, fmt.Errorf("%w: stream filter /%s", ErrUnsupported, fn)
		}
		if errors.Is(err, errOverLimit) {
			return nil, d.bud.exceeded(fmt.Sprintf("stream %d", s.ref.num))
		}
		if err != nil {
			return nil, err
		}
		d.bud.charge(int64(len(data)))
	}
	return data, nil
}

// inflaters keeps flate decompressors, whose set-up costs more than
// decoding the small streams (CMaps, page content) the engine reads.
var inflaters sync.Pool

// inflate decodes zlib data, tolerating a bad or missing checksum and raw
// deflate data without the zlib header, as other readers do. It decodes
// at most limit bytes (errOverLimit past them), and calls alive with the
// bytes decoded so far between chunks of its output, giving up with its
// error.
func inflate(raw []byte, limit int, alive func(decoded int64) error) ([]byte, error) {
	body := raw
	if len(raw) >= 2 && raw[0]&0x0F == 8 && (uint16(raw[0])<<8|uint16(raw[1]))%31 == 0 {
		if raw[1]&0x20 != 0 {
			return nil, damaged(-1, "flate stream needs a preset dictionary")
		}
		body = raw[2:] // the zlib header; the Adler-32 trailer is not checked
	}
	src := bytes.NewReader(body)
	var fr io.ReadCloser
	if v := inflaters.Get(); v != nil {
		fr = v.(io.ReadCloser)
		fr.(flate.Resetter).Reset(src, nil)
	} else {
		fr = flate.NewReader(src)
	}
	defer inflaters.Put(fr)
	// Decode into the first buffer, which most streams fit, then into
	// pooled chunks, and join them at the end: growing one buffer would
	// leave behind copies of it, several times its length in all, for
	// the collector.
	first := make([]byte, min(4*len(raw)+64, limit+1))
	if err := alive(int64(len(first))); err != nil {
		return nil, err
	}
	n, err := io.ReadFull(fr, first)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return first[:n], nil
	}
	if err != nil {
		if n == 0 {
			return nil, damaged(-1, "flate stream: %v", err)
		}
		return first[:n], nil // what decoded before the damage, as viewers show it
	}
	var chunks []*[]byte
	defer func() {
		for _, c := range chunks {
			chunkPool.Put(c)
		}
	}()
	total, last := n, 0
	for {
		if total > limit {
			return nil, errOverLimit
		}
		if err := alive(int64(total)); err != nil {
			return nil, err
		}
		c := chunkPool.Get().(*[]byte)
		chunks = append(chunks, c)
		last, err = io.ReadFull(fr, (*c)[:min(len(*c), limit+1-total)])
		total += last
		if total > limit {
			return nil, errOverLimit
		}
		if err != nil {
			break // the end, or damage: what decoded before it, as viewers show it
		}
	}
	out := make([]byte, 0, total)
	out = append(out, first...)
	for i, c := range chunks {
		if i == len(chunks)-1 {
			out = append(out, (*c)[:last]...)
			break
		}
		out = append(out, *c...)
	}
	return out, nil
}

// chunkPool holds the chunks that inflate decodes long streams into.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// unpredict undoes a PNG (10–15) or TIFF (2) predictor.
func (d *document) unpredict(data []byte, parms dict) ([]byte, error) {
	if parms == nil {
		return data, nil
	}
	get := func(key name, def int64) (int64, error) {
		o, err := d.resolve(parms.get(key))
		if err != nil || o == nil {
			return def, err
		}
		v, ok := asInt(o)
		if !ok {
			return 0, damaged(-1, "DecodeParms /%s is not an integer", key)
		}
		return v, nil
	}
	pred, err := get("Predictor", 1)
	if err != nil || pred == 1 {
		return data, err
	}
	colors, err := get("Colors", 1)
	if err != nil {
		return nil, err
	}
	bpc, err := get("BitsPerComponent", 8)
	if err != nil {
		return nil, err
	}
	cols, err := get("Columns", 1)
	if err != nil {
		return nil, err
	}
	if colors < 1 || colors > 32 || cols < 1 || cols > 1<<20 || (bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16) {
		return nil, damaged(-1, "bad predictor parameters Colors %d BitsPerComponent %d Columns %d", colors, bpc, cols)
	}
	bpp := int((colors*bpc + 7) / 8)
	rowLen := int((colors*bpc*cols + 7) / 8)
	switch {
	case pred == 2:
		if bpc != 8 {
			return nil, fmt.Errorf("%w: TIFF predictor with %d bits per component", ErrUnsupported, bpc)
		}
		out := bytes.Clone(data)
		for r := 0; r+rowLen <= len(out); r += rowLen {
			row := out[r : r+rowLen]
			for i := bpp; i < len(row); i++ {
				row[i] += row[i-bpp]
			}
		}
		return out, nil
	case pred >= 10 && pred <= 15:
		out := make([]byte, 0, len(data)/(rowLen+1)*rowLen)
		prev, row := make([]byte, rowLen), make([]byte, rowLen)
		for r := 0; r < len(data); r += rowLen + 1 {
			end := min(r+rowLen+1, len(data))
			ft := data[r]
			src := data[r+1 : end]
			clear(row)
			copy(row, src)
			for i := range row {
				var a, b, c byte
				if i >= bpp {
					a = row[i-bpp]
					c = prev[i-bpp]
				}
				b = prev[i]
				switch ft {
				case 0:
				case 1:
					row[i] += a
				case 2:
					row[i] += b
				case 3:
					row[i] += byte((int(a) + int(b)) / 2)
				case 4:
					row[i] += paeth(a, b, c)
				default:
					return nil, damaged(-1, "bad PNG predictor row filter %d", ft)
				}
			}
			out = append(out, row[:len(src)]...)
			prev, row = row, prev
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: predictor %d", ErrUnsupported, pred)
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func asciiHexDecode(data []byte, limit int) ([]byte, error) {
	if i := bytes.IndexByte(data, '>'); i >= 0 {
		data = data[:i] // the end-of-data marker
	}
	if len(data)/2 > limit {
		return nil, errOverLimit
	}
	out, bad, ok := appendHex(make([]byte, 0, len(data)/2), data)
	if !ok {
		return nil, damaged(-1, "bad character %q in ASCIIHex stream", bad)
	}
	return out, nil
}

func ascii85Decode(data []byte, limit int) ([]byte, error) {
	out := make([]byte, 0, min(len(data)*4/5, limit))
	var tuple uint32
	n := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case isWhite(c):
			continue
		case c == '~':
			i = len(data)
			continue
		case c == 'z' && n == 0:
			if len(out)+4 > limit {
				return nil, errOverLimit
			}
			out = append(out, 0, 0, 0, 0)
			continue
		case c < '!' || c > 'u':
			return nil, damaged(-1, "bad character %q in ASCII85 stream", c)
		}
		tuple = tuple*85 + uint32(c-'!')
		n++
		if n == 5 {
			if len(out)+4 > limit {
				return nil, errOverLimit
			}
			out = append(out, byte(tuple>>24), byte(tuple>>16), byte(tuple>>8), byte(tuple))
			tuple, n = 0, 0
		}
	}
	if n > 0 {
		if n == 1 {
			return nil, damaged(-1, "ASCII85 stream ends with a single character")
		}
		for k := n; k < 5; k++ {
			tuple = tuple*85 + 84
		}
		b := []byte{byte(tuple >> 24), byte(tuple >> 16), byte(tuple >> 8), byte(tuple)}
		if len(out)+n-1 > limit {
			return nil, errOverLimit
		}
		out = append(out, b[:n-1]...)
	}
	return out, nil
}

func runLengthDecode(data []byte, limit int) ([]byte, error) {
	var out []byte
	for i := 0; i < len(data); {
		l := int(data[i])
		i++
		switch {
		case l == 128:
			return out, nil
		case l < 128:
			end := i + l + 1
			if end > len(data) {
				return nil, damaged(-1, "RunLength stream truncated")
			}
			out = append(out, data[i:end]...)
			i = end
		default:
			if i >= len(data) {
				return nil, damaged(-1, "RunLength stream truncated")
			}
			for k := 0; k < 257-l; k++ {
				out = append(out, data[i])
			}
			i++
		}
		if len(out) > limit {
			return nil, errOverLimit
		}
	}
	return out, nil
}
