package verifyweb_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/ronganxian/eseal/cli"
	"github.com/ronganxian/eseal/service"
)

// The page in a real browser: headless Chromium (Debian's chromium,
// installed by scripts/install-deps.sh) driven with chromedp, against a
// demo service behind a proxy that records every request the browser
// makes, so that the test can show the document never reached the server.

// startService starts a demo service (as `make demo` does) on free
// loopback ports and returns it with its data directory; tweaks change its
// configuration first.
func startService(t *testing.T, tweaks ...func(*service.Config)) (grpcAddr, httpAddr, dir string) {
	t.Helper()
	dir = t.TempDir()
	t.Setenv("ESEAL_DATA_DIR", dir)
	c, err := service.LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	c.GRPCListen, c.HTTPListen, c.MetricsListen = "127.0.0.1:0", "127.0.0.1:0", ""
	for _, tw := range tweaks {
		tw(c)
	}
	if err := service.EnsureKEK(c.KEKFile); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.Open(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := svc.PrepareDemo(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	srv, err := svc.NewServer()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; svc.Close() })
	return srv.GRPCAddr(), srv.HTTPAddr(), dir
}

// request is one request that reached the server through the proxy.
type request struct {
	method, path string
	body         []byte
}

// recordingProxy passes requests to the service and keeps each one.
type recordingProxy struct {
	mu   sync.Mutex
	seen []request
}

func (p *recordingProxy) start(t *testing.T, httpAddr string) string {
	base, to := p.listen(t)
	to(httpAddr)
	return base
}

// listen starts the proxy before the service it passes to is known, and
// returns its URL and the function that names the service.
func (p *recordingProxy) listen(t *testing.T) (string, func(httpAddr string)) {
	var rp *httputil.ReverseProxy
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.seen = append(p.seen, request{r.Method, r.URL.Path, body})
		to := rp
		p.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		to.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL, func(httpAddr string) {
		target, err := url.Parse("http://" + httpAddr)
		if err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		rp = httputil.NewSingleHostReverseProxy(target)
		p.mu.Unlock()
	}
}

func (p *recordingProxy) requests() []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]request(nil), p.seen...)
}

func chromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is required for this test: install the Debian package chromium (scripts/install-deps.sh)")
	}
	return p
}

// browser starts headless Chromium, with extra options.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.WindowSize(900, 1400), chromedp.Flag("disable-gpu", true))
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// sealDecision seals testdata/pdfs/decision.pdf through the service as the
// 长安镇 approval window, as `make demo` does, and returns the sealed file
// and a copy with one signed byte changed.
func sealDecision(t *testing.T, grpcAddr, dir string) (sealed, tampered string) {
	t.Helper()
	sealed = filepath.Join(dir, "decision-sealed.pdf")
	var out, errb bytes.Buffer
	code := cli.Main([]string{"--server", grpcAddr, "--token-file", filepath.Join(dir, "credentials", "450224100-approval.token"),
		"stamp", "../testdata/pdfs/decision.pdf", "-o", sealed, "--item", "450224-XK-0002", "--case-no", "长安-2026-0001",
		"--doc-kind", "准予行政许可决定书"}, &out, &errb)
	if code != 0 {
		t.Fatalf("sealctl stamp: exit %d: %s %s", code, out.String(), errb.String())
	}
	b, err := os.ReadFile(sealed)
	if err != nil {
		t.Fatal(err)
	}
	// Change what the first page says, in the signed bytes: a date in the
	// decision's text would do, but any signed byte must break the seal.
	i := bytes.Index(b, []byte("%PDF-1."))
	if i != 0 {
		t.Fatalf("sealed file does not start with a PDF header")
	}
	b[7] ^= 0x01
	tampered = filepath.Join(dir, "decision-tampered.pdf")
	if err := os.WriteFile(tampered, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return sealed, tampered
}

// verdict is what the page shows after a file is picked.
type verdict struct {
	Verdict, Heading, Why, Details string
}

// pick chooses file in the page's file input and waits for the verdict
// that follows.
func pick(t *testing.T, ctx context.Context, input, file string) verdict {
	t.Helper()
	do(t, ctx, "clear the last verdict", chromedp.Evaluate[chromedp.Void](`document.getElementById('result').removeAttribute('data-verdict')`))
	do(t, ctx, "pick "+file, chromedp.SetUploadFiles(chromedp.CSS(input), []string{file}),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-verdict]`)))
	return readVerdict(t, ctx)
}

func readVerdict(t *testing.T, ctx context.Context) verdict {
	t.Helper()
	return run(t, ctx, "read the verdict", chromedp.Evaluate[verdict](`({
		Verdict: document.getElementById('result').dataset.verdict,
		Heading: document.getElementById('verdict').textContent,
		Why: document.getElementById('why').textContent,
		Details: document.getElementById('sigs').innerText})`))
}

// bannerColour screenshots the verdict banner and returns the colour of a
// pixel near its top-left corner, inside the banner and clear of its text.
func bannerColour(t *testing.T, ctx context.Context) (r, g, b uint8, shot []byte) {
	t.Helper()
	shot = run(t, ctx, "screenshot the banner", chromedp.Screenshot(chromedp.CSS(`#banner`)))
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	bounds := img.Bounds()
	pr, pg, pb, _ := img.At(bounds.Min.X+bounds.Dx()-12, bounds.Min.Y+bounds.Dy()/2).RGBA()
	return uint8(pr >> 8), uint8(pg >> 8), uint8(pb >> 8), shot
}

// near is whether a colour is within tol of the wanted one on each channel.
func near(r, g, b uint8, want [3]uint8, tol int) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(r, want[0]) <= tol && d(g, want[1]) <= tol && d(b, want[2]) <= tol
}

