package workday_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ronganxian/eseal/workday"
)

func date(s string) workday.Date {
	d, err := workday.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestChina2026(t *testing.T) {
	c := workday.China2026()
	tests := []struct {
		day  string
		work bool
	}{
		{"2026-01-01", false}, // 元旦, Thursday
		{"2026-01-04", true},  // Sunday worked (调休)
		{"2026-01-05", true},  // Monday
		{"2026-01-10", false}, // an ordinary Saturday
		{"2026-02-14", true},  // Saturday worked before 春节
		{"2026-02-16", false}, // 春节, Monday
		{"2026-02-23", false}, // 春节's last day, Monday
		{"2026-02-24", true},
		{"2026-02-28", true}, // Saturday worked after 春节
		{"2026-04-06", false},
		{"2026-05-05", false},
		{"2026-05-09", true},
		{"2026-06-19", false},
		{"2026-09-20", true},
		{"2026-09-25", false},
		{"2026-10-07", false},
		{"2026-10-08", true},
		{"2026-10-10", true},
		{"2026-12-31", true},
	}
	for _, tt := range tests {
		got, err := c.IsWorkday(date(tt.day))
		if err != nil || got != tt.work {
			t.Errorf("%s (%s): working day %v, %v; want %v", tt.day, date(tt.day).Weekday(), got, err, tt.work)
		}
	}
	// 2026 has 365 days: 104 weekend days, 6 of them worked; 33 days off
	// by the notice, of which 14 fall on a weekend.
	_, err := c.Between(date("2025-12-31"), date("2026-12-31"))
	if !errors.Is(err, workday.ErrNotCovered) {
		t.Fatalf("a day of 2025: %v, want ErrNotCovered", err)
	}
	n, err := c.Between(date("2026-01-01"), date("2026-12-31"))
	if err != nil || n != 365-104+6-(33-14) {
		t.Errorf("working days in 2026 after 1 January: %d, %v; want %d", n, err, 365-104+6-(33-14))
	}
}

// TestDeadlines counts time limits the way the service does: the day of
// acceptance is not counted, whatever its hour; weekends and holidays are
// skipped, 调休 Saturdays and Sundays counted.
func TestDeadlines(t *testing.T) {
	c := workday.China2026()
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name     string
		accepted time.Time
		days     int
		want     string
	}{
		{"17:59 on a Friday: Monday is day one", time.Date(2026, 3, 6, 17, 59, 0, 0, cst), 1, "2026-03-09"},
		{"17:59 on a Friday, five days", time.Date(2026, 3, 6, 17, 59, 0, 0, cst), 5, "2026-03-13"},
		{"Friday 17:59 in Beijing is Friday 09:59 UTC", time.Date(2026, 3, 6, 9, 59, 0, 0, time.UTC), 1, "2026-03-09"},
		{"Saturday 01:00 in Beijing, Friday in UTC", time.Date(2026, 3, 6, 17, 0, 0, 0, time.UTC), 1, "2026-03-09"},
		{"across a month end", time.Date(2026, 3, 27, 10, 0, 0, 0, cst), 3, "2026-04-01"},
		{"across a month end into 清明", time.Date(2026, 3, 31, 10, 0, 0, 0, cst), 3, "2026-04-03"},
		{"over 清明", time.Date(2026, 4, 2, 10, 0, 0, 0, cst), 2, "2026-04-07"},
		{"a 调休 Sunday counts (元旦)", time.Date(2026, 1, 2, 10, 0, 0, 0, cst), 1, "2026-01-04"},
		{"accepted on the 调休 Saturday before 春节", time.Date(2026, 2, 14, 9, 0, 0, 0, cst), 1, "2026-02-24"},
		{"over 春节", time.Date(2026, 2, 12, 9, 0, 0, 0, cst), 6, "2026-02-27"},
		{"over 春节, into the 调休 Saturday", time.Date(2026, 2, 12, 9, 0, 0, 0, cst), 7, "2026-02-28"},
		{"over 中秋 and 国庆", time.Date(2026, 9, 18, 9, 0, 0, 0, cst), 9, "2026-10-08"},
		{"over 国庆, into its 调休 Saturday", time.Date(2026, 9, 18, 9, 0, 0, 0, cst), 11, "2026-10-10"},
		{"the 调休 Sunday before 国庆 is day one", time.Date(2026, 9, 18, 9, 0, 0, 0, cst), 1, "2026-09-20"},
		{"February's end", time.Date(2026, 2, 26, 9, 0, 0, 0, cst), 2, "2026-02-28"},
		{"即办 (0 days): the day itself", time.Date(2026, 3, 6, 17, 59, 0, 0, cst), 0, "2026-03-06"},
		{"20 days from December", time.Date(2026, 12, 1, 9, 0, 0, 0, cst), 20, "2026-12-29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.AddWorkdays(workday.DateOf(tt.accepted, cst), tt.days)
			if err != nil || got.String() != tt.want {
				t.Fatalf("accepted %v + %d working days: %v, %v; want %s", tt.accepted, tt.days, got, err, tt.want)
			}
			used, err := c.Between(workday.DateOf(tt.accepted, cst), got)
			if err != nil || used != tt.days {
				t.Fatalf("working days from acceptance to the deadline: %d, %v; want %d", used, err, tt.days)
			}
		})
	}
	if _, err := c.AddWorkdays(date("2026-12-24"), 10); !errors.Is(err, workday.ErrNotCovered) {
		t.Fatalf("a deadline in 2027: %v, want ErrNotCovered", err)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, yaml string }{
		{"no range", "holidays: []"},
		{"range backwards", "covers: {from: 2026-12-31, to: 2026-01-01}"},
		{"holiday outside", "covers: {from: 2026-01-01, to: 2026-06-30}\nholidays: [{from: 2026-10-01, name: 国庆}]"},
		{"worked weekday", "covers: {from: 2026-01-01, to: 2026-12-31}\nworkdays: [{from: 2026-01-05, name: x}]"},
		{"both", "covers: {from: 2026-01-01, to: 2026-12-31}\nholidays: [{from: 2026-01-04, name: x}]\nworkdays: [{from: 2026-01-04, name: y}]"},
		{"not a date", "covers: {from: 2026-13-01, to: 2026-12-31}"},
		{"not YAML", "covers: ["},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := workday.Parse([]byte(tt.yaml)); !errors.Is(err, workday.ErrInvalid) {
				t.Fatalf("Parse: %v, want ErrInvalid", err)
			}
		})
	}
}
