package events_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeReceiver builds the receiver example in the README, so that
// what integrators copy compiles against this package as it is.
func TestReadmeReceiver(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "<!-- receiver example: events/readme_test.go builds it -->\n```go\n")
	code, _, ok2 := strings.Cut(after, "```\n")
	if !ok || !ok2 || !strings.Contains(code, "events.NewVerifier") {
		t.Fatal("the README has no receiver example after its marker")
	}
	if n := strings.Count(code, "\n"); n > 30 {
		t.Errorf("the receiver example has %d lines; the issue asks for a 30-line receiver", n)
	}
	dir, err := os.MkdirTemp("..", ".readme-receiver-") // inside the module, to build against it
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's receiver does not build: %v\n%s", err, out)
	}
}