// saveShot writes a full-page screenshot to ESEAL_SCREENSHOT_DIR when it
// is set (the closing note's pictures), else to the test's directory.
func saveShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot := run(t, ctx, "screenshot the page", chromedp.FullScreenshot(100))
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	dir := os.Getenv("ESEAL_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
		t.Fatal(err)
	}
}

var (
	green = [3]uint8{0x0b, 0x6b, 0x2e}
	red   = [3]uint8{0xb3, 0x26, 0x1e}
)

// TestBrowserVerifies: open the page, verify the sealed decision (有效,
// green, with its township, item, case, time, chain and revocation), a
// tampered copy (无效, red, saying it was tampered with), and the
// BouncyCastle-signed file (无效 until the reader adds its root, then
// 有效); switch to English; and the server never saw the documents.
func TestBrowserVerifies(t *testing.T) {
	grpcAddr, httpAddr, dir := startService(t)
	sealed, tampered := sealDecision(t, grpcAddr, dir)
	proxy := &recordingProxy{}
	base := proxy.start(t, httpAddr)
	ctx := browser(t)

	// The browser's own view of its requests: none may carry a body.
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

	// Open / as a browser does: it is sent to the page, which loads the
	// verifier and the county's trust.
	start := time.Now()
	do(t, ctx, "open the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	t.Logf("time to interactive (navigation start to verifier and trust ready): %.0f ms in the page, %v from the test",
		run(t, ctx, "read timing", chromedp.Evaluate[float64](`window.esealTiming.ready`)), time.Since(start).Round(time.Millisecond))
	run(t, ctx, "wait for the warm-up", chromedp.Poll[bool](`window.esealTiming.warmMs !== undefined`))
	if u := run(t, ctx, "read URL", chromedp.Evaluate[string](`location.pathname`)); u != "/verify/" {
		t.Errorf("GET / led to %s, want /verify/", u)
	}
	if s := run(t, ctx, "read privacy note", chromedp.Evaluate[string](`document.getElementById('privacy').textContent`)); !strings.Contains(s, "不会上传") {
		t.Errorf("the page does not say the file stays on the device: %q", s)
	}

	// By keyboard: Tab reaches the language button, then the file input.
	do(t, ctx, "tab twice", chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab))
	if id := run(t, ctx, "read focus", chromedp.Evaluate[string](`document.activeElement.id`)); id != "file" {
		t.Errorf("two Tabs focus %q, want the file input", id)
	}

	// The sealed decision: valid, green, with its details.
	v := pick(t, ctx, "#file", sealed)
	t.Logf("verify the one-page decision in the browser: %.1f ms (after the warm-up that follows readiness, which held the page's thread for %.1f ms)",
		run(t, ctx, "read timing", chromedp.Evaluate[float64](`window.esealTiming.verifyMs`)),
		run(t, ctx, "read timing", chromedp.Evaluate[float64](`window.esealTiming.warmMs`)))
	if v.Verdict != "valid" || v.Heading != "有效" {
		t.Fatalf("sealed decision: %+v", v)
	}
	for _, want := range []string{"450224100", "农村村民宅基地审批", "450224-XK-0002", "长安-2026-0001", "可追溯到县级根证书", "未吊销",
		"签章后未追加任何修订", "第 1 页", "UTC+8"} {
		if !strings.Contains(v.Details, want) {
			t.Errorf("the valid seal's details lack %q:\n%s", want, v.Details)
		}
	}
	// The seal's picture, from its national seal data (SESeal), drawn.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const i = document.querySelector('.sig img.seal-picture');
		return !!i && i.complete && i.naturalWidth > 0; })()`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the valid seal's picture is not shown: %v", err)
	}
	if r, g, b, _ := bannerColour(t, ctx); !near(r, g, b, green, 12) {
		t.Errorf("valid banner colour #%02x%02x%02x, want green #%02x%02x%02x", r, g, b, green[0], green[1], green[2])
	}
	saveShot(t, ctx, "verify-valid.png")

	// English.
	do(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`#lang`)))
	if v := readVerdict(t, ctx); v.Heading != "VALID" || !strings.Contains(v.Details, "not revoked") {
		t.Errorf("in English: %+v", v)
	}
	if lang := run(t, ctx, "read lang", chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "en" {
		t.Errorf("html lang %q in English", lang)
	}
	do(t, ctx, "switch back", chromedp.Click(chromedp.CSS(`#lang`)))

	// The tampered copy: invalid, red, and why in plain words.
	v = pick(t, ctx, "#file", tampered)
	if v.Verdict != "invalid" || v.Heading != "无效" || !strings.Contains(v.Why, "篡改") {
		t.Fatalf("tampered decision: %+v", v)
	}
	if r, g, b, _ := bannerColour(t, ctx); !near(r, g, b, red, 12) {
		t.Errorf("invalid banner colour #%02x%02x%02x, want red #%02x%02x%02x", r, g, b, red[0], red[1], red[2])
	}
	saveShot(t, ctx, "verify-tampered.png")

	// Another implementation's file: not trusted by the county root, then
	// valid once the reader adds the root it was signed under.
	// Again.
	v = pick(t, ctx, "#file", sealed)
	t.Logf("verify the one-page decision again: %.1f ms", run(t, ctx, "read timing", chromedp.Evaluate[float64](`window.esealTiming.verifyMs`)))
	if v.Verdict != "valid" {
		t.Fatalf("sealed decision, again: %+v", v)
	}

	bc, err := filepath.Abs("../testdata/interop/bc-signed-visible.pdf")
	if err != nil {
		t.Fatal(err)
	}
	bcRoot, err := filepath.Abs("../testdata/interop/bc-root.pem")
	if err != nil {
		t.Fatal(err)
	}
	v = pick(t, ctx, "#file", bc)
	if v.Verdict != "invalid" || !strings.Contains(v.Why, "根证书") {
		t.Fatalf("BouncyCastle file under the county root: %+v", v)
	}
	do(t, ctx, "open the roots", chromedp.Click(chromedp.CSS(`details.roots summary`)))
	v = pick(t, ctx, "#root", bcRoot) // adding a root verifies the last file again
	if v.Verdict != "valid" || v.Heading != "有效" || !strings.Contains(v.Details, "融安县长安镇人民政府") {
		t.Fatalf("BouncyCastle file with its root: %+v", v)
	}

	// Nothing the browser sent had a body, and the server saw only GETs of
	// the page, the trust bundle and the CRL: no document bytes.
	mu.Lock()
	if len(posted) > 0 {
		t.Errorf("the browser sent requests with bodies: %v", posted)
	}
	mu.Unlock()
	docs := map[string][]byte{}
	for _, f := range []string{sealed, tampered, bc} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = b
	}
	allowed := map[string]bool{"/": true, "/verify/": true, "/verify/verify.js": true, "/verify/verify.css": true, "/verify/wasm_exec.js": true,
		"/verify/bundle.js": true, "/verify/verify.wasm": true, "/v1/trust": true, "/v1/crl": true, "/favicon.ico": true}
	reqs := proxy.requests()
	for _, r := range reqs {
		if r.method != "GET" || !allowed[r.path] {
			t.Errorf("the server saw %s %s", r.method, r.path)
		}
		for name, doc := range docs {
			mid := doc[len(doc)/2 : len(doc)/2+64]
			if bytes.Contains(r.body, mid) || bytes.Contains(r.body, []byte(base64.StdEncoding.EncodeToString(mid[:48]))) ||
				bytes.Contains(r.body, []byte("%PDF-")) {
				t.Errorf("%s %s carried bytes of %s", r.method, r.path, name)
			}
		}
	}
	if len(reqs) < 5 {
		t.Errorf("the proxy saw only %d requests: is it in the path?", len(reqs))
	}
	// The page preloads the WebAssembly; the script's fetch takes the
	// preloaded response instead of fetching it again.
	wasmGets := 0
	for _, r := range reqs {
		if r.path == "/verify/verify.wasm" {
			wasmGets++
		}
	}
	if wasmGets != 1 {
		t.Errorf("the WebAssembly was fetched %d times, want once", wasmGets)
	}
}

