package seal

import (
	"bytes"
	"errors"
	"testing"

	"github.com/emmansun/gmsm/sm3"
)

// TestShortForm: the short form is the first 100 bits of the hash in
// base32, read back in either case; a hash shares the prefix exactly when
// its first 100 bits are the same.
func TestShortForm(t *testing.T) {
	sum := sm3.Sum([]byte("abc")) // GB/T 32905 example 1: 66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 …
	// want: Python's base64.b32encode of those 16 bytes, first 20 characters
	s := ShortForm(sum[:])
	if s != "M3D7B5DC53W5TUPS2RV5" {
		t.Errorf("ShortForm(SM3(abc)) = %s", s)
	}
	for _, in := range []string{s, "m3d7b5dc53w5tups2rv5", "M3d7B5dc53W5tups2RV5"} {
		p, err := ParseShortForm(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !bytes.Equal(p[:12], sum[:12]) || p[12] != sum[12]&0xf0 {
			t.Errorf("%s: prefix %x, hash %x", in, p, sum[:13])
		}
		if !HasShortPrefix(sum[:], p) {
			t.Errorf("%s: the hash does not have its own prefix", in)
		}
	}
	p, _ := ParseShortForm(s)
	for _, flip := range []int{0, 50, 99} { // a bit inside the 100 differs
		other := sum
		other[flip/8] ^= 0x80 >> (flip % 8)
		if HasShortPrefix(other[:], p) {
			t.Errorf("bit %d flipped: still has the prefix", flip)
		}
	}
	other := sum
	other[12] ^= 0x0f // bits 100–103, past the prefix
	other[31] ^= 1
	if !HasShortPrefix(other[:], p) {
		t.Error("a hash differing only past bit 100 lost the prefix")
	}
	for _, bad := range []string{"", "M3D7B5DC53W5TUPS2RV", "M3D7B5DC53W5TUPS2RV55", "M3D7B5DC53W5TUPS2RV1", "M3D7B5DC53W5TUPS2RV=", "M3D7B5DC53W5TUPS2R\u00e9"} {
		if _, err := ParseShortForm(bad); !errors.Is(err, ErrBadShortForm) {
			t.Errorf("%q: %v, want ErrBadShortForm", bad, err)
		}
	}
}

// TestVerifyQRURL: scheme and host upper-cased, a path kept as written,
// and the demo's URL fits a version 3 symbol (29 modules).
func TestVerifyQRURL(t *testing.T) {
	sum := sm3.Sum([]byte("abc"))
	cases := []struct {
		base, url string
		size      int
	}{
		{"http://127.0.0.1:8080", "HTTP://127.0.0.1:8080/VERIFY/R/M3D7B5DC53W5TUPS2RV5", 29},
		{"http://127.0.0.1:8080/", "HTTP://127.0.0.1:8080/VERIFY/R/M3D7B5DC53W5TUPS2RV5", 29},
		{"https://zwfw.example.gov.cn/eseal", "HTTPS://ZWFW.EXAMPLE.GOV.CN/eseal/VERIFY/R/M3D7B5DC53W5TUPS2RV5", 33},
	}
	for _, tc := range cases {
		q := &VerifyQR{BaseURL: tc.base, All: true}
		got, err := q.URL(sum[:])
		if err != nil || got != tc.url {
			t.Errorf("%s: %q, %v; want %q", tc.base, got, err, tc.url)
		}
		sym, err := q.Symbol(sum[:])
		if err != nil || len(sym.Modules) != tc.size || sym.Text != tc.url || sym.SizeMM != DefaultQRSizeMM {
			t.Errorf("%s: symbol of %d modules, %v", tc.base, len(sym.Modules), err)
		}
	}
	for _, bad := range []string{"", "ftp://x", "http://", "http://u:p@host", "http://host/?a=b", "http://host/#f", "127.0.0.1:8080"} {
		if err := (&VerifyQR{BaseURL: bad}).Check(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var none *VerifyQR
	items := &VerifyQR{Items: map[string]bool{"A": true}}
	if none.For("A") || !items.For("A") || items.For("B") || !(&VerifyQR{All: true}).For("B") {
		t.Error("For: wrong items")
	}
}
