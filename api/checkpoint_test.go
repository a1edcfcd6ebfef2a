package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/sealkeys"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store/sqlite"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// foreignLedgerKey is the ledger key of another county's keystore, with its
// own CA: a signer whose certificate is well formed but does not chain to
// this service's roots.
func foreignLedgerKey(t *testing.T) (*keystore.Keystore, *smx509.Certificate) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "other.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kek, err := keystore.WriteKEKFile(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(ctx, keystore.Config{Store: db.Keystore(), Backend: keystore.NewSoftwareBackend(kek)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	if _, err := ks.CreateCA(ctx, keystore.CAOptions{CommonName: "别县电子印章CA (TEST)", Organization: "测试县政务服务监督管理办公室"}); err != nil {
		t.Fatal(err)
	}
	_, cert, err := ks.LedgerSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ks, cert
}

// TestCheckpoints signs checkpoints through the API with the keystore's
// ledger key, and checks that VerifyLedger anchors the chain on them, and
// that a checkpoint signed under another CA, put straight into the store,
// makes VerifyLedger report it untrusted.
func TestCheckpoints(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind, nil)
			ctx := context.Background()
			ledger := sealv1.NewLedgerServiceClient(e.conn)
			if _, err := ledger.CreateCheckpoint(e.as("admin"), &sealv1.CreateCheckpointRequest{}); status.Code(err) != codes.FailedPrecondition {
				t.Fatalf("CreateCheckpoint of an empty ledger: %v, want FailedPrecondition", err)
			}
			doc := readDecision(t)
			sealing := sealv1.NewSealingServiceClient(e.conn)
			sealN := func(from, to int) {
				for i := from; i < to; i++ {
					if _, err := sealing.Seal(e.as("changan-approval"), sealReq(fmt.Sprintf("cp-%d", i), "450224-XK-0002", fmt.Sprintf("CP-%d", i), permit, doc)); err != nil {
						t.Fatal(err)
					}
				}
			}
			sealN(0, 3)

			// The first checkpoint, over gRPC.
			first, err := ledger.CreateCheckpoint(e.as("admin"), &sealv1.CreateCheckpointRequest{})
			if err != nil {
				t.Fatalf("CreateCheckpoint: %v", err)
			}
			if first.Seq != 3 {
				t.Fatalf("checkpoint at %d, want the head, 3", first.Seq)
			}
			head, err := e.st.Head(ctx)
			if err != nil || !bytes.Equal(first.Head, head.Hash) {
				t.Fatalf("checkpoint head %x, ledger head %x (%v)", first.Head, head.Hash, err)
			}
			cert, err := smx509.ParseCertificate(first.Certificate)
			if err != nil {
				t.Fatal(err)
			}
			ca, err := e.ks.CA(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !keystore.IsLedgerCertificate(cert) || bytes.Equal(cert.Raw, ca.Certificate.Raw) ||
				ca.Certificate.PublicKey.(*ecdsa.PublicKey).Equal(cert.PublicKey) {
				t.Fatal("the checkpoint is not signed with a dedicated ledger key")
			}
			c := sealapi.CheckpointFrom(first)
			if !sm2.VerifyASN1WithSM2(cert.PublicKey.(*ecdsa.PublicKey), nil, c.Message(), c.Signature) {
				t.Fatal("the checkpoint's signature does not verify under its certificate")
			}
			if _, err := ledger.CreateCheckpoint(e.as("changan-approval"), &sealv1.CreateCheckpointRequest{}); status.Code(err) != codes.PermissionDenied {
				t.Errorf("a clerk created a checkpoint: %v", err)
			}

			// A second one, over REST, after more records: the same key.
			sealN(3, 5)
			resp := e.rest(t, http.MethodPost, "/v1/ledger/checkpoints", "admin", []byte("{}"))
			if resp.code != http.StatusOK {
				t.Fatalf("REST CreateCheckpoint: %d %s", resp.code, resp.body)
			}
			var second struct {
				Seq         string `json:"seq"`
				Certificate []byte `json:"certificate"`
			}
			if err := json.Unmarshal(resp.body, &second); err != nil {
				t.Fatal(err)
			}
			if second.Seq != "5" || !bytes.Equal(second.Certificate, first.Certificate) {
				t.Fatalf("REST checkpoint at %s with another certificate (%v); want 5 with the same", second.Seq,
					!bytes.Equal(second.Certificate, first.Certificate))
			}

			v, err := ledger.VerifyLedger(e.as("admin"), &sealv1.VerifyLedgerRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if !v.Valid || v.RecordsChecked != 5 || v.CheckpointsMatched != 2 {
				t.Fatalf("VerifyLedger = %+v; want valid, 5 records, 2 checkpoints matched", v)
			}

			// Someone with write access to the database adds a checkpoint
			// signed by another county's ledger key: VerifyLedger refuses to
			// trust the ledger.
			other, otherCert := foreignLedgerKey(t)
			key, _, err := other.LedgerSigner(ctx)
			if err != nil {
				t.Fatal(err)
			}
			head, err = e.st.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			forged, err := seal.SignCheckpoint(head, time.Now(), key, otherCert)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.st.AddCheckpoint(ctx, forged); err != nil {
				t.Fatal(err)
			}
			v, err = ledger.VerifyLedger(e.as("admin"), &sealv1.VerifyLedgerRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if v.Valid || !strings.Contains(v.BreakReason, seal.ErrUntrustedCheckpoint.Error()) {
				t.Fatalf("VerifyLedger with a forged checkpoint = %+v; want it invalid, naming the untrusted checkpoint", v)
			}
		})
	}
}

// TestCheckpointsWithoutLedgerKey: with an external CA that has certified
// no ledger key, CreateCheckpoint is refused with FailedPrecondition, not an
// internal error.
func TestCheckpointsWithoutLedgerKey(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ext.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kek, err := keystore.WriteKEKFile(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(ctx, keystore.Config{Store: db.Keystore(), Backend: keystore.NewSoftwareBackend(kek)})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	other, _ := foreignLedgerKey(t)
	bundle, err := other.TrustBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.ImportCA(ctx, bundle, nil, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = sealkeys.NewCheckpoints(ks).CheckpointKey(ctx)
	if !errors.Is(err, seal.ErrNoCheckpointKey) || status.Code(toStatus(err)) != codes.FailedPrecondition || !strings.Contains(err.Error(), "ledger") {
		t.Fatalf("CheckpointKey without a ledger key: %v, want FailedPrecondition naming the ledger key", err)
	}
}
