package cli

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// acceptedLayouts are the forms --accepted takes besides RFC 3339: a
// window clerk's, in the county's zone.
var acceptedLayouts = []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04"}

// parseAccepted reads --accepted (受理时间): RFC 3339, or a date and time
// in the county's zone. Empty is no acceptance time.
func parseAccepted(s string) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return timestamppb.New(t), nil
	}
	zone, _ := time.LoadLocation(countyZone) // embedded: cannot fail
	for _, l := range acceptedLayouts {
		if t, err := time.ParseInLocation(l, s, zone); err == nil {
			return timestamppb.New(t), nil
		}
	}
	return nil, fmt.Errorf("--accepted %q: want \"2026-03-06 17:59\" (the county's time) or RFC 3339", s)
}
