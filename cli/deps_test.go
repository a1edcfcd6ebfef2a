package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// TestClientDependencies keeps sealctl a client: it links the API's
// messages, the domain's types and the offline verifier, never the
// server's transport, metrics, keystore or store. A change that pulls one
// of them in fails here, naming the package.
func TestClientDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/ronganxian/eseal/cmd/sealctl").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list named only %d packages: %q", len(deps), deps)
	}
	// A pattern names a package and the packages under it.
	forbidden := []struct{ pattern, why string }{
		{"github.com/prometheus", "metrics are the server's"},
		{"github.com/grpc-ecosystem/grpc-gateway", "the REST gateway is the server's (package sealgw)"},
		{"github.com/ronganxian/eseal/api", "the gRPC servers"},
		{"github.com/ronganxian/eseal/keystore", "the keys are the server's"},
		{"github.com/ronganxian/eseal/store", "the database is the server's"},
		{"github.com/ronganxian/eseal/service", "the server's assembly"},
		{"github.com/jackc/pgx", "PostgreSQL is the server's"},
		{"modernc.org/sqlite", "SQLite is the server's"},
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f.pattern || strings.HasPrefix(d, f.pattern+"/") {
				t.Errorf("sealctl depends on %s: %s", d, f.why)
			}
		}
	}
	// The client does use what it should: the API, the verifier.
	for _, want := range []string{"github.com/ronganxian/eseal/proto/seal/v1", "github.com/ronganxian/eseal/verify"} {
		found := false
		for _, d := range deps {
			found = found || d == want
		}
		if !found {
			t.Errorf("sealctl does not depend on %s; the list is wrong", want)
		}
	}
}
