package service

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/internal/testbin"
)

// readmeBlocks returns the README's shell blocks that a
// "<!-- replicas-test: NAME -->" line marks, by name.
func readmeBlocks(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- replicas-test: ([a-z ]+) -->\n```sh\n(.*?)```")
	blocks := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		blocks[m[1]] = m[2]
	}
	for _, name := range []string{"db", "host a", "host b", "office"} {
		if blocks[name] == "" {
			t.Fatalf("README.md has no block marked <!-- replicas-test: %s -->", name)
		}
	}
	return blocks
}

// roundRobin is the load balancer: each connection goes to the next
// replica in turn.
type roundRobin struct {
	l        net.Listener
	backends []string
	n        atomic.Int64
	per      []atomic.Int64
}

func startRoundRobin(t *testing.T, backends ...string) *roundRobin {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rr := &roundRobin{l: l, backends: backends, per: make([]atomic.Int64, len(backends))}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			i := int(rr.n.Add(1)-1) % len(backends)
			rr.per[i].Add(1)
			wg.Go(func() {
				defer c.Close()
				b, err := net.Dial("tcp", backends[i])
				if err != nil {
					return
				}
				defer b.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(b, c); b.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
				go func() { io.Copy(c, b); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
				<-done
				<-done
			})
		}
	})
	return rr
}

// cleanEnv is the test's environment without any ESEAL_ or SEAL_ variable,
// so that only what the README sets counts, with the commands first on
// PATH, and extra.
func cleanEnv(bin string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ESEAL_") || strings.HasPrefix(kv, "SEAL_") || strings.HasPrefix(kv, "PG") {
			continue
		}
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			kv = "PATH=" + bin + string(os.PathListSeparator) + v
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// runBlock runs a README block with bash, stopping at the first command
// that fails.
func runBlock(t *testing.T, name, script, dir string, env []string) string {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README block %q failed: %v\n--- script:\n%s\n--- output:\n%s", name, err, script, out)
	}
	return string(out)
}

// TestREADMEReplicas runs the README's "Two replicas on PostgreSQL"
// section as an operator would: on an empty throwaway PostgreSQL, replica
// A's init and serve, replica B's join and serve, and the county office's
// commands through a round-robin load balancer, which seal on both
// replicas. Only the host names and /var/lib/eseal are replaced.
func TestREADMEReplicas(t *testing.T) {
	blocks := readmeBlocks(t)
	bin := t.TempDir()
	for _, name := range []string{"sealsvc", "sealctl"} {
		if err := os.Symlink(testbin.Build(t, name), filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	pg, err := pgtest.StartThrowaway()
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	admin, err := url.Parse(pg.AdminDSN)
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{"a": t.TempDir(), "b": filepath.Join(t.TempDir(), "var-lib-eseal"), "office": t.TempDir()}
	grpcAddr := map[string]string{"a": freeAddr(t), "b": freeAddr(t)}
	lb := startRoundRobin(t, grpcAddr["a"], grpcAddr["b"])
	subst := func(host, script string) string {
		r := strings.NewReplacer("scp -p a.internal:/var/lib/eseal", "cp -p "+dirs["a"],
			"/var/lib/eseal", dirs[host], "db.internal:5432", admin.Host, "eseal.internal:8443", lb.l.Addr().String())
		return r.Replace(script)
	}

	runBlock(t, "db", blocks["db"], t.TempDir(), cleanEnv(bin, "PGHOST="+admin.Hostname(), "PGPORT="+admin.Port(), "PGUSER=postgres", "PGDATABASE=postgres"))

	logs := map[string]*lockedBuffer{}
	for _, host := range []string{"a", "b"} {
		lines := strings.Split(strings.TrimSpace(subst(host, blocks["host "+host])), "\n")
		serve := lines[len(lines)-1]
		if !strings.HasPrefix(serve, "sealsvc serve ") {
			t.Fatalf("host %s's block does not end by serving: %q", host, serve)
		}
		httpAddr := freeAddr(t)
		env := cleanEnv(bin, "ESEAL_GRPC_LISTEN="+grpcAddr[host], "ESEAL_HTTP_LISTEN="+httpAddr, "ESEAL_METRICS_LISTEN=off", "ESEAL_LOG_LEVEL=debug")
		out := runBlock(t, "host "+host, strings.Join(lines[:len(lines)-1], "\n"), dirs["office"], env)
		t.Logf("host %s:\n%s", host, out)
		logs[host] = &lockedBuffer{}
		cmd := exec.Command("bash", "-c", "exec "+serve)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, logs[host], logs[host]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
		waitHTTP(t, "http://"+httpAddr+"/readyz", logs[host])
	}

	office := dirs["office"]
	for src, dst := range map[string]string{"../internal/democatalog/townships.csv": "townships.csv", "../internal/democatalog/items.csv": "items.csv",
		"../internal/democatalog/township_items.csv": "township_items.csv", "../testdata/pdfs/decision.pdf": "decision.pdf"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(office, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := runBlock(t, "office", subst("office", blocks["office"]), office, cleanEnv(bin))
	t.Logf("office:\n%s", out)
	for _, f := range []string{"sealed-1.pdf", "sealed-2.pdf", "county.crl"} {
		if fi, err := os.Stat(filepath.Join(office, f)); err != nil || fi.Size() == 0 {
			t.Errorf("the office block made no %s: %v", f, err)
		}
	}
	for _, host := range []string{"a", "b"} {
		if !strings.Contains(logs[host].String(), "method=/seal.v1.SealingService/Seal code=OK") {
			t.Errorf("replica %s sealed nothing; its log:\n%s", host, logs[host])
		}
	}
	t.Logf("load balancer: %d connections to A, %d to B", lb.per[0].Load(), lb.per[1].Load())
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, url string, log *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within 60 s; log:\n%s", url, log)
}
