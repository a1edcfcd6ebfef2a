package pdf

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// SealFile seals the PDF at srcPath and writes the result to dstPath
// atomically: into a temporary file beside dstPath, synced to disk, then
// renamed over dstPath, and the directory synced. On any error dstPath is
// left as it was and the temporary file is removed. dstPath may equal
// srcPath. The output takes the source file's permissions.
func SealFile(dstPath, srcPath string, req Request) (res *Result, err error) {
	in, err := os.Open(srcPath)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("pdf: %s is not a regular file", srcPath)
	}
	dir := filepath.Dir(dstPath)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dstPath)+".*.tmp")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// The output goes to a temporary file that is removed on error, so
	// the source can be copied while it is hashed: read once, not twice.
	bw := bufio.NewWriterSize(tmp, 256<<10)
	if res, err = seal(bw, in, st.Size(), req, true); err != nil {
		return nil, err
	}
	if err = bw.Flush(); err != nil {
		return nil, err
	}
	if err = tmp.Chmod(st.Mode().Perm()); err != nil {
		return nil, err
	}
	if err = tmp.Sync(); err != nil {
		return nil, err
	}
	if err = tmp.Close(); err != nil {
		return nil, err
	}
	if err = os.Rename(tmp.Name(), dstPath); err != nil {
		return nil, err
	}
	// Make the rename durable. A directory that cannot be synced (some
	// file systems refuse) does not undo a completed rename.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return res, nil
}