// TestBrowserSlowPhone: with the CPU slowed four times, as a slow phone,
// the time to interactive is logged (a figure, not a pass/fail timing),
// and a file picked before the verifier has loaded waits for it: it is
// verified in the browser, not offered to the server.
func TestBrowserSlowPhone(t *testing.T) {
	grpcAddr, httpAddr, dir := startService(t)
	sealed, _ := sealDecision(t, grpcAddr, dir)
	proxy := &recordingProxy{}
	base := proxy.start(t, httpAddr)
	ctx := browser(t)
	do(t, ctx, "start", chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: 4}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "open the page", chromedp.Navigate(base+"/verify/"))
	early := run(t, ctx, "read readiness", chromedp.Evaluate[bool](`document.body.dataset.ready !== 'true'`))
	do(t, ctx, "pick at once", chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{sealed}),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-verdict]`)))
	v := readVerdict(t, ctx)
	if v.Verdict != "valid" {
		t.Fatalf("picked early: %+v", v)
	}
	if hidden := run(t, ctx, "read fallback", chromedp.Evaluate[bool](`document.getElementById('fallback').hidden`)); !hidden {
		t.Error("picked before the verifier loaded, the page offered the server")
	}
	for _, r := range proxy.requests() {
		if r.method != "GET" {
			t.Errorf("the server saw %s %s", r.method, r.path)
		}
	}
	tm := run(t, ctx, "read timing", chromedp.Evaluate[map[string]float64](`window.esealTiming`))
	if tm["ready"] <= 0 || tm["interactive"] <= 0 {
		t.Fatalf("no times recorded: %v", tm)
	}
	if tm["interactive"] >= tm["instantiated"] {
		t.Errorf("the page became interactive (%.0f ms) only once the WebAssembly was compiled (%.0f ms)", tm["interactive"], tm["instantiated"])
	}
	t.Logf("with the CPU slowed 4x, on loopback (no network delay), from navigation start: interactive (drop zone and buttons work) %.0f ms; "+
		"WebAssembly fetched and compiled %.0f ms; Go runtime ready %.0f ms; verifier and trust ready %.0f ms; "+
		"the file picked before that (%v) verified in %.0f ms once the verifier was there",
		tm["interactive"], tm["instantiated"], tm["goReady"], tm["ready"], early, tm["verifyMs"])

	// A returning reader: the browser revalidates the WebAssembly (304)
	// and reuses the code it compiled from it.
	do(t, ctx, "open the page again", chromedp.Navigate(base+"/verify/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	tm = run(t, ctx, "read timing", chromedp.Evaluate[map[string]float64](`window.esealTiming`))
	t.Logf("again, with the CPU slowed 4x: interactive %.0f ms; WebAssembly ready to run %.0f ms; verifier and trust ready %.0f ms",
		tm["interactive"], tm["instantiated"], tm["ready"])
}

// TestBrowserOfflineFolder: the folder from /verify/offline.zip, opened
// from disk (file://), verifies the sealed decision with its bundled root
// and CRL, on a phone-sized screen, without a server.
func TestBrowserOfflineFolder(t *testing.T) {
	grpcAddr, httpAddr, dir := startService(t)
	sealed, _ := sealDecision(t, grpcAddr, dir)
	resp, err := http.Get("http://" + httpAddr + "/verify/offline.zip")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("offline.zip: %v %s", err, resp.Status)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(out, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(p, out+string(filepath.Separator)) {
			t.Fatalf("zip entry %q leaves the folder", f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("offline folder: %d bytes zipped", len(body))

	ctx := browser(t)
	do(t, ctx, "phone screen", chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile))
	do(t, ctx, "open the folder's page", chromedp.Navigate("file://"+filepath.Join(out, "eseal-verify", "index.html")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	v := pick(t, ctx, "#file", sealed)
	if v.Verdict != "valid" || v.Heading != "有效" || !strings.Contains(v.Details, "未吊销") || !strings.Contains(v.Details, "离线页随附") {
		t.Fatalf("from file://: %+v", v)
	}
	if w := run(t, ctx, "read widths", chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`)); len(w) != 2 || w[0] > w[1] {
		t.Errorf("on a 375-pixel screen the page is %v wide: it scrolls sideways", w)
	}
}

