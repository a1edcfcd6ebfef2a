package postgres

import (
	"context"
	"testing"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/seal/ses"
)

// TestConcurrentSESeal: two replicas that make a seal's SESeal at once,
// many times over, end up with one seal-maker key and one SESeal, which
// every caller gets; an import then replaces it on both.
func TestConcurrentSESeal(t *testing.T) {
	ctx := context.Background()
	rs := openReplicas(t, 2)
	s, err := rs[0].ks.IssueActive(ctx, changan)
	if err != nil {
		t.Fatal(err)
	}
	pic := ses.Picture{Type: ses.PicturePNG, Data: []byte("picture"), WidthMM: 42, HeightMM: 42}
	vals, errs := race(rs, 10, func(ks *keystore.Keystore) (keystore.SESealRecord, error) { return ks.MakeSESeal(ctx, s, pic) })
	for i, err := range errs {
		if err != nil || string(vals[i].DER) != string(vals[0].DER) {
			t.Fatalf("MakeSESeal %d: %v, or another SESeal", i, err)
		}
	}
	var keys, seals int
	if err := rs[0].db.db.QueryRow("SELECT COUNT(*) FROM keystore_keys WHERE owner LIKE 'sealmaker:%'").Scan(&keys); err != nil || keys != 1 {
		t.Fatalf("%d seal-maker keys stored (%v), want 1", keys, err)
	}
	if err := rs[0].db.db.QueryRow("SELECT COUNT(*) FROM keystore_seseals").Scan(&seals); err != nil || seals != 1 {
		t.Fatalf("%d SESeals stored (%v), want 1", seals, err)
	}
	// An SESeal made by the county's maker on the other replica imports:
	// it names the seal's certificate.
	signer, chain, err := rs[1].ks.SealMakerSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := ses.ParseSeal(vals[0].DER)
	info := parsed.SealInfo
	info.ID, info.VendorID = "imported-1", "EXT"
	der, err := ses.MakeSeal(info, signer, chain[0])
	if err != nil {
		t.Fatal(err)
	}
	if r, err := rs[1].ks.ImportSESeal(ctx, changan.TownshipCode, der); err != nil || !r.Imported {
		t.Fatalf("import: %v", err)
	}
	if r, err := rs[0].ks.SESeal(ctx, s.ID); err != nil || r.ESID != "imported-1" || !r.Imported {
		t.Errorf("the other replica reads %+v, %v", r, err)
	}
}
