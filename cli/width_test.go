package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestDisplayWidth(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "长安镇": 6, "450224-XK-0002": 14, "（盖章）": 8, "a长b": 4} {
		if got := displayWidth(s); got != want {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestTableAlignsChinese(t *testing.T) {
	var out bytes.Buffer
	a := &app{stdout: &out}
	a.table([]string{"CODE", "NAME", "X"}, [][]string{{"1", "长安镇", "a"}, {"22", "ab", "b"}})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	col := func(line, cell string) int { return displayWidth(line[:strings.LastIndex(line, cell)]) }
	if col(lines[1], "a") != col(lines[2], "b") || col(lines[0], "X") != col(lines[1], "a") {
		t.Fatalf("columns not aligned:\n%s", out.String())
	}
}
