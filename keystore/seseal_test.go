package keystore_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/seal/ses"
)

var svgPicture = ses.Picture{Type: ses.PictureSVG, Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="42mm" height="42mm" viewBox="0 0 42 42"/>`), WidthMM: 42, HeightMM: 42}

// TestSESealMadeOnce: the county makes a seal's SESeal as seal maker, once,
// however many callers ask at once; it names the seal's certificate, its
// maker's certificate carries the seal-maker policy and chains to the
// county root, and no township seal's certificate carries that policy.
func TestSESealMadeOnce(t *testing.T) {
	e := newEnv(t, true)
	s := e.issueActive(keystore.SealRequest{TownshipCode: "450224100", Organization: "融安县长安镇人民政府", Name: "融安县长安镇人民政府行政审批专用章"})
	if _, err := e.ks.SESeal(e.ctx, s.ID); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("SESeal before any: %v", err)
	}
	var wg sync.WaitGroup
	recs := make([]keystore.SESealRecord, 6)
	errs := make([]error, 6)
	for i := range recs {
		wg.Go(func() { recs[i], errs[i] = e.ks.MakeSESeal(e.ctx, s, svgPicture) })
	}
	wg.Wait()
	for i := range recs {
		if errs[i] != nil || string(recs[i].DER) != string(recs[0].DER) {
			t.Fatalf("caller %d: %v, or another SESeal", i, errs[i])
		}
	}
	got, err := ses.ParseSeal(recs[0].DER)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.VerifyMaker(); err != nil {
		t.Fatal(err)
	}
	if !got.Holds(s.Certificate) || got.Name != s.Name || got.ID != s.ID || got.Picture.Type != "svg" ||
		!got.ValidFrom.Equal(s.NotBefore.UTC().Truncate(time.Second)) || recs[0].Imported {
		t.Errorf("SESeal %+v", got.SealInfo)
	}
	if !keystore.IsSealMakerCertificate(got.MakerCert) {
		t.Error("the maker's certificate lacks the seal-maker policy")
	}
	roots := smx509.NewCertPool()
	roots.AddCert(e.root())
	if _, err := got.MakerCert.Verify(smx509.VerifyOptions{Roots: roots, KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("the maker's certificate does not chain to the county root: %v", err)
	}
	sealCert, err := smx509.ParseCertificate(s.Certificate)
	if err != nil || keystore.IsSealMakerCertificate(sealCert) {
		t.Errorf("a township seal's certificate is a seal-maker certificate (%v)", err)
	}
	// Stored: read back as made.
	if r, err := e.ks.SESeal(e.ctx, s.ID); err != nil || string(r.DER) != string(recs[0].DER) {
		t.Errorf("SESeal read back: %v", err)
	}
}

// TestImportSESeal: an SESeal from an external maker replaces the county's
// when it names the seal's certificate and its maker's signature verifies;
// otherwise it is refused and the stored one stays.
func TestImportSESeal(t *testing.T) {
	e := newEnv(t, true)
	s := e.issueActive(keystore.SealRequest{TownshipCode: "450224100", Organization: "融安县长安镇人民政府", Name: "融安县长安镇人民政府行政审批专用章"})
	made, err := e.ks.MakeSESeal(e.ctx, s, svgPicture)
	if err != nil {
		t.Fatal(err)
	}
	external := testpki.MustChain(testpki.Options{LeafName: "某省电子印章制作系统"})
	now := e.clock.now()
	info := ses.SealInfo{VendorID: "EXT", ID: "45022410000017", Type: ses.TypeOrganization, Name: s.Name,
		Certs: [][]byte{s.Certificate}, Created: now, ValidFrom: now.Add(-time.Hour), ValidUntil: now.AddDate(2, 0, 0),
		Picture: ses.Picture{Type: ses.PicturePNG, Data: []byte("png"), WidthMM: 42, HeightMM: 42}}
	good, err := ses.MakeSeal(info, external.LeafKey(), external.Leaf())
	if err != nil {
		t.Fatal(err)
	}
	other := info
	other.Certs = [][]byte{external.Leaf().Raw}
	wrongCert, _ := ses.MakeSeal(other, external.LeafKey(), external.Leaf())
	expired := info
	expired.ValidUntil = now.Add(-time.Minute)
	expired.ValidFrom = now.Add(-time.Hour)
	old, _ := ses.MakeSeal(expired, external.LeafKey(), external.Leaf())
	forged := append([]byte(nil), good...)
	forged[len(forged)-3] ^= 1 // the signature
	for name, der := range map[string][]byte{"another certificate": wrongCert, "expired": old, "forged": forged, "garbage": []byte("not an SESeal")} {
		if _, err := e.ks.ImportSESeal(e.ctx, "450224100", der); !errors.Is(err, keystore.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", name, err)
		}
	}
	if r, _ := e.ks.SESeal(e.ctx, s.ID); string(r.DER) != string(made.DER) {
		t.Fatal("a refused import replaced the SESeal")
	}
	r, err := e.ks.ImportSESeal(e.ctx, "450224100", good)
	if err != nil || !r.Imported || r.ESID != "45022410000017" || string(r.DER) != string(good) {
		t.Fatalf("import: %v %+v", err, r)
	}
	// Making again keeps the imported one.
	if r, err := e.ks.MakeSESeal(e.ctx, s, svgPicture); err != nil || string(r.DER) != string(good) {
		t.Errorf("MakeSESeal after an import: %v", err)
	}
	if _, err := e.ks.ImportSESeal(e.ctx, "450224999", good); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("a township without a seal: %v", err)
	}
}
