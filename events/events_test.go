package events_test

import (
	"bytes"
	"crypto"
	"errors"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/events"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/seal"
)

// county is a county root with a ledger key under it, and one seal key,
// which must not be able to sign events.
type county struct {
	roots     *smx509.CertPool
	key, seal crypto.Signer
	cert      *smx509.Certificate
	sealCert  *smx509.Certificate
}

func newCounty(t *testing.T) *county {
	t.Helper()
	ch := testpki.MustChain(testpki.Options{})
	key, cert, err := ch.IssueLedgerLeaf(seal.LedgerKeyPolicyOID)
	if err != nil {
		t.Fatal(err)
	}
	if !seal.IsLedgerCertificate(cert) {
		t.Fatal("the test ledger certificate is not a ledger certificate")
	}
	roots := smx509.NewCertPool()
	roots.AddCert(ch.Root())
	return &county{roots: roots, key: key, cert: cert, seal: ch.LeafKey(), sealCert: ch.Leaf()}
}

// ledger returns n chained records, every third one a refusal, in
// domains alternating "市场监管" and "民政".
func ledger(n int) []*seal.Record {
	var out []*seal.Record
	var prev *seal.Record
	t0 := time.Now().Add(-30 * time.Minute)
	for i := range n {
		in := sm3.Sum([]byte{byte(i)})
		r := &seal.Record{Time: t0.Add(time.Duration(i) * time.Second), RequestID: "req-" + string(rune('a'+i%26)),
			Township: "450224101", SealID: "seal-1", CertSerial: "0a", Item: "ITEM-1", Domain: []string{"市场监管", "民政"}[i%2],
			CaseNo: "CASE-" + string(rune('A'+i%26)), Principal: "clerk-1", Window: seal.WindowApproval, DocKind: "许可证",
			InputSM3: in[:], Result: seal.ResultSealed}
		if i%3 == 2 {
			r.Result, r.Rule, r.Detail = seal.ResultRefused, "wrong_window", "窗口不符"
		} else {
			r.OutputSM3 = in[:]
		}
		r.Link(prev)
		out = append(out, r)
		prev = r
	}
	return out
}

// stream signs the records that f matches as subscription sub delivers
// them, and returns them as JSONL lines.
func (c *county) stream(t *testing.T, recs []*seal.Record, sub string, f seal.RecordFilter) [][]byte {
	t.Helper()
	var lines [][]byte
	var prev uint64
	for _, r := range recs {
		if !f.Matches(r) {
			continue
		}
		e := events.New(r, "/eseal/test-county", sub, prev)
		if err := e.Sign(c.key, c.cert); err != nil {
			t.Fatal(err)
		}
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b)
		prev = r.Seq
	}
	return lines
}

