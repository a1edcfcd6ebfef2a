// Package sealkeys serves the domain's ports from the keystore: a
// township's seal for seal.Policy (seal.Keys), with its state, validity,
// signer and picture from one read, and the ledger's checkpoint key and
// trust for seal.Ledger (seal.CheckpointKeys).
//
// It maps the keystore's words onto the domain's and decides nothing: the
// rules that refuse a seal are seal's.
package sealkeys

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
)

// ImageSource gives the picture of a seal, ready to be drawn (a scan, or
// paths drawn by the rules), carrying the seal's national seal data
// (GB/T 38540 SESeal) when it has one (pdf.SealImage.WithSESeal).
type ImageSource func(ctx context.Context, s keystore.Seal) (*pdf.SealImage, error)

// Seals implements seal.Keys over a keystore.
type Seals struct {
	ks     *keystore.Keystore
	images ImageSource
	cache  sync.Map // seal id -> *picture
	now    func() time.Time
}

// picture is a seal's picture (with its SESeal) as last read. It is read again
// after pictureRefresh, so that an SESeal imported through one replica is
// used by every replica within that time.
type picture struct {
	img *pdf.SealImage
	at  time.Time
}

const pictureRefresh = time.Minute

// NewSeals returns the township seals of ks, drawn with images.
func NewSeals(ks *keystore.Keystore, images ImageSource) *Seals {
	return &Seals{ks: ks, images: images, now: time.Now}
}

var _ seal.Keys = (*Seals)(nil)

// states maps every keystore state onto the domain's.
var states = map[keystore.State]seal.State{
	keystore.StatePending:   seal.StatePending,
	keystore.StateIssued:    seal.StateIssued,
	keystore.StateActive:    seal.StateActive,
	keystore.StateSuspended: seal.StateSuspended,
	keystore.StateRotated:   seal.StateRotated,
	keystore.StateRevoked:   seal.StateRevoked,
}

// Current implements seal.Keys with one read of the keystore
// (keystore.TownshipSeal).
func (k *Seals) Current(ctx context.Context, township string) (*seal.Key, error) {
	s, signer, err := k.ks.TownshipSeal(ctx, township)
	if errors.Is(err, keystore.ErrNoSeal) {
		return nil, fmt.Errorf("%w: %s", seal.ErrNoSeal, township)
	} else if err != nil {
		return nil, err
	}
	state, ok := states[s.State]
	if !ok {
		return nil, fmt.Errorf("seal %s of %s: unknown state %q", s.ID, township, s.State)
	}
	key := &seal.Key{ID: s.ID, Name: s.Name, State: state, NotBefore: s.NotBefore, NotAfter: s.NotAfter}
	if signer == nil {
		return key, nil
	}
	if key.Image, err = k.image(ctx, s); err != nil {
		return nil, err
	}
	key.Signer, key.Chain = signer, signer.Chain()
	return key, nil
}

func (k *Seals) image(ctx context.Context, s keystore.Seal) (*pdf.SealImage, error) {
	if v, ok := k.cache.Load(s.ID); ok && k.now().Sub(v.(*picture).at) < pictureRefresh {
		return v.(*picture).img, nil
	}
	img, err := k.images(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("image of seal %s: %w", s.ID, err)
	}
	k.cache.Store(s.ID, &picture{img: img, at: k.now()})
	return img, nil
}

// Checkpoints implements seal.CheckpointKeys with the keystore's
// ledger-signing key (keystore.LedgerSigner): a key the county CA certified
// for that one use, made on first use when the CA key is held here, rather
// than the CA key itself.
type Checkpoints struct{ ks *keystore.Keystore }

// NewCheckpoints returns the checkpoint keys of ks.
func NewCheckpoints(ks *keystore.Keystore) Checkpoints { return Checkpoints{ks} }

var _ seal.CheckpointKeys = Checkpoints{}

// CheckpointKey returns the ledger-signing key. When there is none that may
// sign (an external CA has not certified one yet, or its certificate
// expired), the error wraps seal.ErrNoCheckpointKey.
func (c Checkpoints) CheckpointKey(ctx context.Context) (crypto.Signer, *smx509.Certificate, error) {
	signer, cert, err := c.ks.LedgerSigner(ctx)
	switch {
	case errors.Is(err, keystore.ErrNoLedgerKey), errors.Is(err, keystore.ErrNoCA), errors.Is(err, keystore.ErrCertificateExpired):
		return nil, nil, fmt.Errorf("%w: %v", seal.ErrNoCheckpointKey, err)
	case err != nil:
		return nil, nil, err
	}
	return signer, cert, nil
}

// CheckpointTrust believes checkpoints signed by a ledger-signing
// certificate (seal.IsLedgerCertificate) under the county trust bundle.
func (c Checkpoints) CheckpointTrust(ctx context.Context) (*seal.CheckpointTrust, error) {
	pem, err := c.ks.TrustBundle(ctx)
	if err != nil {
		return nil, err
	}
	pool := smx509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("the county trust bundle holds no certificate")
	}
	return &seal.CheckpointTrust{Roots: pool, IsLedgerKey: seal.IsLedgerCertificate}, nil
}
