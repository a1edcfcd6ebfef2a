package keystore_test

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/ronganxian/eseal/keystore"
)

// needles are the forms in which a private key could leak into a file.
type needle struct {
	what string
	b    []byte
}

func keyNeedles(what string, k *sm2.PrivateKey) []needle {
	d := k.D.FillBytes(make([]byte, 32))
	pkcs8, _ := smx509.MarshalPKCS8PrivateKey(k)
	sec1, _ := smx509.MarshalSM2PrivateKey(k)
	return []needle{
		{what + ": raw scalar D", d},
		{what + ": D in hex", []byte(hex.EncodeToString(d))},
		{what + ": PKCS#8 DER", pkcs8},
		{what + ": SEC 1 DER", sec1},
		{what + ": PKCS#8 PEM body", []byte(base64.StdEncoding.EncodeToString(pkcs8)[:40])},
		{what + ": PEM", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})},
	}
}

// scan returns the needles found in the files of dir.
func scan(t *testing.T, dir string, needles []needle) []string {
	t.Helper()
	var found []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		data, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(data, n.b) {
				found = append(found, ent.Name()+": "+n.what)
			}
		}
		for _, marker := range []string{"PRIVATE KEY", "eseal-kek-v1:"} {
			if bytes.Contains(data, []byte(marker)) {
				found = append(found, ent.Name()+": "+marker)
			}
		}
	}
	return found
}

