package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// testClock is the server's clock in a test: real time moved on by what
// the test says has passed.
type testClock struct{ passed atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.passed.Load())) }
func (c *testClock) advance(d time.Duration) { c.passed.Add(int64(d)) }

// lockedBuffer collects a server's log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Contains(l.b.Bytes(), []byte(s))
}

const (
	testTTL     = 48 * time.Hour
	testOverlap = time.Hour
)

// newTokenEnv is a service whose tokens live testTTL, with testOverlap, on
// a clock the test moves, logging into logs.
func newTokenEnv(t *testing.T, kind string) (*env, *testClock, *lockedBuffer) {
	t.Helper()
	clock, logs := &testClock{}, &lockedBuffer{}
	e := newEnv(t, kind, func(c *Config) {
		c.TokenTTL, c.TokenOverlap, c.Now = testTTL, testOverlap, clock.now
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	return e, clock, logs
}

// whoAmI calls WhoAmI with token; it returns the principal's id or the
// call's status.
func (e *env) whoAmI(token string) (string, *status.Status) {
	ctx := metadataCtx(context.Background(), "Bearer "+token)
	p, err := sealv1.NewPrincipalServiceClient(e.conn).WhoAmI(ctx, &sealv1.WhoAmIRequest{})
	if err != nil {
		return "", status.Convert(err)
	}
	return p.Id, nil
}

// TestTokensExpire: a token works until token_ttl has passed, and is then
// refused exactly as an unknown token is, through gRPC and REST.
func TestTokensExpire(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e, clock, _ := newTokenEnv(t, kind)
			resp, err := sealv1.NewPrincipalServiceClient(e.conn).CreatePrincipal(e.as("admin"), &sealv1.CreatePrincipalRequest{
				Principal: &sealv1.Principal{Id: "changan-2", Role: "clerk", TownshipCode: "450224100", Windows: []string{"approval"}}})
			if err != nil {
				t.Fatal(err)
			}
			e.tokens["changan-2"] = resp.Token
			if got, want := resp.TokenExpiresAt.AsTime(), clock.now().Add(testTTL); got.After(want) || want.Sub(got) > time.Minute {
				t.Errorf("token expires at %v, want about %v", got, want)
			}
			if id, st := e.whoAmI(resp.Token); id != "changan-2" {
				t.Fatalf("a new token: %v", st)
			}
			_, unknown := e.whoAmI("esk_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			unknownREST := e.rest(t, "GET", "/v1/whoami", "nobody", nil)

			clock.advance(testTTL - time.Minute)
			if id, st := e.whoAmI(resp.Token); id != "changan-2" {
				t.Fatalf("a token a minute before its expiry: %v", st)
			}
			clock.advance(time.Minute)
			_, expired := e.whoAmI(resp.Token)
			if expired == nil || expired.Code() != codes.Unauthenticated || expired.Message() != unknown.Message() {
				t.Errorf("an expired token: %v; want what an unknown token gets: %v", expired, unknown)
			}
			expiredREST := e.rest(t, "GET", "/v1/whoami", "changan-2", nil)
			if expiredREST.code != http.StatusUnauthorized || !bytes.Equal(expiredREST.body, unknownREST.body) {
				t.Errorf("REST with an expired token: %d %s; an unknown token gets %d %s",
					expiredREST.code, expiredREST.body, unknownREST.code, unknownREST.body)
			}
		})
	}
}

// TestRotateToken: the county office rotates a clerk's token; the new one
// works at once, the old one for the overlap and then no more.
func TestRotateToken(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e, clock, logs := newTokenEnv(t, kind)
			old := e.tokens["changan-approval"]
			resp, err := sealv1.NewPrincipalServiceClient(e.conn).RotateToken(e.as("admin"), &sealv1.RotateTokenRequest{Id: "changan-approval"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Principal.GetId() != "changan-approval" || resp.Token == "" || resp.Token == old {
				t.Fatalf("RotateToken: %v", resp)
			}
			now := clock.now()
			if got := resp.PreviousExpireAt.AsTime(); got.After(now.Add(testOverlap)) || now.Add(testOverlap).Sub(got) > time.Minute {
				t.Errorf("the old token ends at %v, want about %v", got, now.Add(testOverlap))
			}
			if got := resp.TokenExpiresAt.AsTime(); got.After(now.Add(testTTL)) || now.Add(testTTL).Sub(got) > time.Minute {
				t.Errorf("the new token ends at %v, want about %v", got, now.Add(testTTL))
			}
			for _, tc := range []struct {
				after         time.Duration
				oldOK, nextOK bool
			}{
				{0, true, true},
				{testOverlap - time.Minute, true, true},
				{testOverlap, false, true},
				{testTTL, false, false},
			} {
				clock.passed.Store(int64(tc.after))
				if id, _ := e.whoAmI(old); (id == "changan-approval") != tc.oldOK {
					t.Errorf("%v after the rotation, the old token works: %v, want %v", tc.after, id != "", tc.oldOK)
				}
				if id, _ := e.whoAmI(resp.Token); (id == "changan-approval") != tc.nextOK {
					t.Errorf("%v after the rotation, the new token works: %v, want %v", tc.after, id != "", tc.nextOK)
				}
			}
			if logs.contains(resp.Token) || logs.contains(old) {
				t.Error("a token is in the log")
			}
		})
	}
}

