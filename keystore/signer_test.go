package keystore_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/pkcs7"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/seal/cms"
)

// sealKey returns the decrypted private key of a seal, for comparison only.
func (e *env) sealKey(s keystore.Seal) *sm2.PrivateKey {
	e.t.Helper()
	rec, err := e.db.Keystore().Key(e.ctx, s.KeyID)
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := keystore.OpenEnvelopeForTest(keystore.NewSoftwareBackend(e.kek), keystore.KeyRef{ID: rec.ID, Owner: rec.Owner}, rec.Handle)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// TestSignerBehavesLikeSM2PrivateKey compares the SealSigner with the very
// key it holds, as *sm2.PrivateKey, on a table of messages and options. With
// a nil rand both sign deterministically, so their signatures must be equal
// byte for byte; with crypto/rand the signature must verify the same way.
func TestSignerBehavesLikeSM2PrivateKey(t *testing.T) {
	e := newEnv(t, true)
	s := e.issueActive(changan)
	signer, err := e.ks.Signer(e.ctx, changan.TownshipCode)
	if err != nil {
		t.Fatal(err)
	}
	key := e.sealKey(s)

	pub, ok := signer.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != sm2.P256() || !pub.Equal(&key.PublicKey) {
		t.Fatalf("Public() = %T on %v, want the seal's *ecdsa.PublicKey on sm2.P256()", signer.Public(), pub.Curve)
	}

	digest := sm3.Sum([]byte("pre-hashed"))
	msgs := map[string][]byte{
		"empty":  {},
		"short":  []byte("准予行政许可决定书"),
		"1 MiB":  bytes.Repeat([]byte{0xa5}, 1<<20),
		"digest": digest[:],
	}
	opts := map[string]crypto.SignerOpts{
		"DefaultSM2SignerOpts": sm2.DefaultSM2SignerOpts,
		"custom uid":           sm2.NewSM2SignerOption(true, []byte("seal@rongan")),
		"no hash (digest)":     crypto.Hash(0),
	}
	for mname, msg := range msgs {
		for oname, o := range opts {
			if oname == "no hash (digest)" && len(msg) != sm3.Size {
				continue // a digest signature takes a 32-byte digest only
			}
			t.Run(mname+"/"+oname, func(t *testing.T) {
				same := func(method string, want, got []byte, wantErr, gotErr error) {
					t.Helper()
					if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) || !bytes.Equal(got, want) {
						t.Fatalf("%s: signer gives (%x, %v), *sm2.PrivateKey gives (%x, %v)", method, got, gotErr, want, wantErr)
					}
				}
				want, wantErr := key.Sign(nil, msg, o)
				got, gotErr := signer.Sign(nil, msg, o)
				same("Sign", want, got, wantErr, gotErr)
				want, wantErr = key.SignMessage(nil, msg, o)
				got, gotErr = signer.SignMessage(nil, msg, o)
				same("SignMessage", want, got, wantErr, gotErr)
			})
		}
	}

	// The contract the CMS code relies on: the raw message, the default user
	// ID, SM3, checked by both implementations.
	msg := []byte("融安县长安镇人民政府 准予行政许可决定书")
	sig, err := signer.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		t.Fatal(err)
	}
	verifyBoth(t, pub, msg, sig)
	if sm2.VerifyASN1WithSM2(pub, nil, append(msg, '!'), sig) {
		t.Fatal("a signature verified for another message")
	}
}

// TestSignerHidesKey checks that the handed-out signer gives no way to the
// key: it is not a private key type, and no formatting prints the scalar.
func TestSignerHidesKey(t *testing.T) {
	e := newEnv(t, true)
	s := e.issueActive(changan)
	signer, err := e.ks.Signer(e.ctx, changan.TownshipCode)
	if err != nil {
		t.Fatal(err)
	}
	var any_ any = signer
	if _, ok := any_.(*sm2.PrivateKey); ok {
		t.Fatal("the signer is an *sm2.PrivateKey")
	}
	if _, ok := any_.(*ecdsa.PrivateKey); ok {
		t.Fatal("the signer is an *ecdsa.PrivateKey")
	}
	if _, ok := any_.(crypto.Decrypter); ok {
		t.Fatal("the signer is a crypto.Decrypter")
	}
	d := e.sealKey(s).D
	secrets := []string{d.Text(10), d.Text(16), fmt.Sprintf("%x", d.Bytes())}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		out := fmt.Sprintf(verb, signer)
		for _, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Fatalf("fmt %s of the signer prints the private scalar", verb)
			}
		}
		if !strings.Contains(out, s.ID) {
			t.Fatalf("fmt %s of the signer = %q, want it to name seal %s", verb, out, s.ID)
		}
	}
}

