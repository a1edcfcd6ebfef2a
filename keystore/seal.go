package keystore

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Seal is one township seal: its names, its certificate and its state. It
// holds no key material; KeyID names the key in the KeyBackend.
type Seal struct {
	ID string
	// TownshipCode is the township's statistical division code (统计用区划代码),
	// 9 or 12 digits, e.g. 450224100. It goes into the certificate subject as
	// the serialNumber attribute (2.5.4.5).
	TownshipCode string
	// Organization is the township government, e.g. 融安县长安镇人民政府
	// (certificate O).
	Organization string
	// Name is the seal's legal name, e.g. 融安县长安镇人民政府行政审批专用章
	// (certificate CN).
	Name  string
	State State
	KeyID string

	Certificate []byte   // DER; nil while pending
	Serial      *big.Int // certificate serial; nil while pending
	NotBefore   time.Time
	NotAfter    time.Time

	CreatedAt   time.Time
	SuspendedAt time.Time // most recent suspension; zero if never suspended
	EndedAt     time.Time // when it was rotated or revoked

	// RevocationReason is meaningful only when State is StateRevoked.
	RevocationReason RevocationReason
	Replaces         string // the seal this one replaced in a rotation
	ReplacedBy       string // the seal that replaced this one

	// Version counts the changes to the seal. The store refuses an update
	// whose Version is not the stored one (ErrConflict).
	Version int64
}

// Event records one change of a seal's state. Each change writes its event
// in the same transaction, so the events of a seal always lead to its state.
type Event struct {
	Seq    int64 // assigned by the store; increasing
	SealID string
	// Action is the lifecycle operation: issue, request, accept, activate,
	// suspend, resume, rotate or revoke.
	Action string
	From   State // "" when the seal was created
	To     State
	At     time.Time
	Detail string // e.g. the revocation reason, or the replacing seal's id
}

// SealRequest names the seal to make for a township.
type SealRequest struct {
	TownshipCode string // 9 or 12 digits, e.g. 450224100
	Organization string // e.g. 融安县长安镇人民政府
	Name         string // e.g. 融安县长安镇人民政府行政审批专用章
}

// maxNameRunes is the X.520 upper bound for commonName and organizationName.
const maxNameRunes = 64

func (r SealRequest) validate() error {
	if err := validateTownshipCode(r.TownshipCode); err != nil {
		return err
	}
	if err := validateName("Organization", r.Organization); err != nil {
		return err
	}
	if err := validateName("Name", r.Name); err != nil {
		return err
	}
	// A seal's legal name is its holder's full name followed by the seal's
	// kind (…人民政府行政审批专用章); this also stops a seal being made in
	// one township's name for another's government.
	if !strings.HasPrefix(r.Name, r.Organization) || len(r.Name) == len(r.Organization) {
		return invalid("Name", "%q must be the organization %q followed by the seal kind", r.Name, r.Organization)
	}
	return nil
}

func validateTownshipCode(code string) error {
	if len(code) != 9 && len(code) != 12 {
		return invalid("TownshipCode", "%q must be 9 or 12 digits", code)
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return invalid("TownshipCode", "%q must be 9 or 12 digits", code)
		}
	}
	return nil
}

func validateName(field, s string) error {
	switch {
	case s == "":
		return invalid(field, "must not be empty")
	case !utf8.ValidString(s):
		return invalid(field, "is not valid UTF-8")
	case strings.TrimSpace(s) != s:
		return invalid(field, "%q has leading or trailing space", s)
	case utf8.RuneCountInString(s) > maxNameRunes:
		return invalid(field, "%q is longer than %d characters", s, maxNameRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid(field, "%q contains a control character", s)
		}
	}
	return nil
}

// newID returns prefix-<hex of n random bytes>. Ids are random so that two
// processes issuing at once cannot pick the same one.
func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails; it crashes the program instead
	return prefix + "-" + hex.EncodeToString(b)
}

func newSealID(township string) string { return newID("seal-"+township, 6) }

func newKeyID() string { return newID("key", 10) }
