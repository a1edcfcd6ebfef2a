package verifyweb

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed assets
var assets embed.FS

// Bundle is what the offline folder bundles: the county's trust anchors
// and its latest CRL.
type Bundle struct {
	// TrustPEM is the trust bundle, PEM.
	TrustPEM []byte
	// CRL is the latest CRL, DER; nil when none is published yet.
	CRL                    []byte
	ThisUpdate, NextUpdate time.Time
}

// BundleFunc reads the current Bundle.
type BundleFunc func(ctx context.Context) (Bundle, error)

// Handler serves the page: GET /verify/ and its files, GET /verify/
// offline.zip built from bundle, and, for GET / from a browser (Accept
// text/html), a redirect to /verify/. Anything else under / is 404, as
// before, so that REST clients see no page. now stamps the offline
// folder; nil is time.Now.
func Handler(bundle BundleFunc, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	return &handler{bundle: bundle, now: now}
}

type handler struct {
	bundle BundleFunc
	now    func() time.Time

	mu      sync.Mutex
	zipKey  string // what the cached zip was built from
	zipBody []byte
}

// page files served as they are, with their types.
var pageFiles = map[string]string{
	"verify.js":    "text/javascript; charset=utf-8",
	"verify.css":   "text/css; charset=utf-8",
	"wasm_exec.js": "text/javascript; charset=utf-8",
}

// csp lets the page run its own scripts and WebAssembly and talk to its
// own origin only: the document cannot be sent elsewhere. Images may be
// blob: URLs, the seals' pictures the verifier read from the document.
const csp = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if short, ok := strings.CutPrefix(strings.ToLower(p), "/verify/r/"); ok {
		// The verification QR code's URL, /VERIFY/R/<short> (upper case, to
		// keep the code small): the page, with the short form. Relative,
		// so that it holds behind a proxy's path prefix too.
		if !validShort(short) {
			http.NotFound(w, r)
			return
		}
		// Not http.Redirect: it would make the location absolute.
		w.Header().Set("Location", "../../verify/?r="+strings.ToUpper(short))
		w.WriteHeader(http.StatusFound)
		return
	}
	switch {
	case p == "/":
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, "/verify/", http.StatusSeeOther)
		return
	case p == "/verify":
		http.Redirect(w, r, "/verify/", http.StatusMovedPermanently)
		return
	case !strings.HasPrefix(p, "/verify/"):
		http.NotFound(w, r)
		return
	}
	name := strings.TrimPrefix(p, "/verify/")
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-cache")
	switch name {
	case "", "index.html":
		serve(w, r, "text/html; charset=utf-8", onlineIndex())
	case "bundle.js":
		// Online, the page fetches the trust bundle and CRL itself.
		serve(w, r, "text/javascript; charset=utf-8", []byte("window.esealBundle = null;\n"))
	case "verify.wasm":
		h.serveWasm(w, r)
	case "offline.zip":
		h.serveZip(w, r)
	default:
		typ, ok := pageFiles[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, r, typ, asset(name))
	}
}

// preloadWasm asks the browser to fetch the WebAssembly as soon as it
// reads the page's head, before the scripts that compile it have run; the
// script's fetch of the same URL (same mode and credentials) then takes
// the preloaded response. Only the served page has it: the offline folder
// carries its module in a script.
const preloadWasm = `<link rel="preload" href="verify.wasm" as="fetch" type="application/wasm" crossorigin>` + "\n"

// onlineIndex is the page as served: index.html with preloadWasm before
// its stylesheet, when this build has the WebAssembly.
func onlineIndex() []byte {
	page := asset("index.html")
	if page == nil || asset("verify.wasm.gz") == nil {
		return page
	}
	return bytes.Replace(page, []byte(`<link rel="stylesheet"`), []byte(preloadWasm+`<link rel="stylesheet"`), 1)
}

// serveWasm serves the WebAssembly gzipped, as it is embedded, to a
// client that accepts gzip, and unzipped to one that does not.
func (h *handler) serveWasm(w http.ResponseWriter, r *http.Request) {
	gz := asset("verify.wasm.gz")
	w.Header().Add("Vary", "Accept-Encoding")
	if gz == nil {
		serve(w, r, "", nil)
		return
	}
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		serve(w, r, "application/wasm", gz)
		return
	}
	raw, err := gunzip(gz)
	if err != nil {
		http.Error(w, "the embedded verifier is damaged", http.StatusInternalServerError)
		return
	}
	serve(w, r, "application/wasm", raw)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// serve writes body with its type and an ETag, answering conditional
// requests.
func serve(w http.ResponseWriter, r *http.Request, typ string, body []byte) {
	if body == nil {
		http.Error(w, "verifyweb: a page file is missing from this build", http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(body)
	w.Header().Set("Content-Type", typ)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// asset is an embedded file, nil when it is missing: the WebAssembly and
// wasm_exec.js in a build that did not run scripts/verifywasm.sh (the page
// then offers the service's verification), anything else a build mistake
// the tests catch. The handler answers 500 for it.
func asset(name string) []byte {
	b, err := fs.ReadFile(assets, "assets/"+name)
	if err != nil {
		return nil
	}
	return b
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// validShort reports whether s is a sealing's short form as the QR code
// writes it: 20 base32 characters, here in lower case.
func validShort(s string) bool {
	if len(s) != 20 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
