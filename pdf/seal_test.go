package pdf

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/ronganxian/eseal/seal/cms"
)

// TestInvisibleSeal signs without an image: a zero-size widget on the
// first page, and no seal drawn.
func TestInvisibleSeal(t *testing.T) {
	in := fixture(t, "one.pdf")
	out, res := sealBytes(t, in, baseRequest(t))
	checkSealed(t, in, out, res, 0)
	if len(res.Seals) != 0 {
		t.Errorf("an invisible signature reports seals %v", res.Seals)
	}
	if !bytes.Contains(out[len(in):], []byte("/Subtype /Widget/F 132/FT /Sig")) || !bytes.Contains(out[len(in):], []byte("/Rect [0 0 0 0]")) {
		t.Errorf("no zero-size signature widget in the update:\n%s", out[len(in):])
	}
	before := render(t, writeTemp(t, "in.pdf", in), 1)
	after := render(t, writeTemp(t, "out.pdf", out), 1)
	if before.Bounds() != after.Bounds() {
		t.Fatal("the page size changed")
	}
	b := before.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			if before.At(x, y) != after.At(x, y) {
				t.Fatalf("an invisible signature changed the page at (%d,%d)", x, y)
			}
		}
	}
}

// TestConcurrentSeals seals from several goroutines with one Signer and
// one SealImage, as the service does; run it with -race.
func TestConcurrentSeals(t *testing.T) {
	files := []string{"decision.pdf", "one_objstm.pdf", "one_type0.pdf", "one_hybrid.pdf"}
	req := baseRequest(t)
	req.Image = testSeal(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := fixture(t, files[i%len(files)])
			for range 3 {
				var out bytes.Buffer
				res, err := Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req)
				if err != nil {
					errs <- err
					return
				}
				sigs := scanSignatures(t, out.Bytes())
				last := sigs[len(sigs)-1]
				if _, err := cms.VerifyDigest(last.der, res.Digest, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestEncryptNull: PDF reads a null value as an absent one, so a trailer
// with /Encrypt null is not encrypted, for sealing and reading alike.
func TestEncryptNull(t *testing.T) {
	in := fixture(t, "one.pdf")
	// The trailer follows the cross-reference table, so adding to it
	// moves no offset that the table or startxref holds.
	at := bytes.LastIndex(in, []byte("trailer\n<<"))
	if at < 0 {
		t.Fatal("one.pdf has no classic trailer")
	}
	at += len("trailer\n<<")
	in = append(in[:at:at], append([]byte("/Encrypt null "), in[at:]...)...)
	out, res := sealBytes(t, in, baseRequest(t))
	if res.Repaired != "" {
		t.Fatalf("repaired: %s", res.Repaired)
	}
	sigs, err := Signatures(bytes.NewReader(out), int64(len(out)))
	if err != nil || len(sigs) != 1 {
		t.Fatalf("Signatures: %d, %v", len(sigs), err)
	}
	if _, err := Analyze(context.Background(), bytes.NewReader(out), int64(len(out)), Limits{}); err != nil {
		t.Fatalf("Analyze: %v", err)
	}
}
