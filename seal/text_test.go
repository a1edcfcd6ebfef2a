package seal

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidText(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		want bool
	}{
		{"长安-2026-0001", 64, true},
		{"准予行政许可决定书", 128, true},
		{"", 64, false},
		{strings.Repeat("a", 65), 64, false},
		{"长安-\u202e1000-6202", 64, false}, // right-to-left override
		{"a\u2066b\u2069", 64, false},     // isolates
		{"2026\u200b-0001", 64, false},    // zero-width space
		{"\ufeff2026", 64, false},         // byte-order mark
		{"a\u00adb", 64, false},           // soft hyphen
		{"a\nb", 64, false},
		{"a\x7fb", 64, false},
		{"a\u0085b", 64, false}, // C1 next line
		{"a\u2028b", 64, false}, // line separator
		{"a\xffb", 64, false},   // not UTF-8
		{"a b·c（d）", 64, true},
	} {
		if got := validText(tc.s, tc.max); got != tc.want {
			t.Errorf("validText(%q, %d) = %v, want %v", tc.s, tc.max, got, tc.want)
		}
	}
}

func TestRecordable(t *testing.T) {
	if got := recordable("长安-2026-0001", 64); got != "长安-2026-0001" {
		t.Errorf("a valid text changed: %q", got)
	}
	if got := recordable("", 64); got != "" {
		t.Errorf("empty became %q", got)
	}
	for _, s := range []string{strings.Repeat("4", 1<<20), "长安-\u202e1000-6202", "a\x00b"} {
		got := recordable(s, 64)
		if got == s || len(got) > 64 || !validText(got, 64) || !strings.Contains(got, "invalid text") {
			t.Errorf("recordable(%.20q…) = %q", s, got)
		}
		if recordable(s, 64) != got {
			t.Error("the stand-in is not stable")
		}
	}
	if recordable("a\x00b", 64) == recordable("a\x00c", 64) {
		t.Error("two different texts have one stand-in")
	}
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"长安镇", 4, "长…"}, // never cuts a character
		{"长安镇", 3, "长…"},
		{"长安镇", 2, "…"},
	} {
		got := clip(tc.s, tc.max)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
		}
	}
}
