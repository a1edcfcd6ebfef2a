package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// damagedDecision is decision.pdf with its last startxref pointing into
// its first object, so that its cross-reference data cannot be read.
func damagedDecision(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile(decision)
	if err != nil {
		t.Fatal(err)
	}
	all := regexp.MustCompile(`startxref\s+\d+`).FindAllIndex(doc, -1)
	if len(all) == 0 {
		t.Fatal("no startxref")
	}
	last := all[len(all)-1]
	out := append(bytes.Clone(doc[:last[0]]), "startxref\n100"...)
	return append(out, doc[last[1]:]...)
}

// TestRepairedDocuments: sealctl says when the service repaired a damaged
// document before sealing it: stamp prints it (in either language, and in
// the JSON record's detail), and batch lists it in its summary and in its
// report's repaired column, where a sound file's is empty.
func TestRepairedDocuments(t *testing.T) {
	d := startDemo(t)
	tmp := t.TempDir()
	damaged := filepath.Join(tmp, "damaged.pdf")
	if err := os.WriteFile(damaged, damagedDecision(t), 0o644); err != nil {
		t.Fatal(err)
	}
	const permit = "准予行政许可决定书"
	for i, tc := range []struct{ lang, says string }{
		{"zh", "修复后盖章"},
		{"en", "repaired, then sealed"},
	} {
		out := filepath.Join(tmp, tc.lang+".pdf")
		code, stdout, stderr := d.run(t, "450224100-approval", "--lang", tc.lang, "stamp", damaged, "-o", out,
			"--item", "450224-XK-0002", "--case-no", "长安-R-"+tc.lang, "--doc-kind", permit)
		if code != 0 || !strings.Contains(stdout, tc.says) || !strings.Contains(stdout, "rebuilt the file") {
			t.Errorf("stamp %d (%s): %d %q %q", i, tc.lang, code, stdout, stderr)
		}
		checkSealed(t, out, "450224-XK-0002", "长安-R-"+tc.lang)
	}
	code, stdout, stderr := d.run(t, "450224100-approval", "--output", "json", "stamp", damaged, "-o", filepath.Join(tmp, "j.pdf"),
		"--item", "450224-XK-0002", "--case-no", "长安-R-json", "--doc-kind", permit)
	var rec struct{ Detail string }
	if err := json.Unmarshal([]byte(stdout), &rec); code != 0 || err != nil || !strings.Contains(rec.Detail, "repaired: rebuilt the file") {
		t.Errorf("stamp --output json: %d %v %q %q", code, err, stdout, stderr)
	}

	in, outDir := filepath.Join(tmp, "in"), filepath.Join(tmp, "out")
	os.MkdirAll(in, 0o755)
	sound, _ := os.ReadFile(decision)
	os.WriteFile(filepath.Join(in, "长安-B-sound.pdf"), sound, 0o644)
	os.WriteFile(filepath.Join(in, "长安-B-damaged.pdf"), damagedDecision(t), 0o644)
	code, stdout, stderr = d.run(t, "450224100-approval", "--lang", "en", "batch", in, "--out-dir", outDir,
		"--item", "450224-XK-0002", "--doc-kind", permit)
	if code != 0 || !strings.Contains(stdout, "长安-B-damaged.pdf  the file was damaged: repaired, then sealed: rebuilt the file") ||
		strings.Contains(stdout, "长安-B-sound.pdf") {
		t.Errorf("batch: %d\n%s\n%s", code, stdout, stderr)
	}
	for _, row := range readReport(t, filepath.Join(outDir, "batch-report.csv")) {
		damaged := strings.Contains(row["file"], "damaged")
		if row["status"] != "sealed" || damaged != strings.HasPrefix(row["repaired"], "rebuilt the file") {
			t.Errorf("report row %v", row)
		}
	}
}
