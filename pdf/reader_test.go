package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ronganxian/eseal/seal/cms"
)

func TestLexer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"/Name /A#20B /#2F", []string{"/Name", "/A B", "//"}},
		{"12 -3 +4 .5 -.25 6. 1e5", []string{"12", "-3", "4", "0.5", "-0.25", "6", `"1e5"`}},
		{"(a(b)c) (\\(\\)\\\\\\n\\101\\0) (x\\\ny) (l1\r\nl2)", []string{"a(b)c", "()\\\nA\x00", "xy", "l1\nl2"}},
		{"<48 65 6c6C6f> <4> <>", []string{"Hello", "@", ""}},
		{"[<</A 1>>] % comment\n{ } R obj", []string{"[", "<<", "/A", "1", ">>", "]", "{", "}", `"R"`, `"obj"`}},
	} {
		l := lexer{buf: []byte(tc.in), eof: true}
		var got []string
		for {
			tok, err := l.next()
			if err != nil {
				t.Fatalf("%q: %v", tc.in, err)
			}
			if tok.kind == tokEOF {
				break
			}
			if tok.kind == tokString {
				got = append(got, string(tok.b))
				continue
			}
			got = append(got, tok.String())
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLexerIncomplete(t *testing.T) {
	// A window that ends inside a token, and is not the end of the file,
	// asks for more.
	for _, in := range []string{"12", "/Nam", "(abc", "<4142", "<", "% comment"} {
		l := lexer{buf: []byte(in)}
		if _, err := l.next(); !errors.Is(err, errIncomplete) {
			t.Errorf("%q: %v, want errIncomplete", in, err)
		}
	}
	for _, in := range []string{")", ">x", "<zz>"} {
		l := lexer{buf: []byte(in), eof: true}
		if _, err := l.next(); !errors.Is(err, errSyntax) {
			t.Errorf("%q: %v, want a syntax error", in, err)
		}
	}
}

func TestParseObject(t *testing.T) {
	p := newParser([]byte("<</Type/Page/Kids[1 0 R 2 0 R]/N -3/R 1.5/S(x)/B true/Z null/D<</E [5 6]>>>>"), true)
	o, err := p.object()
	if err != nil {
		t.Fatal(err)
	}
	got := string(appendObject(nil, o))
	want := "<</Type /Page/Kids [1 0 R 2 0 R]/N -3/R 1.5/S (x)/B true/Z null/D <</E [5 6]>>>>"
	if got != want {
		t.Errorf("round trip:\n got %s\nwant %s", got, want)
	}
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	if _, err := newParser([]byte(deep), true).object(); !errors.Is(err, errSyntax) {
		t.Errorf("nesting beyond maxDepth: %v", err)
	}
	for _, bad := range []string{"<</A>>", "<<1 2>>", "[1 2", "0 0 R"} {
		if _, err := newParser([]byte(bad), true).object(); err == nil {
			t.Errorf("%q parses", bad)
		}
	}
}

func TestWriterRoundTrip(t *testing.T) {
	for _, o := range []object{
		str("plain"), str("pa(r)en\\s"), str("\xfe\xff\x4e\x2d"), name("A B#/"), real(595.303937007874), real(-0.5), int64(-7),
		array{int64(1), name("N"), dict{{"K", true}}}, ref{12, 3},
	} {
		b := appendObject(nil, o)
		got, err := newParser(b, true).object()
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(o) {
			t.Errorf("%s reads back as %v, want %v", b, got, o)
		}
	}
	if s := textString("盖章 A"); !bytes.Equal(s[:2], []byte{0xFE, 0xFF}) || decodeText(s) != "盖章 A" {
		t.Errorf("textString: % x", s)
	}
}

// TestRefusals checks that broken and hostile inputs are refused with the
// error that says why, without writing anything.
func TestRefusals(t *testing.T) {
	one := fixture(t, "one.pdf")
	catalog := "<</Type/Catalog/Pages 4 0 R/Perms<</DocMDP 30 0 R>>>>"
	docMDP := func(p int) []byte {
		return appendRevision(t, one, rawObj{19, catalog}, rawObj{30, fmt.Sprintf(
			"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</Type/TransformParams/P %d/V/1.2>>>>]>>", p)})
	}
	loop := appendRevision(t, one, rawObj{21, "null"})
	// Point the new section's /Prev at itself.
	i := bytes.LastIndex(loop, []byte("\nxref\n")) + 1
	loop = bytes.Replace(loop, []byte("/Prev 26418"), fmt.Appendf(nil, "/Prev %d", i), 1)
	deepPages := appendRevision(t, one, rawObj{4, "<</Type/Pages/Kids[4 0 R]/Count 1>>"})

	for _, tc := range []struct {
		name string
		in   []byte
		req  func(*Request)
		want error
	}{
		{"empty", nil, nil, ErrNotPDF},
		{"text", []byte("this is not a PDF, it is a text file of some length"), nil, ErrNotPDF},
		{"truncated", one[:len(one)/2], nil, ErrTruncated},
		{"no startxref", append(bytes.Clone(one[:len(one)-30]), "\n%%EOF\n"...), nil, ErrDamaged},
		{"startxref into nowhere", bytes.Replace(one, []byte("startxref\n26418"), []byte("startxref\n26000"), 1), nil, ErrDamaged},
		{"prev loop", loop, nil, ErrDamaged},
		{"page tree loop", deepPages, nil, ErrDamaged},
		{"DocMDP P=1", docMDP(1), nil, ErrCertifiedNoChanges},
		{"DocMDP P=2 cross-page", docMDP(2), func(r *Request) {
			r.Image = testSeal(t)
			r.Placements = []Placement{At{X: 30, Y: 30}, At{Corner: BottomLeft, X: 30, Y: 30}}
		}, ErrCertifiedNoAnnotations},
		{"field name taken", fixture(t, "one_mixed_stream_then_table.pdf"), func(r *Request) { r.FieldName = "Signature 1" }, ErrFieldExists},
		{"field name with a period", one, func(r *Request) { r.FieldName = "a.b" }, ErrBadRequest},
		{"no signer", one, func(r *Request) { r.Signer = nil }, ErrBadRequest},
		{"placement without image", one, func(r *Request) { r.Placements = []Placement{Default{}} }, ErrBadRequest},
		{"repair with signatures", append([]byte("junk\n"), interop(t, "bc-signed-visible.pdf")...), func(r *Request) { r.Repair = true }, ErrDamaged},
		{"signature too large", one, func(r *Request) { r.Signer = liarSigner{r.Signer} }, ErrSignatureTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := baseRequest(t)
			if tc.req != nil {
				tc.req(&req)
			}
			var out bytes.Buffer
			_, err := Seal(context.Background(), &out, bytes.NewReader(tc.in), int64(len(tc.in)), req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Seal: %v, want %v", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes", out.Len())
			}
			t.Log(err)
		})
	}
	// DocMDP P=2 permits signing: one seal is fine.
	req := baseRequest(t)
	req.Image = testSeal(t)
	in := docMDP(2)
	out, res := sealBytes(t, in, req)
	if !bytes.HasPrefix(out, in) || len(res.Seals) != 1 {
		t.Error("DocMDP P=2: a single seal was not added")
	}
}

