package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/hostilepdf"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/verify"
)

// Verifying the hostile documents (package hostilepdf): the verifier
// reads their structure within the same limits as the sealer, and fails
// closed. They live here, beside the sealing tests, for the request that
// the peak-memory benchmark (rss_child_test.go) shares.

// hostileFile returns the generated hostile file name, built once.
func hostileFile(t testing.TB, name string) []byte {
	t.Helper()
	b, ok := hostilepdf.Named(name)
	if !ok {
		t.Fatalf("no hostile file %q", name)
	}
	return b
}

// TestVerifyHostile verifies each hostile document, unsigned as generated,
// under the default limits: none is valid, and each that needs more than
// the limits to read is reported with the code for it, naming the limit.
func TestVerifyHostile(t *testing.T) {
	for _, tc := range []struct {
		file    string
		verdict verify.Verdict
		code    verify.Code
		limit   string // named in the reason's detail
	}{
		// The verifier reads no page content: these cost it nothing.
		{"repeated-content-8", verify.VerdictInvalid, verify.CodeNoSignatures, ""},
		{"repeated-content-50", verify.VerdictInvalid, verify.CodeNoSignatures, ""},
		{"flate-bomb", verify.VerdictInvalid, verify.CodeNoSignatures, ""},
		{"shared-content-200p", verify.VerdictInvalid, verify.CodeNoSignatures, ""},
		{"form-redraw", verify.VerdictInvalid, verify.CodeNoSignatures, ""},
		{"text-bomb", verify.VerdictInvalid, verify.CodeNoSignatures, ""},
		// It reads every page, for the signatures' widgets.
		{"objstms-16x60MiB", verify.VerdictInvalid, verify.CodeTooLarge, "MaxStreamBytes"},
		{"objstms-48x60MiB", verify.VerdictInvalid, verify.CodeTooLarge, "MaxStreamBytes"},
		{"objstms-16x12MiB", verify.VerdictInvalid, verify.CodeTooLarge, "MaxDecodedBytes"},
		{"wide-array", verify.VerdictInvalid, verify.CodeTooLarge, "MaxValues"},
		{"xref-bomb", verify.VerdictUnreadable, verify.CodeTooLarge, "MaxObjects"},
		{"deep-nesting", verify.VerdictInvalid, verify.CodeDamaged, "nested too deep"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			in := hostileFile(t, tc.file)
			rep, err := verify.PDF(context.Background(), bytes.NewReader(in), int64(len(in)), verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != tc.verdict || len(rep.Reasons) == 0 || rep.Reasons[0].Code != tc.code ||
				!strings.Contains(rep.Reasons[0].Detail, tc.limit) {
				t.Errorf("verdict %s, reasons %v; want %s, %s naming %q", rep.Verdict, rep.Reasons, tc.verdict, tc.code, tc.limit)
			}
		})
	}
}

// sealedObjStms seals a document whose 8 pages lie in object streams of
// 1 MiB each, and returns it with its signer's root.
func sealedObjStms(t *testing.T) ([]byte, *smx509.Certificate) {
	t.Helper()
	in := hostilepdf.ObjStms(8, 1<<20)
	req, root, err := sealRequest()
	if err != nil {
		t.Fatal(err)
	}
	req.Placements = []pdf.Placement{pdf.At{Page: 1, X: 100, Y: 100}}
	var sealed bytes.Buffer
	if _, err := pdf.Seal(context.Background(), &sealed, bytes.NewReader(in), int64(len(in)), req); err != nil {
		t.Fatal(err)
	}
	return sealed.Bytes(), root
}

// TestVerifySealedHostile seals a document whose pages lie in object
// streams of 1 MiB each, and verifies it: within the default limits it is
// valid, and so it is with an object stream cache smaller than a stream;
// within limits that reading every page exceeds, it is not valid, for
// too_large.
func TestVerifySealedHostile(t *testing.T) {
	doc, root := sealedObjStms(t)
	for _, tc := range []struct {
		name    string
		limits  pdf.Limits
		verdict verify.Verdict
	}{
		{"default limits", pdf.Limits{}, verify.VerdictValid},
		{"no cache", pdf.Limits{ObjStmCacheBytes: 1}, verify.VerdictValid},
		{"past the limits", pdf.Limits{MaxDecodedBytes: 4 << 20}, verify.VerdictInvalid},
		{"no cache, past the limits", pdf.Limits{MaxDecodedBytes: 4 << 20, ObjStmCacheBytes: 1}, verify.VerdictInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := verify.PDF(context.Background(), bytes.NewReader(doc), int64(len(doc)),
				verify.Options{Roots: []*smx509.Certificate{root}, Limits: tc.limits})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != tc.verdict {
				t.Fatalf("verdict %s (%v), want %s", rep.Verdict, rep.Reasons, tc.verdict)
			}
			if tc.verdict == verify.VerdictInvalid && (rep.Reasons[0].Code != verify.CodeTooLarge ||
				!strings.Contains(rep.Reasons[0].Detail, "MaxDecodedBytes")) {
				t.Errorf("reasons %v, want too_large naming MaxDecodedBytes", rep.Reasons)
			}
		})
	}
}

