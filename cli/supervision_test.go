package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSupervisionEndToEnd: a case sealed by 长安镇 gets a result from the
// department of its domain through sealctl, with an attachment's SM3; the
// township's clerk sees the story in Chinese, in English and as JSON;
// another department may not record; the ledger listing names the kinds.
func TestSupervisionEndToEnd(t *testing.T) {
	d := startDemo(t)
	tmp := t.TempDir()
	const caseNo = "长安-2026-0777"
	if code, out, errs := d.run(t, "450224100-approval", "stamp", decision, "-o", filepath.Join(tmp, "s.pdf"),
		"--item", "450224-XK-0002", "--case-no", caseNo, "--doc-kind", "准予行政许可决定书"); code != 0 {
		t.Fatalf("stamp: %d %s %s", code, out, errs)
	}
	report := filepath.Join(tmp, "核查记录.pdf")
	if err := os.WriteFile(report, []byte("%PDF-1.7 核查记录"), 0o644); err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(mustZone(t)).Format(time.DateOnly)
	record := func(who string, extra ...string) (int, string, string) {
		args := append([]string{"supervision", "record", "--township", "450224100", "--case", caseNo, "--kind", "现场核查",
			"--outcome", "限期整改", "--date", today, "--note", "消防通道堵塞", "--attachment", report}, extra...)
		return d.run(t, who, args...)
	}
	code, out, errs := record("supervisor-农业农村")
	if code != 0 || !strings.Contains(out, "已记录监管结果") || !strings.Contains(out, "现场核查: 限期整改") ||
		!strings.Contains(out, "附件 SM3 ") {
		t.Fatalf("supervision record: %d %q %q", code, out, errs)
	}
	if code, _, errs := record("supervisor-民政"); code == 0 || !strings.Contains(errs, "PermissionDenied") {
		t.Fatalf("another department's record: %d %q", code, errs)
	}
	if code, _, errs := record("supervisor-农业农村", "--kind", "夜访"); code == 0 || !strings.Contains(errs, "夜访") {
		t.Fatalf("an unknown kind: %d %q", code, errs)
	}

	code, out, errs = d.run(t, "450224100-approval", "cases", "show", caseNo)
	if code != 0 || !strings.Contains(out, "办件 "+caseNo) || !strings.Contains(out, "已盖章") ||
		!strings.Contains(out, "监管结果") || !strings.Contains(out, "消防通道堵塞") {
		t.Fatalf("cases show: %d %q %q", code, out, errs)
	}
	if strings.Index(out, "已盖章") > strings.Index(out, "监管结果") {
		t.Errorf("the story is not in ledger order: %q", out)
	}
	code, out, _ = d.run(t, "450224100-approval", "--lang", "en", "cases", "show", caseNo)
	if code != 0 || !strings.Contains(out, "on-site inspection: to be rectified by a deadline") {
		t.Fatalf("cases show in English: %d %q", code, out)
	}
	code, out, _ = d.run(t, "supervisor-农业农村", "--output", "json", "cases", "show", caseNo, "--township", "450224100")
	var story struct {
		Entries []struct {
			Record      struct{ Result string }
			Supervision struct{ Kind, Outcome, AttachmentSm3 string }
		}
	}
	if err := json.Unmarshal([]byte(out), &story); code != 0 || err != nil || len(story.Entries) != 2 ||
		story.Entries[1].Supervision.Kind != "onsite" || story.Entries[1].Supervision.AttachmentSm3 == "" {
		t.Fatalf("cases show --output json: %d %v %s", code, err, out)
	}
	if code, _, errs := d.run(t, "supervisor-农业农村", "cases", "show", caseNo); code == 0 || !strings.Contains(errs, "--township") {
		t.Fatalf("a department without --township: %d %q", code, errs)
	}
	if code, _, errs := d.run(t, "450224101-approval", "cases", "show", caseNo, "--township", "450224100"); code == 0 ||
		!strings.Contains(errs, "PermissionDenied") {
		t.Fatalf("another township's clerk: %d %q", code, errs)
	}
	code, out, _ = d.run(t, "admin", "ledger", "list")
	if code != 0 || !strings.Contains(out, "supervised (现场核查: 限期整改, "+today+")") {
		t.Fatalf("ledger list: %d %q", code, out)
	}
	if code, _, errs := d.run(t, "admin", "seals", "suspend", "450224101"); code != 0 {
		t.Fatalf("suspend: %s", errs)
	}
	code, out, _ = d.run(t, "supervisor-民政", "--lang", "en", "ledger", "list")
	if code != 0 || !strings.Contains(out, "lifecycle (suspended ") {
		t.Fatalf("a department's ledger list after a suspension: %d %q", code, out)
	}
}

func mustZone(t *testing.T) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(countyZone)
	if err != nil {
		t.Fatal(err)
	}
	return z
}
