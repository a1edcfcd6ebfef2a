package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal/cms"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestVerificationService verifies documents the service sealed, over
// gRPC and REST, without credentials: with the county root and the
// service's CRL, with anchors the request adds, and tampered.
func TestVerificationService(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	resp, err := sealv1.NewSealingServiceClient(e.conn).Seal(e.as("changan-approval"),
		sealReq("verify-1", "450224-XK-0002", "CA-V1", permit, readDecision(t)))
	if err != nil {
		t.Fatal(err)
	}
	sealed := resp.Document
	ver := sealv1.NewVerificationServiceClient(e.conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	verify := func(t *testing.T, req *sealv1.VerifyRequest) *sealv1.FileReport {
		t.Helper()
		r, err := ver.Verify(ctx, req)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		return r.Report
	}

	t.Run("valid", func(t *testing.T) {
		rep := verify(t, &sealv1.VerifyRequest{Document: sealed})
		if rep.Verdict != "valid" || len(rep.Signatures) != 1 {
			t.Fatalf("verdict %s, reasons %v", rep.Verdict, rep.Reasons)
		}
		s := rep.Signatures[0]
		if s.TownshipCode != "450224100" || s.ItemCode != "450224-XK-0002" || s.CaseNo != "CA-V1" || !s.ChainTrusted ||
			!s.DigestMatch || !s.SignatureValid || !s.CoversWholeFile || s.SigningTime == nil || len(s.Chain) < 2 {
			t.Errorf("report %+v", s)
		}
	})

	t.Run("tampered", func(t *testing.T) {
		b := bytes.Clone(sealed)
		i := bytes.Index(b, []byte("stream\n")) + 30
		b[i] ^= 1
		rep := verify(t, &sealv1.VerifyRequest{Document: b})
		if rep.Verdict != "invalid" || len(rep.Signatures) != 1 || !hasPrefix(rep.Signatures[0].Reasons, "digest_mismatch:") {
			t.Errorf("verdict %s, reasons %v", rep.Verdict, rep.Reasons)
		}
	})

	t.Run("not a PDF", func(t *testing.T) {
		if rep := verify(t, &sealv1.VerifyRequest{Document: []byte("hello")}); rep.Verdict != "unreadable" {
			t.Errorf("verdict %s", rep.Verdict)
		}
		_, err := ver.Verify(ctx, &sealv1.VerifyRequest{})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("no document: %v", err)
		}
		_, err = ver.Verify(ctx, &sealv1.VerifyRequest{Document: sealed, TrustPem: [][]byte{[]byte("not PEM")}})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("bad trust_pem: %v", err)
		}
	})

	t.Run("anchors from the request", func(t *testing.T) {
		chain := testpki.MustChain(testpki.Options{})
		signer, err := cms.NewSigner(chain.LeafKey(), chain.Certs, cms.ProfileDefault)
		if err != nil {
			t.Fatal(err)
		}
		var other bytes.Buffer
		doc := readDecision(t)
		if _, err := pdf.Seal(context.Background(), &other, bytes.NewReader(doc), int64(len(doc)), pdf.Request{Signer: signer, SealName: "外县印章"}); err != nil {
			t.Fatal(err)
		}
		if rep := verify(t, &sealv1.VerifyRequest{Document: other.Bytes()}); rep.Verdict != "invalid" || !hasPrefix(rep.Signatures[0].Reasons, "untrusted:") {
			t.Errorf("without the anchor: verdict %s, reasons %v", rep.Verdict, rep.Reasons)
		}
		root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain.Root().Raw})
		if rep := verify(t, &sealv1.VerifyRequest{Document: other.Bytes(), TrustPem: [][]byte{root}}); rep.Verdict != "valid" {
			t.Errorf("with the anchor: verdict %s, reasons %v", rep.Verdict, rep.Reasons)
		}
	})

	t.Run("REST", func(t *testing.T) {
		body, _ := json.Marshal(map[string]string{"document": base64.StdEncoding.EncodeToString(sealed)})
		r := e.rest(t, http.MethodPost, "/v1/verify", "", body)
		if r.code != http.StatusOK {
			t.Fatalf("status %d: %s", r.code, r.body)
		}
		var out struct {
			Report struct {
				Verdict    string
				Signatures []struct{ TownshipCode string }
			}
		}
		if err := json.Unmarshal(r.body, &out); err != nil || out.Report.Verdict != "valid" || len(out.Report.Signatures) != 1 ||
			out.Report.Signatures[0].TownshipCode != "450224100" {
			t.Errorf("REST report %s (%v)", r.body, err)
		}
	})

	// Suspending the seal publishes a CRL that the service then uses: the
	// seal was suspended after it signed, so the signature stays valid
	// and the report says so.
	t.Run("the service's CRL", func(t *testing.T) {
		// Times in certificates, CRLs and signatures have whole seconds:
		// suspend in a later second than the signing, or the order is
		// unknown and the verifier fails closed.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
		if _, err := sealv1.NewSealAdminServiceClient(e.conn).SuspendSeal(e.as("admin"), &sealv1.SealActionRequest{TownshipCode: "450224100"}); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, &sealv1.VerifyRequest{Document: sealed})
		s := rep.Signatures[0]
		if rep.Verdict != "valid" || s.Revocation != "suspended" || s.RevokedAt == nil || !hasPrefix(s.Warnings, "revoked_after_signing:") {
			t.Errorf("verdict %s, revocation %s, reasons %v, warnings %v", rep.Verdict, s.Revocation, s.Reasons, s.Warnings)
		}
	})
}

func hasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestVerifyCancelled: a verification whose caller went away ends as
// Canceled, not as an internal error.
func TestVerifyCancelled(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	s := &verificationServer{ks: e.ks, now: time.Now, maxDoc: 4 << 20, slots: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 { // the slot and the cancellation race in a select: try both ways
		_, err := s.Verify(ctx, &sealv1.VerifyRequest{Document: readDecision(t)})
		if status.Code(err) != codes.Canceled {
			t.Fatalf("a cancelled verification: %v, want Canceled", err)
		}
	}
}
