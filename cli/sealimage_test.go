package cli

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/seal/ses"
)

// TestSealsImage: the county office writes the picture of a township's seal
// as documents show it, in PNG at a resolution or in SVG.
func TestSealsImage(t *testing.T) {
	d := startDemo(t)
	dir := t.TempDir()

	out := filepath.Join(dir, "长安镇.png")
	code, stdout, stderr := d.run(t, "admin", "seals", "image", "450224100", "-o", out, "--dpi", "254")
	if code != 0 || !strings.Contains(stdout, "融安县长安镇人民政府行政审批专用章") || !strings.Contains(stdout, "按规则绘制") {
		t.Fatalf("seals image png: %d %q %q", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 420 || cfg.Height != 420 { // 42 mm at 254 dpi
		t.Errorf("PNG: %v, %d×%d, want 420×420", err, cfg.Width, cfg.Height)
	}

	svg := filepath.Join(dir, "长安镇.svg")
	if code, stdout, stderr := d.run(t, "450224100-approval", "--lang", "en", "seals", "image", "450224100", "-o", svg); code != 0 || !strings.Contains(stdout, "drawn by the rules") {
		t.Fatalf("seals image svg: %d %q %q", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(svg); !bytes.HasPrefix(b, []byte("<svg ")) || !bytes.Contains(b, []byte("<title>融安县长安镇人民政府行政审批专用章</title>")) {
		t.Errorf("SVG: %.200s", b)
	}

	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"450224100", "-o", filepath.Join(dir, "x.gif")}, "-o FILE.png or -o FILE.svg"},
		{[]string{"999999999", "-o", filepath.Join(dir, "x.png")}, "no seal"},
		{[]string{"450224100", "-o", filepath.Join(dir, "x.png"), "--dpi", "10"}, "outside 36–2400"},
	} {
		code, _, stderr := d.run(t, "admin", append([]string{"seals", "image"}, tc.args...)...)
		if code != 1 || !strings.Contains(stderr, tc.says) {
			t.Errorf("seals image %v: %d %q, want it to say %q", tc.args, code, stderr, tc.says)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.png")); !os.IsNotExist(err) {
		t.Errorf("a refused picture left a file: %v", err)
	}
}

// TestSESealCLI: a document sealed through the service carries the seal's
// SESeal, `verify` reports it (and --extract-seal writes its picture), and
// `seals export` / `seals import` round-trip it.
func TestSESealCLI(t *testing.T) {
	d := startDemo(t)
	dir := t.TempDir()
	root := filepath.Join(d.dir, "trust", "root.pem")
	out := filepath.Join(dir, "sealed.pdf")
	if code, stdout, stderr := d.run(t, "450224100-approval", "stamp", decision, "-o", out, "--item", "450224-XK-0002",
		"--case-no", "长安-SES-1", "--doc-kind", "准予行政许可决定书"); code != 0 {
		t.Fatalf("stamp: %d %q %q", code, stdout, stderr)
	}
	pics := filepath.Join(dir, "pictures")
	code, stdout, stderr := d.run(t, "", "--lang", "en", "verify", "--trust", root, "--extract-seal", pics, out)
	for _, want := range []string{"融安县长安镇人民政府行政审批专用章  esID seal-450224100-", "电子印章制作 (trusted)", "SVG 42×42 mm (the one drawn on the page)"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("verify: %d, no %q in %q (%q)", code, want, stdout, stderr)
		}
	}
	extracted, _ := filepath.Glob(filepath.Join(pics, "sealed-*.svg"))
	if len(extracted) != 1 {
		t.Fatalf("--extract-seal wrote %q", extracted)
	}
	picture, _ := os.ReadFile(extracted[0])

	esl := filepath.Join(dir, "长安镇.esl")
	if code, stdout, stderr := d.run(t, "admin", "seals", "export", "450224100", "-o", esl); code != 0 || !strings.Contains(stdout, "seal-450224100-") {
		t.Fatalf("seals export: %d %q %q", code, stdout, stderr)
	}
	der, _ := os.ReadFile(esl)
	es, err := ses.ParseSeal(der)
	if err != nil || es.VerifyMaker() != nil || !bytes.Equal(es.Picture.Data, picture) {
		t.Fatalf("exported SESeal: %v; picture equal to the document's %v", err, err == nil && bytes.Equal(es.Picture.Data, picture))
	}
	// The county re-imports it (as it would one made elsewhere): accepted,
	// marked imported; a clerk may not, and garbage is refused.
	if code, stdout, stderr := d.run(t, "admin", "--output", "json", "seals", "import", "450224100", esl); code != 0 || !regexp.MustCompile(`"imported":\s*true`).MatchString(stdout) {
		t.Errorf("seals import: %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr := d.run(t, "450224100-approval", "seals", "import", "450224100", esl); code != 1 || !strings.Contains(strings.ToLower(stderr), "permission") && !strings.Contains(stderr, "权限") {
		t.Errorf("a clerk imports: %d %q", code, stderr)
	}
	// Rotating a seal makes the new seal's SESeal at once, not on first use.
	if code, stdout, stderr := d.run(t, "admin", "seals", "rotate", "450224101"); code != 0 {
		t.Fatalf("seals rotate: %d %q %q", code, stdout, stderr)
	}
	rotated, _, err := d.svc.Keystore.TownshipSeal(context.Background(), "450224101")
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := d.svc.Keystore.SESeal(context.Background(), rotated.ID); err != nil || rec.Imported {
		t.Errorf("the rotated seal's SESeal: %v", err)
	}
	junk := filepath.Join(dir, "junk.esl")
	os.WriteFile(junk, []byte("not an SESeal"), 0o644)
	if code, _, stderr := d.run(t, "admin", "seals", "import", "450224100", junk); code != 1 || !strings.Contains(stderr, "malformed") {
		t.Errorf("importing garbage: %d %q", code, stderr)
	}
}

// TestSESProfile: with profile ses the service seals with a GB/T 38540
// SES_Signature (/GM.sm2seal) carrying the seal, and `verify` accepts it
// with the seal's picture.
func TestSESProfile(t *testing.T) {
	t.Setenv("ESEAL_PROFILE", "ses")
	d := startDemo(t)
	out := filepath.Join(t.TempDir(), "sealed.pdf")
	if code, stdout, stderr := d.run(t, "450224100-approval", "stamp", decision, "-o", out, "--item", "450224-XK-0002",
		"--case-no", "长安-SES-2", "--doc-kind", "准予行政许可决定书"); code != 0 {
		t.Fatalf("stamp: %d %q %q", code, stdout, stderr)
	}
	b, _ := os.ReadFile(out)
	if !bytes.Contains(b, []byte("/SubFilter/GM.sm2seal")) || !bytes.Contains(b, []byte("/Filter/GM.PKILite")) {
		t.Fatal("the sealed PDF does not say /GM.PKILite /GM.sm2seal")
	}
	code, stdout, stderr := d.run(t, "", "--lang", "en", "verify", "--trust", filepath.Join(d.dir, "trust", "root.pem"), out)
	for _, want := range []string{"VALID", "SVG 42×42 mm (the one drawn on the page)", "digest matches, signature verifies"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("verify: %d, no %q in %q (%q)", code, want, stdout, stderr)
		}
	}
}
