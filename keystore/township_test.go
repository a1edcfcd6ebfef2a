package keystore_test

import (
	"errors"
	"testing"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/keystore"
)

// crlEntries returns the reason codes of the latest CRL by serial.
func crlEntries(t *testing.T, e *env) map[string]int {
	t.Helper()
	rec, err := e.ks.CRL(e.ctx)
	if err != nil {
		t.Fatalf("CRL: %v", err)
	}
	rl, err := smx509.ParseRevocationList(rec.DER)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, entry := range rl.RevokedCertificateEntries {
		got[entry.SerialNumber.String()] = entry.ReasonCode
	}
	return got
}

// TestTownshipChanges: the county office's changes act on the township's
// live seal, and each change the CRL lists is published at once.
func TestTownshipChanges(t *testing.T) {
	e := newEnv(t, true)
	s, err := e.ks.IssueActive(e.ctx, changan)
	if err != nil || s.State != keystore.StateActive {
		t.Fatalf("IssueActive = %s, %v", s.State, err)
	}
	serial := s.Serial.String()
	for _, step := range []struct {
		name   string
		change func() (keystore.Seal, error)
		state  keystore.State
		listed bool
		reason int
	}{
		{"suspend", func() (keystore.Seal, error) { return e.ks.SuspendTownship(e.ctx, changan.TownshipCode) },
			keystore.StateSuspended, true, 6}, // certificateHold
		{"resume", func() (keystore.Seal, error) { return e.ks.ResumeTownship(e.ctx, changan.TownshipCode) },
			keystore.StateActive, false, 0},
		{"revoke", func() (keystore.Seal, error) {
			return e.ks.RevokeTownship(e.ctx, changan.TownshipCode, keystore.ReasonKeyCompromise)
		}, keystore.StateRevoked, true, int(keystore.ReasonKeyCompromise)},
	} {
		got, err := step.change()
		if err != nil || got.ID != s.ID || got.State != step.state {
			t.Fatalf("%s: seal %s in state %s, %v; want %s in state %s", step.name, got.ID, got.State, err, s.ID, step.state)
		}
		reason, listed := crlEntries(t, e)[serial]
		if listed != step.listed || reason != step.reason {
			t.Fatalf("after %s the CRL lists the seal: %v with reason %d; want %v with %d", step.name, listed, reason, step.listed, step.reason)
		}
	}
	if _, err := e.ks.SuspendTownship(e.ctx, changan.TownshipCode); !errors.Is(err, keystore.ErrNoSeal) {
		t.Fatalf("suspending a township without a live seal: %v, want ErrNoSeal", err)
	}
}

func TestRotateTownshipLeavesTheCRL(t *testing.T) {
	e := newEnv(t, true)
	s, err := e.ks.IssueActive(e.ctx, changan)
	if err != nil {
		t.Fatal(err)
	}
	before, err := e.ks.PublishCRL(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	next, err := e.ks.RotateTownship(e.ctx, changan.TownshipCode)
	if err != nil || next.ID == s.ID || next.State != keystore.StateActive {
		t.Fatalf("RotateTownship = %+v, %v", next, err)
	}
	after, err := e.ks.CRL(e.ctx)
	if err != nil || after.Number != before.Number {
		t.Fatalf("the CRL after a rotation: number %d, %v; want %d, unchanged", after.Number, err, before.Number)
	}
	if _, listed := crlEntries(t, e)[s.Serial.String()]; listed {
		t.Fatal("a rotated seal is listed on the CRL")
	}
}

func TestParseRevocationReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		want keystore.RevocationReason
		ok   bool
	}{
		{"", keystore.ReasonUnspecified, true},
		{"unspecified", keystore.ReasonUnspecified, true},
		{"keyCompromise", keystore.ReasonKeyCompromise, true},
		{"affiliationChanged", keystore.ReasonAffiliationChanged, true},
		{"superseded", keystore.ReasonSuperseded, true},
		{"cessationOfOperation", keystore.ReasonCessationOfOperation, true},
		{"privilegeWithdrawn", keystore.ReasonPrivilegeWithdrawn, true},
		{"certificateHold", 0, false}, // what suspension says; not a revocation
		{"keycompromise", 0, false},
		{"9", 0, false},
	} {
		got, err := keystore.ParseRevocationReason(tc.name)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseRevocationReason(%q) = %v, %v; want %v, ok %v", tc.name, got, err, tc.want, tc.ok)
		}
		if !tc.ok && !errors.Is(err, keystore.ErrInvalidRequest) {
			t.Errorf("ParseRevocationReason(%q): %v is not ErrInvalidRequest", tc.name, err)
		}
	}
}
