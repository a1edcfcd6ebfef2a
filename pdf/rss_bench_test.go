package pdf_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/hostilepdf"
	"github.com/ronganxian/eseal/pdf"
)

// BenchmarkPeakRSS measures, in a child process each, the peak resident
// memory of sealing (default and keyword placement) and of verifying each
// hostile document, beside the same for decision.pdf (sealed, for
// verifying), in one run:
//
//	BenchmarkPeakRSS/<file>/<mode>  peakRSS-MB  the child's peak RSS
//	                                x-decision  that, over decision.pdf's for the mode
//	                                file-KB     the file's size
//
// The child reads the file into memory, as the service holds a document,
// does the one job with the default limits, prints its peak (VmHWM of
// /proc/self/status) and exits. A child that passes ESEAL_RSS_CAP_MB
// (default 4096) of resident memory, or runs longer than
// ESEAL_RSS_TIMEOUT (default 60s), is stopped, and its figure is a lower
// bound: so the code before the limits can be measured too, without
// exhausting the machine. Each job's outcome (refusal, verdict) is logged
// beside its figure. -benchtime 1x runs each child once.
func BenchmarkPeakRSS(b *testing.B) {
	dir := b.TempDir()
	type input struct{ name, path string }
	decision, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		b.Fatal(err)
	}
	sealed, root, err := sealForRSS(decision)
	if err != nil {
		b.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			b.Fatal(err)
		}
		return p
	}
	inputs := []input{{"decision.pdf", write("decision", decision)}}
	sealedPath := write("decision-sealed", sealed)
	if err := os.WriteFile(sealedPath+".root", root, 0o600); err != nil {
		b.Fatal(err)
	}
	for _, h := range hostilepdf.Files() {
		inputs = append(inputs, input{h.Name, write(h.Name, h.Build())})
	}
	base := map[string]float64{}
	for _, in := range inputs {
		for _, mode := range []string{"seal-default", "seal-keyword", "verify"} {
			path := in.path
			if mode == "verify" && in.name == "decision.pdf" {
				path = sealedPath
			}
			b.Run(in.name+"/"+mode, func(b *testing.B) {
				st, err := os.Stat(path)
				if err != nil {
					b.Fatal(err)
				}
				var peak float64
				var outcome string
				for b.Loop() {
					p, o := childPeakRSS(b, mode, path)
					peak, outcome = max(peak, p), o
				}
				if in.name == "decision.pdf" {
					base[mode] = peak
				}
				b.ReportMetric(peak, "peakRSS-MB")
				if base[mode] > 0 {
					b.ReportMetric(peak/base[mode], "x-decision")
				}
				b.ReportMetric(float64(st.Size())/1024, "file-KB")
				b.Logf("%s", outcome)
			})
		}
	}
}

// childPeakRSS runs mode on file in a child and returns its peak RSS in
// MiB and what it printed of its outcome.
func childPeakRSS(b *testing.B, mode, file string) (float64, string) {
	capMB := envInt("ESEAL_RSS_CAP_MB", 4096)
	timeout := 60 * time.Second
	if v := os.Getenv("ESEAL_RSS_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatal(err)
		}
		timeout = d
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), pdf.RSSChildEnv+"="+mode+":"+file)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// The child prints its own peak (VmHWM) when it ends; for a child
	// stopped early, the last peak seen here is the figure. (wait4's
	// ru_maxrss will not do: Linux counts in it the memory of the process
	// that forked the child, before exec.)
	done := make(chan struct{})
	type watch struct {
		why  string
		peak float64
	}
	watched := make(chan watch, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		deadline := time.Now().Add(timeout)
		var w watch
		for {
			select {
			case <-done:
				watched <- w
				return
			case <-tick.C:
			}
			rss, hwm := procMemory(cmd.Process.Pid)
			w.peak = max(w.peak, hwm)
			switch {
			case rss > float64(capMB):
				w.why = fmt.Sprintf("stopped at %d MiB resident", capMB)
			case time.Now().After(deadline):
				w.why = fmt.Sprintf("stopped after %v", timeout)
			default:
				continue
			}
			cmd.Process.Kill()
			watched <- w
			return
		}
	}()
	err := cmd.Wait()
	close(done)
	w := <-watched
	if w.why != "" {
		return w.peak, "at least this much: " + w.why
	}
	if err != nil {
		b.Fatalf("child %s %s: %v\n%s", mode, file, err, out.String())
	}
	outcome, peak := "no outcome printed", 0.0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if o, ok := strings.CutPrefix(sc.Text(), "outcome: "); ok {
			outcome = o
		}
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			peak = kb / 1024
		}
	}
	if peak == 0 {
		b.Fatalf("child %s %s printed no VmHWM:\n%s", mode, file, out.String())
	}
	return peak, outcome
}

// procMemory is the current and the peak RSS of process pid in MiB, 0
// when unknown.
func procMemory(pid int) (rss, hwm float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
