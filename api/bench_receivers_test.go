package api

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// benchReceiversEnv, set to a count, makes the test binary serve that many
// event receivers instead of running tests (TestMain): the receivers of
// BenchmarkSealingWithSubscriptions, in their own process as they are in
// a county, on the platform's and the departments' machines. In the
// benchmark's process they would add their CPU, their garbage and their
// goroutines to what is measured as the service's.
const benchReceiversEnv = "ESEAL_BENCH_RECEIVERS"

// benchReceivers is the child process and how to reach it.
type benchReceivers struct {
	cmd     *exec.Cmd
	stdin   io.Closer
	urls    []string // one per receiver
	control string   // GET: how many distinct events all have had
}

// startBenchReceivers starts n receivers in a child process; they stop
// with the benchmark.
func startBenchReceivers(b *testing.B, n int) *benchReceivers {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), benchReceiversEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	r := &benchReceivers{cmd: cmd, stdin: stdin}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for len(r.urls) < n+1 && sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "receiver "); ok {
			r.urls = append(r.urls, u)
		}
	}
	if len(r.urls) != n+1 {
		b.Fatalf("the receivers' process gave %d addresses, want %d", len(r.urls), n+1)
	}
	r.control, r.urls = r.urls[0], r.urls[1:]
	return r
}

// received asks the child how many distinct events its receivers hold.
func (r *benchReceivers) received(b *testing.B) int64 {
	resp, err := http.Get(r.control)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	n, err := strconv.ParseInt(string(body), 10, 64)
	if err != nil {
		b.Fatalf("the receivers' count: %q", body)
	}
	return n
}

// serveBenchReceivers is the child's main: n receivers, each counting the
// distinct events it is sent (a paused worker's unrecorded deliveries come
// again at resume), and a control address, until stdin closes.
func serveBenchReceivers(n int) int {
	var total atomic.Int64
	listen := func(h http.Handler) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go http.Serve(l, h)
		return "http://" + l.Addr().String() + "/events"
	}
	fmt.Println("receiver " + listen(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, total.Load())
	})))
	for range n {
		var mu sync.Mutex
		seen := map[string]bool{}
		fmt.Println("receiver " + listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			mu.Lock()
			for rest := body; ; {
				at := bytes.Index(rest, []byte(`"id":"`))
				if at < 0 {
					break
				}
				rest = rest[at+len(`"id":"`):]
				id, _, _ := bytes.Cut(rest, []byte(`"`))
				if !seen[string(id)] {
					seen[string(id)] = true
					total.Add(1)
				}
			}
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		})))
	}
	io.Copy(io.Discard, os.Stdin) // until the benchmark ends
	return 0
}
