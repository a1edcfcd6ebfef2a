package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/testbin"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/service"
	"github.com/ronganxian/eseal/store"
)

// demo is a demo service in a temporary directory, as `sealsvc serve --demo`
// makes it.
type demo struct {
	dir, addr string
	svc       *service.Service
}

func startDemo(t *testing.T) *demo {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("ESEAL_DATA_DIR", dir)
	c, err := service.LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	c.GRPCListen, c.HTTPListen, c.MetricsListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if err := service.EnsureKEK(c.KEKFile); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.Open(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.PrepareDemo(ctx); err != nil {
		t.Fatal(err)
	}
	srv, err := svc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; svc.Close() })
	return &demo{dir: dir, addr: srv.GRPCAddr(), svc: svc}
}

func (d *demo) token(id string) string { return filepath.Join(d.dir, "credentials", id+".token") }

// run runs sealctl in-process as the principal id ("" for none).
func (d *demo) run(t *testing.T, id string, args ...string) (int, string, string) {
	t.Helper()
	full := []string{"--server", d.addr}
	if id != "" {
		full = append(full, "--token-file", d.token(id))
	}
	var out, errb bytes.Buffer
	code := Main(append(full, args...), &out, &errb)
	return code, out.String(), errb.String()
}

const decision = "../testdata/pdfs/decision.pdf"

func checkSealed(t *testing.T, path, item, caseNo string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := pdf.Signatures(bytes.NewReader(doc), int64(len(doc)))
	if err != nil || len(sigs) != 1 {
		t.Fatalf("%s: signatures %v, %v", path, sigs, err)
	}
	der, err := cms.TrimPadding(sigs[0].Contents)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Verify(der, sigs[0].SignedBytes(bytes.NewReader(doc)), nil); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if sigs[0].ItemCode != item || sigs[0].CaseNumber != caseNo {
		t.Fatalf("%s: sealed for %s/%s", path, sigs[0].ItemCode, sigs[0].CaseNumber)
	}
}

