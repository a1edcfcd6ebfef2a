// Package testbin builds the project's commands once per test binary, for
// tests that must run, interrupt or kill a real process.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

type built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

var (
	mu    sync.Mutex
	cache = map[string]*built{}
)

// Build returns the path of a freshly built command, e.g. "sealctl" or
// "sealsvc" (from cmd/NAME).
func Build(t testing.TB, name string) string {
	t.Helper()
	mu.Lock()
	b, ok := cache[name]
	if !ok {
		b = &built{}
		cache[name] = b
	}
	mu.Unlock()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", name+"-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, name)
		b.out, b.err = exec.Command("go", "build", "-o", b.path, "github.com/ronganxian/eseal/cmd/"+name).CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("building %s: %v\n%s", name, b.err, b.out)
	}
	return b.path
}
