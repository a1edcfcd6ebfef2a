package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTownshipsImport: `sealctl townships import FILE` registers the
// townships of a CSV (before, it printed help and exited 0); a file with a
// bad line imports nothing and says which line; a word that is no command
// of a group fails instead of printing help.
func TestTownshipsImport(t *testing.T) {
	d := startDemo(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "townships.csv")
	if err := os.WriteFile(good, []byte("code,name,kind,seal_name\n450224199,试验乡,乡,融安县试验乡人民政府行政审批专用章\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := d.run(t, "admin", "townships", "import", good)
	if code != 0 || !strings.Contains(out, "imported 1 townships") {
		t.Fatalf("import: %d\n%s%s", code, out, errs)
	}
	if code, out, _ := d.run(t, "admin", "townships", "list"); code != 0 || !strings.Contains(out, "450224199") || !strings.Contains(out, "试验乡") {
		t.Fatalf("the imported township is not listed: %d\n%s", code, out)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("code,name,kind,seal_name\n450224198,好乡,乡,融安县好乡人民政府行政审批专用章\n450224197\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = d.run(t, "admin", "townships", "import", bad)
	if code == 0 || !strings.Contains(errs, ":3") {
		t.Fatalf("a bad line: exit %d, want failure naming line 3\n%s%s", code, out, errs)
	}
	if _, out, _ := d.run(t, "admin", "townships", "list"); strings.Contains(out, "450224198") {
		t.Fatal("a file with a bad line imported its good lines")
	}
	if code, out, errs := d.run(t, "admin", "townships", "bogus", good); code == 0 || !strings.Contains(errs, `unknown command "bogus"`) {
		t.Fatalf("an unknown command of a group: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := d.run(t, "admin", "townships"); code != 0 || !strings.Contains(out, "import") {
		t.Fatalf("a group alone should print its help: %d\n%s", code, out)
	}
}
