package api

import (
	"context"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
)

// TestHealthAndReflection: both answer without credentials, health says
// SERVING, and reflection lists every seal.v1 service.
func TestHealthAndReflection(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	ctx := context.Background()
	h, err := healthpb.NewHealthClient(e.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v, %v", h, err)
	}
	st, err := reflectpb.NewServerReflectionClient(e.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&reflectpb.ServerReflectionRequest{MessageRequest: &reflectpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range resp.GetListServicesResponse().GetService() {
		got[s.Name] = true
	}
	for _, want := range []string{"seal.v1.SealingService", "seal.v1.VerificationService", "seal.v1.RegistryService",
		"seal.v1.SealAdminService", "seal.v1.LedgerService", "seal.v1.PrincipalService", "grpc.health.v1.Health"} {
		if !got[want] {
			t.Errorf("reflection does not list %s (it lists %v)", want, got)
		}
	}
}
