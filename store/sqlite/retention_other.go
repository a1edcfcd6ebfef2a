//go:build !linux

package sqlite

import "os"

// eraseRange writes zeros over the range: punching holes is Linux's here.
func eraseRange(f *os.File, off, n int64) error { return zeroRange(f, off, n) }