// TestVerifyCancelled checks that verification stops with the context's
// error, and returns no verdict, when the context has ended before and
// when it ends while the object streams are decoded.
func TestVerifyCancelled(t *testing.T) {
	in := hostilepdf.ObjStms(8, 1<<20)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, ctx := range []context.Context{ended, pdf.CountdownContext(10)} {
		rep, err := verify.PDF(ctx, bytes.NewReader(in), int64(len(in)), verify.Options{})
		if !errors.Is(err, context.Canceled) || rep != nil {
			t.Errorf("got %v, %v; want context.Canceled and no report", rep, err)
		}
	}
}

// sealRequest is a sealing request with a visible seal, default placement,
// and its signer's root.
func sealRequest() (pdf.Request, *smx509.Certificate, error) {
	chain := testpki.MustChain(testpki.Options{})
	signer, err := cms.NewSigner(chain.LeafKey(), chain.Certs, cms.ProfileDefault)
	if err != nil {
		return pdf.Request{}, nil, err
	}
	png, err := os.ReadFile("../testdata/interop/seal.png")
	if err != nil {
		return pdf.Request{}, nil, err
	}
	img, err := pdf.NewSealImage(png, 42)
	if err != nil {
		return pdf.Request{}, nil, err
	}
	return pdf.Request{Signer: signer, SealName: "融安县长安镇人民政府行政审批专用章", Image: img}, chain.Root(), nil
}

// refusingMeter grants nothing.
type refusingMeter struct{ asked int64 }

var errMeterFull = errors.New("the test's meter is full")

func (m *refusingMeter) Take(n int64) error { m.asked += n; return errMeterFull }

// TestVerifyMeterRefusal verifies, valid without a Meter, a sealed
// document whose pages lie in object streams, with a Meter that refuses:
// verification gives no verdict but the *MeterError, since what it read
// is incomplete and says nothing of the file.
func TestVerifyMeterRefusal(t *testing.T) {
	doc, root := sealedObjStms(t)
	opts := verify.Options{Roots: []*smx509.Certificate{root}}
	rep, err := verify.PDF(context.Background(), bytes.NewReader(doc), int64(len(doc)), opts)
	if err != nil || rep.Verdict != verify.VerdictValid {
		t.Fatalf("without a meter: %v, %v; want valid", rep, err)
	}
	m := &refusingMeter{}
	rep, err = verify.PDF(pdf.WithMeter(context.Background(), m), bytes.NewReader(doc), int64(len(doc)), opts)
	var me *pdf.MeterError
	if !errors.As(err, &me) || !errors.Is(err, errMeterFull) || rep != nil {
		t.Fatalf("got %v, %v; want no report and a *MeterError", rep, err)
	}
	if m.asked == 0 {
		t.Error("the meter was never asked")
	}
}

// TestVerifySharedObjStm seals and verifies documents whose pages all lie
// in one object stream larger than the object-stream cache: the stream is
// decoded once, not once for each object read from it, so what the
// engine seals within the limits, the verifier reads within them too.
// (pdf.js bug1978317.pdf, sealed, went past MaxDecodedBytes in our own
// verifier: a stream of 13 MB decoded again for every object.)
func TestVerifySharedObjStm(t *testing.T) {
	for _, tc := range []struct{ pages, size int }{{8, 12 << 20}, {400, 15 << 20}} {
		in := hostilepdf.SharedObjStm(tc.pages, tc.size)
		req, root, err := sealRequest()
		if err != nil {
			t.Fatal(err)
		}
		var sealed bytes.Buffer
		if _, err := pdf.Seal(context.Background(), &sealed, bytes.NewReader(in), int64(len(in)), req); err != nil {
			t.Fatalf("%d pages in a %d-byte stream: %v", tc.pages, tc.size, err)
		}
		doc := sealed.Bytes()
		rep, err := verify.PDF(context.Background(), bytes.NewReader(doc), int64(len(doc)), verify.Options{Roots: []*smx509.Certificate{root}})
		if err != nil || rep.Verdict != verify.VerdictValid {
			t.Errorf("%d pages in a %d-byte stream: %v %v, want valid", tc.pages, tc.size, rep, err)
		}
	}
}
