package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ronganxian/eseal/internal/hostilepdf"
)

// capMeter is a Meter that grants up to max bytes in all, and records
// what it granted.
type capMeter struct {
	max, taken int64
	asks       int
}

var errNoRoom = errors.New("no room in the test's meter")

func (m *capMeter) Take(n int64) error {
	m.asks++
	if m.taken+n > m.max {
		return fmt.Errorf("%w: %d bytes more than %d", errNoRoom, n, m.max-m.taken)
	}
	m.taken += n
	return nil
}

// TestMeterCoversReading seals documents with a Meter that grants all it
// is asked: it is charged at least what the budget counts (the bytes
// decoded, and the values at their most), a small document asks little
// and seldom, and a hostile one is charged up to its limits, not past.
func TestMeterCoversReading(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       []byte
		place    Placement
		maxTaken int64
		maxAsks  int
	}{
		{"decision.pdf", fixture(t, "decision.pdf"), Default{}, 2 << 20, 2},
		{"object streams, keyword", hostilepdf.ObjStms(8, hostilepdf.MiB), hostileKeyword, 24 << 20, 24},
		{"repeated content", hostile(t, "repeated-content-8"), Default{}, 2*DefaultMaxStreamBytes + 4<<20, 64},
		{"wide array", hostile(t, "wide-array"), Default{}, 2*DefaultMaxStreamBytes + valueBytes*DefaultMaxValues + 4<<20, 256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &capMeter{max: 1 << 40}
			bud := newBudget(WithMeter(context.Background(), m), Limits{})
			req := baseRequest(t)
			req.Image = testSeal(t)
			req.Placements = []Placement{tc.place}
			sealWithin(bud, new(bytes.Buffer), bytes.NewReader(tc.in), int64(len(tc.in)), req)
			if m.taken != bud.metered {
				t.Errorf("the meter granted %d bytes, the budget counts %d", m.taken, bud.metered)
			}
			if held := bud.decoded + valueBytes*bud.peakValues; m.taken < held {
				t.Errorf("the meter was charged %d bytes, less than the %d decoded and parsed", m.taken, held)
			}
			if m.taken > tc.maxTaken || m.asks > tc.maxAsks {
				t.Errorf("the meter was charged %d bytes in %d asks, want at most %d in %d", m.taken, m.asks, tc.maxTaken, tc.maxAsks)
			}
		})
	}
}

// TestMeterRefusal seals with a Meter that refuses past a few MiB: the
// reading stops there with a *MeterError that unwraps to the Meter's
// error and is not ErrTooLarge (the document may be fine), decodes little
// more than the Meter granted, and writes nothing.
func TestMeterRefusal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		place Placement
	}{
		{"repeated content", hostile(t, "repeated-content-8"), Default{}},
		{"object streams, keyword", hostilepdf.ObjStms(8, hostilepdf.MiB), hostileKeyword},
		{"wide array", hostile(t, "wide-array"), Default{}},
		{"flate bomb", hostile(t, "flate-bomb"), Default{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &capMeter{max: 3 << 20}
			bud := newBudget(WithMeter(context.Background(), m), Limits{})
			req := baseRequest(t)
			req.Image = testSeal(t)
			req.Placements = []Placement{tc.place}
			var out bytes.Buffer
			_, err := sealWithin(bud, &out, bytes.NewReader(tc.in), int64(len(tc.in)), req)
			var me *MeterError
			if !errors.As(err, &me) || !errors.Is(err, errNoRoom) || errors.Is(err, ErrTooLarge) {
				t.Fatalf("got %v, want a *MeterError of the meter's refusal", err)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes", out.Len())
			}
			if m.taken > m.max || bud.decoded > m.max+meterStep {
				t.Errorf("granted %d bytes and decoded %d, past the meter's %d", m.taken, bud.decoded, m.max)
			}
		})
	}
}
