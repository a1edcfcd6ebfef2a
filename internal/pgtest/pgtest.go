// Package pgtest gives tests a real PostgreSQL server: the one named by
// ESEAL_TEST_POSTGRES (an admin connection string), or else a throwaway
// cluster it starts from Debian's postgresql binaries with initdb in a
// temporary directory, listening only on loopback, and removes afterwards.
// Tests that need PostgreSQL fail, never skip, when neither is possible.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvDSN names the environment variable of an existing server's admin DSN.
const EnvDSN = "ESEAL_TEST_POSTGRES"

// Server is a running PostgreSQL server for tests.
type Server struct {
	AdminDSN string
	host     string
	port     int
	// mu orders Stop, Restart, Freeze and Thaw, which may be called from
	// different goroutines; it guards cmd and exited.
	mu     sync.Mutex
	cmd    *exec.Cmd
	newCmd func() *exec.Cmd // the postgres command again, for Restart
	exited chan struct{}    // closed when the server process has exited
	dir    string
	n      atomic.Int64
}

// Start returns the server named by ESEAL_TEST_POSTGRES, or starts one
// tuned for tests: without fsync, synchronous commit or full-page writes,
// which a throwaway cluster does not need.
func Start() (*Server, error) { return startServer(false) }

// StartThrowaway starts a cluster of its own, tuned like Start's, even when
// ESEAL_TEST_POSTGRES names a server: tests that restart or freeze the
// server (Restart, Freeze) must not do it to a shared one.
func StartThrowaway() (*Server, error) { return startCluster(false) }

// StartDurable is Start, but a server it starts keeps PostgreSQL's default
// durability: a commit returns once its WAL is on disk, as in production.
// Benchmarks that report what the service costs use it.
func StartDurable() (*Server, error) { return startServer(true) }

func startServer(durable bool) (*Server, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return &Server{AdminDSN: dsn}, nil
	}
	return startCluster(durable)
}

func startCluster(durable bool) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	sweepStale()
	dir, err := os.MkdirTemp("", "eseal-pg-")
	if err != nil {
		return nil, err
	}
	run := func(name string, args ...string) *exec.Cmd {
		return exec.Command(filepath.Join(bin, name), args...)
	}
	// initdb and postgres refuse to run as root: run them as the postgres
	// user that Debian's package creates.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user (apt-get install postgresql): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		run = func(name string, args ...string) *exec.Cmd {
			c := exec.Command(filepath.Join(bin, name), args...)
			c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
			return c
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{host: "127.0.0.1", port: port, dir: dir,
		AdminDSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"}
	if !durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	s.newCmd = func() *exec.Cmd {
		c := run("postgres", args...)
		c.Stdout, c.Stderr = nil, nil
		return c
	}
	s.cmd = s.newCmd()
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: starting postgres: %w", err)
	}
	if err := s.waitReady(30 * time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		db, err := sql.Open("pgx", s.AdminDSN)
		if err == nil {
			err = db.PingContext(context.Background())
			db.Close()
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres did not accept connections within %v: %w", limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops a server that Start started, and removes its files.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.thaw()                             // a frozen server cannot shut down
	s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.dir)
}

// start starts the server so that it dies with the test process: a test
// binary killed before Stop (a timeout, a SIGKILL) must not leave a cluster
// running. The kernel sends SIGKILL to the child when the thread that
// started it exits, so that thread is locked to a goroutine that lives as
// long as the server.
func (s *Server) start() error {
	s.cmd.SysProcAttr = procAttr(s.cmd.SysProcAttr)
	s.exited = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := s.cmd.Start(); err != nil {
			started <- err
			close(s.exited)
			return
		}
		started <- nil
		s.cmd.Wait()
		close(s.exited)
	}()
	return <-started
}

func procAttr(a *syscall.SysProcAttr) *syscall.SysProcAttr {
	if a == nil {
		a = &syscall.SysProcAttr{}
	}
	a.Pdeathsig = syscall.SIGKILL
	return a
}

// NewDatabase creates an empty database for one test, dropped when the
// test ends, and returns its DSN.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("pgx", s.AdminDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("eseal_test_%d_%d", os.Getpid(), s.n.Add(1))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", s.AdminDSN)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u := *mustParse(s.AdminDSN)
	u.Path = "/" + name
	return u.String()
}

// Main is TestMain for a package whose tests use Shared: it starts the
// server, runs the tests, and stops it. A server that cannot start fails the
// package.
func Main(m *testing.M) {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		os.Exit(1)
	}
	shared = s
	code := m.Run()
	s.Stop()
	if durable.s != nil {
		durable.s.Stop()
	}
	os.Exit(code)
}

var (
	shared  *Server
	durable struct {
		once sync.Once
		s    *Server
		err  error
	}
)

// Durable returns a server started with StartDurable, the first time it is
// asked for; Main stops it.
func Durable(t testing.TB) *Server {
	durable.once.Do(func() { durable.s, durable.err = StartDurable() })
	if durable.err != nil {
		t.Fatal(durable.err)
	}
	return durable.s
}

// Shared returns the server that Main started.
func Shared(t testing.TB) *Server {
	if shared == nil {
		t.Fatal("pgtest: no server; call pgtest.Main from TestMain")
	}
	return shared
}

func findBin() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("pgtest: no PostgreSQL server binaries; run scripts/install-deps.sh (apt-get install postgresql) or set %s", EnvDSN)
	}
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi < vj
	})
	return filepath.Dir(matches[len(matches)-1]), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func mustParse(dsn string) *url.URL {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(fmt.Sprintf("pgtest: admin DSN %q is not a URL: %v", dsn, err))
	}
	return u
}

// sweepStale removes the directories of clusters whose test process was
// killed before it could: their server died with it (see start), so a
// directory whose postmaster.pid names no live process is garbage.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "eseal-pg-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid"))
		if err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && syscall.Kill(pid, 0) == nil {
				continue // a live server, maybe another test run's
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			continue
		}
		if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > time.Minute {
			os.RemoveAll(d)
		}
	}
}
