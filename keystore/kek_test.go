package keystore_test

import (
	"bytes"
	"crypto/ecdsa"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/ronganxian/eseal/keystore"
)

func TestParseKEK(t *testing.T) {
	material := bytes.Repeat([]byte{7}, 32)
	good := "eseal-kek-v1:" + base64.StdEncoding.EncodeToString(material)
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{"valid", good, true},
		{"surrounding white space", "\n  " + good + "\n", true},
		{"no prefix", base64.StdEncoding.EncodeToString(material), false},
		{"other prefix", "age-secret-key-1:" + base64.StdEncoding.EncodeToString(material), false},
		{"not base64", "eseal-kek-v1:!!!!", false},
		{"31 bytes", "eseal-kek-v1:" + base64.StdEncoding.EncodeToString(material[:31]), false},
		{"33 bytes", "eseal-kek-v1:" + base64.StdEncoding.EncodeToString(append(material, 1)), false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := keystore.ParseKEK([]byte(tt.text))
			if tt.ok {
				if err != nil {
					t.Fatalf("ParseKEK: %v", err)
				}
				if len(k.ID()) != 16 {
					t.Fatalf("ID() = %q, want 16 hex digits", k.ID())
				}
				return
			}
			if !errors.Is(err, keystore.ErrInvalidKEK) {
				t.Fatalf("ParseKEK(%q): err = %v, want ErrInvalidKEK", tt.text, err)
			}
		})
	}
	// The id depends on the key, and only on the key.
	a, _ := keystore.ParseKEK([]byte(good))
	b, _ := keystore.ParseKEK([]byte(" " + good))
	c, _ := keystore.ParseKEK([]byte("eseal-kek-v1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32))))
	if a.ID() != b.ID() || a.ID() == c.ID() {
		t.Fatalf("ids %s %s %s: want equal for equal keys, different otherwise", a.ID(), b.ID(), c.ID())
	}
}

func TestKEKFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kek")
	k, err := keystore.WriteKEKFile(path)
	if err != nil {
		t.Fatalf("WriteKEKFile: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("KEK file mode %04o, want 0600", fi.Mode().Perm())
	}
	loaded, err := keystore.LoadKEKFile(path)
	if err != nil {
		t.Fatalf("LoadKEKFile: %v", err)
	}
	if loaded.ID() != k.ID() {
		t.Fatalf("loaded KEK %s, wrote %s", loaded.ID(), k.ID())
	}
	before, _ := os.ReadFile(path)
	if _, err := keystore.WriteKEKFile(path); err == nil {
		t.Fatal("WriteKEKFile replaced an existing KEK file")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a refused WriteKEKFile changed the existing file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("WriteKEKFile left %d files behind, want 1", len(entries))
	}

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := keystore.LoadKEKFile(path); !errors.Is(err, keystore.ErrKEKPermissions) {
			t.Errorf("mode %04o: err = %v, want ErrKEKPermissions", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := keystore.LoadKEKFile(path); err != nil {
		t.Errorf("mode 0400: %v", err)
	}
	if _, err := keystore.LoadKEKFile(dir); !errors.Is(err, keystore.ErrInvalidKEK) {
		t.Errorf("a directory: err = %v, want ErrInvalidKEK", err)
	}
	if _, err := keystore.LoadKEKFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: err = %v, want os.ErrNotExist", err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, bytes.Repeat([]byte("a"), 2048), 0o600)
	if _, err := keystore.LoadKEKFile(big); !errors.Is(err, keystore.ErrInvalidKEK) {
		t.Errorf("a 2 KiB file: err = %v, want ErrInvalidKEK", err)
	}
}

func TestLoadKEKEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	k, err := keystore.WriteKEKFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(path)
	t.Setenv("ESEAL_TEST_KEK", string(text))
	got, err := keystore.LoadKEKEnv("ESEAL_TEST_KEK")
	if err != nil || got.ID() != k.ID() {
		t.Fatalf("LoadKEKEnv = %v, %v; want %s", got, err, k.ID())
	}
	t.Setenv("ESEAL_TEST_KEK", "")
	if _, err := keystore.LoadKEKEnv("ESEAL_TEST_KEK"); !errors.Is(err, keystore.ErrInvalidKEK) {
		t.Fatalf("empty variable: err = %v, want ErrInvalidKEK", err)
	}
	if _, err := keystore.LoadKEKEnv("ESEAL_TEST_KEK_UNSET_" + k.ID()); !errors.Is(err, keystore.ErrInvalidKEK) {
		t.Fatalf("unset variable: err = %v, want ErrInvalidKEK", err)
	}
}

// TestKEKNeverPrints formats a KEK every way and looks for its key.
func TestKEKNeverPrints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	k, err := keystore.WriteKEKFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(path)
	material, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(string(text)), "eseal-kek-v1:"))
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		out := fmt.Sprintf(verb, k)
		if strings.Contains(out, fmt.Sprintf("%x", material)) || strings.Contains(out, string(text)) ||
			strings.Contains(out, fmt.Sprint(material)) {
			t.Fatalf("fmt %s prints the KEK", verb)
		}
		if out != "KEK("+k.ID()+")" {
			t.Fatalf("fmt %s = %q, want KEK(%s)", verb, out, k.ID())
		}
	}
}

