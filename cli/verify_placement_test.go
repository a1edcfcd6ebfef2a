package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestVerifySealPlacement: `sealctl verify` says where each signature's
// seal is drawn and whether it lies on the page, in the human output (both
// languages) and in the JSON.
func TestVerifySealPlacement(t *testing.T) {
	trust := []string{"verify", "--trust", corpus("root.pem")}
	for _, tc := range []struct {
		name, lang, file string
		has              []string
	}{
		{"visible, English", "en", "valid-visible.pdf", []string{"seal drawn     page 1 at [449.9 321.7 563.3 435.1] (on the page)"}},
		{"visible, Chinese", "zh", "valid-visible.pdf", []string{"印章位置  第 1 页 [449.9 321.7 563.3 435.1]（在页面内）"}},
		{"invisible, English", "en", "valid.pdf", []string{"seal drawn     page 1 at [0 0 0 0] (not drawn)",
			"note           the signature draws no seal on any page"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runSealctl(t, append(trust, "--lang", tc.lang, corpus(tc.file))...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			for _, s := range tc.has {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
	t.Run("JSON", func(t *testing.T) {
		code, out, errOut := runSealctl(t, append(trust, "--json", corpus("valid-visible.pdf"))...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		var rep struct {
			Signatures []struct {
				Seals []struct {
					Page    int       `json:"page"`
					Rect    []float64 `json:"rect"`
					CropBox []float64 `json:"cropBox"`
					Drawn   bool      `json:"drawn"`
					OnPage  bool      `json:"onPage"`
				} `json:"seals"`
			} `json:"signatures"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(rep.Signatures) != 1 || len(rep.Signatures[0].Seals) != 1 {
			t.Fatalf("seals not reported:\n%s", out)
		}
		s := rep.Signatures[0].Seals[0]
		if s.Page != 1 || !s.Drawn || !s.OnPage || len(s.Rect) != 4 || len(s.CropBox) != 4 || s.CropBox[2] < 595 {
			t.Errorf("seal placement %+v", s)
		}
	})
}
