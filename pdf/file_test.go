package pdf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSealFileAtomic(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(src, fixture(t, "one.pdf"), 0o640); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "out.pdf")
	res, err := SealFile(dst, src, baseRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(out)) != res.Size || !bytes.Equal(sm3Sum(out), res.OutputDigest) {
		t.Error("the file is not what Result describes")
	}
	if st, _ := os.Stat(dst); st.Mode().Perm() != 0o640 {
		t.Errorf("output mode %v, want the source's 0640", st.Mode().Perm())
	}
	checkSealed(t, fixture(t, "one.pdf"), out, res, 0)

	// A failure leaves the destination as it was and no temporary file.
	if err := os.WriteFile(dst, []byte("previous"), 0o600); err != nil {
		t.Fatal(err)
	}
	req := baseRequest(t)
	req.Signer = failingSigner{}
	if _, err := SealFile(dst, src, req); !errors.Is(err, errSignerDown) {
		t.Fatalf("SealFile with a failing signer: %v", err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "previous" {
		t.Error("a failed SealFile changed the destination")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("directory holds %d entries after a failure, want 2 (no temporary file)", len(ents))
	}
	// Sealing in place replaces the source.
	if _, err := SealFile(src, src, baseRequest(t)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(src); !bytes.HasPrefix(b, fixture(t, "one.pdf")) || len(b) <= len(fixture(t, "one.pdf")) {
		t.Error("sealing in place did not append to the source")
	}
}

var errSignerDown = errors.New("signer unavailable")

type failingSigner struct{}

func (failingSigner) Size(time.Time) int                           { return 1000 }
func (failingSigner) SignDigest([]byte, time.Time) ([]byte, error) { return nil, errSignerDown }

// A refusal or a signer failure writes nothing to the writer.
func TestSealWritesNothingOnError(t *testing.T) {
	in := fixture(t, "one.pdf")
	req := baseRequest(t)
	req.Signer = failingSigner{}
	var out bytes.Buffer
	if _, err := Seal(&out, bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, errSignerDown) {
		t.Fatalf("Seal: %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %d bytes before failing", out.Len())
	}
}
