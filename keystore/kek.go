package keystore

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/emmansun/gmsm/sm3"
)

// A KEK is the key-encryption key that wraps every data key of the software
// backend. It comes from configuration, never from the Store: a file only its
// owner can read (LoadKEKFile) or an environment variable (LoadKEKEnv).
//
// Its text form is "eseal-kek-v1:" followed by 32 random bytes in base64.
// From those bytes HKDF-SM3 derives an SM4 wrapping key and a public
// identifier, which the Store records so that a wrong KEK is refused before
// it is used. The KEK bytes themselves are not kept, and a KEK prints only
// as its identifier.
type KEK struct {
	id      string // hex; not secret
	wrapKey []byte // SM4 key; secret
}

const (
	kekPrefix   = "eseal-kek-v1:"
	kekSize     = 32
	maxKEKFile  = 1024
	kekIDInfo   = "eseal/keystore/kek-id/v1"
	kekWrapInfo = "eseal/keystore/kek-wrap/v1"
)

func randomKEKBytes() []byte {
	b := make([]byte, kekSize)
	rand.Read(b)
	return b
}

func newKEK(material []byte) (*KEK, error) {
	if len(material) != kekSize {
		return nil, fmt.Errorf("%w: %d bytes of key material, want %d", ErrInvalidKEK, len(material), kekSize)
	}
	id, err := hkdf.Key(sm3.New, material, nil, kekIDInfo, 8)
	if err != nil {
		return nil, fmt.Errorf("keystore: derive KEK id: %w", err)
	}
	wrap, err := hkdf.Key(sm3.New, material, nil, kekWrapInfo, 16)
	if err != nil {
		return nil, fmt.Errorf("keystore: derive KEK wrapping key: %w", err)
	}
	return &KEK{id: hex.EncodeToString(id), wrapKey: wrap}, nil
}

// ParseKEK reads a KEK from its text form. Surrounding white space is ignored.
func ParseKEK(text []byte) (*KEK, error) {
	t := bytes.TrimSpace(text)
	if !bytes.HasPrefix(t, []byte(kekPrefix)) {
		return nil, fmt.Errorf("%w: text does not start with %q", ErrInvalidKEK, kekPrefix)
	}
	enc := t[len(kekPrefix):]
	material := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Decode(material, enc)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrInvalidKEK, err)
	}
	defer clear(material)
	return newKEK(material[:n])
}

// LoadKEKFile reads a KEK from a file. The file must be a regular file that
// neither group nor others may read or write (mode 0600 or 0400); otherwise
// it fails with ErrKEKPermissions.
func LoadKEKFile(path string) (*KEK, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keystore: open KEK file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keystore: stat KEK file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidKEK, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, want 0600 or 0400", ErrKEKPermissions, path, perm)
	}
	text, err := io.ReadAll(io.LimitReader(f, maxKEKFile+1))
	if err != nil {
		return nil, fmt.Errorf("keystore: read KEK file: %w", err)
	}
	defer clear(text)
	if len(text) > maxKEKFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidKEK, path, maxKEKFile)
	}
	k, err := ParseKEK(text)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return k, nil
}

// LoadKEKEnv reads a KEK from the environment variable name.
func LoadKEKEnv(name string) (*KEK, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return nil, fmt.Errorf("%w: environment variable %s is not set", ErrInvalidKEK, name)
	}
	k, err := ParseKEK([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%w (environment variable %s)", err, name)
	}
	return k, nil
}

// WriteKEKFile generates a new KEK and writes it to path with mode 0600. It
// writes a temporary file, syncs it, and links it into place, so path is
// either absent or complete; it never replaces an existing file.
func WriteKEKFile(path string) (*KEK, error) {
	material := randomKEKBytes()
	defer clear(material)
	k, err := newKEK(material)
	if err != nil {
		return nil, err
	}
	text := []byte(kekPrefix + base64.StdEncoding.EncodeToString(material) + "\n")
	defer clear(text)

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".kek-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("keystore: write KEK file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if _, err := tmp.Write(text); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("keystore: write KEK file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("keystore: sync KEK file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("keystore: write KEK file: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		return nil, fmt.Errorf("keystore: install KEK file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return k, nil
}

// ID returns the KEK's public identifier, which the Store records.
func (k *KEK) ID() string {
	if k == nil {
		return ""
	}
	return k.id
}

// String returns "KEK(<id>)"; the key itself is never printed.
func (k *KEK) String() string { return "KEK(" + k.ID() + ")" }

// Format prints the KEK as String does, whatever the verb, so that no
// formatting of a KEK (e.g. %#v or %x) shows key bytes.
func (k *KEK) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }
