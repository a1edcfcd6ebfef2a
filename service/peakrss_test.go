package service

import (
	"testing"

	"github.com/ronganxian/eseal/internal/hostilepdf"
)

// maxPeakRSS is the bound the README promises for the service's resident
// memory with the default configuration, whatever the documents and
// however many callers.
const maxPeakRSS = 512 << 20

// TestPeakRSSBound sends a sealsvc child 32 callers at once with the
// hostile documents that cost it most (BenchmarkServicePeakRSS measures
// them all), sealing and verifying, and checks that its peak resident
// memory stays under the bound, and that every call ends as it may: done,
// refused for its document, or refused for room. The child runs as on a
// 16-core machine (GOMAXPROCS=16: 64 sealings and 16 verifications at
// once), where, before reading was charged to the bytes in flight, these
// took it to 800–1,600 MiB.
func TestPeakRSSBound(t *testing.T) {
	t.Setenv("GOMAXPROCS", "16") // the child's; this process has read its own
	for _, tc := range []struct {
		file   string
		verify bool
	}{
		{"wide-array", false},
		{"wide-array", true},
		{"objstms-16x12MiB", false},
		{"text-bomb", false},
	} {
		doc, ok := hostilepdf.Named(tc.file)
		if !ok {
			t.Fatalf("no hostile file %s", tc.file)
		}
		hwm, outcomes := runPeakRSS(t, doc, tc.verify, 32, 1)
		t.Logf("%s (verify %v): peak %d MiB, outcomes %v", tc.file, tc.verify, hwm>>20, outcomes)
		if hwm > maxPeakRSS {
			t.Errorf("%s (verify %v): peak RSS %d MiB, past the bound of %d MiB", tc.file, tc.verify, hwm>>20, maxPeakRSS>>20)
		}
		if n := outcomes["ok"] + outcomes["code = InvalidArgument"] + outcomes["code = ResourceExhausted"]; n != 32 {
			t.Errorf("%s: outcomes %v; want every call done, refused for the document, or refused for room", tc.file, outcomes)
		}
	}
}
