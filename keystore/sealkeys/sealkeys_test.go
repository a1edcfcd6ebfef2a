package sealkeys

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/sealimage"
	"github.com/ronganxian/eseal/store/sqlite"
)

// openKeystore is a keystore with a county CA in a SQLite file, whose
// clock the test moves.
func openKeystore(t *testing.T, now *time.Time) *keystore.Keystore {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kek, err := keystore.WriteKEKFile(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(ctx, keystore.Config{Store: db.Keystore(), Backend: keystore.NewSoftwareBackend(kek),
		Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	if _, err := ks.CreateCA(ctx, keystore.CAOptions{CommonName: "测试县电子印章CA (TEST)", Organization: "测试县政务服务监督管理办公室"}); err != nil {
		t.Fatal(err)
	}
	return ks
}

func sealRequest(town string) keystore.SealRequest {
	return keystore.SealRequest{TownshipCode: town, Organization: "融安县长安镇人民政府", Name: "融安县长安镇人民政府行政审批专用章"}
}

// TestCurrent follows one township's seal through its life and checks what
// one read gives the policy at each step: the state, and a signer only
// while the seal may sign.
func TestCurrent(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	ks := openKeystore(t, &now)
	img, err := pdf.NewSealImage(sealimage.Round(200), 42)
	if err != nil {
		t.Fatal(err)
	}
	seals := NewSeals(ks, func(context.Context, keystore.Seal) (*pdf.SealImage, error) { return img, nil })
	const town = "450224100"

	if _, err := seals.Current(ctx, town); !errors.Is(err, seal.ErrNoSeal) {
		t.Fatalf("a township that never had a seal: %v, want ErrNoSeal", err)
	}
	issued, err := ks.Issue(ctx, sealRequest(town))
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, want seal.State, signs bool) *seal.Key {
		t.Helper()
		k, err := seals.Current(ctx, town)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if k.ID != issued.ID || k.State != want || (k.Signer != nil) != signs || (len(k.Chain) > 0) != signs || (k.Image != nil) != signs {
			t.Fatalf("%s: key %s in state %s, signer %v, chain %d, image %v; want %s in state %s, signs %v",
				step, k.ID, k.State, k.Signer != nil, len(k.Chain), k.Image != nil, issued.ID, want, signs)
		}
		if k.NotBefore.IsZero() || !k.NotAfter.After(k.NotBefore) {
			t.Fatalf("%s: validity %s to %s", step, k.NotBefore, k.NotAfter)
		}
		return k
	}
	check("issued", seal.StateIssued, false)
	if _, err := ks.Activate(ctx, issued.ID); err != nil {
		t.Fatal(err)
	}
	k := check("active", seal.StateActive, true)
	if k.Name != issued.Name || k.Chain[0].SerialNumber.Cmp(issued.Serial) != 0 {
		t.Fatalf("active key %q with serial %x, want %q, %x", k.Name, k.Chain[0].SerialNumber, issued.Name, issued.Serial)
	}

	// Outside its certificate's validity the seal is still active, but
	// does not sign; the policy says why from the dates.
	saved := now
	now = k.NotAfter.Add(time.Hour)
	check("expired", seal.StateActive, false)
	now = saved

	if _, err := ks.Suspend(ctx, issued.ID); err != nil {
		t.Fatal(err)
	}
	check("suspended", seal.StateSuspended, false)
	if _, err := ks.Revoke(ctx, issued.ID, keystore.ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	// No live seal now: the latest one is given, so the refusal can say
	// it was revoked.
	check("revoked", seal.StateRevoked, false)
}

// TestStatesAreAllMapped: every keystore state has a domain state, so no
// seal is ever refused as "unknown".
func TestStatesAreAllMapped(t *testing.T) {
	for _, s := range []keystore.State{keystore.StatePending, keystore.StateIssued, keystore.StateActive,
		keystore.StateSuspended, keystore.StateRotated, keystore.StateRevoked} {
		if got, ok := states[s]; !ok || string(got) != string(s) {
			t.Errorf("keystore state %q maps to %q (%v)", s, got, ok)
		}
	}
}

// TestLedgerCertificatePolicyAgrees: the keystore issues ledger
// certificates that the domain's verifier recognises, under one OID.
func TestLedgerCertificatePolicyAgrees(t *testing.T) {
	if keystore.LedgerKeyPolicyOID != seal.LedgerKeyPolicyOID {
		t.Fatalf("keystore marks ledger keys with %s, seal looks for %s", keystore.LedgerKeyPolicyOID, seal.LedgerKeyPolicyOID)
	}
	now := time.Now()
	ks := openKeystore(t, &now)
	cp := NewCheckpoints(ks)
	_, cert, err := cp.CheckpointKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !seal.IsLedgerCertificate(cert) {
		t.Fatal("the keystore's ledger certificate is not a ledger certificate to seal")
	}
	trust, err := cp.CheckpointTrust(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A seal certificate chains to the same root but must not vouch for
	// the ledger.
	s, err := ks.Issue(context.Background(), sealRequest("450224100"))
	if err != nil {
		t.Fatal(err)
	}
	if _, signer, err := ks.TownshipSeal(context.Background(), "450224100"); err != nil || signer != nil {
		t.Fatalf("an issued seal gave a signer: %v", err)
	}
	if _, err := ks.Activate(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	signer, err := ks.Signer(context.Background(), "450224100")
	if err != nil {
		t.Fatal(err)
	}
	if trust.IsLedgerKey(signer.Certificate()) {
		t.Fatal("a township seal's certificate passes as a ledger key")
	}
}
