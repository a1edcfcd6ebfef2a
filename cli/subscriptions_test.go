package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSubscriptionsAndTimelinessCLI: the county office manages
// subscriptions with sealctl, a clerk may not, the secret never comes
// back; a sealing with --accepted is counted by sealctl report timeliness.
func TestSubscriptionsAndTimelinessCLI(t *testing.T) {
	d := startDemo(t)
	tmp := t.TempDir()
	secret := filepath.Join(tmp, "token")
	os.WriteFile(secret, []byte("s3cret-of-the-platform\n"), 0o600)
	steps := []struct {
		who  string
		args []string
		code int
		want string
	}{
		{"admin", []string{"subscriptions", "create", "gx-platform", "--endpoint", "https://platform.example/events",
			"--auth", "bearer", "--secret-file", secret, "--from", "1"}, 0, "gx-platform"},
		{"admin", []string{"subscriptions", "create", "minzheng", "--endpoint", "http://platform.example/events"}, 1, "loopback"},
		{"admin", []string{"subscriptions", "create", "gx-platform", "--endpoint", "https://x.example/"}, 1, "exists"},
		{"450224100-approval", []string{"subscriptions", "list"}, 1, "may not"},
		{"admin", []string{"subscriptions", "list"}, 0, "active"},
		{"admin", []string{"subscriptions", "pause", "gx-platform"}, 0, "paused"},
		{"admin", []string{"subscriptions", "resume", "gx-platform"}, 0, "active"},
		{"admin", []string{"subscriptions", "replay", "gx-platform", "--from", "1"}, 0, "active"},
		{"admin", []string{"subscriptions", "status", "gx-platform"}, 0, "backlog:"},
		{"admin", []string{"subscriptions", "status", "nobody"}, 1, ""},
		{"admin", []string{"subscriptions", "create", "batched", "--endpoint", "http://127.0.0.1:9/events", "--batch", "100"}, 0, "batched"},
		{"admin", []string{"subscriptions", "create", "single", "--endpoint", "http://127.0.0.1:9/events", "--batch", "1"}, 0, "single"},
		{"admin", []string{"subscriptions", "create", "too-big", "--endpoint", "http://127.0.0.1:9/events", "--batch", "501"}, 1, "batch 501"},
	}
	for _, s := range steps {
		code, out, errOut := d.run(t, s.who, s.args...)
		if code != s.code || !strings.Contains(out+errOut, s.want) {
			t.Fatalf("%s %v: %d %q %q; want %d and %q", s.who, s.args, code, out, errOut, s.code, s.want)
		}
		if strings.Contains(out+errOut, "s3cret") {
			t.Fatalf("%v shows the secret: %s", s.args, out)
		}
	}

	var st struct{ Batch uint32 }
	if code, out, errOut := d.run(t, "admin", "--output", "json", "subscriptions", "status", "batched"); code != 0 ||
		json.Unmarshal([]byte(out), &st) != nil || st.Batch != 100 {
		t.Fatalf("status batched, as JSON: %d %q %q; want batch 100", code, out, errOut)
	}
	// The BATCH column: 1 for one event a request, whether said (single)
	// or not (gx-platform, batch 0); the batch size otherwise.
	for _, c := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"subscriptions", "list"}, map[string]string{"gx-platform": "1", "single": "1", "batched": "100"}},
		{[]string{"subscriptions", "status", "batched"}, map[string]string{"batched": "100"}},
		{[]string{"subscriptions", "status", "gx-platform"}, map[string]string{"gx-platform": "1"}},
	} {
		code, out, errOut := d.run(t, "admin", c.args...)
		if code != 0 {
			t.Fatalf("%v: %d %q", c.args, code, errOut)
		}
		if got := tableColumn(out, "BATCH"); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%v: BATCH %v, want %v in\n%s", c.args, got, c.want, out)
		}
	}

	const permit = "准予行政许可决定书"
	doc := "../testdata/pdfs/decision.pdf"
	accepted := time.Now().Add(-2 * time.Hour).Format("2006-01-02 15:04")
	if code, out, errOut := d.run(t, "450224100-approval", "--output", "json", "stamp", doc, "-o", filepath.Join(tmp, "s.pdf"),
		"--item", "450224-XK-0002", "--case-no", "长安-T-1", "--doc-kind", permit, "--accepted", accepted); code != 0 ||
		!strings.Contains(out, "限时办结 status=") {
		t.Fatalf("stamp --accepted: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := d.run(t, "450224100-approval", "stamp", doc, "-o", filepath.Join(tmp, "x.pdf"),
		"--item", "450224-XK-0002", "--case-no", "长安-T-2", "--doc-kind", permit, "--accepted", "last Friday"); code == 0 ||
		!strings.Contains(errOut, "--accepted") {
		t.Fatalf("stamp --accepted 'last Friday': %d %q", code, errOut)
	}
	today := time.Now().Format(time.DateOnly)
	code, out, errOut := d.run(t, "admin", "--output", "json", "report", "timeliness", "--from", today, "--to", today)
	var rep struct {
		Rows []struct {
			TownshipCode, ItemCode string
			OnTime, Late, Unknown  int
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || len(rep.Rows) != 1 ||
		rep.Rows[0].ItemCode != "450224-XK-0002" || rep.Rows[0].OnTime+rep.Rows[0].Unknown != 1 {
		t.Fatalf("report timeliness: %d %v %q %q", code, err, out, errOut)
	}
}

// tableColumn reads the column named col of a table that sealctl printed,
// by row id (the first column); columns are two or more spaces apart.
func tableColumn(out, col string) map[string]string {
	gap := regexp.MustCompile(`\s{2,}`)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	at := slices.Index(gap.Split(lines[0], -1), col)
	got := map[string]string{}
	for _, l := range lines[1:] {
		if f := gap.Split(l, -1); at >= 0 && at < len(f) {
			got[f[0]] = f[at]
		}
	}
	return got
}
