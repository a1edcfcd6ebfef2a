package verify

import (
	"strings"
	"time"
)

// parsePDFDate reads a PDF date (ISO 32000-2 §7.9.4),
// D:YYYYMMDDHHmmSSOHH'mm', where everything after the year is optional
// and O is Z, + or -. A missing zone is read as UTC. It reports false for
// anything else.
func parsePDFDate(s string) (time.Time, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "D:")
	digits := func(n int) (int, bool) {
		if len(s) < n {
			return 0, false
		}
		v := 0
		for i := 0; i < n; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		s = s[n:]
		return v, true
	}
	year, ok := digits(4)
	if !ok {
		return time.Time{}, false
	}
	f := [5]int{1, 1, 0, 0, 0} // month, day, hour, minute, second
	for i := range f {
		if len(s) == 0 || s[0] < '0' || s[0] > '9' {
			break
		}
		if f[i], ok = digits(2); !ok {
			return time.Time{}, false
		}
	}
	if f[0] < 1 || f[0] > 12 || f[1] < 1 || f[1] > 31 || f[2] > 23 || f[3] > 59 || f[4] > 59 {
		return time.Time{}, false
	}
	loc := time.UTC
	if len(s) > 0 {
		switch s[0] {
		case 'Z':
			s = strings.TrimLeft(s[1:], "0'") // some writers add 00'00'
		case '+', '-':
			sign := 1
			if s[0] == '-' {
				sign = -1
			}
			s = s[1:]
			hh, ok := digits(2)
			if !ok || hh > 23 {
				return time.Time{}, false
			}
			mm := 0
			s = strings.TrimPrefix(s, "'")
			if len(s) > 0 {
				if mm, ok = digits(2); !ok || mm > 59 {
					return time.Time{}, false
				}
			}
			loc = time.FixedZone("", sign*(hh*3600+mm*60))
		default:
			return time.Time{}, false
		}
		s = strings.TrimPrefix(s, "'")
	}
	if s != "" {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(f[0]), f[1], f[2], f[3], f[4], 0, loc), true
}
