package pdf

import (
	"fmt"
	"os"
	"testing"
)

// scratchDir holds files generated once per test run, such as the large
// document.
var scratchDir string

func TestMain(m *testing.M) {
	if f := os.Getenv(peakRSSChildEnv); f != "" {
		runPeakRSSChild(f)
		return
	}
	if job := os.Getenv(RSSChildEnv); job != "" {
		runRSSChild(job)
		return
	}
	dir, err := os.MkdirTemp("", "eseal-pdf-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	scratchDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
