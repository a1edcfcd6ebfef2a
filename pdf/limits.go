package pdf

import (
	"context"
	"fmt"
)

// Limits bound the memory and work that one document may cost, so that a
// small hostile file (a stream that inflates a thousandfold, one stream
// named many times, object streams of tens of megabytes) cannot exhaust
// the service. Sealing and verification both apply them. A zero field
// means its default; the defaults keep one document well under 128 MiB of
// decoding. A document that exceeds a limit is refused with a *LimitError,
// which errors.Is reports as ErrTooLarge.
type Limits struct {
	// MaxDecodedBytes bounds the bytes that all stream filters together
	// decode for one document: page content, forms, CMaps,
	// cross-reference and object streams, and an object stream decoded
	// again after the cache let it go. In a verification the document is
	// the file with every revision that is read. It bounds the work a
	// document costs, and with it the memory. Default 64 MiB.
	MaxDecodedBytes int64
	// MaxStreamBytes bounds the decoded size of any one stream; of a
	// page's content streams together, which are one stream to a viewer,
	// with the forms nested in them; and of any one object. Default 16
	// MiB.
	MaxStreamBytes int64
	// ObjStmCacheBytes bounds the decoded object streams kept at once for
	// the other objects they hold (in a verification, by the two
	// revisions it compares at a time, together). Past it the least
	// recently used is let go, and decoded again (counting against
	// MaxDecodedBytes) when one of its objects is needed. Default 8 MiB.
	ObjStmCacheBytes int64
	// MaxObjects bounds the objects that a document's cross-reference
	// data may define, which the reader indexes. Default 1<<19.
	MaxObjects int64
	// MaxValues bounds the values parsed from the document and kept at
	// once (in a verification, by the two revisions it compares at a
	// time, together): each array element and dictionary entry of the
	// objects read, each 16 bytes of a long string, and each mapping of
	// the fonts' CMaps, counts one. Parsing multiplies memory: "0 " is
	// two bytes of data and sixteen of an array element. Default 1<<20.
	MaxValues int64
}

// The defaults of Limits.
const (
	DefaultMaxDecodedBytes  = 64 << 20
	DefaultMaxStreamBytes   = 16 << 20
	DefaultObjStmCacheBytes = 8 << 20
	DefaultMaxObjects       = 1 << 19
	DefaultMaxValues        = 1 << 20
)

// withDefaults fills in the zero fields; a negative one is taken as zero.
func (l Limits) withDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxDecodedBytes, DefaultMaxDecodedBytes)
	def(&l.MaxStreamBytes, DefaultMaxStreamBytes)
	def(&l.ObjStmCacheBytes, DefaultObjStmCacheBytes)
	def(&l.MaxObjects, DefaultMaxObjects)
	def(&l.MaxValues, DefaultMaxValues)
	return l
}

// LimitError reports a document that exceeds one of its Limits, or one of
// the reader's fixed bounds. It unwraps to ErrTooLarge.
type LimitError struct {
	// Limit names the limit: a field of Limits ("MaxDecodedBytes"…) or a
	// fixed bound ("glyphs-per-page").
	Limit string
	// Max is the limit's value, in bytes or in items as Limit says.
	Max int64
	// What is what exceeded it, e.g. "object stream 12".
	What string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%v: %s: over the %s limit of %d", ErrTooLarge, e.What, e.Limit, e.Max)
}

func (e *LimitError) Unwrap() error { return ErrTooLarge }

// budget is what one sealing or verification may still spend. The
// documents it opens (a verification opens one for each revision it
// compares) share it, and check the caller's context against it.
type budget struct {
	ctx     context.Context
	lim     Limits // defaults filled in
	decoded int64  // bytes decoded so far
	// values counts the values that the live documents parsed; objstms
	// keeps their decoded object streams.
	values  int64
	objstms objStmCache
	// meter, when the context has one, is charged with what the
	// documents hold (metered bytes so far): see Meter. peakStream,
	// peakValues and peakText are the largest stream decoded, the most
	// values kept at once, and the most bytes a page's text held.
	meter                                     Meter
	metered, peakStream, peakValues, peakText int64
	// err is the first exhausted budget or ended context. It sticks: once
	// the work is cut short, whatever was read since is incomplete, and
	// an operation that read leniently past the failure (text for a
	// placement, say) must still fail with it.
	err error
}

func newBudget(ctx context.Context, l Limits) *budget {
	if ctx == nil {
		ctx = context.Background()
	}
	b := &budget{ctx: ctx, lim: l.withDefaults(), meter: meterFrom(ctx)}
	b.objstms.max = b.lim.ObjStmCacheBytes
	return b
}

// defaultBudget is a budget with the default limits and no deadline, for
// the package's own callers that have no caller's context (Signatures).
func defaultBudget() *budget { return newBudget(context.Background(), Limits{}) }

// alive returns the sticky error, or the context's error once it ended.
func (b *budget) alive() error {
	if b.err == nil {
		if err := b.ctx.Err(); err != nil {
			b.err = err
		}
	}
	return b.err
}

// room is how many bytes the next stream may decode: the least of
// MaxStreamBytes and what is left of MaxDecodedBytes. A stream that
// decodes to more calls exceeded.
func (b *budget) room() int64 {
	return max(0, min(b.lim.MaxStreamBytes, b.lim.MaxDecodedBytes-b.decoded))
}

// exceeded returns the error for a stream (what) that decoded past room,
// and charges the room+1 bytes it decoded: MaxStreamBytes when the stream
// alone is too large, otherwise MaxDecodedBytes, which then sticks. The
// charge makes a stream that is refused again and again (a form drawn a
// million times) use up the document's budget, not the machine.
func (b *budget) exceeded(what string) error {
	defer b.charge(b.room() + 1)
	if b.err != nil {
		return b.err
	}
	if b.lim.MaxDecodedBytes-b.decoded >= b.lim.MaxStreamBytes {
		return &LimitError{Limit: "MaxStreamBytes", Max: b.lim.MaxStreamBytes, What: what + " decoded"}
	}
	b.err = &LimitError{Limit: "MaxDecodedBytes", Max: b.lim.MaxDecodedBytes, What: what + ", decoded after the document's earlier streams"}
	return b.err
}

// charge counts n decoded bytes, which room allowed, and has the Meter
// cover them; its refusal sticks.
func (b *budget) charge(n int64) {
	b.decoded += n
	b.peakStream = max(b.peakStream, n)
	b.hold(0)
}

// decoding is alive for a stream that has decoded n bytes so far, and
// has the Meter cover them: a stream is charged as it inflates, not
// after.
func (b *budget) decoding(n int64) error {
	if err := b.alive(); err != nil {
		return err
	}
	return b.hold(2 * n)
}

// valueCount counts the values one document parsed and keeps, against the
// MaxValues of its budget, which all its live documents share.
type valueCount struct {
	n   int64
	bud *budget
}

// add counts n values more; past MaxValues the budget is exhausted.
func (c *valueCount) add(n int64) error {
	c.n += n
	b := c.bud
	b.values += n
	if b.values > b.lim.MaxValues && b.err == nil {
		b.err = &LimitError{Limit: "MaxValues", Max: b.lim.MaxValues, What: "the values parsed from the document"}
	}
	if b.values > b.peakValues {
		b.peakValues = b.values
		return b.hold(0)
	}
	return b.err
}

// reset takes back the values counted since the count was n.
func (c *valueCount) reset(n int64) {
	c.bud.values -= c.n - n
	c.n = n
}

// release gives back what document d holds to its budget: d is no longer
// used.
func (d *document) release() {
	d.values.reset(0)
	d.bud.objstms.release(d)
}
