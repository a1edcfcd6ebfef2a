package archive

import (
	"bytes"
	"context"
	"testing"

	"github.com/emmansun/gmsm/smx509"
)

// FuzzVerify: whatever the bytes, Verify returns a report (never a panic
// and never an error: the context does not end), and a package it finds
// valid is one the fixture's ledger key signed.
func FuzzVerify(f *testing.F) {
	var b bytes.Buffer
	if _, err := Build(context.Background(), &b, source{f: fix}, Options{Filter: Filter{Township: town, CaseNo: "CA-1"},
		Source: "/eseal/county", Key: fix.ledgerKey, Cert: fix.ledgerCrt}); err != nil {
		f.Fatal(err)
	}
	pkg := b.Bytes()
	f.Add(pkg)
	f.Add(pkg[:len(pkg)/2])
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Add([]byte{})
	roots := []*smx509.Certificate{fix.chain.Root()}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Verify(context.Background(), bytes.NewReader(data), int64(len(data)),
			VerifyOptions{Roots: roots, MaxBytes: 64 << 20})
		if err != nil {
			t.Fatalf("Verify failed to run: %v", err)
		}
		if rep.Valid() && rep.Manifest == nil {
			t.Fatal("valid without a manifest")
		}
	})
}
