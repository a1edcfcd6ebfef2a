package pdf

import (
	"bytes"
	"context"
	"fmt"
	"io"
)

// The document security store (/DSS, ISO 32000-2 §12.8.4.3, PAdES part 4):
// validation data that a verifier decades from now needs and may no longer
// find elsewhere: the certificates of the chains, and the CRLs that said
// they were good. AddDSS writes it in an incremental update of its own
// after the seals, which every signature allows (pdf's revision analysis
// classes it as ChangeDSS), and ReadDSS reads it back for the verifier.

// DSS is the validation data a document carries: DER certificates and
// CRLs. (Its per-signature /VRI entries are optional and not written.)
type DSS struct {
	Certs, CRLs [][]byte
}

// ReadDSS returns the /DSS of the document's newest revision: empty when
// it has none.
func ReadDSS(ctx context.Context, src io.ReaderAt, size int64, lim Limits) (*DSS, error) {
	d, err := open(src, size, newBudget(ctx, lim))
	if err != nil {
		return nil, err
	}
	defer d.release()
	if err := d.setupCrypt(); err != nil {
		return nil, err
	}
	_, out, err := d.dss()
	return out, err
}

// dss reads the catalog's /DSS: its dictionary (nil when none) and data.
func (d *document) dss() (dict, *DSS, error) {
	out := &DSS{}
	cat, err := d.catalog()
	if err != nil {
		return nil, nil, err
	}
	o := cat.get("DSS")
	if o == nil {
		return nil, out, nil
	}
	dd, err := d.getDict(o, "/DSS")
	if err != nil {
		return nil, nil, err
	}
	for _, k := range []struct {
		key string
		to  *[][]byte
	}{{"Certs", &out.Certs}, {"CRLs", &out.CRLs}} {
		a, err := d.resolve(dd.get(name(k.key)))
		if err != nil {
			return nil, nil, err
		}
		arr, ok := a.(array)
		if a != nil && !ok {
			return nil, nil, damaged(-1, "/DSS /%s is %s, not an array", k.key, typeName(a))
		}
		for _, e := range arr {
			so, err := d.resolve(e)
			if err != nil {
				return nil, nil, err
			}
			s, ok := so.(*stream)
			if !ok {
				return nil, nil, damaged(-1, "/DSS /%s holds %s, not a stream", k.key, typeName(so))
			}
			data, err := d.streamData(s)
			if err != nil {
				return nil, nil, err
			}
			*k.to = append(*k.to, bytes.Clone(data))
		}
	}
	return dd, out, nil
}

// AddDSS writes src (size bytes) to w followed by an incremental update
// that adds add's certificates and CRLs to the document's /DSS, making one
// if there is none and keeping what an existing one holds. Data the DSS
// holds already is not added twice. A signed document stays valid: the
// update changes nothing but the catalog's /DSS.
func AddDSS(ctx context.Context, w io.Writer, src io.ReaderAt, size int64, add DSS, lim Limits) error {
	d, err := open(src, size, newBudget(ctx, lim))
	if err != nil {
		return err
	}
	defer d.release()
	if err := d.setupCrypt(); err != nil {
		return err
	}
	f, err := d.form()
	if err != nil {
		return err
	}
	if f.docMDP == 1 {
		return ErrCertifiedNoChanges
	}
	old, have, err := d.dss()
	if err != nil {
		return err
	}
	next := d.maxNum + 1
	if sz, ok := asInt(d.trailer.get("Size")); ok && sz > int64(next) && sz <= maxObjNum {
		next = int(sz)
	}
	u := &update{base: size, next: next, crypt: d.crypt}
	if last, _, err := d.window(size-1, 1); err != nil {
		return err
	} else if last[0] != '\n' && last[0] != '\r' {
		u.buf = append(u.buf, '\n')
	}
	nd := dict{{"Type", name("DSS")}}
	if old != nil {
		nd = old.clone()
	}
	for _, k := range []struct {
		key       string
		have, add [][]byte
	}{{"Certs", have.Certs, add.Certs}, {"CRLs", have.CRLs, add.CRLs}} {
		var arr array
		if a, err := d.resolve(nd.get(name(k.key))); err == nil {
			if existing, ok := a.(array); ok {
				arr = append(arr, existing...)
			}
		}
		for _, der := range k.add {
			if containsBytes(k.have, der) {
				continue
			}
			k.have = append(k.have, der)
			r := u.alloc()
			u.putNew(r, &stream{dict: dict{}, data: der})
			arr = append(arr, r)
		}
		if len(arr) > 0 {
			nd.set(name(k.key), arr)
		}
	}
	rootRef, ok := d.trailer.get("Root").(ref)
	if !ok {
		return damaged(-1, "the trailer's /Root is not a reference")
	}
	cat, err := d.getDict(rootRef, "document catalog")
	if err != nil {
		return err
	}
	cat = cat.clone()
	dssRef := u.alloc()
	u.putNew(dssRef, nd)
	cat.set("DSS", dssRef)
	u.put(rootRef, cat)
	u.finish(d.trailer, d.startxref, d.xrefStream, next)
	if _, err := io.Copy(w, io.NewSectionReader(src, 0, size)); err != nil {
		return fmt.Errorf("pdf: copying the document: %w", err)
	}
	if _, err := w.Write(u.buf); err != nil {
		return fmt.Errorf("pdf: writing the DSS update: %w", err)
	}
	return nil
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}