// liarSigner returns a signature longer than its Size promised.
type liarSigner struct{ Signer }

func (l liarSigner) SignDigest(d []byte, t2 time.Time) ([]byte, error) {
	der, err := l.Signer.SignDigest(d, t2)
	return append(der, make([]byte, 8)...), err
}

// TestSealTwice seals sealed output again, in the file's own kind of
// cross-reference section: both signatures verify.
func TestSealTwice(t *testing.T) {
	for _, f := range []struct {
		file   string
		stream bool
	}{{"one.pdf", false}, {"one_objstm.pdf", true}, {"one_hybrid.pdf", false}, {"one_linearized.pdf", false}} {
		t.Run(f.file, func(t *testing.T) {
			in := fixture(t, f.file)
			req := baseRequest(t)
			req.Image = testSeal(t)
			once, res1 := sealBytes(t, in, req)
			tail := once[len(in):]
			if got := bytes.Contains(tail, []byte("/Type/XRef")) || bytes.Contains(tail, []byte("/Type /XRef")); got != f.stream {
				t.Errorf("update written as an xref stream: %v, want %v", got, f.stream)
			}
			if got := bytes.Contains(tail, []byte("\nxref\n")); got == f.stream {
				t.Errorf("update written as an xref table: %v, want %v", got, !f.stream)
			}
			twice, res2 := sealBytes(t, once, req)
			if res1.Field == res2.Field {
				t.Errorf("both seals in field %q", res1.Field)
			}
			if len(res2.PriorSignatures) != 1 || res2.PriorSignatures[0].ItemCode != req.ItemCode {
				t.Errorf("prior signatures: %+v", res2.PriorSignatures)
			}
			checkSealed(t, once, twice, res2, 1)
		})
	}
}

