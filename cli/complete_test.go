package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// completions runs sealctl's hidden __complete command as a shell does on
// Tab, and returns the candidates (without the trailing directive line).
func completions(t *testing.T, d *demo, id string, args ...string) []string {
	t.Helper()
	code, stdout, stderr := d.run(t, id, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d, %q", args, code, stderr)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if l != "" && !strings.HasPrefix(l, ":") {
			out = append(out, l)
		}
	}
	return out
}

func itemCodes(cands []string) []string {
	var out []string
	for _, c := range cands {
		code, _, _ := strings.Cut(c, "\t")
		out = append(out, code)
	}
	return out
}

func TestCompletionFromTheService(t *testing.T) {
	d := startDemo(t)
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	const clerk = "450224100-approval"

	t.Run("items of the clerk's township and window", func(t *testing.T) {
		got := completions(t, d, clerk, "stamp", "x.pdf", "--item", "")
		if !slices.Contains(got, "450224-XK-0002\t农村村民宅基地审批") {
			t.Errorf("no 450224-XK-0002 with its name among %q", got)
		}
		for _, c := range itemCodes(got) {
			switch {
			case strings.Contains(c, "-JF-"), strings.Contains(c, "-GG-"):
				t.Errorf("a service-window item %s offered to an approval clerk", c)
			case strings.Contains(c, "-PZ-"):
				t.Errorf("item %s, which the township does not implement, offered", c)
			}
		}
		if got := itemCodes(completions(t, d, clerk, "stamp", "x.pdf", "--item", "450224-XK-000")); len(got) < 2 || slices.ContainsFunc(got, func(c string) bool { return !strings.HasPrefix(c, "450224-XK-000") }) {
			t.Errorf("prefix 450224-XK-000 completes to %q", got)
		}
	})

	t.Run("kinds of the item typed", func(t *testing.T) {
		got := completions(t, d, clerk, "stamp", "x.pdf", "--item", "450224-XK-0002", "--doc-kind", "")
		want := []string{"准予行政许可决定书", "不予行政许可决定书", "农村宅基地批准书"}
		if !slices.Equal(got, want) {
			t.Errorf("--doc-kind for 450224-XK-0002 completes to %q, want %q", got, want)
		}
		got = completions(t, d, clerk, "stamp", "x.pdf", "--item", "450224-XK-0002", "--doc-kind", "不予")
		if !slices.Equal(got, []string{"不予行政许可决定书"}) {
			t.Errorf("--doc-kind 不予 completes to %q", got)
		}
		// batch takes the same flags.
		if got := completions(t, d, "450224100-service", "batch", "dir", "--item", "450224-JF-0001", "--doc-kind", ""); !slices.Equal(got, []string{"救助决定书"}) {
			t.Errorf("batch --doc-kind completes to %q", got)
		}
	})

	t.Run("answers are cached briefly", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(cache, "sealctl", "completion-*.json"))
		if len(files) != 2 { // one per credential used above
			t.Fatalf("cache files %q, want one per credential", files)
		}
		for _, f := range files {
			fi, err := os.Stat(f)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("cache file %s: %v mode %v", f, err, fi.Mode())
			}
			b, _ := os.ReadFile(f)
			if strings.Contains(string(b), "Bearer") || strings.Contains(string(b), "token") {
				t.Errorf("cache file %s holds more than the catalog: %s", f, b)
			}
		}
		// A fresh cache is answered from, without the service: an entry
		// planted there appears.
		tok, err := os.ReadFile(d.token(clerk))
		if err != nil {
			t.Fatal(err)
		}
		f := (&app{conn: conn{server: d.addr, token: strings.TrimSpace(string(tok))}}).catalogCachePath()
		if !slices.Contains(files, f) {
			t.Fatalf("the clerk's cache %s is not among %q", f, files)
		}
		plant := func(fetched time.Time) {
			b, _ := json.Marshal(catalogCache{Fetched: fetched, Items: []completionItem{{Code: "450224-XK-9999", Name: "planted"}}})
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		plant(time.Now())
		if got := itemCodes(completions(t, d, clerk, "stamp", "x.pdf", "--item", "")); !slices.Equal(got, []string{"450224-XK-9999"}) {
			t.Errorf("fresh cache not used: %q", got)
		}
		// A stale one is fetched again.
		plant(time.Now().Add(-catalogCacheTTL - time.Second))
		if got := itemCodes(completions(t, d, clerk, "stamp", "x.pdf", "--item", "")); slices.Contains(got, "450224-XK-9999") || !slices.Contains(got, "450224-XK-0002") {
			t.Errorf("stale cache used: %q", got)
		}
	})

	t.Run("no credential completes nothing, quietly", func(t *testing.T) {
		code, stdout, stderr := d.run(t, "", "__complete", "stamp", "x.pdf", "--item", "")
		if code != 0 || strings.Contains(stdout, "450224-") || stderr != "" && !strings.Contains(stderr, "Completion ended") {
			t.Errorf("without a credential: %d %q %q", code, stdout, stderr)
		}
	})
}
