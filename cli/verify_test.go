package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const attacks = "../testdata/attacks"

func runSealctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func corpus(name string) string { return filepath.Join(attacks, name) }

// TestVerifyCommand runs `sealctl verify` on the attack corpus: the exit
// status, the verdict first, then why, in Chinese and in English.
func TestVerifyCommand(t *testing.T) {
	t.Setenv("SEAL_LANG", "zh") // Chinese unless --lang says otherwise, whatever LANG is
	notPDF := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notPDF, []byte("not a PDF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	trust := []string{"--trust", corpus("root.pem"), "--crl", corpus("crl.pem")}
	cases := []struct {
		name  string
		args  []string
		code  int
		first string   // the first line of the output
		has   []string // text the output must contain
	}{
		{"valid", append(trust, corpus("valid-visible.pdf")), 0, corpus("valid-visible.pdf") + "：有效",
			[]string{"乡镇代码  450224100", "办件编号  CA-2026-000123", "SM3withSM2", "证书链    可信", "吊销状态  未吊销", "后续修改  无"}},
		{"valid in English", append(trust, "--lang", "en", corpus("valid.pdf")), 0, corpus("valid.pdf") + ": VALID",
			[]string{"township", "450224100", "the whole file", "not revoked"}},
		{"white box", append(trust, corpus("whitebox-name.pdf")), 1, corpus("whitebox-name.pdf") + "：无效",
			[]string{"原因：签章后文件被修改，页面显示的内容已改变", "页面内容（不允许）"}},
		{"signature wrapping", []string{"verify", "--trust", corpus("bc-root.pem"), corpus("signature-wrapping.pdf")}, 1,
			corpus("signature-wrapping.pdf") + "：无效", []string{"签名包装攻击"}},
		{"revoked", append(trust, "--lang", "en", corpus("revoked.pdf")), 1, corpus("revoked.pdf") + ": INVALID",
			[]string{"why: the seal was revoked because its key was compromised", "revoked (since"}},
		{"no trust anchor", []string{"verify", corpus("valid.pdf")}, 1, corpus("valid.pdf") + "：无效",
			[]string{"证书链不能追溯到受信任的根证书"}},
		{"unsigned", append(trust, "../testdata/pdfs/one.pdf"), 1, "../testdata/pdfs/one.pdf：无效",
			[]string{"文件中没有签章"}},
		{"not a PDF", append(trust, notPDF), 2, notPDF + "：无法读取", []string{"无法作为PDF读取"}},
		{"missing", append(trust, "no-such.pdf"), 2, "no-such.pdf：无法读取", nil},
		{"valid and invalid", append(trust, corpus("valid.pdf"), corpus("isa.pdf")), 1, corpus("valid.pdf") + "：有效",
			[]string{corpus("isa.pdf") + "：无效"}},
		{"invalid and unreadable", append(trust, corpus("isa.pdf"), notPDF), 2, corpus("isa.pdf") + "：无效", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if args[0] != "verify" {
				args = append([]string{"verify"}, args...)
			}
			code, out, errOut := runSealctl(t, args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, out, errOut)
			}
			if first, _, _ := strings.Cut(out, "\n"); first != c.first {
				t.Errorf("first line %q, want %q", first, c.first)
			}
			for _, s := range c.has {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestVerifyCommandJSON decodes --json output: one report per file.
func TestVerifyCommandJSON(t *testing.T) {
	for _, flag := range []string{"--json", "--output=json"} {
		code, out, errOut := runSealctl(t, "verify", flag, "--trust", corpus("root.pem"), corpus("valid.pdf"), corpus("replaced-content.pdf"))
		if code != 1 {
			t.Errorf("%s: exit %d, want 1: %s", flag, code, errOut)
		}
		dec := json.NewDecoder(strings.NewReader(out))
		type report struct {
			Verdict, File string
			Revisions     int
			Signatures    []struct {
				TownshipCode, SignatureAlgorithm string
				Valid                            bool
				Reasons                          []string
				LaterRevisions                   []struct {
					Kind    string
					Allowed bool
				}
			}
		}
		var reps []report
		for {
			var r report
			if err := dec.Decode(&r); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s: %v\n%s", flag, err, out)
			}
			reps = append(reps, r)
		}
		if len(reps) != 2 {
			t.Fatalf("%s: %d reports, want 2", flag, len(reps))
		}
		v, m := reps[0], reps[1]
		if v.Verdict != "valid" || v.File != corpus("valid.pdf") || len(v.Signatures) != 1 || v.Signatures[0].TownshipCode != "450224100" || !v.Signatures[0].Valid {
			t.Errorf("%s: first report %+v", flag, v)
		}
		if m.Verdict != "invalid" || m.Revisions != 3 || len(m.Signatures) != 1 || len(m.Signatures[0].LaterRevisions) != 1 ||
			m.Signatures[0].LaterRevisions[0].Kind != "page_content" || m.Signatures[0].LaterRevisions[0].Allowed ||
			!strings.HasPrefix(m.Signatures[0].Reasons[0], "modified_after_signing: ") {
			t.Errorf("%s: second report %+v", flag, m)
		}
	}
}

func TestVerifyCommandBadTrust(t *testing.T) {
	code, _, errOut := runSealctl(t, "verify", "--trust", corpus("valid.pdf"), corpus("valid.pdf"))
	if code != 2 || !strings.Contains(errOut, "--trust") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