// TestBrowserWithoutWebAssembly: in a browser without WebAssembly the page
// says it cannot verify on the device and sends the file to the server
// only when the reader presses the button, then says it did.
func TestBrowserWithoutWebAssembly(t *testing.T) {
	grpcAddr, httpAddr, dir := startService(t)
	sealed, _ := sealDecision(t, grpcAddr, dir)
	proxy := &recordingProxy{}
	base := proxy.start(t, httpAddr)
	ctx := browser(t)
	// A browser without WebAssembly: the global is gone before any script.
	do(t, ctx, "start", chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: "delete globalThis.WebAssembly;"}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "open the page", chromedp.Navigate(base+"/verify/"))
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`#fallback:not([hidden])`))); err != nil {
		st, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('status').textContent + ' / ' + typeof WebAssembly`))
		t.Fatalf("no fallback offered: %v; the page says %q", err, st)
	}
	if has := run(t, ctx, "check wasm", chromedp.Evaluate[bool](`typeof WebAssembly === 'object'`)); has {
		t.Fatal("the browser still has WebAssembly")
	}
	do(t, ctx, "pick the file", chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{sealed}))
	time.Sleep(300 * time.Millisecond) // the page must not send it on its own
	for _, r := range proxy.requests() {
		if r.method != "GET" {
			t.Fatalf("before the reader asked, the page sent %s %s", r.method, r.path)
		}
	}
	do(t, ctx, "send it", chromedp.Click(chromedp.CSS(`#send`)), chromedp.WaitVisible(chromedp.CSS(`#result[data-verdict]`)))
	v := readVerdict(t, ctx)
	where := run(t, ctx, "read note", chromedp.Evaluate[string](`document.getElementById('where').textContent`))
	if v.Verdict != "valid" || v.Heading != "有效" || !strings.Contains(where, "文件已发送到服务器") {
		t.Fatalf("verified by the server: %+v, %q", v, where)
	}
	posted := 0
	for _, r := range proxy.requests() {
		if r.method == "POST" && r.path == "/v1/verify" {
			posted++
		}
	}
	if posted != 1 {
		t.Errorf("%d POST /v1/verify, want 1", posted)
	}
}
