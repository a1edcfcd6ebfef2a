package keystore_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/keystore"
)

// TestBadRequests offers malformed seal requests and unknown ids: each gets
// a typed error naming what is wrong, and nothing is stored.
func TestBadRequests(t *testing.T) {
	e := newEnv(t, true)
	ok := changan
	with := func(f func(*keystore.SealRequest)) keystore.SealRequest { r := ok; f(&r); return r }
	tests := []struct {
		name  string
		req   keystore.SealRequest
		field string
	}{
		{"empty code", with(func(r *keystore.SealRequest) { r.TownshipCode = "" }), "TownshipCode"},
		{"8-digit code", with(func(r *keystore.SealRequest) { r.TownshipCode = "45022410" }), "TownshipCode"},
		{"letters in code", with(func(r *keystore.SealRequest) { r.TownshipCode = "45022410X" }), "TownshipCode"},
		{"full-width digits", with(func(r *keystore.SealRequest) { r.TownshipCode = "４５０２２４１００" }), "TownshipCode"},
		{"empty organization", with(func(r *keystore.SealRequest) { r.Organization = "" }), "Organization"},
		{"organization with newline", with(func(r *keystore.SealRequest) { r.Organization = "融安县长安镇\n人民政府" }), "Organization"},
		{"organization with space", with(func(r *keystore.SealRequest) { r.Organization = " 融安县长安镇人民政府" }), "Organization"},
		{"invalid UTF-8", with(func(r *keystore.SealRequest) { r.Name = "融安县长安镇人民政府\xff章" }), "Name"},
		{"name too long", with(func(r *keystore.SealRequest) { r.Name = ok.Organization + strings.Repeat("章", 60) }), "Name"},
		{"name of another government", with(func(r *keystore.SealRequest) { r.Name = townships[1].Name }), "Name"},
		{"name is only the organization", with(func(r *keystore.SealRequest) { r.Name = ok.Organization }), "Name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for op, do := range map[string]func() error{
				"Issue":              func() error { _, err := e.ks.Issue(e.ctx, tt.req); return err },
				"RequestCertificate": func() error { _, _, err := e.ks.RequestCertificate(e.ctx, tt.req); return err },
			} {
				err := do()
				var re *keystore.RequestError
				if !errors.Is(err, keystore.ErrInvalidRequest) || !errors.As(err, &re) || re.Field != tt.field {
					t.Errorf("%s: err = %v, want a *RequestError for %s", op, err, tt.field)
				}
			}
		})
	}
	if seals, _ := e.ks.Seals(e.ctx, ""); len(seals) != 0 {
		t.Fatalf("bad requests stored %d seals", len(seals))
	}

	for op, do := range map[string]func() error{
		"Seal":              func() error { _, err := e.ks.Seal(e.ctx, "seal-nope"); return err },
		"Activate":          func() error { _, err := e.ks.Activate(e.ctx, "seal-nope"); return err },
		"Suspend":           func() error { _, err := e.ks.Suspend(e.ctx, "seal-nope"); return err },
		"Resume":            func() error { _, err := e.ks.Resume(e.ctx, "seal-nope"); return err },
		"Rotate":            func() error { _, err := e.ks.Rotate(e.ctx, "seal-nope"); return err },
		"Revoke":            func() error { _, err := e.ks.Revoke(e.ctx, "seal-nope", keystore.ReasonUnspecified); return err },
		"AcceptCertificate": func() error { _, err := e.ks.AcceptCertificate(e.ctx, "seal-nope", nil); return err },
		"CSR":               func() error { _, err := e.ks.CSR(e.ctx, "seal-nope"); return err },
		"SealSigner":        func() error { _, err := e.ks.SealSigner(e.ctx, "seal-nope"); return err },
	} {
		if err := do(); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("%s of an unknown seal: err = %v, want ErrNotFound", op, err)
		}
	}
	if _, err := e.ks.Signer(e.ctx, "450224999"); !errors.Is(err, keystore.ErrNoSeal) {
		t.Errorf("Signer of a township without a seal: err = %v, want ErrNoSeal", err)
	}
	if _, err := e.ks.LiveSeal(e.ctx, "450224999"); !errors.Is(err, keystore.ErrNoSeal) {
		t.Errorf("LiveSeal of a township without a seal: err = %v, want ErrNoSeal", err)
	}

	s := e.issueActive(changan)
	for _, reason := range []keystore.RevocationReason{6, 7, 8, 2, -1, 11} {
		if _, err := e.ks.Revoke(e.ctx, s.ID, reason); !errors.Is(err, keystore.ErrInvalidRequest) {
			t.Errorf("Revoke with reason %d: err = %v, want ErrInvalidRequest", reason, err)
		}
	}
	if now, _ := e.ks.Seal(e.ctx, s.ID); now.State != keystore.StateActive {
		t.Fatal("a refused revocation changed the seal")
	}
	if _, err := e.ks.CSR(e.ctx, s.ID); !errors.Is(err, keystore.ErrInvalidTransition) {
		t.Errorf("CSR of an active seal: err = %v, want ErrInvalidTransition", err)
	}
	if _, err := e.ks.CreateCA(e.ctx, keystore.CAOptions{CommonName: "", Organization: "x"}); !errors.Is(err, keystore.ErrInvalidRequest) {
		t.Errorf("CreateCA without a name: err = %v, want ErrInvalidRequest", err)
	}
}

func TestOpenConfig(t *testing.T) {
	e := newEnv(t, false)
	for name, cfg := range map[string]keystore.Config{
		"no store":          {Backend: keystore.NewSoftwareBackend(e.kek)},
		"no backend":        {Store: e.db.Keystore()},
		"negative validity": {Store: e.db.Keystore(), Backend: keystore.NewSoftwareBackend(e.kek), SealValidity: -1},
	} {
		if _, err := keystore.Open(e.ctx, cfg); !errors.Is(err, keystore.ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", name, err)
		}
	}
	noKEK := keystore.Config{Store: e.db.Keystore(), Backend: keystore.NewSoftwareBackend(nil)}
	if _, err := keystore.Open(e.ctx, noKEK); !errors.Is(err, keystore.ErrInvalidKEK) {
		t.Errorf("a backend without a KEK: err = %v, want ErrInvalidKEK", err)
	}
	if err := e.ks.RotateKEK(e.ctx, nil); !errors.Is(err, keystore.ErrInvalidRequest) {
		t.Errorf("RotateKEK(nil): err = %v, want ErrInvalidRequest", err)
	}
	var nilKEK *keystore.KEK
	if got := fmt.Sprint(nilKEK); got != "KEK()" {
		t.Errorf("a nil KEK prints %q", got)
	}
}

// TestClose checks that a closed Keystore and its signers refuse to work.
func TestClose(t *testing.T) {
	e := newEnv(t, true)
	e.issueActive(changan)
	s, err := e.ks.Signer(e.ctx, changan.TownshipCode)
	if err != nil {
		t.Fatal(err)
	}
	e.ks.Close()
	if _, err := s.Sign(nil, []byte("x"), nil); !errors.Is(err, keystore.ErrClosed) {
		t.Fatalf("Sign after Close: err = %v, want ErrClosed", err)
	}
	if _, err := e.ks.Signer(e.ctx, changan.TownshipCode); !errors.Is(err, keystore.ErrClosed) {
		t.Fatalf("Signer after Close: err = %v, want ErrClosed", err)
	}
	if e.ks.CachedSeals() != 0 {
		t.Fatal("Close kept decrypted keys")
	}
}