// TestSignerWorksForCMS makes detached SignedData with the SealSigner through
// the project's CMS code and through emmansun's pkcs7, and verifies both.
func TestSignerWorksForCMS(t *testing.T) {
	e := newEnv(t, true)
	e.issueActive(changan)
	signer, err := e.ks.Signer(e.ctx, changan.TownshipCode)
	if err != nil {
		t.Fatal(err)
	}
	chain := signer.Chain()
	if len(chain) != 2 || chain[0] != signer.Certificate() || !bytes.Equal(chain[1].Raw, e.root().Raw) {
		t.Fatalf("Chain() has %d certificates, want the seal certificate and the root", len(chain))
	}
	content := []byte("%PDF-1.7 融安县长安镇 approval decision")

	cs, err := cms.NewSigner(signer, chain, cms.ProfileDefault)
	if err != nil {
		t.Fatalf("cms.NewSigner: %v", err)
	}
	der, err := cs.Sign(bytes.NewReader(content), time.Now())
	if err != nil {
		t.Fatalf("cms Sign: %v", err)
	}
	res, err := cms.Verify(der, bytes.NewReader(content), nil)
	if err != nil || !res.Valid() {
		t.Fatalf("cms.Verify: %v (result %+v)", err, res)
	}
	if _, err := cms.Verify(der, bytes.NewReader(append(content, ' ')), nil); err == nil {
		t.Fatal("cms.Verify accepted changed content")
	}

	sd, err := pkcs7.NewSMSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.AddSigner(signer.Certificate(), signer, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatalf("pkcs7 AddSigner: %v", err)
	}
	p7der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	p7, err := pkcs7.Parse(p7der)
	if err != nil {
		t.Fatal(err)
	}
	if err := p7.Verify(); err != nil {
		t.Fatalf("pkcs7 Verify: %v", err)
	}
}

// TestConcurrentSigning signs with one seal from many goroutines, each
// getting its own signer or sharing one; run with -race.
func TestConcurrentSigning(t *testing.T) {
	e := newEnv(t, true)
	e.issueActive(changan)
	e.issueActive(townships[1])
	shared, err := e.ks.Signer(e.ctx, changan.TownshipCode)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				msg := []byte(fmt.Sprintf("doc %d/%d", g, i))
				s := shared
				if g%2 == 1 {
					var err error
					if s, err = e.ks.Signer(e.ctx, townships[g%4/2].TownshipCode); err != nil {
						errs <- err
						return
					}
				}
				sig, err := s.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
				if err != nil {
					errs <- err
					return
				}
				if !sm2.VerifyASN1WithSM2(s.Public().(*ecdsa.PublicKey), nil, msg, sig) {
					errs <- fmt.Errorf("signature %d/%d does not verify", g, i)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.ks.CachedSeals(); n != 2 {
		t.Fatalf("%d seal keys cached, want 2 (one per seal, however many signers)", n)
	}
}

// blockingReader blocks the first Read until released, so that a signature
// can be held in the middle of signing.
type blockingReader struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func newBlockingReader() *blockingReader {
	return &blockingReader{started: make(chan struct{}), release: make(chan struct{})}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	r.once.Do(func() {
		close(r.started)
		<-r.release
	})
	return rand.Read(p)
}

// within fails the test if done is not closed in time: what it waits for is
// blocked behind something it must not wait for. It is a deadlock guard, not
// a timing measurement.
func within(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not finish: it waits on a signature in progress", what)
	}
}

