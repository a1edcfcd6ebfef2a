package webverify

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/cli"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/verify"
	"google.golang.org/protobuf/encoding/protojson"
)

const interop = "../../testdata/interop/"

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReportMatchesSealctl: the page's verifier says what `sealctl verify
// --json` says, byte for byte, for a valid, a tampered, an untrusted and an
// unreadable file.
func TestReportMatchesSealctl(t *testing.T) {
	doc := read(t, interop+"bc-signed-visible.pdf")
	root := read(t, interop+"bc-root.pem")
	tampered := bytes.Clone(doc)
	if !bytes.HasPrefix(tampered, []byte("%PDF-1.")) {
		t.Fatal("fixture does not start with a PDF header")
	}
	tampered[7] ^= 0x01 // the header's version digit: inside the signed bytes
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		doc     []byte
		trust   bool
		verdict string
		reason  string // a prefix of the first reason, of the file or of its signature
	}{
		{"valid.pdf", doc, true, "valid", ""},
		{"tampered.pdf", tampered, true, "invalid", "digest_mismatch"},
		{"untrusted.pdf", doc, false, "invalid", "untrusted"},
		{"not-a-pdf.pdf", []byte("hello, not a PDF\n"), true, "unreadable", "unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, tc.doc, 0o600); err != nil {
				t.Fatal(err)
			}
			in := Input{Name: path, Document: tc.doc}
			args := []string{"verify", "--json"}
			if tc.trust {
				in.Trust = [][]byte{root}
				args = append(args, "--trust", interop+"bc-root.pem")
			}
			got, err := Report(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			cli.Main(append(args, path), &out, &errb)
			if !sameJSON(t, got, out.Bytes()) {
				t.Errorf("page's report differs from sealctl's:\n--- page\n%s\n--- sealctl (stderr %q)\n%s", got, errb.String(), out.String())
			}
			var rep struct {
				Verdict    string
				Reasons    []string
				Signatures []struct{ Reasons []string }
			}
			if err := json.Unmarshal(got, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != tc.verdict {
				t.Fatalf("verdict %q, want %q (%s)", rep.Verdict, tc.verdict, got)
			}
			if tc.reason == "" {
				return
			}
			reasons := rep.Reasons
			for _, s := range rep.Signatures {
				reasons = append(reasons, s.Reasons...)
			}
			for _, r := range reasons {
				if len(r) >= len(tc.reason) && r[:len(tc.reason)] == tc.reason {
					return
				}
			}
			t.Errorf("no reason %s in %q", tc.reason, reasons)
		})
	}
}

// sameJSON is whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v in %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

// TestReportEveryField: a report with every field set is written as
// sealapi.Report and protojson write it, so that a field added to the API
// but not to json.go fails here.
func TestReportEveryField(t *testing.T) {
	var rep verify.FileReport
	n := 0
	fill(reflect.ValueOf(&rep).Elem(), &n)
	got, err := marshalReport(&rep, "every-field.pdf")
	if err != nil {
		t.Fatal(err)
	}
	m := sealapi.Report(&rep)
	m.File = "every-field.pdf"
	want, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, got, want) {
		t.Errorf("json.go differs from sealapi.Report:\n--- json.go\n%s\n--- sealapi\n%s", got, want)
	}
	// And an empty report: absent times are null, empty lists [].
	empty := &verify.FileReport{Verdict: verify.VerdictInvalid, Signatures: []verify.SignatureReport{{}}}
	got, _ = marshalReport(empty, "")
	want, _ = protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(sealapi.Report(empty))
	if !sameJSON(t, got, want) {
		t.Errorf("empty report: json.go differs from sealapi.Report:\n--- json.go\n%s\n--- sealapi\n%s", got, want)
	}
}

// fill sets every field reachable from v to a distinct non-zero value:
// times with milliseconds, one element in each slice.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
		if v.Type() == reflect.TypeFor[verify.Code]() {
			v.SetString("digest_mismatch")
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), n)
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), n)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 3, 9, 30, *n%60, 123e6, time.FixedZone("CST", 8*3600))))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	}
}

