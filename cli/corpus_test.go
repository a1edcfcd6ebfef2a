package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// copyInto copies testdata files into dir, under new names.
func copyInto(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for to, from := range files {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCorpusCommand runs `sealctl corpus` on a folder built here: a good
// decision, a damaged file that is repaired, garbage, an encrypted file
// (certificate encryption), a page too small for the seal, and a file that
// is not a PDF by name. Each ends as it should, in the table and the CSV,
// and the inputs are untouched.
func TestCorpusCommand(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	copyInto(t, dir, map[string]string{
		"decision.pdf":  "../testdata/pdfs/decision.pdf",
		"damaged.pdf":   "../testdata/realworld/pdfjs-helloworld-bad.pdf",
		"encrypted.pdf": "../testdata/realworld/pyhanko-minimal-pubkey-aes256.pdf",
		"tiny.PDF":      "../testdata/realworld/pdfjs-Type3WordSpacing.pdf",
		"notes.txt":     "../testdata/realworld/README.md",
	})
	if err := os.WriteFile(filepath.Join(dir, "garbage.pdf"), []byte("this is not a PDF\x00\x01"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "decision.pdf"))
	csvFile := filepath.Join(t.TempDir(), "corpus.csv")
	code, stdout, stderr := runSealctl(t, "corpus", dir, "--out-dir", out, "--csv", csvFile, "--lang", "en")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if stderr != "" {
		t.Errorf("a progress bar or lines on a pipe: %q", stderr)
	}
	if !strings.HasPrefix(stdout, "result ") || !strings.Contains(stdout, "sealing (median)") {
		t.Errorf("table header:\n%s", stdout)
	}
	for _, row := range []string{"sealed ", "repaired ", "refused (encrypted) ", "refused (not_pdf) ", "refused (placement) ", "total "} {
		if !strings.Contains(stdout, "\n"+row) {
			t.Errorf("table lacks a %q row:\n%s", row, stdout)
		}
	}
	f, err := os.Open(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{ // status, reason
		"damaged.pdf": {"repaired", ""}, "decision.pdf": {"sealed", ""}, "encrypted.pdf": {"refused", "encrypted"},
		"garbage.pdf": {"refused", "not_pdf"}, "tiny.PDF": {"refused", "placement"},
	}
	if len(recs) != len(want)+1 {
		t.Fatalf("%d CSV lines, want %d: %v", len(recs), len(want)+1, recs)
	}
	for _, r := range recs[1:] {
		name := filepath.Base(r[0])
		w, ok := want[name]
		if !ok || r[1] != w[0] || r[2] != w[1] {
			t.Errorf("%s: status %q reason %q, want %q", name, r[1], r[2], w)
		}
		if r[1] == "sealed" || r[1] == "repaired" {
			if r[5] != "valid" || !strings.HasPrefix(r[6], "p1 [") || r[10] != filepath.Join(out, name) || r[11] == "" {
				t.Errorf("%s: verdict %q, seal %q, output %q, sealing %q ms", name, r[5], r[6], r[10], r[11])
			}
			if _, err := os.Stat(r[10]); err != nil {
				t.Errorf("%s: no sealed copy: %v", name, err)
			}
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "decision.pdf")); string(after) != string(before) {
		t.Error("the input was changed")
	}
}

// fixedSealer returns a given document as the sealed one, to check the
// checks.
type fixedSealer struct {
	doc   string
	delay time.Duration
}

func (f fixedSealer) seal(ctx context.Context, name string, doc []byte) ([]byte, string, error) {
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
	if f.doc == "" {
		return nil, "", errors.New("the signer failed")
	}
	b, err := os.ReadFile(f.doc)
	return b, "", err
}

func (fixedSealer) refusal(error) string { return "" }

// TestCorpusChecks: what the engine gets wrong is caught, each with its
// status: a seal drawn nowhere, a seal our verifier rejects, a file over
// its time budget, a sealer that fails.
func TestCorpusChecks(t *testing.T) {
	opts, err := readTrust([]string{corpus("root.pem")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := opts.Roots[0]
	input := "../testdata/pdfs/decision.pdf"
	cases := []struct {
		name   string
		sealer corpusSealer
		input  string
		want   string
	}{
		{"valid and visible", fixedSealer{doc: corpus("valid-visible.pdf")}, input, stSealed},
		{"an invisible signature", fixedSealer{doc: corpus("valid.pdf")}, input, stInvisible},
		{"changed after sealing", fixedSealer{doc: corpus("isa.pdf")}, input, stRejected},
		{"over the time budget", fixedSealer{doc: corpus("valid-visible.pdf"), delay: time.Second}, input, stTimeout},
		{"the sealer fails", fixedSealer{}, input, stError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &corpusChecker{sealer: tc.sealer, roots: []*smx509.Certificate{root}, outDir: t.TempDir(), timeout: 200 * time.Millisecond}
			if tc.want != stTimeout {
				c.timeout = time.Minute
			}
			c.qpdf = "qpdf"
			r := c.run(context.Background(), tc.input)
			if r.status != tc.want {
				t.Errorf("status %q (%s), want %q", r.status, r.message, tc.want)
			}
		})
	}
}

// TestCorpusQPDF: qpdf --check's outcome is read from its exit status, and
// an output is worse only when its outcome ranks lower than the input's.
func TestCorpusQPDF(t *testing.T) {
	junk := filepath.Join(t.TempDir(), "junk.pdf")
	if err := os.WriteFile(junk, []byte("%PDF-1.4\nnothing else\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := exec.LookPath("qpdf")
	if err != nil {
		t.Fatalf("qpdf is required for this test: install the Debian package qpdf: %v", err)
	}
	c := &corpusChecker{qpdf: q}
	if got := c.qpdfCheck(context.Background(), "../testdata/pdfs/decision.pdf"); got != "ok" {
		t.Errorf("decision.pdf: %q, want ok", got)
	}
	if got := c.qpdfCheck(context.Background(), junk); got != "errors" {
		t.Errorf("junk: %q, want errors", got)
	}
	if !(qpdfRank["errors"] > qpdfRank["warnings"] && qpdfRank["warnings"] > qpdfRank["ok"]) {
		t.Errorf("ranks %v", qpdfRank)
	}
}

// TestCorpusBar: on a terminal the bar redraws in place and ends its
// line; elsewhere it writes nothing.
func TestCorpusBar(t *testing.T) {
	var tty, pipe strings.Builder
	a, b := &corpusBar{w: &tty, tty: true, total: 2}, &corpusBar{w: &pipe, total: 2}
	for range 2 {
		a.step()
		b.step()
	}
	want := "\r[###############...............] 1/2\r[##############################] 2/2\n"
	if tty.String() != want {
		t.Errorf("terminal: %q, want %q", tty.String(), want)
	}
	if pipe.Len() != 0 {
		t.Errorf("pipe: %q, want nothing", pipe.String())
	}
}
