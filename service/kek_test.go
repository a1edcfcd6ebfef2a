package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// TestRotateKEK: after rotation the service opens with the new KEK, its
// seals still sign, and the old KEK is refused.
func TestRotateKEK(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ESEAL_DATA_DIR", dir)
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureKEK(c.KEKFile); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := Open(ctx, c, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.PrepareDemo(ctx); err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(dir, "kek-2")
	if err := svc.RotateKEK(ctx, next); err != nil {
		t.Fatal(err)
	}
	svc.Close()

	if _, err := Open(ctx, c, log); err == nil {
		t.Fatal("the old KEK still opens the store")
	}
	c.KEKFile = next
	svc, err = Open(ctx, c, log)
	if err != nil {
		t.Fatalf("the new KEK: %v", err)
	}
	defer svc.Close()
	signer, err := svc.Keystore.Signer(ctx, "450224100")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("after rotation")
	sig, err := signer.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		t.Fatalf("signing after rotation: %v", err)
	}
	if !sm2.VerifyASN1WithSM2(signer.Public().(*ecdsa.PublicKey), nil, msg, sig) {
		t.Fatal("the signature made after rotation does not verify")
	}
}