func TestCLIEndToEnd(t *testing.T) {
	d := startDemo(t)
	tmp := t.TempDir()
	const permit = "准予行政许可决定书"

	t.Run("stamp", func(t *testing.T) {
		out := filepath.Join(tmp, "sealed.pdf")
		code, stdout, stderr := d.run(t, "450224100-approval", "stamp", decision, "-o", out,
			"--item", "450224-XK-0002", "--case-no", "长安-2026-0042", "--doc-kind", permit, "--keyword", "人民政府")
		if code != 0 || !strings.Contains(stdout, "已盖章") {
			t.Fatalf("stamp: %d %q %q", code, stdout, stderr)
		}
		checkSealed(t, out, "450224-XK-0002", "长安-2026-0042")
		// It says where the seal went, as --page and --at would give it.
		if !regexp.MustCompile(`盖章位置：第 1 页，印章中心距页面左下角 \d+, \d+ 毫米`).MatchString(stdout) {
			t.Errorf("stamp does not say where the seal went: %q", stdout)
		}
		// An existing output is not overwritten, and nothing is sealed for
		// it, unless --force.
		before, _ := os.ReadFile(out)
		code, _, stderr = d.run(t, "450224100-approval", "stamp", decision, "-o", out,
			"--item", "450224-XK-0002", "--case-no", "长安-2026-0043", "--doc-kind", permit)
		if after, _ := os.ReadFile(out); code != 1 || !strings.Contains(stderr, "--force") || !bytes.Equal(after, before) {
			t.Errorf("stamp over an existing output: %d %q, file changed %v", code, stderr, !bytes.Equal(after, before))
		}
		code, stdout, stderr = d.run(t, "450224100-approval", "--lang", "en", "stamp", decision, "-o", out, "--force",
			"--item", "450224-XK-0002", "--case-no", "长安-2026-0043", "--doc-kind", permit)
		if code != 0 || !strings.Contains(stdout, "seal on page 1, centred") {
			t.Fatalf("stamp --force: %d %q %q", code, stdout, stderr)
		}
		checkSealed(t, out, "450224-XK-0002", "长安-2026-0043")
		// Without --doc-kind: the item's only kind, said so; with several
		// kinds, they are listed.
		out = filepath.Join(tmp, "sealed-jf.pdf")
		code, stdout, stderr = d.run(t, "450224100-service", "stamp", decision, "-o", out, "--item", "450224-JF-0001", "--case-no", "长安-JF-1")
		if code != 0 || !strings.Contains(stdout, "按该事项唯一的文书类型盖章: 救助决定书") {
			t.Errorf("stamp without --doc-kind, one kind: %d %q %q", code, stdout, stderr)
		}
		code, _, stderr = d.run(t, "450224100-approval", "stamp", decision, "-o", filepath.Join(tmp, "no-kind.pdf"), "--item", "450224-XK-0002", "--case-no", "长安-NK-1")
		if code != 1 || !strings.Contains(stderr, "不予行政许可决定书") || strings.Contains(stderr, "document_kind") {
			t.Errorf("stamp without --doc-kind, several kinds: %d %q", code, stderr)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		admin := func(args ...string) {
			if code, out, errs := d.run(t, "admin", args...); code != 0 {
				t.Fatalf("%v: %d %s %s", args, code, out, errs)
			}
		}
		admin("seals", "suspend", "450224101")
		admin("seals", "revoke", "450224102", "--reason", "keyCompromise")
		admin("items", "withdraw", "450224-XK-0003")
		for _, tc := range []struct {
			who, item, kind, rule string
		}{
			{"450224100-service", "450224-XK-0002", permit, "wrong_window"},
			{"450224100-approval", "450224-XK-0999", permit, "unknown_item"},
			{"450224100-approval", "450224-XK-0003", permit, "item_inactive"},
			{"450224100-service", "450224-PZ-0002", "受理回执", "dispatched_item"},
			{"450224200-approval", "450224-XK-0006", "林木采伐许可证", "item_not_implemented"},
			{"450224100-approval", "450224-XK-0002", "营业执照", "document_kind"},
			{"450224101-approval", "450224-XK-0002", permit, "seal_suspended"},
			{"450224102-approval", "450224-XK-0002", permit, "seal_revoked"},
		} {
			for _, lang := range []string{"zh", "en"} {
				out := filepath.Join(tmp, "refused-"+tc.rule+".pdf")
				code, _, stderr := d.run(t, tc.who, "--lang", lang, "stamp", decision, "-o", out,
					"--item", tc.item, "--case-no", "R-1", "--doc-kind", tc.kind)
				wantWord := map[string]string{"zh": "拒绝盖章", "en": "refused"}[lang]
				if code != 1 || !strings.Contains(stderr, tc.rule) || !strings.Contains(stderr, wantWord) {
					t.Errorf("%s (%s): %d %q", tc.rule, lang, code, stderr)
				}
				if _, err := os.Stat(out); err == nil {
					t.Errorf("%s: a refused stamp wrote %s", tc.rule, out)
				}
			}
		}
		// Without a credential sealctl says so before calling.
		if code, _, stderr := d.run(t, "", "stamp", decision, "-o", filepath.Join(tmp, "x.pdf"), "--item", "450224-XK-0002", "--case-no", "1"); code != 1 || !strings.Contains(stderr, "credential") {
			t.Errorf("no credential: %d %q", code, stderr)
		}
	})

	t.Run("batch with a bad file", func(t *testing.T) {
		in, out := filepath.Join(tmp, "in20"), filepath.Join(tmp, "out20")
		os.MkdirAll(in, 0o755)
		doc, _ := os.ReadFile(decision)
		for i := range 19 {
			os.WriteFile(filepath.Join(in, fmt.Sprintf("长安-B-%02d.pdf", i)), doc, 0o644)
		}
		os.WriteFile(filepath.Join(in, "长安-B-bad.pdf"), []byte("%PDF-1.7 this is not really a PDF"), 0o644)
		code, stdout, stderr := d.run(t, "450224100-approval", "batch", in, "--out-dir", out,
			"--item", "450224-XK-0002", "--doc-kind", permit, "--parallel", "4")
		if code != 1 || !strings.Contains(stdout, "长安-B-bad.pdf") {
			t.Fatalf("batch: %d\n%s\n%s", code, stdout, stderr)
		}
		rows := readReport(t, filepath.Join(out, "batch-report.csv"))
		sealed := 0
		for _, r := range rows {
			switch {
			case r["status"] == "sealed":
				sealed++
				checkSealed(t, r["output"], "450224-XK-0002", r["case_no"])
			case strings.HasSuffix(r["file"], "bad.pdf"):
				if r["status"] != "refused" || r["rule"] != "bad_document" {
					t.Errorf("bad file reported %v", r)
				}
			default:
				t.Errorf("unexpected row %v", r)
			}
		}
		if sealed != 19 || len(rows) != 20 {
			t.Fatalf("%d sealed of %d rows", sealed, len(rows))
		}
	})

	t.Run("interrupted batch resumes without sealing twice", func(t *testing.T) {
		bin := testbin.Build(t, "sealctl")
		in, out := filepath.Join(tmp, "in-int"), filepath.Join(tmp, "out-int")
		os.MkdirAll(in, 0o755)
		doc, _ := os.ReadFile(decision)
		for i := range 12 {
			os.WriteFile(filepath.Join(in, fmt.Sprintf("长安-I-%02d.pdf", i)), doc, 0o644)
		}
		args := []string{"--server", d.addr, "--token-file", d.token("450224100-approval"), "batch", in,
			"--out-dir", out, "--item", "450224-XK-0002", "--doc-kind", permit, "--parallel", "1"}
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it once a few files are done: a real interruption.
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if n, _ := filepath.Glob(filepath.Join(out, "*.pdf")); len(n) >= 3 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
		done, _ := filepath.Glob(filepath.Join(out, "*.pdf"))
		if len(done) == 0 || len(done) == 12 {
			t.Fatalf("the interruption left %d of 12 done; the test needs a partial batch", len(done))
		}
		// The file being sealed when it was killed may be sealed on the
		// server without its output written: delete one more output too,
		// as a crash between the seal and the write would leave it.
		os.Remove(done[0])
		code, stdout, stderr := d.run(t, "450224100-approval", args[4:]...)
		if code != 0 {
			t.Fatalf("resume: %d\n%s\n%s", code, stdout, stderr)
		}
		// Every case sealed exactly once in the ledger.
		counts := map[string]int{}
		recs, err := d.svc.Store.Records(context.Background(), storeFilterAll, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Result == "sealed" && strings.HasPrefix(r.CaseNo, "长安-I-") {
				counts[r.CaseNo]++
			}
		}
		if len(counts) != 12 {
			t.Fatalf("%d cases sealed, want 12", len(counts))
		}
		for c, n := range counts {
			if n != 1 {
				t.Errorf("case %s sealed %d times", c, n)
			}
		}
		for i := range 12 {
			checkSealed(t, filepath.Join(out, fmt.Sprintf("长安-I-%02d.pdf", i)), "450224-XK-0002", fmt.Sprintf("长安-I-%02d", i))
		}
	})

	t.Run("ledger verify", func(t *testing.T) {
		root := filepath.Join(d.dir, "trust", "root.pem")
		if code, out, errs := d.run(t, "admin", "ledger", "checkpoint"); code != 0 {
			t.Fatalf("checkpoint: %d %s %s", code, out, errs)
		}
		code, stdout, stderr := d.run(t, "admin", "ledger", "verify", "--trust", root)
		if code != 0 || !strings.Contains(stdout, "账本完整") || !strings.Contains(stdout, "1 个签名检查点") {
			t.Fatalf("ledger verify: %d %q %q", code, stdout, stderr)
		}
		export := filepath.Join(tmp, "ledger.jsonl")
		if code, _, stderr := d.run(t, "admin", "ledger", "export", "-f", export); code != 0 {
			t.Fatalf("export: %s", stderr)
		}
		if code, stdout, _ := d.run(t, "", "--lang", "en", "ledger", "verify", "--file", export, "--trust", root); code != 0 || !strings.Contains(stdout, "ledger intact") {
			t.Fatalf("offline verify: %d %q", code, stdout)
		}
		// Change the case number of the fifth record that has one (the
		// first records are the seals' issue, which have none) in the
		// export: verify names it.
		b, _ := os.ReadFile(export)
		lines := strings.Split(string(b), "\n")
		changed, seen := "", 0
		for i, l := range lines {
			if strings.HasPrefix(l, `{"record":`) && strings.Contains(l, `"caseNo":"`) {
				if seen++; seen == 5 {
					lines[i] = strings.Replace(l, `"caseNo":"`, `"caseNo":"X`, 1)
					changed = regexp.MustCompile(`"seq":"(\d+)"`).FindStringSubmatch(l)[1]
				}
			}
		}
		if changed == "" {
			t.Fatal("no fifth record with a case number in the export")
		}
		os.WriteFile(export, []byte(strings.Join(lines, "\n")), 0o644)
		code, stdout, _ = d.run(t, "", "--lang", "en", "ledger", "verify", "--file", export, "--trust", root)
		if code != 1 || !strings.Contains(stdout, "record "+changed+":") {
			t.Fatalf("tampered export (record %s): %d %q", changed, code, stdout)
		}
	})

	t.Run("json output and listings", func(t *testing.T) {
		code, stdout, _ := d.run(t, "admin", "--output", "json", "townships", "list")
		var list struct {
			Townships []struct{ Code, SealName string }
		}
		if err := json.Unmarshal([]byte(stdout), &list); code != 0 || err != nil || len(list.Townships) != 12 ||
			list.Townships[0].SealName != "融安县长安镇人民政府行政审批专用章" {
			t.Fatalf("townships json: %d %v %s", code, err, stdout)
		}
		code, stdout, _ = d.run(t, "admin", "seals", "list", "--township", "450224102")
		if code != 0 || !strings.Contains(stdout, "revoked") {
			t.Fatalf("seals list: %d %s", code, stdout)
		}
	})
}

func readReport(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

var storeFilterAll = store.RecordFilter{}
