package pdf

import (
	"math"
	"testing"
)

// setLine is a line of synthetic text: its text from x on baseline y, in
// 11 pt glyphs one em wide.
type setLine struct {
	x, y float64
	s    string
}

// setText lays out lines as a page's text, as the extractor would find
// them, for tests of what is made of the text.
func setText(lines ...setLine) *pageText {
	t := &pageText{}
	for _, l := range lines {
		x := l.x
		for _, r := range l.s {
			off := len(t.runes)
			t.runes, _, _ = appendNormalized(t.runes, []rune{r}, nil, nil)
			t.glyphs = append(t.glyphs, glyph{off: int32(off), n: int32(len(t.runes) - off),
				box: rect{x, l.y - 2.2, x + 11, l.y + 8.8}, size: 11})
			x += 11
		}
	}
	t.buildLines()
	return t
}

// TestSignatureBlock finds the 署名 and 成文日期 block of pages of text:
// the name lines that stand apart from the body above a date line of its
// own, and no block where the last date is the body's or the imprint's.
func TestSignatureBlock(t *testing.T) {
	body := []setLine{
		{56, 700, "本机关于2024年5月8日受理你的申请，经审查，决定准予行政许可，具体内容如下所述，特此决定。"},
		{56, 680, "如对本决定不服，可以自收到本决定书之日起六十日内申请行政复议。"},
	}
	with := func(ls ...setLine) []setLine { return append(append([]setLine(nil), body...), ls...) }
	for _, tc := range []struct {
		name  string
		lines []setLine
		ok    bool
		block string // name / date
	}{
		{"name and date", with(setLine{440, 640, "青山镇人民政府"}, setLine{450, 615, "2024年5月20日"}), true, "青山镇人民政府 / 2024年5月20日"},
		{"two name lines", with(setLine{440, 660, "青山镇人民政府"}, setLine{440, 640, "青山镇财政所"}, setLine{450, 615, "2024年5月20日"}), true, "青山镇人民政府 青山镇财政所 / 2024年5月20日"},
		{"a line of spaces between", with(setLine{440, 660, "青山镇"}, setLine{56, 640, "   "}, setLine{450, 630, "二〇二四年五月二十日"}), true, "青山镇 / 二〇二四年五月二十日"},
		{"date alone", with(setLine{450, 615, "2024年5月20日"}), true, " / 2024年5月20日"},
		{"a body line above the date is not a name", with(setLine{56, 640, "甲方（盖章）：乙方（盖章）："}, setLine{56, 615, "日期：2024年5月20日"}), true, " / 2024年5月20日"},
		{"a name far above the date is not its name", with(setLine{440, 660, "青山镇人民政府"}, setLine{450, 600, "2024年5月20日"}), true, " / 2024年5月20日"},
		{"the imprint's date is not the 成文日期", with(setLine{440, 640, "青山镇人民政府"}, setLine{450, 615, "2024年5月20日"}, setLine{56, 100, "青山镇党政办 2024年5月21日印发"}), true, "青山镇人民政府 / 2024年5月20日"},
		{"a date in the body only", body, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ok := setText(tc.lines...).signatureBlock()
			if ok != tc.ok {
				t.Fatalf("found %v, want %v", ok, tc.ok)
			}
			if got := b.name + " / " + b.date; ok && got != tc.block {
				t.Errorf("block %q, want %q", got, tc.block)
			}
		})
	}
}

// TestNameOverDate: a keyword is a 署名 when it stands apart from the body
// right above a date line, over the date.
func TestNameOverDate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []setLine
		kw    string
		want  bool
	}{
		{"the name above the date", []setLine{{56, 700, "本决定自作出之日起生效，特此决定，请遵照执行。"}, {440, 640, "青山镇人民政府"}, {450, 615, "2024年5月20日"}}, "人民政府", true},
		{"a contract's party line", []setLine{{56, 700, "本合同一式两份，自双方盖章之日起生效，特此约定。"}, {56, 640, "甲方（盖章）：乙方（盖章）："}, {56, 615, "日期：2024年5月20日"}}, "（盖章）", false},
		{"not over the date", []setLine{{56, 700, "本决定自作出之日起生效，特此决定，请遵照执行。"}, {250, 640, "青山镇人民政府"}, {450, 615, "2024年5月20日"}}, "人民政府", false},
		{"no date below", []setLine{{56, 700, "本决定自作出之日起生效，特此决定，请遵照执行。"}, {440, 640, "青山镇人民政府"}}, "人民政府", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt := setText(tc.lines...)
			hits := pt.find(normalizeText(tc.kw))
			if len(hits) == 0 {
				t.Fatal("keyword not found")
			}
			if _, ok := pt.nameOverDate(hits[len(hits)-1]); ok != tc.want {
				t.Errorf("a name over the date: %v, want %v", ok, tc.want)
			}
		})
	}
}

// TestColumn: the text column's right edge leaves out punctuation that
// hangs past the margin.
func TestColumn(t *testing.T) {
	pt := setText(setLine{56, 700, "一二三四五六七八九十"}, setLine{56, 680, "一二三四五六七八九十。"}, setLine{100, 660, "一二三"})
	left, right, ok := pt.column()
	if !ok || left != 56 || right != 166 {
		t.Errorf("column %v–%v (%v), want 56–166", left, right, ok)
	}
	if _, _, ok := setText().column(); ok {
		t.Error("a page without text has a column")
	}
}

func TestEllipseMeetsRect(t *testing.T) {
	for _, tc := range []struct {
		r    rect
		want bool
	}{
		{rect{-1, -1, 1, 1}, true},      // the centre
		{rect{9, -1, 12, 1}, true},      // across the right end of the major axis
		{rect{10.5, -1, 12, 1}, false},  // beyond it
		{rect{7.2, 3.6, 9, 5}, false},   // off the curve, inside the bounding box
		{rect{6.9, 3.4, 9, 5}, true},    // touching it: (7, 3.57) lies on it
		{rect{-3, 5.5, 3, 8}, false},    // above the minor axis' end
		{rect{-3, 4.9, 3, 8}, true},     // across it
		{rect{-20, -20, 20, 20}, true},  // around it
		{rect{-9, -4.5, -8, -4}, false}, // a lower left corner, outside
	} {
		if got := ellipseMeetsRect(0, 0, 10, 5, tc.r); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.r, got, tc.want)
		}
	}
	// A corner exactly on the ellipse meets it.
	x := 10 * math.Cos(math.Pi/4)
	y := 5 * math.Sin(math.Pi/4)
	if !ellipseMeetsRect(0, 0, 10, 5, rect{x, y, x + 1, y + 1}) {
		t.Error("a corner on the ellipse does not meet it")
	}
}
