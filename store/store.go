// Package store defines what the sealing service keeps: the catalog, the
// principals and their credentials, and the ledger with the sealed results.
// The embedded default (store/sqlite) and the replicated one
// (store/postgres) implement Store, and both pass store/storetest.
//
// It holds interfaces and plain types only; it touches nothing.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/ronganxian/eseal/seal"
)

// Errors every implementation returns, for errors.Is.
var (
	// ErrNotFound: no such township, item, principal, record or result.
	ErrNotFound = seal.ErrNotFound
	// ErrDuplicateRequest: a sealed record with this request id exists.
	ErrDuplicateRequest = seal.ErrDuplicateRequest
	// ErrExists: a principal or credential with this id or hash exists.
	ErrExists = errors.New("store: already exists")
	// ErrReplaced: a principal rotating its own token did so with a token
	// that is no longer its newest.
	ErrReplaced = errors.New("store: the token was replaced by a newer one")
	// ErrUnavailable: the database could not be reached or is shutting
	// down or starting up (a restart, a lost connection, a network
	// timeout). Nothing was decided; the same call may succeed when it is
	// tried again. It wraps the driver's error, which names the cause.
	// See Unavailable and IsUnavailable.
	ErrUnavailable = errors.New("store: the database is unavailable")
)

// Store is the service's persistence. Every method is one transaction.
// Implementations are safe for concurrent use by goroutines and by several
// processes (service replicas) sharing one database.
type Store interface {
	Registry
	Principals
	Ledger
	Close() error
}

// Registry is the catalog. It is a seal.Registry, plus the writes.
type Registry interface {
	seal.Registry
	// ImportCatalog stores a parsed import in one transaction: townships
	// and items are inserted or replaced by code, and each township named
	// in c.Implementations gets exactly the listed items as its
	// implementation list (a township not named keeps its list).
	ImportCatalog(ctx context.Context, c *seal.Catalog) error
	// Townships lists every township by code.
	Townships(ctx context.Context) ([]seal.Township, error)
	// Items lists items by code; empty window or domain matches all.
	Items(ctx context.Context, window seal.Window, domain string) ([]seal.Item, error)
	// SetItemActive withdraws or restores an item.
	SetItemActive(ctx context.Context, code string, active bool) (seal.Item, error)
	// ImplementationList returns the items a township implements, by code.
	ImplementationList(ctx context.Context, township string) ([]seal.Item, error)
}

// Credential kinds.
const (
	CredentialToken = "token" // Hash is SM3 of a bearer token
	CredentialCert  = "cert"  // Hash is SM3 of a client certificate's DER
)

// Credential is how a principal proves who it is, as stored: only the hash
// of the secret.
type Credential struct {
	Kind string // CredentialToken or CredentialCert
	Hash []byte // 32 bytes of SM3
	// Expires is when a token stops working; a token must have one. A
	// certificate's is zero: it carries its own validity, which TLS checks.
	Expires time.Time
}

// TokenRotation gives a principal a new bearer token and retires its
// others after an overlap, so that the program using them can switch
// without downtime.
type TokenRotation struct {
	ID      string    // the principal
	Hash    []byte    // the new token's hash
	Expires time.Time // when the new token stops working
	// OverlapEnd is when the principal's other tokens stop working, at the
	// latest; one that expires sooner keeps its own expiry.
	OverlapEnd time.Time
	// By, when the principal rotates its own token, is the hash of the
	// token it called with, which must be its newest. A token that was
	// rotated away therefore cannot rotate again, and whoever holds it
	// cannot keep the principal's access alive by rotating. Empty when the
	// county office rotates.
	By []byte
}

// Principals keeps who may call the service, and how they prove it. Only
// hashes of credentials are stored.
type Principals interface {
	// CreatePrincipal stores p with one credential. It fails with ErrExists
	// if the id or the credential hash is taken.
	CreatePrincipal(ctx context.Context, p seal.Principal, c Credential) error
	// AddCredential gives an existing principal another credential.
	AddCredential(ctx context.Context, id string, c Credential) error
	// PrincipalByCredential finds the principal a credential hash belongs
	// to, if the credential is valid at the time at; ErrNotFound if none,
	// if the token expired (at or before at), or if the principal is
	// disabled. The stored hash is compared in constant time.
	PrincipalByCredential(ctx context.Context, kind string, hash []byte, at time.Time) (seal.Principal, error)
	// RotateToken stores r's new token and shortens the principal's other
	// tokens to r.OverlapEnd, in one transaction. It fails with ErrNotFound
	// if no enabled principal has the id, and with ErrReplaced if r.By is
	// not the principal's newest token.
	RotateToken(ctx context.Context, r TokenRotation) (PrincipalInfo, error)
	ListPrincipals(ctx context.Context) ([]PrincipalInfo, error)
	DisablePrincipal(ctx context.Context, id string) (PrincipalInfo, error)
}

// PrincipalInfo is a principal with its administrative state.
type PrincipalInfo struct {
	seal.Principal
	Disabled bool
}

// RecordFilter selects ledger records. Zero fields match everything.
type RecordFilter = seal.RecordFilter

// Ledger is the hash-chained record of every sealing and refusal, with the
// sealed documents and the signed checkpoints (see seal.LedgerStore).
type Ledger interface {
	seal.LedgerStore
	seal.CaseStore // the records of one case (sqlstore/ledger_case.go)
}
