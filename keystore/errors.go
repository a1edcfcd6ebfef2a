package keystore

import (
	"errors"
	"fmt"
)

// Errors that callers test with errors.Is. Every error the package returns
// wraps one of these (or is a *StateError or *RequestError that unwraps to
// them), and names the seal, township or field that failed.
var (
	// ErrNotFound: no seal, key or CRL with the given id exists.
	ErrNotFound = errors.New("keystore: not found")
	// ErrNoSeal: the township has no live (issued, active or suspended) seal.
	// It is a kind of ErrNotFound: errors.Is(err, ErrNotFound) holds too.
	ErrNoSeal = fmt.Errorf("%w: township has no seal", ErrNotFound)
	// ErrLiveSealExists: the township already has a live seal; a township has
	// exactly one. The store enforces this, not only the code.
	ErrLiveSealExists = errors.New("keystore: township already has a live seal")
	// ErrPendingSealExists: the township already has a seal waiting for its
	// certificate from the external CA.
	ErrPendingSealExists = errors.New("keystore: township already has a pending seal")

	// ErrSealPending: the seal has no certificate yet (it waits for the CA).
	ErrSealPending = errors.New("keystore: seal is pending its certificate")
	// ErrSealNotActive: the seal is issued but not yet activated.
	ErrSealNotActive = errors.New("keystore: seal is not active")
	// ErrSealSuspended: the seal is suspended (挂失); it cannot sign until resumed.
	ErrSealSuspended = errors.New("keystore: seal is suspended")
	// ErrSealRotated: the seal was replaced by a new key; use the township's
	// current seal.
	ErrSealRotated = errors.New("keystore: seal was rotated")
	// ErrSealRevoked: the seal is revoked (注销) for good.
	ErrSealRevoked = errors.New("keystore: seal is revoked")
	// ErrInvalidTransition: the lifecycle change is not allowed from the
	// seal's current state.
	ErrInvalidTransition = errors.New("keystore: invalid seal state transition")
	// ErrConflict: another change to the same seal committed first; read the
	// seal again and retry.
	ErrConflict = errors.New("keystore: concurrent change")

	// ErrNoCA: no county seal CA has been created or imported.
	ErrNoCA = errors.New("keystore: no CA")
	// ErrCAExists: the keystore already has its CA.
	ErrCAExists = errors.New("keystore: CA already exists")
	// ErrNoCAKey: the CA was imported without its key, so it cannot sign
	// certificates or CRLs here; use RequestCertificate with the external CA.
	ErrNoCAKey = errors.New("keystore: CA key is not held here")

	// ErrNoLedgerKey: the keystore has no key for signing ledger checkpoints
	// and cannot make one, because the CA key is not held here; request a
	// ledger certificate from the external CA (RequestLedgerCertificate) and
	// accept it (AcceptLedgerCertificate).
	ErrNoLedgerKey = errors.New("keystore: no ledger-signing key")
	// ErrLedgerKeyExists: the keystore already has a current (or a pending)
	// ledger-signing key; another process made it first.
	ErrLedgerKeyExists = errors.New("keystore: ledger-signing key already exists")

	// ErrInvalidRequest: an argument is malformed; see *RequestError.
	ErrInvalidRequest = errors.New("keystore: invalid request")
	// ErrInvalidCertificate: a certificate, chain or key could not be parsed
	// or does not have the required form.
	ErrInvalidCertificate = errors.New("keystore: invalid certificate")
	// ErrCertificateMismatch: a certificate does not belong to the key or seal
	// it was offered for.
	ErrCertificateMismatch = errors.New("keystore: certificate does not match")
	// ErrUntrustedCertificate: a certificate does not chain to the CA's trust
	// bundle.
	ErrUntrustedCertificate = errors.New("keystore: certificate is not trusted")
	// ErrCertificateExpired: the seal's certificate is not valid at this time.
	ErrCertificateExpired = errors.New("keystore: certificate is not valid now")

	// ErrWrongKEK: the configured key-encryption key is not the one that
	// protects the store's keys. Nothing was changed; configure the right KEK.
	ErrWrongKEK = errors.New("keystore: wrong key-encryption key")
	// ErrInvalidKEK: the KEK text is malformed.
	ErrInvalidKEK = errors.New("keystore: invalid key-encryption key")
	// ErrKEKPermissions: the KEK file is readable or writable by group or others.
	ErrKEKPermissions = errors.New("keystore: KEK file permissions too open")
	// ErrKeyCorrupt: a stored key failed its integrity check (tampered,
	// truncated or moved to another row), or does not match its certificate.
	ErrKeyCorrupt = errors.New("keystore: stored key failed integrity check")
	// ErrKeyDestroyed: the key was destroyed when its seal ended.
	ErrKeyDestroyed = errors.New("keystore: key destroyed")
	// ErrUnsupported: the key backend cannot do this (e.g. import a key).
	ErrUnsupported = errors.New("keystore: not supported by key backend")
	// ErrCRLNotPublished: a seal's change committed, but the CRL that lists
	// it could not be published at once; the next publication lists it.
	ErrCRLNotPublished = errors.New("keystore: the change is committed, but the CRL was not republished")
	// ErrClosed: the Keystore was closed.
	ErrClosed = errors.New("keystore: closed")
)

// StateError reports that a seal's state forbids an operation: signing with a
// seal that is not active, or a lifecycle change the state does not allow.
//
// errors.Is(err, ErrSealSuspended) (or ErrSealRevoked, ErrSealRotated,
// ErrSealNotActive, ErrSealPending) tells the state; for lifecycle changes
// errors.Is(err, ErrInvalidTransition) is true as well.
type StateError struct {
	Op     string // "sign", or the lifecycle change: "activate", "suspend", ...
	SealID string
	State  State
}

func (e *StateError) Error() string {
	if e.Op == "sign" {
		return fmt.Sprintf("keystore: seal %s is %s: cannot sign", e.SealID, e.State)
	}
	return fmt.Sprintf("keystore: cannot %s seal %s: it is %s", e.Op, e.SealID, e.State)
}

// Unwrap returns the sentinel for the seal's state and, for lifecycle
// changes, ErrInvalidTransition.
func (e *StateError) Unwrap() []error {
	var errs []error
	if e.Op != "sign" {
		errs = append(errs, ErrInvalidTransition)
	}
	if s := stateSentinel(e.State); s != nil {
		errs = append(errs, s)
	}
	return errs
}

func stateSentinel(s State) error {
	switch s {
	case StatePending:
		return ErrSealPending
	case StateIssued:
		return ErrSealNotActive
	case StateSuspended:
		return ErrSealSuspended
	case StateRotated:
		return ErrSealRotated
	case StateRevoked:
		return ErrSealRevoked
	}
	return nil
}

// RequestError reports a malformed argument. It unwraps to ErrInvalidRequest.
type RequestError struct {
	Field   string // the argument or field, e.g. "TownshipCode"
	Problem string // what is wrong with it, e.g. "must be 9 or 12 digits"
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("keystore: invalid %s: %s", e.Field, e.Problem)
}

// Unwrap returns ErrInvalidRequest.
func (e *RequestError) Unwrap() error { return ErrInvalidRequest }

func invalid(field, format string, args ...any) error {
	return &RequestError{Field: field, Problem: fmt.Sprintf(format, args...)}
}
