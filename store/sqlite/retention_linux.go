package sqlite

import (
	"os"
	"syscall"
)

// Linux's fallocate(2) modes.
const (
	fallocKeepSize  = 0x1
	fallocPunchHole = 0x2
)

// eraseRange punches the range out of the file, which gives its blocks
// back to the file system and reads as zeros; where the file system cannot
// punch holes, it writes zeros.
func eraseRange(f *os.File, off, n int64) error {
	if n == 0 {
		return nil
	}
	if err := syscall.Fallocate(int(f.Fd()), fallocPunchHole|fallocKeepSize, off, n); err == nil {
		return nil
	}
	return zeroRange(f, off, n)
}
