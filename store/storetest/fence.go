package storetest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/democatalog"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/sealkeys"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/sealimage"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/verify"
)

// The fence between sealing and a seal's suspension (issue 20), tested on
// whole stacks: two replicas, each with its own keystore and Sealer, over
// one database, as two service processes would be.

// Replica is one replica's view of a shared database: the service's store
// and the keystore's.
type Replica struct {
	Service  store.Store
	Keystore keystore.Store
}

// ReplicaOpener opens two replicas of one fresh database.
type ReplicaOpener func(t testing.TB) (first, second Replica)

// RunFence runs the fence's tests on two replicas of one database.
func RunFence(t *testing.T, open ReplicaOpener) {
	t.Run("SuspensionOrdersSealings", func(t *testing.T) { testSuspensionOrder(t, open) })
	t.Run("FenceRefusesASealingInFlight", func(t *testing.T) { testFenceInFlight(t, open) })
	t.Run("SuspensionStopsTheOtherReplica", func(t *testing.T) { testFenceTrials(t, open) })
}

const (
	fenceTown = "450224100"
	fenceItem = "450224-XK-0002"
	fenceKind = "准予行政许可决定书"
)

// shiftClock is the time, moved by an offset the test sets: the keystore
// and the Sealers share it, so that a test can start a second where it
// wants.
type shiftClock struct{ shift atomic.Int64 }

func (c *shiftClock) now() time.Time { return time.Now().Add(time.Duration(c.shift.Load())) }

// startSecondAt moves the clock so that it reads ms milliseconds into a
// whole second now.
func (c *shiftClock) startSecondAt(ms int) {
	now := time.Now()
	base := now.Truncate(time.Second).Add(time.Second + time.Duration(ms)*time.Millisecond)
	c.shift.Store(int64(base.Sub(now)))
}

// fenceReplica is one replica's stack.
type fenceReplica struct {
	ks     *keystore.Keystore
	svc    store.Store
	sealer *seal.Sealer
	keys   *gatedKeys
}

type fenceEnv struct {
	a, b  *fenceReplica
	clock *shiftClock
	roots []*smx509.Certificate
	clerk *seal.Principal
	doc   []byte
}

