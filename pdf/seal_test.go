package pdf

import (
	"bytes"
	"testing"

	"github.com/ronganxian/eseal/seal/cms"
)

func TestSealOneInvisible(t *testing.T) {
	in := fixture(t, "one.pdf")
	out, res := sealBytes(t, in, baseRequest(t))
	if !bytes.Equal(out[:len(in)], in) {
		t.Fatal("original bytes changed")
	}
	f := writeTemp(t, "out.pdf", out)
	qpdfCheck(t, f)
	t.Logf("%+v", pdfsig(t, f))
	sigs := scanSignatures(t, out)
	if len(sigs) != 1 {
		t.Fatalf("%d signatures", len(sigs))
	}
	if _, err := cms.Verify(sigs[0].der, bytes.NewReader(sigs[0].signed(out)), nil); err != nil {
		t.Fatal(err)
	}
	t.Log(res.ByteRange)
	t.Logf("%s", out[len(in):len(in)+400])
}
