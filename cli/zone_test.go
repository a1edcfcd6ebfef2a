package cli

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestZone checks which zone human output shows times in: --tz, else
// SEAL_TZ, else the machine's when TZ is set, else the county's; and
// that the time shown says its offset.
func TestZone(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		flag, seal  string
		tz          *string // nil: unset
		want        string
		wantErrText string
	}{
		{name: "default, TZ unset", want: "2026-12-03 17:30:00 +08:00"},
		{name: "TZ set: the machine's zone", tz: ptr("UTC"), want: at.In(time.Local).Format("2006-01-02 15:04:05 -07:00")},
		{name: "SEAL_TZ", seal: "Asia/Tokyo", tz: ptr("UTC"), want: "2026-12-03 18:30:00 +09:00"},
		{name: "--tz wins", flag: "Asia/Urumqi", seal: "Asia/Tokyo", want: "2026-12-03 15:30:00 +06:00"},
		{name: "unknown zone", flag: "Mars/Olympus", wantErrText: "Mars/Olympus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SEAL_TZ", tc.seal)
			if tc.tz != nil {
				t.Setenv("TZ", *tc.tz)
			} else {
				t.Setenv("TZ", "") // restored after the test
				os.Unsetenv("TZ")
			}
			a := &app{tz: tc.flag}
			loc, err := a.zone()
			if tc.wantErrText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrText) {
					t.Fatalf("got %v, want an error naming %s", err, tc.wantErrText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a.loc = loc
			if got := a.when(at); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	// Before any command chose, the county's zone.
	if got := (&app{}).when(at); got != "2026-12-03 17:30:00 +08:00" {
		t.Errorf("with no zone chosen: %s", got)
	}
}

func ptr(s string) *string { return &s }