// TestRotateOwnToken: a principal rotates its own token, through gRPC and
// REST, only with its newest token, and nobody else's; revoke_previous
// ends the old token at once.
func TestRotateOwnToken(t *testing.T) {
	e, _, logs := newTokenEnv(t, "sqlite")
	principals := sealv1.NewPrincipalServiceClient(e.conn)
	old := e.tokens["changan-approval"]
	resp, err := principals.RotateToken(e.as("changan-approval"), &sealv1.RotateTokenRequest{})
	if err != nil || resp.Principal.GetId() != "changan-approval" {
		t.Fatalf("rotating one's own token: %v, %v", resp, err)
	}
	e.tokens["changan-approval"] = resp.Token
	if id, st := e.whoAmI(resp.Token); id != "changan-approval" {
		t.Fatalf("the new token: %v", st)
	}
	if id, _ := e.whoAmI(old); id != "changan-approval" {
		t.Fatal("the old token stopped before the overlap ended")
	}
	// The old token, still working, cannot rotate again.
	_, err = principals.RotateToken(metadataCtx(context.Background(), "Bearer "+old), &sealv1.RotateTokenRequest{})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("rotating with a replaced token: %v, want FailedPrecondition", err)
	}

	for _, tc := range []struct {
		name, who, id string
		code          codes.Code
	}{
		{"a clerk rotates another's token", "changan-approval", "changan-service", codes.PermissionDenied},
		{"a supervisor rotates a clerk's token", "sup-nongye", "changan-approval", codes.PermissionDenied},
		{"a clerk names itself", "changan-approval", "changan-approval", codes.OK},
		{"a supervisor rotates its own", "sup-nongye", "", codes.OK},
		{"the county office rotates an unknown principal's", "admin", "nobody", codes.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := principals.RotateToken(e.as(tc.who), &sealv1.RotateTokenRequest{Id: tc.id})
			if status.Code(err) != tc.code {
				t.Fatalf("%v, want %v", err, tc.code)
			}
			if err == nil {
				e.tokens[tc.who] = r.Token
			}
		})
	}

	// Through REST: the caller's own, and the county office's for another,
	// which ends the old token at once.
	r := e.rest(t, "POST", "/v1/whoami:rotateToken", "changan-service", []byte(`{}`))
	var out struct {
		Token     string `json:"token"`
		Principal struct {
			ID string `json:"id"`
		} `json:"principal"`
	}
	if err := json.Unmarshal(r.body, &out); r.code != http.StatusOK || err != nil || out.Principal.ID != "changan-service" || out.Token == "" {
		t.Fatalf("POST /v1/whoami:rotateToken: %d %s", r.code, r.body)
	}
	before := out.Token
	r = e.rest(t, "POST", "/v1/principals/changan-service:rotateToken", "admin", []byte(`{"revokePrevious":true}`))
	if err := json.Unmarshal(r.body, &out); r.code != http.StatusOK || err != nil || out.Token == before {
		t.Fatalf("POST /v1/principals/changan-service:rotateToken: %d %s", r.code, r.body)
	}
	if id, _ := e.whoAmI(before); id != "" {
		t.Error("revoke_previous left the old token working")
	}
	if id, st := e.whoAmI(out.Token); id != "changan-service" {
		t.Errorf("the token after revoke_previous: %v", st)
	}
	if logs.contains(out.Token) || logs.contains(before) {
		t.Error("a token is in the log")
	}
}

// TestRotateOwnTokenWithCertificate: a principal that authenticates with a
// client certificate may take a token of its own; the certificate keeps
// working.
func TestRotateOwnTokenWithCertificate(t *testing.T) {
	e := newEnvOver(t, "sqlite", overMTLS, nil)
	conn, ctx := e.caller("fushi-approval")
	resp, err := sealv1.NewPrincipalServiceClient(conn).RotateToken(ctx, &sealv1.RotateTokenRequest{})
	if err != nil || resp.Principal.GetId() != "fushi-approval" {
		t.Fatalf("RotateToken with a client certificate: %v, %v", resp, err)
	}
	if p, err := sealv1.NewPrincipalServiceClient(conn).WhoAmI(ctx, &sealv1.WhoAmIRequest{}); err != nil || p.Id != "fushi-approval" {
		t.Errorf("the certificate after the rotation: %v, %v", p, err)
	}
	if id, st := e.whoAmI(resp.Token); id != "fushi-approval" {
		t.Errorf("the new token: %v", st)
	}
}
