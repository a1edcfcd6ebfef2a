package cli

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