// snapshot returns every key handle and seal row, to show that a failed
// operation changed nothing.
func (e *env) snapshot() string {
	e.t.Helper()
	raw, err := sql.Open("sqlite", e.path+"?_pragma=query_only(1)")
	if err != nil {
		e.t.Fatal(err)
	}
	defer raw.Close()
	var b strings.Builder
	for _, q := range []string{
		"SELECT id, hex(handle), backend_id FROM keystore_keys ORDER BY id",
		"SELECT id, state, version FROM keystore_seals ORDER BY id",
		"SELECT name, value FROM keystore_meta ORDER BY name",
	} {
		rows, err := raw.Query(q)
		if err != nil {
			e.t.Fatal(err)
		}
		for rows.Next() {
			var a, b2, c sql.NullString
			if strings.Count(q, ",") == 2 {
				rows.Scan(&a, &b2, &c)
			} else {
				rows.Scan(&a, &b2)
			}
			fmt.Fprintln(&b, a.String, b2.String, c.String)
		}
		rows.Close()
	}
	return b.String()
}

// TestWrongKEK opens the store with a wrong KEK, which must fail clearly and
// change nothing, and then shows that the right KEK still works.
func TestWrongKEK(t *testing.T) {
	e := newEnv(t, true)
	e.issueActive(changan)
	e.issueActive(townships[1])
	before := e.snapshot()

	wrong := keystore.GenerateKEK()
	_, err := e.open(e.openDB(), wrong)
	if !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("Open with a wrong KEK: err = %v, want ErrWrongKEK", err)
	}
	if !strings.Contains(err.Error(), e.kek.ID()) || !strings.Contains(err.Error(), wrong.ID()) {
		t.Errorf("the error %q should name both KEK ids", err)
	}

	// Even if the check at Open is bypassed (the recorded id overwritten in
	// the database), the wrong KEK opens no key and destroys nothing.
	raw, err := sql.Open("sqlite", e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("UPDATE keystore_meta SET value = ? WHERE name = 'backend_id'", wrong.ID()); err != nil {
		t.Fatal(err)
	}
	ks, err := e.open(e.openDB(), wrong)
	if err != nil {
		t.Fatalf("Open after overwriting the recorded id: %v", err)
	}
	if _, err := ks.Signer(e.ctx, changan.TownshipCode); !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("Signer with a wrong KEK: err = %v, want ErrWrongKEK", err)
	}
	if _, err := ks.Issue(e.ctx, townships[2]); !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("Issue with a wrong KEK: err = %v, want ErrWrongKEK (the CA key does not open)", err)
	}
	if err := ks.RotateKEK(e.ctx, keystore.GenerateKEK()); !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("RotateKEK from a wrong KEK: err = %v, want ErrWrongKEK", err)
	}
	if err := ks.Check(e.ctx); !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("Check with a wrong KEK: err = %v, want ErrWrongKEK", err)
	}
	if _, err := raw.Exec("UPDATE keystore_meta SET value = ? WHERE name = 'backend_id'", e.kek.ID()); err != nil {
		t.Fatal(err)
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("the wrong KEK changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	ks, err = e.open(e.openDB(), e.kek)
	if err != nil {
		t.Fatalf("Open with the right KEK afterwards: %v", err)
	}
	for _, tw := range townships[:2] {
		s, err := ks.Signer(e.ctx, tw.TownshipCode)
		if err != nil {
			t.Fatalf("Signer(%s) with the right KEK afterwards: %v", tw.TownshipCode, err)
		}
		if _, err := s.Sign(nil, []byte("x"), sm2.DefaultSM2SignerOpts); err != nil {
			t.Fatal(err)
		}
	}
	if err := ks.Check(e.ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// TestKEKRotation rotates the KEK: every handle changes, no seal, key or
// certificate does, the new KEK opens the store and the old one no longer
// does. A signer obtained before the rotation keeps working.
func TestKEKRotation(t *testing.T) {
	e := newEnv(t, true)
	for _, tw := range townships[:3] {
		e.issueActive(tw)
	}
	pending, err := e.ks.Issue(e.ctx, townships[3]) // an issued seal, not active
	if err != nil {
		t.Fatal(err)
	}
	held, err := e.ks.Signer(e.ctx, changan.TownshipCode)
	if err != nil {
		t.Fatal(err)
	}
	store := e.db.Keystore()
	sealsBefore, _ := e.ks.Seals(e.ctx, "")
	handles := map[string][]byte{}
	keys := []string{pending.KeyID}
	for _, tw := range townships[:3] {
		s, _ := e.ks.LiveSeal(e.ctx, tw.TownshipCode)
		keys = append(keys, s.KeyID)
	}
	for _, id := range keys {
		k, _ := store.Key(e.ctx, id)
		handles[id] = k.Handle
	}

	next := keystore.GenerateKEK()
	if err := e.ks.RotateKEK(e.ctx, next); err != nil {
		t.Fatalf("RotateKEK: %v", err)
	}
	for _, id := range keys {
		k, _ := store.Key(e.ctx, id)
		if bytes.Equal(k.Handle, handles[id]) || k.BackendID != next.ID() {
			t.Fatalf("key %s was not rewrapped (backend id %s)", id, k.BackendID)
		}
	}
	sealsAfter, _ := e.ks.Seals(e.ctx, "")
	if fmt.Sprint(sealsBefore) != fmt.Sprint(sealsAfter) {
		t.Fatal("KEK rotation changed the seals")
	}
	if _, err := held.Sign(nil, []byte("x"), sm2.DefaultSM2SignerOpts); err != nil {
		t.Fatalf("signer from before the rotation: %v", err)
	}
	// The same Keystore issues under the new KEK.
	if _, err := e.ks.Issue(e.ctx, townships[4]); err != nil {
		t.Fatalf("Issue after rotation: %v", err)
	}

	if _, err := e.open(e.openDB(), e.kek); !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("Open with the old KEK after rotation: err = %v, want ErrWrongKEK", err)
	}
	ks, err := e.open(e.openDB(), next)
	if err != nil {
		t.Fatalf("Open with the new KEK: %v", err)
	}
	for _, tw := range townships[:3] {
		s, err := ks.Signer(e.ctx, tw.TownshipCode)
		if err != nil {
			t.Fatalf("Signer(%s) under the new KEK: %v", tw.TownshipCode, err)
		}
		msg := []byte("after KEK rotation")
		sig, err := s.Sign(nil, msg, sm2.DefaultSM2SignerOpts)
		if err != nil {
			t.Fatal(err)
		}
		verifyBoth(t, s.Public().(*ecdsa.PublicKey), msg, sig)
	}
	if err := ks.Check(e.ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := ks.RotateKEK(e.ctx, next); !errors.Is(err, keystore.ErrInvalidRequest) {
		t.Fatalf("RotateKEK to the KEK in use: err = %v, want ErrInvalidRequest", err)
	}
}

// TestKEKRotationIsAtomic makes the rewrap fail half-way, through a key row
// whose envelope was copied from another row (so its data key does not
// authenticate there), and checks that no key changed and the old KEK still
// works.
func TestKEKRotationIsAtomic(t *testing.T) {
	e := newEnv(t, true)
	for _, tw := range townships[:4] {
		e.issueActive(tw)
	}
	raw, err := sql.Open("sqlite", e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var firstHandle, handle []byte
	var lastID string
	if err := raw.QueryRow("SELECT handle FROM keystore_keys WHERE handle IS NOT NULL ORDER BY id LIMIT 1").Scan(&firstHandle); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow("SELECT id, handle FROM keystore_keys WHERE handle IS NOT NULL ORDER BY id DESC LIMIT 1").Scan(&lastID, &handle); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("UPDATE keystore_keys SET handle = ? WHERE id = ?", firstHandle, lastID); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()
	if err := e.ks.RotateKEK(e.ctx, keystore.GenerateKEK()); !errors.Is(err, keystore.ErrKeyCorrupt) {
		t.Fatalf("RotateKEK over a moved envelope: err = %v, want ErrKeyCorrupt", err)
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("a failed KEK rotation changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if _, err := raw.Exec("UPDATE keystore_keys SET handle = ? WHERE id = ?", handle, lastID); err != nil {
		t.Fatal(err)
	}
	ks, err := e.open(e.openDB(), e.kek)
	if err != nil {
		t.Fatalf("the old KEK after a failed rotation: %v", err)
	}
	if err := ks.Check(e.ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}
