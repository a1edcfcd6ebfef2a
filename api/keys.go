package api

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// SealImageSource gives the PNG image of a seal, and its diameter in
// millimetres (42 for a township seal).
type SealImageSource func(s keystore.Seal) (png []byte, diameterMM float64, err error)

// keystoreSeals adapts the keystore to what the policy and the Sealer ask:
// the state of a township's seal, and its signer with the seal's image.
type keystoreSeals struct {
	ks     *keystore.Keystore
	images SealImageSource
	cache  sync.Map // seal id -> *pdf.SealImage, decoded and compressed once
}

var sealStates = map[keystore.State]seal.SealState{
	keystore.StateIssued:    seal.SealIssued,
	keystore.StateActive:    seal.SealActive,
	keystore.StateSuspended: seal.SealSuspended,
	keystore.StateRotated:   seal.SealRotated,
	keystore.StateRevoked:   seal.SealRevoked,
}

// TownshipSeal implements seal.SealLookup: the live seal, or when there is
// none, the last one if it was revoked, so the refusal can say so.
func (k *keystoreSeals) TownshipSeal(ctx context.Context, township string) (seal.SealStatus, error) {
	s, err := k.ks.LiveSeal(ctx, township)
	if errors.Is(err, keystore.ErrNoSeal) {
		all, err := k.ks.Seals(ctx, township)
		if err != nil {
			return seal.SealStatus{}, err
		}
		if n := len(all); n > 0 && all[n-1].State == keystore.StateRevoked {
			s = all[n-1]
		} else {
			return seal.SealStatus{}, seal.ErrNotFound
		}
	} else if err != nil {
		return seal.SealStatus{}, err
	}
	st, ok := sealStates[s.State]
	if !ok {
		st = seal.SealState(s.State) // pending: not active, refused as such
	}
	return seal.SealStatus{ID: s.ID, State: st, NotBefore: s.NotBefore, NotAfter: s.NotAfter}, nil
}

// SealKey implements seal.SealKeys. A seal whose state changed since the
// policy looked is refused under the rule its new state breaks.
func (k *keystoreSeals) SealKey(ctx context.Context, township string) (*seal.SealKey, error) {
	signer, err := k.ks.Signer(ctx, township)
	switch {
	case errors.Is(err, keystore.ErrSealSuspended):
		return nil, seal.Refuse(seal.RuleSealSuspended, "the seal of %s is suspended (挂失)", township)
	case errors.Is(err, keystore.ErrSealRevoked), errors.Is(err, keystore.ErrSealRotated):
		return nil, seal.Refuse(seal.RuleSealRevoked, "the seal of %s is no longer in use", township)
	case errors.Is(err, keystore.ErrCertificateExpired):
		return nil, seal.Refuse(seal.RuleCertificateInvalid, "the certificate of the seal of %s is not valid now", township)
	case errors.Is(err, keystore.ErrNoSeal), errors.Is(err, keystore.ErrSealNotActive), errors.Is(err, keystore.ErrSealPending):
		return nil, seal.Refuse(seal.RuleNoSeal, "township %s has no active seal", township)
	case err != nil:
		return nil, err
	}
	s := signer.Seal()
	img, err := k.image(s)
	if err != nil {
		return nil, err
	}
	return &seal.SealKey{ID: s.ID, Name: s.Name, Signer: signer, Chain: signer.Chain(), Image: img}, nil
}

func (k *keystoreSeals) image(s keystore.Seal) (*pdf.SealImage, error) {
	if v, ok := k.cache.Load(s.ID); ok {
		return v.(*pdf.SealImage), nil
	}
	png, mm, err := k.images(s)
	if err != nil {
		return nil, fmt.Errorf("image of seal %s: %w", s.ID, err)
	}
	img, err := pdf.NewSealImage(png, mm)
	if err != nil {
		return nil, fmt.Errorf("image of seal %s: %w", s.ID, err)
	}
	v, _ := k.cache.LoadOrStore(s.ID, img)
	return v.(*pdf.SealImage), nil
}

// keystoreRoots gives the county trust bundle as a pool.
type keystoreRoots struct{ ks *keystore.Keystore }

func (r keystoreRoots) Roots(ctx context.Context) (*smx509.CertPool, error) {
	pem, err := r.ks.TrustBundle(ctx)
	if err != nil {
		return nil, err
	}
	pool := smx509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the trust bundle holds no certificate")
	}
	return pool, nil
}

// LedgerCheckpoints is the CheckpointSigner that signs ledger checkpoints
// with the keystore's ledger-signing key (keystore.LedgerSigner): a key the
// county CA certified for that one use, made on first use when the CA key
// is held here, rather than the CA key itself. When there is no usable
// ledger key (an external CA has not certified one yet, or its certificate
// expired), checkpoints are refused with FailedPrecondition.
func LedgerCheckpoints(ks *keystore.Keystore) CheckpointSigner { return ledgerCheckpoints{ks} }

type ledgerCheckpoints struct{ ks *keystore.Keystore }

func (l ledgerCheckpoints) CheckpointKey(ctx context.Context) (crypto.Signer, *smx509.Certificate, error) {
	signer, cert, err := l.ks.LedgerSigner(ctx)
	switch {
	case errors.Is(err, keystore.ErrNoLedgerKey), errors.Is(err, keystore.ErrNoCA), errors.Is(err, keystore.ErrCertificateExpired):
		return nil, nil, status.Errorf(codes.FailedPrecondition, "no key to sign ledger checkpoints: %v", err)
	case err != nil:
		return nil, nil, err
	}
	return signer, cert, nil
}

var _ crypto.Signer = (*keystore.SealSigner)(nil)