// TestNoPlaintextKeyMaterial issues, uses, rotates and revokes seals, signs
// with the ledger key and renews it, then searches the database file and its
// WAL, while open and after closing, for every private key (the CA's, the
// seals' and the ledger keys', live ones and destroyed ones) in every
// encoding, and for the KEK.
func TestNoPlaintextKeyMaterial(t *testing.T) {
	e := newEnv(t, true)
	dir := filepath.Dir(e.path)
	store := e.db.Keystore()
	backend := keystore.NewSoftwareBackend(e.kek)
	var needles []needle
	collect := func(what, keyID string) {
		rec, err := store.Key(e.ctx, keyID)
		if err != nil {
			t.Fatal(err)
		}
		k, err := keystore.OpenEnvelopeForTest(backend, keystore.KeyRef{ID: rec.ID, Owner: rec.Owner}, rec.Handle)
		if err != nil {
			t.Fatal(err)
		}
		needles = append(needles, keyNeedles(what, k)...)
	}
	ca, err := store.CA(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	collect("CA key", ca.KeyID)

	var seals []keystore.Seal
	for _, tw := range townships {
		s := e.issueActive(tw)
		collect(s.ID, s.KeyID)
		e.mustSign(tw.TownshipCode, []byte("use the key"))
		seals = append(seals, s)
	}
	if _, err := e.ks.Rotate(e.ctx, seals[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ks.Revoke(e.ctx, seals[1].ID, keystore.ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ks.PublishCRL(e.ctx); err != nil {
		t.Fatal(err)
	}
	// The ledger-signing key, used, then renewed: one retired (destroyed)
	// and one current.
	for round := range 2 {
		signer, _, err := e.ks.LedgerSigner(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := signer.Sign(nil, []byte("checkpoint"), sm2.DefaultSM2SignerOpts); err != nil {
			t.Fatal(err)
		}
		recs, err := store.LedgerKeys(e.ctx)
		if err != nil || len(recs) != round+1 {
			t.Fatalf("ledger keys: %d, %v", len(recs), err)
		}
		collect(fmt.Sprint("ledger key ", round), recs[round].KeyID)
		e.clock.add(340 * 24 * time.Hour) // into the last tenth of its validity
	}
	// The KEK, as the rotation test would keep it.
	kekPath := filepath.Join(t.TempDir(), "kek")
	next, err := keystore.WriteKEKFile(kekPath)
	if err != nil {
		t.Fatal(err)
	}
	kekText, _ := os.ReadFile(kekPath)
	needles = append(needles, needle{"new KEK text", bytes.TrimSpace(kekText)})
	if err := e.ks.RotateKEK(e.ctx, next); err != nil {
		t.Fatal(err)
	}

	if _, err := os.Stat(e.path + "-wal"); err != nil {
		t.Fatalf("expected a WAL file beside the open database: %v", err)
	}
	if found := scan(t, dir, needles); len(found) > 0 {
		t.Fatalf("private key material in plaintext while open:\n%s", strings.Join(found, "\n"))
	}
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	if found := scan(t, dir, needles); len(found) > 0 {
		t.Fatalf("private key material in plaintext after closing:\n%s", strings.Join(found, "\n"))
	}

	// The scan finds what it looks for: plant one scalar and one PEM.
	os.WriteFile(filepath.Join(dir, "planted"), append(append([]byte("x"), needles[0].b...), needles[5].b...), 0o600)
	if found := scan(t, dir, needles); len(found) < 2 {
		t.Fatalf("the scan missed planted key material: found %v", found)
	}
	if len(needles) < 6*(len(townships)+3) {
		t.Fatalf("only %d needles", len(needles))
	}
}

// TestEnvelopeBoundToRow moves and alters envelopes in the database, as an
// attacker with the file but not the KEK could: no key opens in another row,
// a changed envelope does not open, and nothing signs with the wrong key.
func TestEnvelopeBoundToRow(t *testing.T) {
	e := newEnv(t, true)
	a := e.issueActive(townships[0])
	b := e.issueActive(townships[1])
	raw, err := sql.Open("sqlite", e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	handle := func(keyID string) []byte {
		var h []byte
		if err := raw.QueryRow("SELECT handle FROM keystore_keys WHERE id = ?", keyID).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	set := func(keyID string, h []byte) {
		if _, err := raw.Exec("UPDATE keystore_keys SET handle = ? WHERE id = ?", h, keyID); err != nil {
			t.Fatal(err)
		}
	}
	ha, hb := handle(a.KeyID), handle(b.KeyID)
	flip := func(h []byte, i int) []byte {
		c := append([]byte(nil), h...)
		c[i] ^= 0x80
		return c
	}

	cases := []struct {
		name   string
		change func()
	}{
		{"envelopes swapped between seals", func() { set(a.KeyID, hb); set(b.KeyID, ha) }},
		{"last byte of the sealed key changed", func() { set(a.KeyID, flip(ha, len(ha)-1)) }},
		{"a byte in the middle changed", func() { set(a.KeyID, flip(ha, len(ha)/2)) }},
		{"truncated", func() { set(a.KeyID, ha[:len(ha)-5]) }},
		{"garbage", func() { set(a.KeyID, []byte("not an envelope")) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.change()
			defer func() { set(a.KeyID, ha); set(b.KeyID, hb) }()
			ks, err := e.open(e.openDB(), e.kek) // a fresh Keystore: nothing cached
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ks.Signer(e.ctx, townships[0].TownshipCode); !errors.Is(err, keystore.ErrKeyCorrupt) {
				t.Fatalf("Signer: err = %v, want ErrKeyCorrupt", err)
			}
			if err := ks.Check(e.ctx); !errors.Is(err, keystore.ErrKeyCorrupt) {
				t.Fatalf("Check: err = %v, want ErrKeyCorrupt", err)
			}
		})
	}
	ks, err := e.open(e.openDB(), e.kek)
	if err != nil {
		t.Fatal(err)
	}
	for _, tw := range townships[:2] {
		s, err := ks.Signer(e.ctx, tw.TownshipCode)
		if err != nil {
			t.Fatalf("after restoring the envelopes: %v", err)
		}
		if _, err := s.Sign(nil, []byte("x"), sm2.DefaultSM2SignerOpts); err != nil {
			t.Fatal(err)
		}
	}
}
