package cli

import "testing"

func TestTermText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"融安县长安镇人民政府行政审批专用章", "融安县长安镇人民政府行政审批专用章"},
		{"a b\tc", `a b\x09c`},
		{"\x1b[2J\x1b[32mVALID", `\x1b[2J\x1b[32mVALID`},
		{"x\n有效", `x\x0a有效`},
		{"x\r有效", `x\x0d有效`},
		{"长安-\u202e1000-6202", `长安-\u202e1000-6202`},
		{"a\u200bb", `a\u200bb`},
		{"a\u0085b", `a\u0085b`},
		{"a\u2028b", `a\u2028b`},
		{"bad \xff byte", `bad \xff byte`},
		{"", ""},
	} {
		if got := termText(tc.in); got != tc.want {
			t.Errorf("termText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
