package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrincipalsRotate: the county office rotates a clerk's token into a
// file, and a clerk its own in place, as a window application would; the
// new tokens work, and so does the old one, for the overlap.
func TestPrincipalsRotate(t *testing.T) {
	d := startDemo(t)
	whoami := func(tokenFile string) (int, string) {
		var out, errb strings.Builder
		code := Main([]string{"--server", d.addr, "--token-file", tokenFile, "whoami"}, &out, &errb)
		return code, out.String()
	}

	out := filepath.Join(t.TempDir(), "changan-approval.token")
	code, stdout, stderr := d.run(t, "admin", "principals", "rotate", "450224100-approval", "--token-out", out)
	if code != 0 || !strings.Contains(stdout, "rotated 450224100-approval") || !strings.Contains(stderr, "works until") {
		t.Fatalf("principals rotate: %d %q %q", code, stdout, stderr)
	}
	for _, f := range []string{out, d.token("450224100-approval")} {
		if code, who := whoami(f); code != 0 || !strings.HasPrefix(who, "450224100-approval ") {
			t.Errorf("whoami with %s: %d %q", filepath.Base(f), code, who)
		}
	}

	// A window rotates its own token in place.
	self := d.token("450224100-service")
	before, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := d.run(t, "450224100-service", "principals", "rotate", "--token-out", self); code != 0 {
		t.Fatalf("rotating one's own token: %d %q %q", code, stdout, stderr)
	}
	after, err := os.ReadFile(self)
	if err != nil || string(after) == string(before) || !strings.HasPrefix(string(after), "esk_") {
		t.Fatalf("the token file after rotating: %q, %v", after, err)
	}
	if code, who := whoami(self); code != 0 || !strings.HasPrefix(who, "450224100-service ") {
		t.Errorf("whoami with the rotated token: %d %q", code, who)
	}
	// A clerk cannot rotate another's.
	if code, _, _ := d.run(t, "450224100-service", "principals", "rotate", "450224100-approval"); code == 0 {
		t.Error("a clerk rotated another principal's token")
	}
}
