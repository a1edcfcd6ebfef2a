package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errNotOurs refuses to fault a server this package did not start.
var errNotOurs = errors.New("pgtest: only a cluster started here (StartThrowaway) can be restarted or frozen, not one named by " + EnvDSN)

// Restart shuts the server down as an administrator would (a fast
// shutdown: every connection is terminated with 57P01), keeps it down for
// down, and starts it again on the same data and port. It returns once the
// server accepts connections.
func (s *Server) Restart(down time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errNotOurs
	}
	s.thaw()
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		return errors.New("pgtest: postgres did not shut down within 30 s")
	}
	time.Sleep(down)
	s.cmd = s.newCmd()
	if err := s.start(); err != nil {
		return fmt.Errorf("pgtest: restarting postgres: %w", err)
	}
	return s.waitReady(30 * time.Second)
}

// Freeze stops the server's processes with SIGSTOP, the postmaster first so
// that it starts no new backend, then its children: connections stay open
// and new ones are accepted by the kernel, but nothing answers, as with a
// hung host. Thaw undoes it; Stop thaws first.
func (s *Server) Freeze() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errNotOurs
	}
	pm := s.cmd.Process.Pid
	if err := syscall.Kill(pm, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pgtest: SIGSTOP postmaster %d: %w", pm, err)
	}
	for _, pid := range children(pm) {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
	return nil
}

// Thaw continues a frozen server: its children first, then the postmaster.
func (s *Server) Thaw() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.thaw()
}

func (s *Server) thaw() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return errNotOurs
	}
	pm := s.cmd.Process.Pid
	for _, pid := range children(pm) {
		syscall.Kill(pid, syscall.SIGCONT)
	}
	if err := syscall.Kill(pm, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("pgtest: SIGCONT postmaster %d: %w", pm, err)
	}
	return nil
}

// children lists the processes whose parent is pid, from /proc.
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil && ppid == pid {
			if c, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}
