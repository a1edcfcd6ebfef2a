package pdf

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/atomicfile"
)

// TestSealFileInPlace seals a file read through *os.File, as a caller with
// a spooled upload does, and writes the result over the source with
// atomicfile: the file then holds exactly what Result describes.
func TestSealFileInPlace(t *testing.T) {
	orig := fixture(t, "one.pdf")
	path := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(path, orig, 0o640); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var sealed bytes.Buffer
	res, err := Seal(context.Background(), &sealed, f, st.Size(), baseRequest(t))
	f.Close()
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if err := atomicfile.WriteFile(path, sealed.Bytes(), st.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(out)) != res.Size || !bytes.Equal(sm3Sum(out), res.OutputDigest) {
		t.Errorf("the file (%d bytes) is not what Result describes (%d bytes)", len(out), res.Size)
	}
	checkSealed(t, orig, out, res, 0)
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
	if _, err := Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, errSignerDown) {
		t.Fatalf("Seal: %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %d bytes before failing", out.Len())
	}
}

// changingSource is a source whose bytes a test changes while it is sealed.
type changingSource struct{ b []byte }

func (s *changingSource) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(s.b).ReadAt(p, off)
}

// changeWhileSigning changes the source once the digest is taken: after
// the pass that hashes the source and before the pass that copies it.
type changeWhileSigning struct {
	Signer
	change func()
}

func (s changeWhileSigning) SignDigest(digest []byte, at time.Time) ([]byte, error) {
	s.change()
	return s.Signer.SignDigest(digest, at)
}

// TestSealSourceChanged: Seal reads the source twice, to hash it and to
// copy it, and refuses to finish when the copy is not what it signed.
func TestSealSourceChanged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(src *changingSource)
	}{
		{"a byte changes", func(src *changingSource) { src.b[len(src.b)/2] ^= 0xff }},
		{"the source shrinks", func(src *changingSource) { src.b = src.b[:len(src.b)-10] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &changingSource{b: bytes.Clone(fixture(t, "one.pdf"))}
			size := int64(len(src.b))
			req := baseRequest(t)
			req.Signer = changeWhileSigning{Signer: req.Signer, change: func() { tc.change(src) }}
			var out bytes.Buffer
			if _, err := Seal(context.Background(), &out, src, size, req); !errors.Is(err, ErrSourceChanged) {
				t.Fatalf("Seal: %v, want ErrSourceChanged", err)
			}
		})
	}
}
