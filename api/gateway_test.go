package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestRESTOverEachTransport: a REST call answers 200 with the caller's
// principal over every transport. With TLS on, the gateway once reached
// gRPC in plain text on a listener that spoke TLS, and every /v1 call
// answered 503.
func TestRESTOverEachTransport(t *testing.T) {
	for _, over := range transports {
		t.Run(string(over), func(t *testing.T) {
			e := newEnvOver(t, "sqlite", over, nil)
			for _, who := range []string{"changan-approval", "admin"} {
				r := e.rest(t, "GET", "/v1/whoami", who, nil)
				if r.code != http.StatusOK {
					t.Fatalf("GET /v1/whoami as %s: %d %s", who, r.code, r.body)
				}
				var p struct {
					ID   string `json:"id"`
					Role string `json:"role"`
				}
				if err := json.Unmarshal(r.body, &p); err != nil || p.ID != who {
					t.Fatalf("GET /v1/whoami as %s: %s (%v)", who, r.body, err)
				}
			}
			if r := e.rest(t, "GET", "/v1/whoami", "", nil); r.code != http.StatusUnauthorized {
				t.Errorf("GET /v1/whoami without credentials: %d %s", r.code, r.body)
			}
		})
	}
}

// TestGatewayHeaderFromOutside: the header under which the gateway passes
// on a verified client certificate's hash authenticates nobody when an
// outside caller sets it, through gRPC or through REST, however spelled.
func TestGatewayHeaderFromOutside(t *testing.T) {
	for _, over := range transports {
		t.Run(string(over), func(t *testing.T) {
			e := newEnvOver(t, "sqlite", over, nil)
			// The hash of a certificate that is bound to the county office.
			forged := sm3.Sum([]byte("the county office's certificate"))
			if err := e.st.AddCredential(context.Background(), "admin", store.Credential{Kind: store.CredentialCert, Hash: forged[:]}); err != nil {
				t.Fatal(err)
			}
			claim := hex.EncodeToString(forged[:])

			ctx := metadata.AppendToOutgoingContext(context.Background(), gatewayCertHeader, claim)
			_, err := sealv1.NewPrincipalServiceClient(e.conn).WhoAmI(ctx, &sealv1.WhoAmIRequest{})
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("gRPC WhoAmI with %s set by the caller: %v", gatewayCertHeader, err)
			}
			for _, name := range []string{gatewayCertHeader, "Grpc-Metadata-" + gatewayCertHeader} {
				r := e.restWith(t, "GET", "/v1/whoami", "", nil, http.Header{http.CanonicalHeaderKey(name): {claim}})
				if r.code != http.StatusUnauthorized {
					t.Errorf("REST /v1/whoami with %s set by the caller: %d %s", name, r.code, r.body)
				}
			}
		})
	}
}
