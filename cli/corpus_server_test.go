package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpusServer runs `sealctl corpus --server` against a demo service
// over gRPC, on a folder with a sound decision, the same decision damaged
// (repaired by the service), and a file under certificate encryption
// (refused by the service's rule). The table and the CSV say so, each
// sealed copy carries the service's seal for the item and for the file's
// name as its case number, and checks against the county root.
func TestCorpusServer(t *testing.T) {
	d := startDemo(t)
	dir, out := t.TempDir(), t.TempDir()
	copyInto(t, dir, map[string]string{
		"长安-C-sound.pdf":     decision,
		"长安-C-encrypted.pdf": "../testdata/realworld/pyhanko-minimal-pubkey-aes256.pdf",
	})
	if err := os.WriteFile(filepath.Join(dir, "长安-C-damaged.pdf"), damagedDecision(t), 0o644); err != nil {
		t.Fatal(err)
	}
	csvFile := filepath.Join(t.TempDir(), "corpus.csv")
	const item, permit = "450224-XK-0002", "准予行政许可决定书"
	code, stdout, stderr := d.run(t, "450224100-approval", "--lang", "en", "corpus", dir, "--out-dir", out, "--csv", csvFile,
		"--item", item, "--doc-kind", permit, "--trust", filepath.Join(d.dir, "trust", "root.pem"), "--parallel", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, row := range []string{"sealed ", "repaired ", "refused (bad_document) ", "total "} {
		if !strings.Contains(stdout, "\n"+row) {
			t.Errorf("table lacks a %q row:\n%s", row, stdout)
		}
	}
	for _, fault := range []string{"invisible", "rejected", "qpdf ", "timeout", "error"} {
		if strings.Contains(stdout, "\n"+fault) {
			t.Errorf("table has a %q row:\n%s", fault, stdout)
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
		"长安-C-sound.pdf": {"sealed", ""}, "长安-C-damaged.pdf": {"repaired", ""}, "长安-C-encrypted.pdf": {"refused", "bad_document"},
	}
	if len(recs) != len(want)+1 {
		t.Fatalf("%d CSV lines, want %d: %v", len(recs), len(want)+1, recs)
	}
	for _, r := range recs[1:] {
		name := filepath.Base(r[0])
		w, ok := want[name]
		if !ok || r[1] != w[0] || r[2] != w[1] {
			t.Errorf("%s: status %q reason %q (%s), want %q", name, r[1], r[2], r[3], w)
			continue
		}
		switch r[1] {
		case "refused":
			if !strings.Contains(r[3], "Adobe.PubSec") {
				t.Errorf("%s: the refusal does not say why: %q", name, r[3])
			}
		default:
			if r[5] != "valid" || !strings.HasPrefix(r[6], "p1 [") || r[10] != filepath.Join(out, name) {
				t.Errorf("%s: verdict %q, seal %q, output %q", name, r[5], r[6], r[10])
			}
			if (r[1] == "repaired") != strings.HasPrefix(r[4], "rebuilt the file") {
				t.Errorf("%s: repaired %q", name, r[4])
			}
			checkSealed(t, r[10], item, strings.TrimSuffix(name, ".pdf"))
		}
	}
}