// TestSigningDoesNotSerialise holds one signature with a seal in the middle
// of signing, and checks that other signatures with the same seal, new
// signers, a lifecycle change of another seal and a CRL all proceed.
func TestSigningDoesNotSerialise(t *testing.T) {
	e := newEnv(t, true)
	e.issueActive(changan)
	other := e.issueActive(townships[1])
	signer, err := e.ks.Signer(e.ctx, changan.TownshipCode)
	if err != nil {
		t.Fatal(err)
	}
	r := newBlockingReader()
	held := make(chan error, 1)
	go func() {
		_, err := signer.Sign(r, []byte("held"), sm2.DefaultSM2SignerOpts)
		held <- err
	}()
	<-r.started

	done := make(chan struct{})
	go func() {
		defer close(done)
		e.mustSign(changan.TownshipCode, []byte("while another is held"))
		if _, err := signer.Sign(rand.Reader, []byte("same signer"), sm2.DefaultSM2SignerOpts); err != nil {
			t.Error(err)
		}
		if _, err := e.ks.Suspend(e.ctx, other.ID); err != nil {
			t.Error(err)
		}
		if _, err := e.ks.PublishCRL(e.ctx); err != nil {
			t.Error(err)
		}
	}()
	within(t, done, "signing and administration beside a held signature")
	close(r.release)
	if err := <-held; err != nil {
		t.Fatalf("held signature: %v", err)
	}
}

// TestRotateWhileSigning holds a signature in the middle of signing, rotates
// and then revokes the seal, and checks that the held signature completes
// with the key it started with, that the old signer then refuses, and that
// the new seal signs with its new key.
func TestRotateWhileSigning(t *testing.T) {
	e := newEnv(t, true)
	s := e.issueActive(changan)
	signer, err := e.ks.Signer(e.ctx, changan.TownshipCode)
	if err != nil {
		t.Fatal(err)
	}
	oldPub := signer.Public().(*ecdsa.PublicKey)
	msg := []byte("in flight")

	r := newBlockingReader()
	type result struct {
		sig []byte
		err error
	}
	held := make(chan result, 1)
	go func() {
		sig, err := signer.Sign(r, msg, sm2.DefaultSM2SignerOpts)
		held <- result{sig, err}
	}()
	<-r.started

	done := make(chan struct{})
	var next keystore.Seal
	go func() {
		defer close(done)
		var err error
		if next, err = e.ks.Rotate(e.ctx, s.ID); err != nil {
			t.Error(err)
		}
	}()
	within(t, done, "rotation beside a held signature")
	if t.Failed() {
		t.FailNow()
	}
	close(r.release)
	res := <-held
	if res.err != nil {
		t.Fatalf("the signature in flight during rotation failed: %v", res.err)
	}
	verifyBoth(t, oldPub, msg, res.sig)

	if _, err := signer.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts); !errors.Is(err, keystore.ErrSealRotated) {
		t.Fatalf("old signer after rotation: err = %v, want ErrSealRotated", err)
	}
	n := e.mustSign(changan.TownshipCode, msg)
	if n.Seal().ID != next.ID || n.Public().(*ecdsa.PublicKey).Equal(oldPub) {
		t.Fatalf("after rotation the township signs with seal %s, want new seal %s with a new key", n.Seal().ID, next.ID)
	}
}

// TestConcurrentRotationAndSigning rotates a seal repeatedly while goroutines
// keep getting signers and signing. Every signature that is returned verifies
// under the key of the signer that made it, and every refusal says the seal
// was rotated.
func TestConcurrentRotationAndSigning(t *testing.T) {
	e := newEnv(t, true)
	e.issueActive(changan)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	signed, refused := 0, 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s, err := e.ks.Signer(e.ctx, changan.TownshipCode)
				if err != nil {
					t.Errorf("Signer: %v", err)
					return
				}
				msg := []byte("concurrent")
				sig, err := s.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
				mu.Lock()
				switch {
				case errors.Is(err, keystore.ErrSealRotated):
					refused++
				case err != nil:
					t.Errorf("Sign: %v", err)
				case !sm2.VerifyASN1WithSM2(s.Public().(*ecdsa.PublicKey), nil, msg, sig):
					t.Errorf("a signature does not verify under its signer's key")
				default:
					signed++
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < 5; i++ {
		live, err := e.ks.LiveSeal(e.ctx, changan.TownshipCode)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ks.Rotate(e.ctx, live.ID); err != nil {
			t.Fatalf("Rotate %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	if signed == 0 {
		t.Fatal("no signature was made during the rotations")
	}
	t.Logf("%d signatures, %d refused as rotated", signed, refused)
	if err := e.ks.Check(e.ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

var _ io.Reader = (*blockingReader)(nil)