func newFenceEnv(t testing.TB, open ReplicaOpener) *fenceEnv {
	t.Helper()
	ctx := context.Background()
	ra, rb := open(t)
	kek, err := keystore.WriteKEKFile(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	e := &fenceEnv{clock: &shiftClock{},
		clerk: &seal.Principal{ID: "clerk-1", Role: seal.RoleClerk, Township: fenceTown, Windows: []seal.Window{seal.WindowApproval}}}
	img, err := pdf.NewSealImage(sealimage.Round(200), 42)
	if err != nil {
		t.Fatal(err)
	}
	images := func(context.Context, keystore.Seal) (*pdf.SealImage, error) { return img, nil }
	replica := func(r Replica) *fenceReplica {
		ks, err := keystore.Open(ctx, keystore.Config{Store: r.Keystore, Backend: keystore.NewSoftwareBackend(kek), Now: e.clock.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ks.Close() })
		keys := &gatedKeys{Keys: sealkeys.NewSeals(ks, images)}
		return &fenceReplica{ks: ks, svc: r.Service, keys: keys, sealer: &seal.Sealer{
			Policy: &seal.Policy{Registry: r.Service, Keys: keys, Now: e.clock.now},
			Ledger: seal.NewLedger(r.Service, nil),
			Now:    e.clock.now,
		}}
	}
	e.a, e.b = replica(ra), replica(rb)
	ca, err := e.a.ks.CreateCA(ctx, keystore.CAOptions{CommonName: "测试县电子印章CA (TEST)", Organization: "测试县政务服务监督管理办公室"})
	if err != nil {
		t.Fatal(err)
	}
	e.roots = []*smx509.Certificate{ca.Certificate}
	if len(ca.Chain) > 0 {
		e.roots = []*smx509.Certificate{ca.Chain[len(ca.Chain)-1]}
	}
	c, err := democatalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.a.svc.ImportCatalog(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.ks.IssueActive(ctx, keystore.SealRequest{TownshipCode: fenceTown,
		Organization: "融安县长安镇人民政府", Name: "融安县长安镇人民政府行政审批专用章"}); err != nil {
		t.Fatal(err)
	}
	if e.doc, err = os.ReadFile("../../testdata/pdfs/decision.pdf"); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *fenceEnv) input(reqID string, doc []byte) seal.Input {
	return seal.Input{Request: seal.Request{Item: fenceItem, CaseNo: "C-" + reqID, DocKind: fenceKind}, RequestID: reqID, Document: doc}
}

// crl returns the latest CRL, parsed.
func (e *fenceEnv) crl(t *testing.T) *smx509.RevocationList {
	t.Helper()
	rec, err := e.a.ks.CRL(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rl, err := smx509.ParseRevocationList(rec.DER)
	if err != nil {
		t.Fatal(err)
	}
	return rl
}

// verdict verifies a sealed document against the roots and rl.
func (e *fenceEnv) verdict(t *testing.T, doc []byte, rl *smx509.RevocationList) (*verify.FileReport, error) {
	t.Helper()
	return verify.PDF(context.Background(), bytes.NewReader(doc), int64(len(doc)),
		verify.Options{Roots: e.roots, CRLs: []*smx509.RevocationList{rl}})
}

// recordOf returns the ledger records of a request id, oldest first.
func recordsOf(t *testing.T, st store.Store, requestID string) []*seal.Record {
	t.Helper()
	var out []*seal.Record
	var after uint64
	for {
		recs, err := st.Records(context.Background(), store.RecordFilter{Township: fenceTown}, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.RequestID == requestID {
				out = append(out, r)
			}
			after = r.Seq
		}
		if len(recs) < 1000 {
			return out
		}
	}
}

// sealedSeqs returns the sequence numbers of every sealed record.
func sealedSeqs(t *testing.T, st store.Store) map[uint64]bool {
	t.Helper()
	out := map[uint64]bool{}
	var after uint64
	for {
		recs, err := st.Records(context.Background(), store.RecordFilter{Township: fenceTown}, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Result == seal.ResultSealed {
				out[r.Seq] = true
			}
			after = r.Seq
		}
		if len(recs) < 1000 {
			return out
		}
	}
}

// testSuspensionOrder seals, then suspends within the same second: the
// document must verify valid against the new CRL, which lists the seal on
// hold from a time strictly after the signing time; a sealing after the
// suspension is refused and recorded.
func testSuspensionOrder(t *testing.T, open ReplicaOpener) {
	e := newFenceEnv(t, open)
	ctx := context.Background()
	// Warm replica B (its key decrypted, its statements prepared), then
	// seal and suspend within one second. On a machine too busy for that,
	// resume and try again; a run that never manages tests nothing, and
	// fails.
	if _, err := e.b.sealer.Seal(ctx, e.clerk, e.input("order-warm", e.doc)); err != nil {
		t.Fatal(err)
	}
	var (
		out *seal.Output
		s   keystore.Seal
	)
	for attempt := 1; ; attempt++ {
		e.clock.startSecondAt(100)
		var err error
		out, err = e.b.sealer.Seal(ctx, e.clerk, e.input(fmt.Sprintf("order-%d", attempt), e.doc))
		if err != nil {
			t.Fatal(err)
		}
		if s, err = e.a.ks.SuspendTownship(ctx, fenceTown); err != nil {
			t.Fatal(err)
		}
		suspendedBy := e.clock.now()
		if out.Record.Time.Truncate(time.Second).Equal(suspendedBy.Truncate(time.Second)) {
			break
		}
		if attempt == 5 {
			t.Fatalf("sealed at %s, suspended by %s: never within one second in %d attempts, so this run tests nothing (a slow machine?)",
				out.Record.Time.Format(time.RFC3339Nano), suspendedBy.Format(time.RFC3339Nano), attempt)
		}
		if _, err := e.a.ks.ResumeTownship(ctx, fenceTown); err != nil {
			t.Fatal(err)
		}
	}
	if !s.SuspendedAt.After(out.Record.Time) || s.SuspendedAt.Nanosecond() != 0 {
		t.Errorf("suspended at %s, sealed at %s: want the first whole second after the sealing",
			s.SuspendedAt.Format(time.RFC3339Nano), out.Record.Time.Format(time.RFC3339Nano))
	}
	rl := e.crl(t)
	rep, err := e.verdict(t, out.Document, rl)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != verify.VerdictValid || len(rep.Signatures) != 1 || rep.Signatures[0].Revocation != verify.RevocationSuspended {
		t.Fatalf("a document sealed before the suspension: verdict %s, %+v; want valid, with the seal on hold after it", rep.Verdict, rep.Reasons)
	}
	at := rep.Signatures[0].SigningTime
	if !rep.Signatures[0].RevokedAt.After(at) {
		t.Fatalf("signed at %s, on hold from %v: want the hold strictly later", at, rep.Signatures[0].RevokedAt)
	}

	// After the suspension, both replicas refuse, and record it.
	for i, r := range []*fenceReplica{e.a, e.b} {
		id := fmt.Sprintf("order-after-%d", i)
		_, err := r.sealer.Seal(ctx, e.clerk, e.input(id, e.doc))
		if ref, ok := seal.AsRefusal(err); !ok || ref.Rule != seal.RuleSealSuspended {
			t.Fatalf("sealing on replica %d after the suspension: %v, want a refusal by %s", i, err, seal.RuleSealSuspended)
		}
		recs := recordsOf(t, e.a.svc, id)
		if len(recs) != 1 || recs[0].Result != seal.ResultRefused || recs[0].Rule != seal.RuleSealSuspended {
			t.Fatalf("ledger records of %s: %+v; want one refusal by %s", id, recs, seal.RuleSealSuspended)
		}
	}
}

// testFenceInFlight holds a sealing between its signature and its record
// while the seal is suspended, on the replica that suspends (whose signer
// learns of it at once) and on the other (which learns nothing but what
// the database says). Either way the sealing is refused by
// seal_suspended, the ledger records the refusal, and no document is
// stored or returned.
func testFenceInFlight(t *testing.T, open ReplicaOpener) {
	e := newFenceEnv(t, open)
	ctx := context.Background()
	for i, r := range []*fenceReplica{e.a, e.b} {
		name := []string{"the suspending replica", "the other replica"}[i]
		id := fmt.Sprintf("inflight-%d", i)
		g := r.keys.hold()
		done := make(chan error, 1)
		go func() {
			_, err := r.sealer.Seal(ctx, e.clerk, e.input(id, e.doc))
			done <- err
		}()
		select {
		case <-g.signing:
		case err := <-done:
			t.Fatalf("%s: the sealing ended before it signed: %v", name, err)
		}
		if _, err := e.a.ks.SuspendTownship(ctx, fenceTown); err != nil {
			close(g.release)
			t.Fatal(err)
		}
		close(g.release)
		err := <-done
		if ref, ok := seal.AsRefusal(err); !ok || ref.Rule != seal.RuleSealSuspended {
			t.Fatalf("%s: a sealing in flight across the suspension: %v; want a refusal by %s", name, err, seal.RuleSealSuspended)
		}
		recs := recordsOf(t, e.b.svc, id)
		if len(recs) != 1 || recs[0].Result != seal.ResultRefused || recs[0].Rule != seal.RuleSealSuspended || recs[0].OutputSM3 != nil {
			t.Fatalf("%s: ledger records of %s: %+v; want one refusal by %s without an output", name, id, recs, seal.RuleSealSuspended)
		}
		if _, _, err := e.a.svc.Result(ctx, fenceTown, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: the refused sealing's result: %v; want none", name, err)
		}
		if _, err := e.a.ks.ResumeTownship(ctx, fenceTown); err != nil {
			t.Fatal(err)
		}
	}
}

// fenceTrials is how many suspensions testFenceTrials makes. Each lands at
// a random moment while the other replica has sealings of a large
// document under way; before the fence, most trials had a sealing commit
// after the suspension.
const fenceTrials = 20

// fenceDocBytes is the size of the large document: large enough that its
// sealing takes long, and a suspension falls inside it.
const fenceDocBytes = 8 << 20

// testFenceTrials suspends through replica A while replica B seals a large
// document with several callers, fenceTrials times, and checks each time
// that no sealing committed after the suspension returned, that every
// document B returned verifies valid against the new CRL, and that every
// sealing B did not return was refused by seal_suspended and recorded.
func testFenceTrials(t *testing.T, open ReplicaOpener) {
	e := newFenceEnv(t, open)
	ctx := context.Background()
	large := padDocument(t, e.doc, fenceDocBytes)
	const callers = 3
	var sealedTotal, refusedTotal, fencedTotal int
	for trial := range fenceTrials {
		type outcome struct {
			id  string
			out *seal.Output
			err error
		}
		var (
			stop     atomic.Bool
			mu       sync.Mutex
			outcomes []outcome
			wg       sync.WaitGroup
			first    = make(chan struct{})
			once     sync.Once
		)
		for c := range callers {
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					id := fmt.Sprintf("fence-%d-%d-%d", trial, c, i)
					out, err := e.b.sealer.Seal(ctx, e.clerk, e.input(id, large))
					mu.Lock()
					outcomes = append(outcomes, outcome{id, out, err})
					mu.Unlock()
					once.Do(func() { close(first) })
					if err != nil {
						return
					}
				}
			})
		}
		<-first
		jitter, _ := rand.Int(rand.Reader, big.NewInt(40))
		time.Sleep(time.Duration(jitter.Int64()) * time.Millisecond)
		if _, err := e.a.ks.SuspendTownship(ctx, fenceTown); err != nil {
			t.Fatal(err)
		}
		atSuspension := sealedSeqs(t, e.a.svc)
		stop.Store(true)
		wg.Wait()
		if after := sealedSeqs(t, e.a.svc); len(after) != len(atSuspension) {
			t.Fatalf("trial %d: %d sealed records when the suspension returned, %d once the sealings in flight ended: sealings committed after the suspension",
				trial, len(atSuspension), len(after))
		}
		rl := e.crl(t)
		var last *seal.Output
		for _, o := range outcomes {
			switch ref, ok := seal.AsRefusal(o.err); {
			case o.err == nil:
				sealedTotal++
				if !atSuspension[o.out.Record.Seq] {
					t.Fatalf("trial %d: %s returned sealed as record %d, which committed after the suspension", trial, o.id, o.out.Record.Seq)
				}
				if last == nil || o.out.Record.Seq > last.Record.Seq {
					last = o.out
				}
			case ok && ref.Rule == seal.RuleSealSuspended:
				refusedTotal++
				recs := recordsOf(t, e.a.svc, o.id)
				if len(recs) != 1 || recs[0].Result != seal.ResultRefused || recs[0].Rule != seal.RuleSealSuspended {
					t.Fatalf("trial %d: %s refused, with ledger records %+v; want one refusal by %s", trial, o.id, recs, seal.RuleSealSuspended)
				}
				if recs[0].SealID != "" {
					// Refused with its seal named: it had passed the policy
					// and signed, and the fence stopped it.
					fencedTotal++
				}
			default:
				t.Fatalf("trial %d: %s: %v", trial, o.id, o.err)
			}
		}
		// The last sealing let through is the one nearest the suspension:
		// it must verify valid against the CRL that lists the seal.
		if last != nil {
			rep, err := e.verdict(t, last.Document, rl)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != verify.VerdictValid {
				t.Fatalf("trial %d: the last document sealed before the suspension (record %d, at %s): %s %+v",
					trial, last.Record.Seq, last.Record.Time.Format(time.RFC3339Nano), rep.Verdict, rep.Reasons)
			}
		}
		if _, err := e.a.ks.ResumeTownship(ctx, fenceTown); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d trials: %d sealings let through before the suspension, %d refused after it, %d of them signed and stopped by the fence",
		fenceTrials, sealedTotal, refusedTotal, fencedTotal)
	if fencedTotal == 0 {
		t.Errorf("no signed sealing was ever in flight at a suspension: the trials tested nothing")
	}
}