func TestSignaturesInterop(t *testing.T) {
	// The BouncyCastle signature in the interop file verifies with its
	// byte ranges as Signatures reports them.
	in := interop(t, "bc-signed-visible.pdf")
	sigs, err := Signatures(bytes.NewReader(in), int64(len(in)))
	if err != nil || len(sigs) != 1 {
		t.Fatalf("Signatures: %v, %d", err, len(sigs))
	}
	s := sigs[0]
	if s.Field != "seal1" || s.SubFilter != "adbe.pkcs7.detached" || !s.CoversWholeFile {
		t.Errorf("%+v", s)
	}
	res, err := cms.Verify(trimDER(s.Contents), s.SignedBytes(bytes.NewReader(in)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.SignatureAlgorithm.OID.String() != "1.2.156.10197.1.501" {
		t.Errorf("BC signature algorithm %v", res.SignatureAlgorithm)
	}
}

// TestEncryptedRefusals: documents that need a password to open, or whose
// permissions forbid adding a signature field, are refused.
func TestEncryptedRefusals(t *testing.T) {
	qpdf := tool(t, "qpdf", "qpdf")
	src := fixtureDir + "/one.pdf"
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"user password AES-256", []string{"--encrypt", "secret", "owner", "256", "--"}},
		{"user password RC4", []string{"--allow-weak-crypto", "--encrypt", "secret", "owner", "40", "--"}},
		{"no form filling or annotating", []string{"--encrypt", "", "owner", "128", "--use-aes=y", "--modify=none", "--annotate=n", "--form=n", "--"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "enc.pdf")
			args := append(append([]string{}, tc.args...), src, dst)
			if out, err := exec.Command(qpdf, args...).CombinedOutput(); err != nil {
				t.Fatalf("qpdf: %v\n%s", err, out)
			}
			in := readFile(t, dst)
			var out bytes.Buffer
			_, err := Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), baseRequest(t))
			if !errors.Is(err, ErrEncrypted) || out.Len() != 0 {
				t.Fatalf("Seal: %v, want ErrEncrypted", err)
			}
			t.Log(err)
		})
	}
}

// TestNormalizeText checks matching folds what looks alike: full-width
// and half-width forms, Kangxi radicals and ideographs, white space.
func TestNormalizeText(t *testing.T) {
	for _, tc := range [][2]string{
		{"（盖章）", "(盖章)"},
		{"青山镇 人民政府", "青山镇人民政府"},
		{"\u2F47期：２０２６年", "日期:2026年"}, // ⽇ is the Kangxi radical for 日
		{"〇、。「」", "〇、。「」"},
		{"\u3000A", "A"},
		{"\u3038", "十"},
	} {
		if got := string(normalizeText(tc[0])); got != tc[1] {
			t.Errorf("normalizeText(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
}

// TestEncryptedVariants seals documents that qpdf encrypts with an empty
// user password, with object streams (so the catalog and pages are read
// through decrypted object streams and the update is an xref stream), and
// seals the result again.
func TestEncryptedVariants(t *testing.T) {
	qpdf := tool(t, "qpdf", "qpdf")
	src := fixtureDir + "/decision.pdf"
	img := testSeal(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"AES-256 object streams", []string{"--object-streams=generate", "--encrypt", "", "owner", "256", "--"}},
		{"AES-128 object streams", []string{"--object-streams=generate", "--encrypt", "", "owner", "128", "--use-aes=y", "--"}},
		{"RC4-128", []string{"--allow-weak-crypto", "--encrypt", "", "owner", "128", "--use-aes=n", "--"}},
		// A user password, but an empty owner password, which opens it
		// as its owner: no password is needed (pdf.js's pr6531_2.pdf).
		{"AES-256 empty owner password", []string{"--object-streams=generate", "--encrypt", "secret", "", "256", "--allow-insecure", "--"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "enc.pdf")
			if out, err := exec.Command(qpdf, append(append([]string{}, tc.args...), src, dst)...).CombinedOutput(); err != nil {
				t.Fatalf("qpdf: %v\n%s", err, out)
			}
			in := readFile(t, dst)
			req := baseRequest(t)
			req.Image = img
			req.Placements = []Placement{Keyword{Text: "青山镇人民政府（印章）"}}
			once, res := sealBytes(t, in, req)
			checkSealed(t, in, once, res, 0)
			req.Placements = []Placement{At{Page: 1, Corner: TopLeft, X: 50, Y: 60}}
			twice, res2 := sealBytes(t, once, req)
			checkSealed(t, once, twice, res2, 1)
			checkSealPixels(t, render(t, dst, 1), render(t, writeTemp(t, "out.pdf", twice), 1), mmBox(50, 60, 42, 42))
		})
	}
}