func TestVerifyEvent(t *testing.T) {
	c := newCounty(t)
	other := newCounty(t)
	recs := ledger(3)
	base := c.stream(t, recs, "platform", seal.RecordFilter{})[2]
	tests := []struct {
		name   string
		change func(e *events.Event)
		want   error
	}{
		{"as signed", func(*events.Event) {}, nil},
		{"data changed", func(e *events.Event) { e.Data.Detail = "已办结" }, events.ErrForged},
		{"data and hash changed together", func(e *events.Event) {
			r, _ := e.Data.Record()
			r.Detail = "已办结"
			r.Hash = r.ComputeHash()
			*e = *resign(e, r, nil, nil)
		}, events.ErrForged},
		{"prevseq changed", func(e *events.Event) { e.PrevSeq = "1" }, events.ErrForged},
		{"subscription changed", func(e *events.Event) { e.Subscription = "民政局" }, events.ErrForged},
		{"type changed", func(e *events.Event) { e.Type = events.TypeSealed }, events.ErrForged},
		{"id changed", func(e *events.Event) { e.ID = "2" }, events.ErrForged},
		{"signed by a seal key", func(e *events.Event) { *e = *resign(e, nil, c.seal, c.sealCert) }, events.ErrForged},
		{"signed by another county", func(e *events.Event) { *e = *resign(e, nil, other.key, other.cert) }, events.ErrForged},
		{"signature garbled", func(e *events.Event) { e.Signature = "AAAA" }, events.ErrForged},
		{"id not a number", func(e *events.Event) { e.ID = "three" }, events.ErrMalformed},
		{"hash not hex", func(e *events.Event) { e.Data.Hash = "zz" }, events.ErrMalformed},
		{"certificate not base64", func(e *events.Event) { e.SignerCert = "%%" }, events.ErrMalformed},
		{"signedat changed", func(e *events.Event) { e.SignedAt = e.SignedAt.Add(time.Second) }, events.ErrForged},
		{"no signedat", func(e *events.Event) { e.SignedAt = time.Time{} }, events.ErrMalformed},
		{"signed an hour before its record", func(e *events.Event) {
			if err := e.SignAt(c.key, c.cert, e.Time.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, events.ErrForged},
		{"signed after its certificate expired", func(e *events.Event) {
			if err := e.SignAt(c.key, c.cert, c.cert.NotAfter.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, events.ErrForged},
		{"an old record replayed, signed today", func(e *events.Event) {
			r, _ := e.Data.Record()
			r.Time = c.cert.NotBefore.Add(-90 * 24 * time.Hour) // before this ledger certificate existed
			r.Hash = r.ComputeHash()
			*e = *resign(e, r, c.key, c.cert)
		}, nil},
	}
	v := events.NewVerifier(c.roots)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := events.Parse(base)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(e)
			err = v.Verify(e)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
		})
	}
}

// resign rebuilds e around r (nil: e's own record) and signs it with key
// (nil: the county's own, as the test's c would; the caller's tamper).
func resign(e *events.Event, r *seal.Record, key crypto.Signer, cert *smx509.Certificate) *events.Event {
	if r == nil {
		r, _ = e.Data.Record()
	}
	prev, _ := e.Prev()
	n := events.New(r, e.Source, e.Subscription, prev)
	if key == nil {
		n.SignedAt, n.Signature, n.SignerCert = e.SignedAt, e.Signature, e.SignerCert
		return n
	}
	if err := n.Sign(key, cert); err != nil {
		panic(err)
	}
	return n
}

func TestVerifyStream(t *testing.T) {
	c := newCounty(t)
	recs := ledger(12)
	all := c.stream(t, recs, "platform", seal.RecordFilter{})
	market := c.stream(t, recs, "市场监管局", seal.RecordFilter{Domains: []string{"市场监管"}})
	time.Sleep(2 * time.Millisecond)                             // signedat is kept to the millisecond
	resent := c.stream(t, recs, "platform", seal.RecordFilter{}) // delivered again, signed again
	var skipped []*seal.Record                                   // the 4th record left out: the 5th says prevseq 3
	skipped = append(skipped, recs[:3]...)
	skipped = append(skipped, recs[4:]...)
	conflicting := c.stream(t, skipped, "platform", seal.RecordFilter{})
	join := func(parts ...[][]byte) []byte {
		var b bytes.Buffer
		for _, p := range parts {
			for _, l := range p {
				b.Write(l)
				b.WriteByte('\n')
			}
		}
		return b.Bytes()
	}
	tests := []struct {
		name       string
		file       []byte
		want       error
		duplicates int
		reordered  int
	}{
		{"every event of two subscriptions", join(all, market), nil, 0, 0},
		{"a later start is no gap", join(all[4:], market[2:]), nil, 0, 0},
		{"duplicates of a retry", join(all[:5], all[3:]), nil, 2, 0},
		{"a replay", join(all, all), nil, 12, 0},
		{"redelivered, signed again", join(all[:6], resent[4:]), nil, 2, 0},
		{"one id, two different events", join(all[:6], conflicting[3:4]), events.ErrConflict, 0, 0},
		{"out of order", join(all[:3], all[4:5], all[3:4], all[5:]), nil, 0, 1},
		{"one missing", join(all[:5], all[6:]), events.ErrGap, 0, 0},
		{"one of a filtered stream missing", join(market[:2], market[3:]), events.ErrGap, 0, 0},
		{"a line that is not an event", join(all[:2], [][]byte{[]byte(`{"specversion":"0.3"}`)}), events.ErrMalformed, 0, 0},
		{"an event of one subscription filed under another", join(market[:2], relabel(t, all[3:4], "市场监管局")), events.ErrForged, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := events.NewVerifier(c.roots).VerifyStream(bytes.NewReader(tt.file))
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("VerifyStream: %v, want %v", err, tt.want)
			}
			if err == nil && (rep.Duplicates != tt.duplicates || rep.Reordered != tt.reordered) {
				t.Fatalf("report %+v, want %d duplicates, %d reordered", rep, tt.duplicates, tt.reordered)
			}
		})
	}
}

// relabel moves events to another subscription without signing again.
func relabel(t *testing.T, lines [][]byte, sub string) [][]byte {
	var out [][]byte
	for _, l := range lines {
		e, err := events.Parse(l)
		if err != nil {
			t.Fatal(err)
		}
		e.Subscription = sub
		b, _ := e.Marshal()
		out = append(out, b)
	}
	return out
}
