package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchiveCLI: a supervising department exports a case's package and
// anyone verifies it with the county root; a tampered package fails with
// exit 2; a refused export leaves no file; sealctl archive document
// fetches a sealed PDF for whoever may read its record.
func TestArchiveCLI(t *testing.T) {
	d := startDemo(t)
	tmp := t.TempDir()
	root := filepath.Join(d.dir, "trust", "root.pem")
	const permit = "准予行政许可决定书"
	var seq string
	for i, id := range []string{"ar-1", "ar-2"} {
		code, out, errOut := d.run(t, "450224100-approval", "--output", "json", "stamp", "../testdata/pdfs/decision.pdf",
			"-o", filepath.Join(tmp, id+".pdf"), "--item", "450224-XK-0002", "--case-no", "长安-AR-1", "--doc-kind", permit,
			"--request-id", id)
		if code != 0 {
			t.Fatalf("stamp %d: %d %q %q", i, code, out, errOut)
		}
		var r struct{ Seq string }
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.Seq == "" {
			t.Fatalf("stamp output %q: %v", out, err)
		}
		seq = r.Seq
	}
	pkg := filepath.Join(tmp, "case.zip")
	refused := filepath.Join(tmp, "refused.zip")
	// seq is the second sealing's, a document of 农业农村.
	steps := []struct {
		who  string
		args []string
		code int
		want string
	}{
		{"supervisor-农业农村", []string{"archive", "export", "--township", "450224100", "--case", "长安-AR-1", "-o", pkg}, 0, "wrote"},
		{"", []string{"archive", "verify", "--trust", root, pkg}, 0, "valid: 2 records, 2 documents verified"},
		{"", []string{"archive", "verify", pkg}, 1, "--trust"},
		{"450224101-approval", []string{"archive", "export", "--township", "450224100", "--case", "长安-AR-1", "-o", refused}, 1, ""},
		{"admin", []string{"archive", "export", "--township", "450224100", "-o", refused}, 1, "period"},
		{"supervisor-农业农村", []string{"archive", "document", seq, "-o", filepath.Join(tmp, "got.pdf")}, 0, "wrote"},
		{"supervisor-民政", []string{"archive", "document", seq, "-o", filepath.Join(tmp, "no.pdf")}, 1, ""},
	}
	for _, s := range steps {
		code, out, errOut := d.run(t, s.who, s.args...)
		if code != s.code || !strings.Contains(out+errOut, s.want) {
			t.Fatalf("%s %v: %d %q %q; want %d and %q", s.who, s.args, code, out, errOut, s.code, s.want)
		}
	}
	if _, err := os.Stat(refused); !os.IsNotExist(err) {
		t.Errorf("a refused export left %s: %v", refused, err)
	}
	if _, err := os.Stat(filepath.Join(tmp, "no.pdf")); !os.IsNotExist(err) {
		t.Errorf("a refused fetch left a file: %v", err)
	}

	// A byte changed inside a sealed PDF (stored uncompressed in the ZIP).
	b, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	at := strings.Index(string(b), "documents/") + 2000
	b[at] ^= 0x20
	bad := filepath.Join(tmp, "bad.zip")
	os.WriteFile(bad, b, 0o600)
	code, out, errOut := d.run(t, "", "archive", "verify", "--trust", root, bad)
	if code != 2 || !strings.Contains(out, "FAIL") || !strings.Contains(errOut, "INVALID") {
		t.Fatalf("verify of a tampered package: %d %q %q; want exit 2 and FAIL lines", code, out, errOut)
	}
}