// padDocument returns doc with an incremental update appended that adds
// one unreferenced stream of random bytes, so that the document is about
// size bytes and everything that hashes or copies it takes as long.
func padDocument(t *testing.T, doc []byte, size int) []byte {
	t.Helper()
	i := bytes.LastIndex(doc, []byte("startxref"))
	if i < 0 {
		t.Fatal("the document has no startxref")
	}
	var prev, n int
	if _, err := fmt.Sscanf(string(doc[i:]), "startxref\n%d", &prev); err != nil {
		t.Fatalf("reading startxref: %v", err)
	}
	j := bytes.LastIndex(doc, []byte("/Size "))
	if _, err := fmt.Sscanf(string(doc[j:]), "/Size %d", &n); err != nil {
		t.Fatalf("reading the trailer's /Size: %v", err)
	}
	root := bytes.Index(doc[j:], []byte("/Root "))
	var rootNum int
	if _, err := fmt.Sscanf(string(doc[j+root:]), "/Root %d", &rootNum); err != nil {
		t.Fatalf("reading the trailer's /Root: %v", err)
	}
	pad := make([]byte, size-len(doc))
	if _, err := io.ReadFull(rand.Reader, pad); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.Write(doc)
	if doc[len(doc)-1] != '\n' {
		b.WriteByte('\n')
	}
	obj := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< /Length %d >>\nstream\n", n, len(pad))
	b.Write(pad)
	b.WriteString("\nendstream\nendobj\n")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n",
		n, obj, n+1, rootNum, prev, xref)
	return b.Bytes()
}

// gatedKeys is the replica's seal.Keys, whose signers can be held: the
// next signature after hold waits, between the policy's check and the
// ledger, until the test releases it.
type gatedKeys struct {
	seal.Keys
	mu   sync.Mutex
	gate *gate
}

type gate struct {
	once    sync.Once
	signing chan struct{} // closed when the held signature starts
	release chan struct{} // closed by the test to let it go on
}

func (k *gatedKeys) hold() *gate {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gate = &gate{signing: make(chan struct{}), release: make(chan struct{})}
	return k.gate
}

func (k *gatedKeys) Current(ctx context.Context, township string) (*seal.Key, error) {
	key, err := k.Keys.Current(ctx, township)
	if err != nil || key.Signer == nil {
		return key, err
	}
	k.mu.Lock()
	g := k.gate
	k.gate = nil
	k.mu.Unlock()
	if g != nil {
		key.Signer = gatedSigner{key.Signer, g}
	}
	return key, nil
}

type gatedSigner struct {
	crypto.Signer
	g *gate
}

func (s gatedSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.g.once.Do(func() { close(s.g.signing) })
	<-s.g.release
	return s.Signer.Sign(r, digest, opts)
}
