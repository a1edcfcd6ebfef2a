package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// tokenPrefix marks the service's bearer tokens, so that a leaked one is
// recognisable in a scanner's report.
const tokenPrefix = "esk_"

// NewToken returns a new bearer token (256 random bits) and the hash that
// is stored in its place.
func NewToken() (token string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("api: crypto/rand failed: " + err.Error())
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, TokenHash(token)
}

// TokenHash is the SM3 hash under which a token is stored. Tokens carry 256
// random bits, so an unsalted hash cannot be reversed by search. The store
// finds a credential by a prefix of its hash and compares the whole hash in
// constant time (see store.Principals).
func TokenHash(token string) []byte {
	h := sm3.Sum([]byte(token))
	return h[:]
}

// access says who may call a method.
type access struct {
	public bool        // no credentials needed
	roles  []seal.Role // otherwise, one of these roles
}

var (
	anyone          = access{public: true}
	authenticated   = access{roles: []seal.Role{seal.RoleClerk, seal.RoleAdmin, seal.RoleSupervisor}}
	clerks          = access{roles: []seal.Role{seal.RoleClerk}}
	admins          = access{roles: []seal.Role{seal.RoleAdmin}}
	supervisors     = access{roles: []seal.Role{seal.RoleSupervisor}}
	ledgerReaders   = access{roles: []seal.Role{seal.RoleAdmin, seal.RoleSupervisor, seal.RoleClerk}}
	healthAndReflex = access{public: true}
)

// methodAccess lists every method the server serves. A method not listed is
// refused: a new RPC must be given its access here before anyone can call it.
var methodAccess = map[string]access{
	// Anyone known may ask to seal, so that the Sealer records the
	// refusal of a supervisor or the county office (not_clerk) where the
	// item's supervisor sees it; only clerks are granted.
	"/seal.v1.SealingService/Seal":          authenticated,
	"/seal.v1.SealingService/SealStream":    authenticated,
	"/seal.v1.SealingService/GetSealResult": clerks,

	"/seal.v1.VerificationService/Verify": anyone,

	"/seal.v1.RegistryService/ListTownships":         authenticated,
	"/seal.v1.RegistryService/GetTownship":           authenticated,
	"/seal.v1.RegistryService/ListItems":             authenticated,
	"/seal.v1.RegistryService/GetItem":               authenticated,
	"/seal.v1.RegistryService/GetImplementationList": authenticated,
	"/seal.v1.RegistryService/SetItemActive":         admins,
	"/seal.v1.RegistryService/ImportCatalog":         admins,

	"/seal.v1.SealAdminService/IssueSeal":      admins,
	"/seal.v1.SealAdminService/SuspendSeal":    admins,
	"/seal.v1.SealAdminService/ResumeSeal":     admins,
	"/seal.v1.SealAdminService/RotateSeal":     admins,
	"/seal.v1.SealAdminService/RevokeSeal":     admins,
	"/seal.v1.SealAdminService/ListSeals":      authenticated,
	"/seal.v1.SealAdminService/GetTrustBundle": anyone,
	"/seal.v1.SealAdminService/GetCRL":         anyone,
	"/seal.v1.SealAdminService/GetSealImage":   authenticated,
	"/seal.v1.SealAdminService/ExportSESeal":   authenticated,
	"/seal.v1.SealAdminService/ImportSESeal":   admins,

	"/seal.v1.LedgerService/ListRecords":      ledgerReaders,
	"/seal.v1.LedgerService/GetRecord":        ledgerReaders,
	"/seal.v1.LedgerService/WatchRecords":     ledgerReaders,
	"/seal.v1.LedgerService/ListCheckpoints":  ledgerReaders,
	"/seal.v1.LedgerService/CreateCheckpoint": admins,
	"/seal.v1.LedgerService/VerifyLedger":     ledgerReaders,

	"/seal.v1.ReportService/Timeliness": ledgerReaders,

	// Who may read a record may have its document and export it in a
	// package; archiveServer narrows each to the caller's records.
	"/seal.v1.ArchiveService/GetDocument":   ledgerReaders,
	"/seal.v1.ArchiveService/ExportArchive": ledgerReaders,

	// Only a supervising department records a result (Supervision.Record
	// checks its domain); whoever reads the ledger reads a case, within
	// its scope.
	"/seal.v1.SupervisionService/RecordResult": supervisors,
	"/seal.v1.SupervisionService/GetCase":      ledgerReaders,

	"/seal.v1.SubscriptionService/CreateSubscription":    admins,
	"/seal.v1.SubscriptionService/ListSubscriptions":     admins,
	"/seal.v1.SubscriptionService/PauseSubscription":     admins,
	"/seal.v1.SubscriptionService/ResumeSubscription":    admins,
	"/seal.v1.SubscriptionService/ReplaySubscription":    admins,
	"/seal.v1.SubscriptionService/GetSubscriptionStatus": admins,

	"/seal.v1.PrincipalService/CreatePrincipal":  admins,
	"/seal.v1.PrincipalService/ListPrincipals":   admins,
	"/seal.v1.PrincipalService/DisablePrincipal": admins,
	"/seal.v1.PrincipalService/WhoAmI":           authenticated,
	// Anyone known may rotate its own token; only the county office may
	// rotate another's (principalServer.RotateToken checks).
	"/seal.v1.PrincipalService/RotateToken": authenticated,

	"/grpc.health.v1.Health/Check":                                   healthAndReflex,
	"/grpc.health.v1.Health/Watch":                                   healthAndReflex,
	"/grpc.health.v1.Health/List":                                    healthAndReflex,
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      healthAndReflex,
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": healthAndReflex,
}

