// Package workday is the county's working-day calendar (工作日历): which
// days are working days, given the weekends, the public holidays and the
// 调休 days when a weekend is worked instead. Time limits of items (承诺时
// 限) are counted in working days on it (限时办结).
//
// The county office maintains the calendar as a YAML file: the dates it
// covers, and within them the holidays and the worked weekend days, as the
// State Council announces them each year. A calendar answers only for the
// dates it covers and refuses the others (ErrNotCovered): a time limit
// counted past the end of a calendar would silently treat next year's
// holidays as working days.
package workday

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// Errors of calendars, for errors.Is.
var (
	// ErrNotCovered: a date outside the calendar's range was asked about.
	ErrNotCovered = errors.New("workday: the calendar does not cover the date")
	// ErrInvalid: a calendar file is malformed or contradicts itself.
	ErrInvalid = errors.New("workday: invalid calendar")
)

// Date is a civil date (no time, no zone).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the date of instant t in zone.
func DateOf(t time.Time, zone *time.Location) Date {
	y, m, d := t.In(zone).Date()
	return Date{y, m, d}
}

// ParseDate reads "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%w: date %q is not YYYY-MM-DD", ErrInvalid, s)
	}
	return DateOf(t, time.UTC), nil
}

func (d Date) t() time.Time                 { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }
func (d Date) String() string               { return d.t().Format(time.DateOnly) }
func (d Date) Weekday() time.Weekday        { return d.t().Weekday() }
func (d Date) AddDays(n int) Date           { return DateOf(d.t().AddDate(0, 0, n), time.UTC) }
func (d Date) Before(e Date) bool           { return d.t().Before(e.t()) }
func (d Date) After(e Date) bool            { return d.t().After(e.t()) }
func (d Date) weekend() bool                { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday }
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "2006-01-02".
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	*d = p
	return err
}

// Calendar says which days are working days, from From to To inclusive.
type Calendar struct {
	Name     string
	From, To Date
	holidays map[Date]string // weekdays off, with the holiday's name
	workdays map[Date]string // weekend days worked (调休), with why
}

// file is the YAML form.
type file struct {
	Name   string `yaml:"name"`
	Source string `yaml:"source"`
	Covers struct {
		From Date `yaml:"from"`
		To   Date `yaml:"to"`
	} `yaml:"covers"`
	Holidays []day `yaml:"holidays"`
	Workdays []day `yaml:"workdays"`
}

type day struct {
	From Date   `yaml:"from"`
	To   Date   `yaml:"to"` // optional: a run of days
	Name string `yaml:"name"`
}

//go:embed cn-2026.yaml
var china2026 []byte

// China2026 is the calendar of 2026 as the State Council's notice of 4
// November 2025 (国办发明电〔2025〕7号) arranges it; see cn-2026.yaml.
func China2026() *Calendar {
	c, err := Parse(china2026)
	if err != nil {
		panic("workday: the built-in 2026 calendar: " + err.Error())
	}
	return c
}

// Load reads a calendar file.
func Load(path string) (*Calendar, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("workday: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads a calendar in its YAML form and checks it: the range is
// given, every listed day lies in it, no day is both a holiday and a
// worked day, and a worked day (调休) is a Saturday or Sunday.
func Parse(b []byte) (*Calendar, error) {
	var f file
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	c := &Calendar{Name: f.Name, From: f.Covers.From, To: f.Covers.To, holidays: map[Date]string{}, workdays: map[Date]string{}}
	if c.From == (Date{}) || c.To == (Date{}) || c.To.Before(c.From) {
		return nil, fmt.Errorf("%w: covers.from and covers.to must be given, from not after to", ErrInvalid)
	}
	add := func(days []day, into map[Date]string, what string) error {
		for _, d := range days {
			to := d.To
			if to == (Date{}) {
				to = d.From
			}
			if d.From == (Date{}) || to.Before(d.From) {
				return fmt.Errorf("%w: %s %q: from missing or after to", ErrInvalid, what, d.Name)
			}
			for x := d.From; !x.After(to); x = x.AddDays(1) {
				if x.Before(c.From) || x.After(c.To) {
					return fmt.Errorf("%w: %s %s (%s) is outside the calendar's %s to %s", ErrInvalid, what, x, d.Name, c.From, c.To)
				}
				into[x] = d.Name
			}
		}
		return nil
	}
	if err := add(f.Holidays, c.holidays, "holiday"); err != nil {
		return nil, err
	}
	if err := add(f.Workdays, c.workdays, "worked day"); err != nil {
		return nil, err
	}
	for d, name := range c.workdays {
		if _, both := c.holidays[d]; both {
			return nil, fmt.Errorf("%w: %s is both a holiday and a worked day", ErrInvalid, d)
		}
		if !d.weekend() {
			return nil, fmt.Errorf("%w: worked day %s (%s) is a %s, not a weekend day", ErrInvalid, d, name, d.Weekday())
		}
	}
	return c, nil
}

// covered fails with ErrNotCovered for a date outside the calendar.
func (c *Calendar) covered(d Date) error {
	if d.Before(c.From) || d.After(c.To) {
		return fmt.Errorf("%w: %s is outside %s to %s (%s); the county office must add the year's calendar",
			ErrNotCovered, d, c.From, c.To, c.Name)
	}
	return nil
}

// IsWorkday reports whether d is a working day.
func (c *Calendar) IsWorkday(d Date) (bool, error) {
	if err := c.covered(d); err != nil {
		return false, err
	}
	if _, ok := c.workdays[d]; ok {
		return true, nil
	}
	if _, ok := c.holidays[d]; ok {
		return false, nil
	}
	return !d.weekend(), nil
}

// AddWorkdays returns the n'th working day after start (start itself not
// counted, as 行政许可法 and 民法典 第二百零一条 count periods: the day an
// application is accepted is not a day of the period). n = 0 is start.
func (c *Calendar) AddWorkdays(start Date, n int) (Date, error) {
	if err := c.covered(start); err != nil {
		return Date{}, err
	}
	d := start
	for n > 0 {
		d = d.AddDays(1)
		ok, err := c.IsWorkday(d)
		if err != nil {
			return Date{}, err
		}
		if ok {
			n--
		}
	}
	return d, nil
}

// Between returns the working days after a up to and including b: the
// working days used by a case accepted on a and decided on b (0 when
// decided on a, or before the next working day).
func (c *Calendar) Between(a, b Date) (int, error) {
	if err := c.covered(a); err != nil {
		return 0, err
	}
	if err := c.covered(b); err != nil {
		return 0, err
	}
	n := 0
	for d := a.AddDays(1); !d.After(b); d = d.AddDays(1) {
		if ok, _ := c.IsWorkday(d); ok {
			n++
		}
	}
	return n, nil
}
