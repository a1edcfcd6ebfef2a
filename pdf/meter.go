package pdf

import "context"

// A Meter is charged with the memory that reading a document holds
// besides the document's own bytes: what its streams decode to, and the
// values parsed from it. Limits bound that memory for one document; a
// Meter lets a service bound it for every document it reads at once, by
// charging each reading to one budget that all share. A sealing or
// verification finds its Meter in its context (WithMeter); without one,
// only Limits apply.
//
// The charge is an upper bound, taken before or as the memory is used: the
// bytes decoded so far (a decoded stream is counted whether or not it is
// still kept), the largest stream once more (decoding one joins its parts,
// and reading a page's text joins its streams), 64 bytes for each value
// parsed at the most, and 128 bytes for each glyph of the largest page
// whose text is read. It only grows: what was charged is given back
// by the Meter's owner when the call ends.
type Meter interface {
	// Take charges n bytes more, or refuses with an error that says
	// why. A refusal ends the reading with a *MeterError.
	Take(n int64) error
}

// WithMeter returns a copy of ctx whose sealings and verifications charge
// what reading their documents holds to m.
func WithMeter(ctx context.Context, m Meter) context.Context {
	return context.WithValue(ctx, meterKey{}, m)
}

type meterKey struct{}

// meterFrom returns the Meter of ctx, or nil.
func meterFrom(ctx context.Context) Meter {
	m, _ := ctx.Value(meterKey{}).(Meter)
	return m
}

// MeterError reports that a Meter refused to cover the memory reading a
// document needed: the service had no room for it then, which says
// nothing about the document. It unwraps to the Meter's error.
type MeterError struct {
	Err error
}

func (e *MeterError) Error() string { return "no memory for reading the document: " + e.Err.Error() }

func (e *MeterError) Unwrap() error { return e.Err }

// The Meter's charge: per value parsed; per glyph of the page whose text
// is read (the glyph, its text, its place in the lines, and the slices'
// room to grow); and the least it takes at once, so that reading a small
// document asks once or twice.
const (
	valueBytes = 64
	glyphCost  = 128
	meterStep  = 1 << 20
)

// holdText has the Meter cover n bytes of the text of the page being
// read, besides the rest: the most held so far is charged.
func (b *budget) holdText(n int64) error {
	b.peakText = max(b.peakText, n)
	return b.hold(0)
}

// hold makes the budget's Meter cover what its documents hold, with extra
// bytes of a stream being decoded now. A refusal sticks, as every
// exhausted budget does.
func (b *budget) hold(extra int64) error {
	if b.meter == nil || b.err != nil {
		return b.err
	}
	need := b.decoded + max(b.peakStream, extra) + valueBytes*b.peakValues + b.peakText
	if need <= b.metered {
		return nil
	}
	n := max(need-b.metered, meterStep)
	if err := b.meter.Take(n); err != nil {
		b.err = &MeterError{Err: err}
		return b.err
	}
	b.metered += n
	return nil
}
