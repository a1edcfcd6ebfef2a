package pdf

import (
	"bytes"
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/seal/cms"
)

// TestAddDSS: on sealed documents of several structures (a table, a
// cross-reference stream with object streams, AES-256 encryption), AddDSS
// appends validation data that ReadDSS reads back, qpdf finds sound, and
// the revision analysis classes as validation data only; a second AddDSS
// keeps what the first added and adds only what is new.
func TestAddDSS(t *testing.T) {
	ctx := context.Background()
	signer, chain := sm2Signer(t)
	certs := [][]byte{chain.Certs[0].Raw, chain.Root().Raw}
	crl := []byte{0x30, 0x03, 0x02, 0x01, 0x07} // opaque to the PDF layer
	for _, name := range []string{"one.pdf", "one_objstm.pdf", "one_enc_aes256.pdf"} {
		t.Run(name, func(t *testing.T) {
			in := fixture(t, name)
			var sealed bytes.Buffer
			if _, err := Seal(ctx, &sealed, bytes.NewReader(in), int64(len(in)), Request{Signer: signer, Time: time.Now()}); err != nil {
				t.Fatal(err)
			}
			var once, twice bytes.Buffer
			if err := AddDSS(ctx, &once, bytes.NewReader(sealed.Bytes()), int64(sealed.Len()), DSS{Certs: certs[:1], CRLs: [][]byte{crl}}, Limits{}); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(once.Bytes(), sealed.Bytes()) {
				t.Fatal("AddDSS did not keep the sealed bytes")
			}
			if err := AddDSS(ctx, &twice, bytes.NewReader(once.Bytes()), int64(once.Len()), DSS{Certs: certs, CRLs: [][]byte{crl}}, Limits{}); err != nil {
				t.Fatal(err)
			}
			got, err := ReadDSS(ctx, bytes.NewReader(twice.Bytes()), int64(twice.Len()), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Certs) != 2 || !slices.ContainsFunc(got.Certs, func(b []byte) bool { return bytes.Equal(b, certs[1]) }) ||
				len(got.CRLs) != 1 || !bytes.Equal(got.CRLs[0], crl) {
				t.Fatalf("DSS read back: %d certs, %d CRLs", len(got.Certs), len(got.CRLs))
			}
			qpdfCheck(t, writeTemp(t, "dss-"+name, twice.Bytes()))
			a, err := Analyze(ctx, bytes.NewReader(twice.Bytes()), int64(twice.Len()), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range a.Revisions[len(a.Revisions)-2:] {
				if len(r.Changes) == 0 {
					t.Error("a DSS revision shows no change")
				}
				for _, c := range r.Changes {
					if c.Kind != ChangeDSS || c.Alters {
						t.Errorf("a DSS revision changes %s (%s)", c.Kind, c.Detail)
					}
				}
			}
		})
	}
}

// TestAddDocTimestamp: a document timestamp after a seal and its DSS, on
// plain, object-stream and AES-256 documents, is one more signature field
// (/SubFilter /ETSI.RFC3161) whose byte ranges are what stamp was given the
// digest of, qpdf finds the file sound, and the revision is a timestamp.
func TestAddDocTimestamp(t *testing.T) {
	ctx := context.Background()
	signer, _ := sm2Signer(t)
	for _, name := range []string{"one.pdf", "one_objstm.pdf", "one_enc_aes256.pdf"} {
		t.Run(name, func(t *testing.T) {
			in := fixture(t, name)
			var sealed, stamped bytes.Buffer
			if _, err := Seal(ctx, &sealed, bytes.NewReader(in), int64(len(in)), Request{Signer: signer, Time: time.Now()}); err != nil {
				t.Fatal(err)
			}
			token := []byte{0x30, 0x03, 0x04, 0x01, 0x00} // opaque to the PDF layer
			var digest []byte
			stamp := func(d []byte) ([]byte, error) { digest = d; return token, nil }
			if err := AddDocTimestamp(ctx, &stamped, bytes.NewReader(sealed.Bytes()), int64(sealed.Len()), stamp, 64, Limits{}); err != nil {
				t.Fatal(err)
			}
			b := stamped.Bytes()
			sigs, err := Signatures(bytes.NewReader(b), int64(len(b)))
			if err != nil || len(sigs) != 2 {
				t.Fatalf("signatures: %d, %v", len(sigs), err)
			}
			ts := sigs[1]
			if ts.SubFilter != "ETSI.RFC3161" || !ts.CoversWholeFile {
				t.Errorf("the timestamp field: /SubFilter %s, whole file %v", ts.SubFilter, ts.CoversWholeFile)
			}
			if got, _ := cms.TrimPadding(ts.Contents); !bytes.Equal(got, token) {
				t.Errorf("contents %x, want the token", ts.Contents[:8])
			}
			h := sm3.New()
			io.Copy(h, ts.SignedBytes(bytes.NewReader(b)))
			if !bytes.Equal(h.Sum(nil), digest) {
				t.Error("the digest stamped is not that of the byte ranges")
			}
			qpdfCheck(t, writeTemp(t, "ts-"+name, b))
			a, err := Analyze(ctx, bytes.NewReader(b), int64(len(b)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			last := a.Revisions[len(a.Revisions)-1]
			if len(last.Changes) == 0 {
				t.Fatal("the timestamp revision shows no change")
			}
			for _, c := range last.Changes {
				if c.Kind != ChangeTimestamp || c.Alters {
					t.Errorf("the timestamp revision changes %s (%s)", c.Kind, c.Detail)
				}
			}
		})
	}
}