// TestReportBadTrust: unreadable trust anchors and CRLs are typed errors
// that say which input failed, never a report.
func TestReportBadTrust(t *testing.T) {
	doc := read(t, interop+"bc-signed-visible.pdf")
	root := read(t, interop+"bc-root.pem")
	for _, tc := range []struct {
		name string
		in   Input
		want string
	}{
		{"garbage anchor", Input{Document: doc, Trust: [][]byte{root, []byte("not a certificate")}}, "trust anchor 2"},
		{"garbage CRL", Input{Document: doc, Trust: [][]byte{root}, CRLs: [][]byte{[]byte("not a CRL")}}, "CRL 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Report(context.Background(), tc.in)
			if !errors.Is(err, ErrTrust) || got != nil {
				t.Fatalf("got %q, %v; want ErrTrust", got, err)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

// TestReportCancelled: an ended context is an error, not a report.
func TestReportCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := Report(ctx, Input{Document: read(t, interop+"bc-signed-visible.pdf")})
	if err == nil || got != nil {
		t.Fatalf("got %q, %v; want the context's error", got, err)
	}
}

// TestMeaning: the page's plain words are the verifier's, and an unknown
// code is said to be unknown.
func TestMeaning(t *testing.T) {
	for _, tc := range []struct {
		code   string
		zh, en string // words each meaning contains
		ok     bool
	}{
		{"digest_mismatch", "篡改", "digest mismatch", true},
		{"untrusted", "根证书", "trust", true},
		{"no_such_code", "", "", false},
	} {
		zh, en, ok := Meaning(tc.code)
		if ok != tc.ok || !strings.Contains(zh, tc.zh) || !strings.Contains(en, tc.en) || (!ok && zh+en != "") {
			t.Errorf("Meaning(%q) = %q, %q, %v", tc.code, zh, en, ok)
		}
	}
}

// TestWarm: the warm-up runs the whole verification of its document,
// which verifies as far as its signature and chain (its CRL may have
// passed its next update since it was copied).
func TestWarm(t *testing.T) {
	verdict, err := Warm()
	if err != nil {
		t.Fatal(err)
	}
	if verdict == "unreadable" || verdict == "" {
		t.Fatalf("warm-up verdict %q", verdict)
	}
	out, err := Report(context.Background(), Input{Document: warmPDF, Trust: [][]byte{warmRoot}, CRLs: [][]byte{warmCRL}})
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Signatures []struct {
			DigestMatch, SignatureValid, ChainTrusted bool
			ProvenTime                                *string
		}
	}
	if err := json.Unmarshal(out, &rep); err != nil || len(rep.Signatures) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	if s := rep.Signatures[0]; !s.DigestMatch || !s.SignatureValid || !s.ChainTrusted || s.ProvenTime == nil {
		t.Errorf("the warm-up document did not exercise the whole check: %+v", s)
	}
	// It runs what a document of the service runs: the SESeal's picture,
	// drawn by the rules, compared with what the seal draws.
	res, err := Verify(context.Background(), Input{Document: warmPDF, Trust: [][]byte{warmRoot}, CRLs: [][]byte{warmCRL}})
	if err != nil || len(res.Pictures) != 1 || res.Pictures[0].Type != "svg" || !res.Pictures[0].Matches {
		t.Errorf("the warm-up document's seal picture: %v, %+v", err, res.Pictures)
	}
}

// TestVerifyPictures: a signature without national seal data (SESeal), as
// other implementations make them, brings no picture; the report is the
// same as Report's.
func TestVerifyPictures(t *testing.T) {
	in := Input{Document: read(t, interop+"bc-signed-visible.pdf"), Trust: [][]byte{read(t, interop+"bc-root.pem")}}
	res, err := Verify(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pictures) != 0 {
		t.Errorf("pictures %+v from a file without an SESeal", res.Pictures)
	}
	rep, err := Report(context.Background(), in)
	if err != nil || !bytes.Equal(rep, res.JSON) {
		t.Errorf("Report and Verify disagree (%v)", err)
	}
}

// TestVerifySM3: the result carries the document's SM3, which the page
// compares with the ledger's record; an unreadable document has one too.
func TestVerifySM3(t *testing.T) {
	for _, doc := range [][]byte{read(t, interop+"bc-signed-visible.pdf"), []byte("not a PDF"), nil} {
		res, err := Verify(context.Background(), Input{Document: doc, Trust: [][]byte{read(t, interop+"bc-root.pem")}})
		if err != nil {
			t.Fatal(err)
		}
		want := sm3.Sum(doc)
		if res.SM3 != hex.EncodeToString(want[:]) {
			t.Errorf("SM3 %s, want %x", res.SM3, want)
		}
	}
}
