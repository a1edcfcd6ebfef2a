package seal

import (
	"context"
	"crypto"
	"errors"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
)

// State is where a township's seal is in its life, as the keystore keeps
// it. Only an active seal signs; each other state is refused under the rule
// it breaks (see Key.refusal).
type State string

const (
	StatePending   State = "pending"   // waiting for its certificate from the CA
	StateIssued    State = "issued"    // made, not yet in use
	StateActive    State = "active"    // in use
	StateSuspended State = "suspended" // reported lost (挂失)
	StateRotated   State = "rotated"   // replaced by a new key
	StateRevoked   State = "revoked"   // cancelled (注销)
)

// ErrNoSeal is what Keys returns for a township that never had a seal.
var ErrNoSeal = errors.New("township has no seal")

// Keys is the port to the township seals: the keystore, in the service.
type Keys interface {
	// Current returns the township's seal as one read of its state finds
	// it: its live seal (issued, active or suspended), or when it has none,
	// its latest seal, so that a refusal can say the seal was revoked. The
	// Key has a Signer only when the seal is active and its certificate is
	// valid now; the decision to sign is still the Policy's. It returns
	// ErrNoSeal when the township never had a seal.
	Current(ctx context.Context, township string) (*Key, error)
}

// Key is a township's seal as one read found it: its state, the validity
// of its certificate, and what signs with it.
type Key struct {
	ID        string
	Name      string // the seal's legal name, e.g. 融安县长安镇人民政府行政审批专用章
	State     State
	NotBefore time.Time // of its certificate
	NotAfter  time.Time

	// Signer signs with the seal, and Chain is its certificate first, then
	// the issuers. Both are nil unless the seal is active and valid now.
	Signer crypto.Signer
	Chain  []*smx509.Certificate
	// Image is the visible seal, decoded and compressed once per seal,
	// with its SESeal when it has one (pdf.SealImage.WithSESeal).
	Image *pdf.SealImage
}

// refusal says why the seal may not sign at now, or returns nil when it
// may. town names the township in the message.
func (k *Key) refusal(town string, now time.Time) *Refusal {
	switch k.State {
	case StateActive:
	case StateSuspended:
		return refuse(RuleSealSuspended, "the seal of %s is suspended (挂失)", town)
	case StateRevoked, StateRotated:
		return refuse(RuleSealRevoked, "the seal of %s is %s", town, k.State)
	default:
		return refuse(RuleNoSeal, "the seal of %s is %s, not active", town, k.State)
	}
	if now.Before(k.NotBefore) || now.After(k.NotAfter) {
		return refuse(RuleCertificateInvalid, "the certificate of the seal of %s is valid from %s to %s", town,
			k.NotBefore.Format(time.RFC3339), k.NotAfter.Format(time.RFC3339))
	}
	if k.Signer == nil || len(k.Chain) == 0 {
		// The keystore found the seal unusable although its state and
		// validity say otherwise: its state changed during the read.
		return refuse(RuleNoSeal, "the seal of %s cannot sign now", town)
	}
	return nil
}

// Fenced says whether a sealing by seal sealID may still be recorded as
// sealed when the transaction that records it finds the seal in state st:
// nil when it may, else the refusal to record instead. This is the fence
// that stops every replica at once (DESIGN.md §6): the ledger reads the
// seal's state inside the appending transaction, and a suspension or
// revocation takes the ledger's lock, so that either the sealing commits
// before the change or it is refused after it. An active seal passes, and
// so does a rotated one: a rotation lists nothing on the CRL, and what the
// old key signed stays valid. Every other state is refused under its rule,
// and the signed document is discarded.
func Fenced(sealID string, st State) *Refusal {
	switch st {
	case StateActive, StateRotated:
		return nil
	case StateSuspended:
		return refuse(RuleSealSuspended, "seal %s was suspended (挂失) before this sealing could be recorded; the signed document was discarded", sealID)
	case StateRevoked:
		return refuse(RuleSealRevoked, "seal %s was revoked before this sealing could be recorded; the signed document was discarded", sealID)
	}
	return refuse(RuleNoSeal, "seal %s is %s, not active; the signed document was discarded", sealID, st)
}
