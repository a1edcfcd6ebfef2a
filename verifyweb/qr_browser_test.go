package verifyweb_test

import (
	"bytes"
	"encoding/hex"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/emmansun/gmsm/sm3"
	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/ronganxian/eseal/service"
)

// scanQR renders page 1 of file with pdftoppm (poppler) at 150 dpi and
// reads the one QR code on it with gozxing, a decoder written apart from
// the encoder.
func scanQR(t *testing.T, file string) string {
	t.Helper()
	bin, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Fatal("pdftoppm is required for this test: install poppler-utils (scripts/install-deps.sh)")
	}
	out, err := exec.Command(bin, "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", file).Output()
	if err != nil {
		t.Fatalf("pdftoppm: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code read from the sealed page: %v", err)
	}
	return res.GetText()
}

// ledgerView is what the page shows of the ledger's record.
type ledgerView struct {
	State, Status, Records, Compare, Match string
	Seqs                                   []string
}

// TestBrowserQR: the sealed decision carries the verification QR code; read
// from a 150 dpi render of its page, it opens the page with the ledger's
// public record of that sealing (township, item, time, hashes, and no case
// number); the sealed file then matches the record and the tampered one
// does not; a short form the ledger does not hold says "no such sealing",
// in Chinese and in English; and no document reached the server.
func TestBrowserQR(t *testing.T) {
	proxy := &recordingProxy{}
	base, to := proxy.listen(t)
	grpcAddr, httpAddr, dir := startService(t, func(c *service.Config) {
		c.VerifyQR = &service.VerifyQRConfig{BaseURL: base, Items: service.QRItems{All: true}}
	})
	to(httpAddr)
	sealed, tampered := sealDecision(t, grpcAddr, dir)
	doc, err := os.ReadFile(sealed)
	if err != nil {
		t.Fatal(err)
	}
	input, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	outSum, inSum := sm3.Sum(doc), sm3.Sum(input)

	qr := scanQR(t, sealed)
	t.Logf("the QR code on the sealed page reads %s", qr)
	if want := strings.ToUpper(base) + "/VERIFY/R/"; !strings.HasPrefix(qr, want) || len(qr) != len(want)+20 {
		t.Fatalf("QR code %q, want %s<20 characters>", qr, want)
	}

	ctx := browser(t)
	var mu sync.Mutex
	var posted []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && (e.Request.HasPostData || e.Request.Method != "GET") {
			mu.Lock()
			posted = append(posted, e.Request.Method+" "+e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	ledger := func() ledgerView {
		t.Helper()
		return run(t, ctx, "read the ledger record", chromedp.Evaluate[ledgerView](`({
			State: document.getElementById('ledger').dataset.state || '',
			Status: document.getElementById('ledger-status').textContent,
			Records: document.getElementById('ledger-records').innerText,
			Compare: document.getElementById('ledger-compare').hidden ? '' : document.getElementById('ledger-compare').textContent,
			Match: document.getElementById('ledger-compare').dataset.match || '',
			Seqs: [...document.querySelectorAll('#ledger-records .record')].map(r => r.dataset.seq)})`))
	}

	do(t, ctx, "open the QR code's URL", chromedp.Navigate(qr),
		chromedp.WaitVisible(chromedp.CSS(`#ledger[data-state="found"]`)), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	if u := run(t, ctx, "read URL", chromedp.Evaluate[string](`location.pathname + location.search`)); u != "/verify/?r="+qr[len(qr)-20:] {
		t.Errorf("the QR code led to %s", u)
	}
	lv := ledger()
	if len(lv.Seqs) != 1 {
		t.Fatalf("the page lists %d sealings: %+v", len(lv.Seqs), lv)
	}
	for _, want := range []string{"长安镇", "450224100", "450224-XK-0002", hex.EncodeToString(outSum[:]), hex.EncodeToString(inSum[:]), "UTC+8", "拖到下方"} {
		if !strings.Contains(lv.Records+lv.Status, want) {
			t.Errorf("the ledger record lacks %q:\n%s\n%s", want, lv.Status, lv.Records)
		}
	}
	for _, private := range []string{"长安-2026-0001", "准予行政许可决定书", "approval", "clerk"} {
		if strings.Contains(lv.Records+lv.Status, private) {
			t.Errorf("the public record shows %q:\n%s", private, lv.Records)
		}
	}

	// The sealed file is the recorded one; the tampered copy is not.
	if v := pick(t, ctx, "#file", sealed); v.Verdict != "valid" {
		t.Fatalf("sealed decision with its QR code: %+v", v)
	}
	if lv := ledger(); lv.Match != "true" || !strings.Contains(lv.Compare, "一致") || !strings.Contains(lv.Compare, "第 "+lv.Seqs[0]+" 号") {
		t.Errorf("the sealed file against the record: %+v", lv)
	}
	saveShot(t, ctx, "verify-qr-match.png")
	if v := pick(t, ctx, "#file", tampered); v.Verdict != "invalid" {
		t.Fatalf("tampered decision: %+v", v)
	}
	if lv := ledger(); lv.Match != "false" || !strings.Contains(lv.Compare, "不一致") {
		t.Errorf("the tampered file against the record: %+v", lv)
	}
	saveShot(t, ctx, "verify-qr-mismatch.png")
	do(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`#lang`)))
	if lv := ledger(); !strings.Contains(lv.Compare, "No match") || !strings.Contains(lv.Records, "SM3 of the sealed document") {
		t.Errorf("the tampered file against the record, in English: %+v", lv)
	}
	do(t, ctx, "switch back", chromedp.Click(chromedp.CSS(`#lang`)))

	// A malformed short form is said to be so (the lookup answers 400).
	do(t, ctx, "open a malformed short form", chromedp.Navigate(base+"/verify/?r=NOT-A-CODE"),
		chromedp.WaitVisible(chromedp.CSS(`#ledger[data-state="bad"]`)))
	if lv := ledger(); !strings.Contains(lv.Status, "格式不正确") {
		t.Errorf("malformed short form: %+v", lv)
	}

	// A short form the ledger does not hold.
	do(t, ctx, "open an unknown short form", chromedp.Navigate(base+"/verify/?r=AAAAAAAAAAAAAAAAAAAA"),
		chromedp.WaitVisible(chromedp.CSS(`#ledger[data-state="none"]`)))
	if lv := ledger(); !strings.Contains(lv.Status, "没有这个盖章记录") || len(lv.Seqs) != 0 {
		t.Errorf("unknown short form: %+v", lv)
	}
	do(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`#lang`)))
	if lv := ledger(); !strings.Contains(lv.Status, "No such sealing") {
		t.Errorf("unknown short form, in English: %+v", lv)
	}

	mu.Lock()
	if len(posted) > 0 {
		t.Errorf("the browser sent requests with bodies: %v", posted)
	}
	mu.Unlock()
	short := qr[len(qr)-20:]
	allowed := map[string]bool{"/VERIFY/R/" + short: true, "/verify/": true, "/verify/verify.js": true, "/verify/verify.css": true,
		"/verify/wasm_exec.js": true, "/verify/bundle.js": true, "/verify/verify.wasm": true, "/v1/trust": true, "/v1/crl": true,
		"/favicon.ico": true, "/v1/public/sealings/" + short: true, "/v1/public/sealings/AAAAAAAAAAAAAAAAAAAA": true,
		"/v1/public/sealings/NOT-A-CODE": true}
	tdoc, err := os.ReadFile(tampered)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range proxy.requests() {
		if r.method != "GET" || !allowed[r.path] {
			t.Errorf("the server saw %s %s", r.method, r.path)
		}
		for _, d := range [][]byte{doc, tdoc} {
			if bytes.Contains(r.body, d[len(d)/2:len(d)/2+64]) || bytes.Contains(r.body, []byte("%PDF-")) {
				t.Errorf("%s %s carried document bytes", r.method, r.path)
			}
		}
	}
}
