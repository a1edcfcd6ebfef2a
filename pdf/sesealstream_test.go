package pdf

import (
	"bytes"
	"testing"
)

// TestSESealInSignedRevision: the SESeal given to the sealer lies in the
// signed revision, named by the signature dictionary, and reads back as
// given; a signature without one names none.
func TestSESealInSignedRevision(t *testing.T) {
	in := fixture(t, "decision.pdf")
	seseal := bytes.Repeat([]byte("SESeal DER "), 2000)
	req := baseRequest(t)
	img, err := testSeal(t).WithSESeal(seseal)
	if err != nil {
		t.Fatal(err)
	}
	req.Image = img
	out, res := sealBytes(t, in, req)
	a := analyze(t, out)
	if len(a.Signatures) != 1 {
		t.Fatalf("%d signatures", len(a.Signatures))
	}
	sf := a.Signatures[0]
	if sf.SESealProblem != nil || !bytes.Equal(sf.SESeal, seseal) {
		t.Fatalf("SESeal read back: %v, %d bytes", sf.SESealProblem, len(sf.SESeal))
	}
	// Inside the signed bytes: not in the /Contents gap.
	i := bytes.Index(out[res.UpdateOffset:], []byte("/ESealSESeal "))
	if at := res.UpdateOffset + int64(i); i < 0 || at >= res.ByteRange[1] && at < res.ByteRange[2] || res.ByteRange[2]+res.ByteRange[3] != int64(len(out)) {
		t.Errorf("/ESealSESeal at %d; byte range %v", at, res.ByteRange)
	}
	req.Image = testSeal(t)
	out, _ = sealBytes(t, in, req)
	if sf := analyze(t, out).Signatures[0]; sf.SESeal != nil || sf.SESealProblem != nil {
		t.Errorf("a signature without an SESeal reads %d bytes, %v", len(sf.SESeal), sf.SESealProblem)
	}
}
