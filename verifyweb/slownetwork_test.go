package verifyweb_test

import (
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserSlowPhoneNetwork opens the page as Lighthouse's mobile
// profile does: the CPU slowed 4x and the network at 150 ms round trips,
// 1.6 Mbit/s down and 750 kbit/s up (Chrome's "Slow 4G"). The page must be
// interactive before the WebAssembly (2.6 MB gzipped, about 13 s at that
// rate) has arrived, and a file picked at once must be verified in the
// browser once it has, never offered to the server. The times are logged
// as figures, not judged: performance is measured, not asserted.
func TestBrowserSlowPhoneNetwork(t *testing.T) {
	grpcAddr, httpAddr, dir := startService(t)
	sealed, _ := sealDecision(t, grpcAddr, dir)
	proxy := &recordingProxy{}
	base := proxy.start(t, httpAddr)
	ctx := browser(t)
	do(t, ctx, "start", chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	slow4G := []*network.Conditions{{Latency: 150, DownloadThroughput: 1.6e6 / 8, UploadThroughput: 750e3 / 8}}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule,
		network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: slow4G}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "open the page", chromedp.Navigate(base+"/verify/"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-interactive="true"]`)))
	early := run(t, ctx, "read readiness", chromedp.Evaluate[bool](`document.body.dataset.ready !== 'true'`))
	if !early {
		t.Fatal("the verifier was ready as soon as the page was interactive: the network was not slowed, and the test shows nothing")
	}
	do(t, ctx, "pick at once", chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{sealed}),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-verdict]`)))
	if v := readVerdict(t, ctx); v.Verdict != "valid" {
		t.Fatalf("picked before the verifier arrived: %+v", v)
	}
	if hidden := run(t, ctx, "read fallback", chromedp.Evaluate[bool](`document.getElementById('fallback').hidden`)); !hidden {
		t.Error("picked before the verifier arrived, the page offered the server")
	}
	for _, r := range proxy.requests() {
		if r.method != "GET" {
			t.Errorf("the server saw %s %s", r.method, r.path)
		}
	}
	tm := run(t, ctx, "read timing", chromedp.Evaluate[map[string]float64](`window.esealTiming`))
	if tm["interactive"] <= 0 || tm["interactive"] >= tm["instantiated"] {
		t.Fatalf("interactive at %.0f ms, the WebAssembly compiled at %.0f ms: the page must not wait for it", tm["interactive"], tm["instantiated"])
	}
	t.Logf("Lighthouse's mobile profile (CPU 4x, 150 ms, 1.6/0.75 Mbit/s), from navigation start: interactive %.0f ms; "+
		"WebAssembly fetched and compiled %.0f ms; verifier and trust ready %.0f ms; the file picked at once verified in %.0f ms once it was",
		tm["interactive"], tm["instantiated"], tm["ready"], tm["verifyMs"])
}
