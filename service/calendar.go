package service

import "github.com/ronganxian/eseal/workday"

// calendar returns the county's working-day calendar: calendar_file when
// set, else the built-in one of 2026 (workday.China2026). Time limits are
// counted on it (限时办结); a sealing whose dates it does not cover is
// recorded with its timeliness unknown, and the county office adds the
// next year's file when the State Council announces it.
func (c *Config) calendar() (*workday.Calendar, error) {
	if c.CalendarFile == "" {
		return workday.China2026(), nil
	}
	return workday.Load(c.CalendarFile)
}
