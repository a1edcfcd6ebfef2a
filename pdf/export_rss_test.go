package pdf

import (
	"fmt"
	"os"
	"strings"
)

// RSSChildEnv names the job of the test binary when it runs as a child
// whose peak memory BenchmarkPeakRSS measures: "MODE:FILE".
const RSSChildEnv = "ESEAL_PDF_RSS_CHILD"

// RSSChild runs one job in the child and returns its outcome; package
// pdf_test sets it, since verifying needs package verify, which imports
// this package.
var RSSChild func(mode, file string) (string, error)

// runRSSChild runs the job named by the environment, prints its outcome
// and its peak RSS (VmHWM) and exits: 0 when it ran, whatever the document's outcome, 1 when it
// could not.
func runRSSChild(job string) {
	mode, file, ok := strings.Cut(job, ":")
	if !ok || RSSChild == nil {
		fmt.Println("error: bad job", job)
		os.Exit(1)
	}
	outcome, err := RSSChild(mode, file)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("outcome:", outcome)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fmt.Println(line)
		}
	}
	os.Exit(0)
}