type principalKey struct{}

// PrincipalFrom returns the authenticated caller, or nil.
func PrincipalFrom(ctx context.Context) *seal.Principal {
	p, _ := ctx.Value(principalKey{}).(*seal.Principal)
	return p
}

type tokenHashKey struct{}

// tokenHashFrom returns the hash of the bearer token the caller
// authenticated with, or nil if it presented none.
func tokenHashFrom(ctx context.Context) []byte {
	h, _ := ctx.Value(tokenHashKey{}).([]byte)
	return h
}

// authenticator finds the caller of a request.
type authenticator struct {
	principals store.Principals
	now        func() time.Time // what token expiry is judged against
}

// errBadCredentials is deliberately vague: it does not say whether the
// token is unknown, malformed or disabled.
var errBadCredentials = status.Error(codes.Unauthenticated, "invalid credentials")

// authorize authenticates the caller of method and checks its access. It
// returns the context carrying the principal.
func (a *authenticator) authorize(ctx context.Context, method string) (context.Context, error) {
	acc, ok := methodAccess[method]
	if !ok {
		return nil, status.Errorf(codes.PermissionDenied, "method %s is not served", method)
	}
	p, tokenHash, err := a.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if p != nil {
		ctx = context.WithValue(ctx, principalKey{}, p)
	}
	if tokenHash != nil {
		ctx = context.WithValue(ctx, tokenHashKey{}, tokenHash)
	}
	if acc.public {
		return ctx, nil
	}
	if p == nil {
		return nil, status.Error(codes.Unauthenticated, "credentials required: a bearer token or a client certificate")
	}
	if !slices.Contains(acc.roles, p.Role) {
		return nil, status.Errorf(codes.PermissionDenied, "role %s may not call %s", p.Role, method)
	}
	return ctx, nil
}

// authenticate returns the principal of the bearer token, with the
// token's hash, or else of the verified client certificate; nil when the
// caller presents neither. An expired token is refused as an unknown one
// is.
func (a *authenticator) authenticate(ctx context.Context) (*seal.Principal, []byte, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if md != nil {
		if vals := md.Get("authorization"); len(vals) > 0 {
			if len(vals) > 1 {
				return nil, nil, errBadCredentials
			}
			scheme, token, ok := strings.Cut(vals[0], " ")
			if !ok || !strings.EqualFold(scheme, "bearer") || !strings.HasPrefix(token, tokenPrefix) {
				return nil, nil, errBadCredentials
			}
			h := TokenHash(token)
			p, err := a.lookup(ctx, store.CredentialToken, h)
			if err != nil {
				return nil, nil, err
			}
			return p, h, nil
		}
	}
	pr, _ := peer.FromContext(ctx)
	if pr == nil {
		return nil, nil, nil
	}
	if ti, ok := pr.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 {
		h := sm3.Sum(ti.State.VerifiedChains[0][0].Raw)
		p, err := a.lookup(ctx, store.CredentialCert, h[:])
		return p, nil, err
	}
	// The REST gateway passes on a client certificate it verified. Only
	// the gateway's in-memory connection may say so; from anywhere else the
	// header is ignored.
	if vals := md.Get(gatewayCertHeader); len(vals) == 1 && pr.Addr != nil && pr.Addr.Network() == "bufconn" {
		h, err := hex.DecodeString(vals[0])
		if err != nil {
			return nil, nil, errBadCredentials
		}
		p, err := a.lookup(ctx, store.CredentialCert, h)
		return p, nil, err
	}
	return nil, nil, nil
}

// lookup finds the principal of a credential valid now.
func (a *authenticator) lookup(ctx context.Context, kind string, hash []byte) (*seal.Principal, error) {
	p, err := a.principals.PrincipalByCredential(ctx, kind, hash, a.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadCredentials
	}
	if err != nil {
		// Unavailable whatever the cause, so that the caller retries; the
		// cause goes to the log (observe.go), which before named nothing.
		return nil, &unavailableError{cause: fmt.Errorf("credential lookup: %w", err)}
	}
	return &p, nil
}
