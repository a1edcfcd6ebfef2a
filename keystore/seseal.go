package keystore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/seal/ses"
)

// A seal's national seal data (GB/T 38540 SESeal): made by the county as
// seal maker (sealmaker.go) the first time the seal is used, or imported
// from a licensed external seal-making system. It names the seal's
// certificate, so a document signed with the seal carries proof that its
// picture is the registered one (the verifier checks both).

// SESealRecord is a seal's SESeal as stored.
type SESealRecord struct {
	SealID    string
	ESID      string // the SESeal's esID
	DER       []byte
	Imported  bool // made by an external seal maker
	CreatedAt time.Time
}

// SESealVendor is the vendor id (SES_Header.Vid) of the SESeals made here.
const SESealVendor = "ronganxian-eseal"

// SESeal returns the stored SESeal of seal sealID; the error wraps
// ErrNotFound when it has none.
func (ks *Keystore) SESeal(ctx context.Context, sealID string) (SESealRecord, error) {
	if err := ks.checkOpen(); err != nil {
		return SESealRecord{}, err
	}
	st, ok := ks.store.(SealMakerStore)
	if !ok {
		return SESealRecord{}, ErrNoSealMakerStore
	}
	return st.SESeal(ctx, sealID)
}

// esID is the esID of seal s: its id, which names its township
// ("seal-450224100-…").
func esID(s Seal) string { return s.ID }

// MakeSESeal makes, signs as the county's seal maker, and stores the SESeal
// of seal s with picture pic, unless the seal has one already; it returns
// the one stored. The seal must have its certificate.
func (ks *Keystore) MakeSESeal(ctx context.Context, s Seal, pic ses.Picture) (SESealRecord, error) {
	if rec, err := ks.SESeal(ctx, s.ID); err == nil || !errors.Is(err, ErrNotFound) {
		return rec, err
	}
	if s.Certificate == nil {
		return SESealRecord{}, fmt.Errorf("%w: seal %s has no certificate yet", ErrInvalidRequest, s.ID)
	}
	signer, chain, err := ks.SealMakerSigner(ctx)
	if err != nil {
		return SESealRecord{}, err
	}
	now := ks.now().UTC()
	der, err := ses.MakeSeal(ses.SealInfo{
		VendorID: SESealVendor, ID: esID(s), Type: ses.TypeOrganization, Name: s.Name,
		Certs:   [][]byte{s.Certificate},
		Created: now, ValidFrom: s.NotBefore, ValidUntil: s.NotAfter,
		Picture: pic,
	}, signer, chain[0])
	if err != nil {
		return SESealRecord{}, fmt.Errorf("keystore: SESeal of seal %s: %w", s.ID, err)
	}
	return ks.store.(SealMakerStore).PutSESeal(ctx, SESealRecord{SealID: s.ID, ESID: esID(s), DER: der, CreatedAt: now}, false)
}

// ImportSESeal replaces the SESeal of the township's current seal with der,
// made by an external seal maker. It is refused (ErrInvalidRequest) unless
// der is a well-formed SESeal whose maker's signature verifies and which
// names the seal's certificate, and is valid now. Whether the maker is
// trusted is the verifier's question: its certificate must chain to a root
// in the trust bundle.
func (ks *Keystore) ImportSESeal(ctx context.Context, townshipCode string, der []byte) (SESealRecord, error) {
	s, _, err := ks.TownshipSeal(ctx, townshipCode)
	if err != nil {
		return SESealRecord{}, err
	}
	st, ok := ks.store.(SealMakerStore)
	if !ok {
		return SESealRecord{}, ErrNoSealMakerStore
	}
	parsed, err := ses.ParseSeal(der)
	if err != nil {
		return SESealRecord{}, fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	switch now := ks.now(); {
	case parsed.VerifyMaker() != nil:
		return SESealRecord{}, fmt.Errorf("%w: %v", ErrInvalidRequest, parsed.VerifyMaker())
	case s.Certificate == nil || !parsed.Holds(s.Certificate):
		return SESealRecord{}, fmt.Errorf("%w: the SESeal %s does not name the certificate of seal %s of %s", ErrInvalidRequest, parsed.ID, s.ID, townshipCode)
	case !parsed.ValidAt(now):
		return SESealRecord{}, fmt.Errorf("%w: the SESeal %s is valid %s – %s, not now", ErrInvalidRequest, parsed.ID,
			parsed.ValidFrom.Format(time.DateOnly), parsed.ValidUntil.Format(time.DateOnly))
	}
	return st.PutSESeal(ctx, SESealRecord{SealID: s.ID, ESID: parsed.ID, DER: der, Imported: true, CreatedAt: ks.now().UTC()}, true)
}
