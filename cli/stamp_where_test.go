package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestStampSaysWhy: after sealing, stamp prints beside the seal's page and
// position why the service put it there (GB/T 9704's 署名 and 成文日期 for
// the decision), in either language, and --output json carries it as
// "placement" beside the record's fields.
func TestStampSaysWhy(t *testing.T) {
	d := startDemo(t)
	tmp := t.TempDir()
	const why = "centred on the 署名 and 成文日期 (青山镇人民政府(印章) / 2024年5月20日), shifted down 8 mm to clear the body text"
	for i, tc := range []struct{ lang, where, label string }{
		{"zh", "盖章位置：第 1 页", "位置依据："},
		{"en", "seal on page 1, centred", "why there: "},
	} {
		code, stdout, stderr := d.run(t, "450224100-approval", "--lang", tc.lang, "stamp", decision, "-o", filepath.Join(tmp, tc.lang+".pdf"),
			"--item", "450224-XK-0002", "--case-no", "长安-W-"+tc.lang, "--doc-kind", "准予行政许可决定书")
		lines := strings.Split(stdout, "\n")
		at := -1
		for k, l := range lines {
			if strings.HasPrefix(l, tc.where) {
				at = k
			}
		}
		if code != 0 || at < 0 || at+1 >= len(lines) || lines[at+1] != "  "+tc.label+why {
			t.Errorf("stamp %d (%s): %d %q %q", i, tc.lang, code, stdout, stderr)
		}
	}
	code, stdout, stderr := d.run(t, "450224100-approval", "--output", "json", "stamp", decision, "-o", filepath.Join(tmp, "j.pdf"),
		"--item", "450224-XK-0002", "--case-no", "长安-W-json", "--doc-kind", "准予行政许可决定书")
	var out struct {
		Placement string
		CaseNo    string
		Seq       string
	}
	if err := json.Unmarshal([]byte(stdout), &out); code != 0 || err != nil || out.Placement != why || out.CaseNo != "长安-W-json" || out.Seq == "" {
		t.Errorf("stamp --output json: %d %v %+v %q %q", code, err, out, stdout, stderr)
	}
}
