package keystore_test

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	tjx509 "github.com/tjfoc/gmsm/x509"

	"github.com/ronganxian/eseal/keystore"
)

// TestCRL puts seals in every state and checks the CRL: it lists the revoked
// seals with their reasons and the suspended ones as certificateHold, nothing
// else, with increasing numbers, and verifies under the CA with both SM2
// implementations. A resumed seal leaves the next CRL.
func TestCRL(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx
	if _, err := e.ks.CRL(ctx); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("CRL before any was published: err = %v, want ErrNotFound", err)
	}
	active := e.issueActive(townships[0])
	issued, _ := e.ks.Issue(ctx, townships[1])
	suspended := e.issueActive(townships[2])
	if _, err := e.ks.Suspend(ctx, suspended.ID); err != nil {
		t.Fatal(err)
	}
	compromised := e.issueActive(townships[3])
	if _, err := e.ks.Revoke(ctx, compromised.ID, keystore.ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	merged, _ := e.ks.Issue(ctx, townships[4])
	if _, err := e.ks.Revoke(ctx, merged.ID, keystore.ReasonAffiliationChanged); err != nil {
		t.Fatal(err)
	}
	unspecified := e.issueActive(townships[5])
	if _, err := e.ks.Revoke(ctx, unspecified.ID, keystore.ReasonUnspecified); err != nil {
		t.Fatal(err)
	}
	rotated := e.issueActive(townships[6])
	if _, err := e.ks.Rotate(ctx, rotated.ID); err != nil {
		t.Fatal(err)
	}
	suspendedAt := e.clock.now()

	want := map[string]int{ // serial -> reason code
		suspended.Serial.String():   6, // certificateHold
		compromised.Serial.String(): 1,
		merged.Serial.String():      3,
		unspecified.Serial.String(): 0,
	}
	notListed := []*big.Int{active.Serial, issued.Serial, rotated.Serial}

	e.clock.add(time.Minute)
	first, err := e.ks.PublishCRL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Number != 1 {
		t.Fatalf("first CRL number %d, want 1", first.Number)
	}
	rl := checkCRL(t, e, first, want, notListed)
	if rl.NextUpdate.Sub(rl.ThisUpdate) != keystore.DefaultCRLValidity {
		t.Errorf("CRL validity %v, want %v", rl.NextUpdate.Sub(rl.ThisUpdate), keystore.DefaultCRLValidity)
	}
	// The hold starts at the first whole second after the suspension (no
	// sealing with the seal was recorded): strictly after it, so that a
	// document sealed in the same second still verifies.
	wantHold := suspendedAt.UTC().Truncate(time.Second).Add(time.Second)
	for _, entry := range rl.RevokedCertificateEntries {
		if entry.SerialNumber.Cmp(suspended.Serial) == 0 && !entry.RevocationTime.Equal(wantHold) {
			t.Errorf("hold time %v, want %v: the first whole second after the suspension (%v)", entry.RevocationTime, wantHold, suspendedAt)
		}
	}

	// Resume the suspended seal: it leaves the next CRL, whose number grows.
	if _, err := e.ks.Resume(ctx, suspended.ID); err != nil {
		t.Fatal(err)
	}
	delete(want, suspended.Serial.String())
	second, err := e.ks.PublishCRL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Number != 2 {
		t.Fatalf("second CRL number %d, want 2", second.Number)
	}
	checkCRL(t, e, second, want, append(notListed, suspended.Serial))
	latest, err := e.ks.CRL(ctx)
	if err != nil || latest.Number != 2 || string(latest.DER) != string(second.DER) {
		t.Fatalf("CRL() = number %d, %v; want the second", latest.Number, err)
	}
}

func checkCRL(t *testing.T, e *env, rec keystore.CRLRecord, want map[string]int, notListed []*big.Int) *smx509.RevocationList {
	t.Helper()
	root := e.root()
	rl, err := smx509.ParseRevocationList(rec.DER)
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.CheckSignatureFrom(root); err != nil {
		t.Fatalf("emmansun: CRL does not verify under the CA: %v", err)
	}
	if rl.Number.Int64() != rec.Number || rl.SignatureAlgorithm != smx509.SM2WithSM3 {
		t.Fatalf("CRL number %v (record %d), algorithm %v", rl.Number, rec.Number, rl.SignatureAlgorithm)
	}
	tjCRL, err := tjx509.ParseCRL(rec.DER)
	if err != nil {
		t.Fatalf("tjfoc cannot parse the CRL: %v", err)
	}
	tjRoot, err := tjx509.ParseCertificate(root.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := tjRoot.CheckCRLSignature(tjCRL); err != nil {
		t.Fatalf("tjfoc: CRL does not verify under the CA: %v", err)
	}
	got := map[string]int{}
	for _, entry := range rl.RevokedCertificateEntries {
		got[entry.SerialNumber.String()] = entry.ReasonCode
	}
	if len(got) != len(want) {
		t.Errorf("CRL lists %d certificates, want %d", len(got), len(want))
	}
	for serial, reason := range want {
		if r, ok := got[serial]; !ok || r != reason {
			t.Errorf("serial %s: listed %v with reason %d, want reason %d", serial, ok, r, reason)
		}
	}
	for _, n := range notListed {
		if _, ok := got[n.String()]; ok {
			t.Errorf("serial %s is listed but must not be", n)
		}
	}
	return rl
}
