package keystore

import "fmt"

// State is where a seal is in its life. The values are stored as text.
//
//	from       to                        by
//	(none)     issued                    Issue (local CA)
//	(none)     pending                   RequestCertificate (external CA)
//	pending    issued                    AcceptCertificate
//	pending    active or issued          AcceptCertificate of a replacement:
//	                                     the replaced seal is rotated
//	issued     active                    Activate
//	active     suspended                 Suspend (挂失)
//	suspended  active                    Resume
//	issued     rotated                   Rotate (a new seal takes its state)
//	active     rotated                   Rotate
//	any above  revoked                   Revoke (注销)
//
// A seal is live while it is issued, active or suspended; a township has at
// most one live seal and at most one pending seal. Rotated and revoked are
// final. A suspended seal is resumed or revoked; it is not rotated, because a
// seal reported lost (挂失) must not end as merely "superseded".
type State string

// The seal states.
const (
	// StatePending: key generated, CSR sent to an external CA, no certificate yet.
	StatePending State = "pending"
	// StateIssued: made (制章) with a certificate, not yet in use.
	StateIssued State = "issued"
	// StateActive: in use; the only state in which a seal signs.
	StateActive State = "active"
	// StateSuspended: reported lost or frozen (挂失); reversible.
	StateSuspended State = "suspended"
	// StateRotated: replaced by a new key. Its certificate stays available so
	// that documents sealed earlier still verify; its key is destroyed.
	StateRotated State = "rotated"
	// StateRevoked: cancelled (注销) with a reason; listed on the CRL; its key
	// is destroyed.
	StateRevoked State = "revoked"
)

// Live reports whether the state counts toward the one-seal-per-township rule.
func (s State) Live() bool {
	return s == StateIssued || s == StateActive || s == StateSuspended
}

// Final reports whether the seal can never change again.
func (s State) Final() bool { return s == StateRotated || s == StateRevoked }

// Valid reports whether s is one of the defined states.
func (s State) Valid() bool {
	switch s {
	case StatePending, StateIssued, StateActive, StateSuspended, StateRotated, StateRevoked:
		return true
	}
	return false
}

// validTransitions lists every state change a seal may make. Store
// implementations enforce the same list (see ValidTransition).
var validTransitions = map[State][]State{
	// pending -> active when the accepted certificate completes the rotation
	// of an active seal.
	StatePending:   {StateIssued, StateActive, StateRevoked},
	StateIssued:    {StateActive, StateRotated, StateRevoked},
	StateActive:    {StateSuspended, StateRotated, StateRevoked},
	StateSuspended: {StateActive, StateRevoked},
}

// ValidTransition reports whether a seal may go from one state to another.
// Store implementations must refuse any other change of state with
// ErrInvalidTransition, so that a bug above the store cannot, say, bring a
// revoked seal back.
func ValidTransition(from, to State) bool {
	for _, s := range validTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// RevocationReason is why a seal was revoked, as an RFC 5280 CRL reason code.
type RevocationReason int

// The reasons a seal may be revoked with. certificateHold is not among them:
// it is what the CRL says for suspended seals.
const (
	ReasonUnspecified          RevocationReason = 0
	ReasonKeyCompromise        RevocationReason = 1
	ReasonAffiliationChanged   RevocationReason = 3 // e.g. the township was merged or renamed
	ReasonSuperseded           RevocationReason = 4
	ReasonCessationOfOperation RevocationReason = 5
	ReasonPrivilegeWithdrawn   RevocationReason = 9

	// reasonCertificateHold is the CRL reason code for suspended seals.
	reasonCertificateHold = 6
)

// Valid reports whether r is a reason a seal may be revoked with.
func (r RevocationReason) Valid() bool {
	switch r {
	case ReasonUnspecified, ReasonKeyCompromise, ReasonAffiliationChanged,
		ReasonSuperseded, ReasonCessationOfOperation, ReasonPrivilegeWithdrawn:
		return true
	}
	return false
}

func (r RevocationReason) String() string {
	switch r {
	case ReasonUnspecified:
		return "unspecified"
	case ReasonKeyCompromise:
		return "keyCompromise"
	case ReasonAffiliationChanged:
		return "affiliationChanged"
	case ReasonSuperseded:
		return "superseded"
	case ReasonCessationOfOperation:
		return "cessationOfOperation"
	case ReasonPrivilegeWithdrawn:
		return "privilegeWithdrawn"
	}
	return fmt.Sprintf("RevocationReason(%d)", int(r))
}
