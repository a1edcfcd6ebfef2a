package cli

import (
	"fmt"
	"os"
	"time"
	_ "time/tzdata" // the county's zone on machines without a zone database (Windows)
)

// countyZone is the zone human output shows times in by default: the
// county's, whatever zone the machine is set to (servers often run in
// UTC, and every user is in China).
const countyZone = "Asia/Shanghai"

// zone returns the zone human output shows times in: --tz (or SEAL_TZ),
// else the machine's local zone when TZ is set, else the county's. JSON
// output is not affected: it keeps RFC 3339 times with their offsets.
func (a *app) zone() (*time.Location, error) {
	name := a.tz
	if name == "" {
		name = os.Getenv("SEAL_TZ")
	}
	if name == "" {
		if _, ok := os.LookupEnv("TZ"); ok {
			return time.Local, nil
		}
		name = countyZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("--tz %q: %w", name, err)
	}
	return loc, nil
}

// when formats t for people: to the second, in the display zone, with its
// offset, so that a reader knows which zone it is.
func (a *app) when(t time.Time) string {
	return t.In(a.location()).Format("2006-01-02 15:04:05 -07:00")
}

// day formats the date of t in the display zone.
func (a *app) day(t time.Time) string {
	return t.In(a.location()).Format("2006-01-02")
}

// location is the display zone: the one the command line chose, or the
// county's before it has chosen.
func (a *app) location() *time.Location {
	if a.loc == nil {
		a.loc, _ = time.LoadLocation(countyZone) // embedded: cannot fail
	}
	return a.loc
}
