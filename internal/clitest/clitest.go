// Package clitest builds the sealctl binary once per test run, for tests
// that must interrupt a real process.
package clitest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	err  error
	out  []byte
)

// Build returns the path of a freshly built sealctl.
func Build(t *testing.T) string {
	t.Helper()
	once.Do(func() {
		dir, e := os.MkdirTemp("", "sealctl-bin-")
		if e != nil {
			err = e
			return
		}
		path = filepath.Join(dir, "sealctl")
		out, err = exec.Command("go", "build", "-o", path, "github.com/ronganxian/eseal/cmd/sealctl").CombinedOutput()
	})
	if err != nil {
		t.Fatalf("building sealctl: %v\n%s", err, out)
	}
	return path
}
