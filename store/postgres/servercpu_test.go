package postgres

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serverCPU returns a function that reads the CPU time (user and system)
// that the PostgreSQL server listening on dsn's port has used: its
// postmaster and every process it started that is still running (the
// connections' backends live as long as the pool keeps them). It reads
// /proc, so it works only on Linux with a server on this machine.
func serverCPU(t testing.TB, dsn string) func() time.Duration {
	u, err := url.Parse(dsn)
	if err != nil || u.Port() == "" {
		t.Fatalf("no port in the DSN %q: %v", dsn, err)
	}
	port := u.Port()
	var postmaster string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-p" && args[i+1] == port && strings.HasSuffix(args[0], "postgres") {
				postmaster = filepath.Base(filepath.Dir(p))
			}
		}
	}
	if postmaster == "" {
		t.Fatalf("no PostgreSQL server on port %s among this machine's processes", port)
	}
	tick := time.Second / 100 // USER_HZ on Linux
	return func() time.Duration {
		var total time.Duration
		stats, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, p := range stats {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			// The fields after the command, which is in parentheses.
			f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
			if len(f) < 13 {
				continue
			}
			pid := filepath.Base(filepath.Dir(p))
			if pid != postmaster && f[1] != postmaster { // f[1] is the parent
				continue
			}
			utime, _ := strconv.ParseInt(f[11], 10, 64)
			stime, _ := strconv.ParseInt(f[12], 10, 64)
			total += time.Duration(utime+stime) * tick
		}
		return total
	}
}
