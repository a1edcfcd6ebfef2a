package verifyweb

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var testBundle = Bundle{TrustPEM: []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
	CRL: []byte{0x30, 0x03, 0x02, 0x01, 0x01}, ThisUpdate: time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC),
	NextUpdate: time.Date(2026, 12, 10, 1, 0, 0, 0, time.UTC)}

func testHandler() http.Handler {
	return Handler(func(context.Context) (Bundle, error) { return testBundle, nil },
		func() time.Time { return time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC) })
}

// TestHandlerRoutes: the page and its files are served with their types
// and a policy that keeps the page on its own origin; a browser asking
// for / is sent to the page; anything else stays 404 for REST clients.
func TestHandlerRoutes(t *testing.T) {
	h := testHandler()
	for _, tc := range []struct {
		method, path, accept string
		status               int
		typ, location, body  string // expected Content-Type prefix, Location, body substring
	}{
		{"GET", "/verify/", "", 200, "text/html", "", "电子印章验证"},
		{"GET", "/verify/index.html", "", 200, "text/html", "", `src="verify.js"`},
		{"GET", "/verify/verify.js", "", 200, "text/javascript", "", "esealVerify"},
		{"GET", "/verify/verify.css", "", 200, "text/css", "", ".banner"},
		{"GET", "/verify/wasm_exec.js", "", 200, "text/javascript", "", "globalThis.Go = class"},
		{"GET", "/verify/bundle.js", "", 200, "text/javascript", "", "window.esealBundle = null;"},
		{"HEAD", "/verify/", "", 200, "text/html", "", ""},
		{"GET", "/verify", "", 301, "", "/verify/", ""},
		{"GET", "/", "text/html,application/xhtml+xml,*/*;q=0.8", 303, "", "/verify/", ""},
		{"GET", "/", "application/json", 404, "", "", ""},
		{"GET", "/", "", 404, "", "", ""},
		{"GET", "/verify/../v1/seal", "", 404, "", "", ""},
		{"GET", "/verify/nothing.js", "", 404, "", "", ""},
		{"GET", "/elsewhere", "text/html", 404, "", "", ""},
		{"POST", "/verify/", "", 405, "", "", ""},
		// The verification QR code's URL leads to the page with its short form.
		{"GET", "/VERIFY/R/M3D7B5DC53W5TUPS2RV5", "", 302, "", "../../verify/?r=M3D7B5DC53W5TUPS2RV5", ""},
		{"GET", "/verify/r/m3d7b5dc53w5tups2rv5", "", 302, "", "../../verify/?r=M3D7B5DC53W5TUPS2RV5", ""},
		{"GET", "/VERIFY/R/M3D7B5DC53W5TUPS2RV", "", 404, "", "", ""},
		{"GET", "/VERIFY/R/M3D7B5DC53W5TUPS2RV1", "", 404, "", "", ""},
		{"GET", "/VERIFY/R/M3D7B5DC53W5TUPS2RV5/x", "", 404, "", "", ""},
		{"GET", "/VERIFY/", "", 404, "", "", ""},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.accept, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.accept != "" {
				r.Header.Set("Accept", tc.accept)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, tc.typ) {
				t.Errorf("Content-Type %q, want %q", got, tc.typ)
			}
			if got := w.Header().Get("Location"); got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			if !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("body lacks %q", tc.body)
			}
			if tc.status == 200 {
				if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") {
					t.Errorf("Content-Security-Policy %q does not keep the page on its origin", csp)
				}
			}
		})
	}
}

// TestHandlerWasm: the WebAssembly goes gzipped to a browser that accepts
// gzip, and unzipped to one that does not; both are the module.
func TestHandlerWasm(t *testing.T) {
	h := testHandler()
	for _, tc := range []struct {
		acceptEncoding string
		gzipped        bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.5", true},
		{"", false},
		{"gzip;q=0", false},
		{"identity", false},
	} {
		r := httptest.NewRequest("GET", "/verify/verify.wasm", nil)
		r.Header.Set("Accept-Encoding", tc.acceptEncoding)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/wasm" {
			t.Fatalf("%q: status %d, type %q", tc.acceptEncoding, w.Code, w.Header().Get("Content-Type"))
		}
		body := w.Body.Bytes()
		if got := w.Header().Get("Content-Encoding") == "gzip"; got != tc.gzipped {
			t.Fatalf("%q: gzipped %v, want %v", tc.acceptEncoding, got, tc.gzipped)
		}
		if tc.gzipped {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.HasPrefix(body, []byte("\x00asm")) {
			t.Errorf("%q: not a WebAssembly module: % x", tc.acceptEncoding, body[:min(8, len(body))])
		}
	}
	// A second request with the ETag is answered 304.
	r := httptest.NewRequest("GET", "/verify/verify.js", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	r = httptest.NewRequest("GET", "/verify/verify.js", nil)
	r.Header.Set("If-None-Match", w.Header().Get("ETag"))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusNotModified {
		t.Errorf("with its ETag: status %d, want 304", w.Code)
	}
}

// TestOfflineZip: the folder has the page, the verifier as a script, and
// the county root and CRL bundled, for file://.
func TestOfflineZip(t *testing.T) {
	w := httptest.NewRecorder()
	testHandler().ServeHTTP(w, httptest.NewRequest("GET", "/verify/offline.zip", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/zip" {
		t.Fatalf("status %d, type %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	zr, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(f.Name, offlineDir)], _ = io.ReadAll(rc)
		rc.Close()
	}
	for _, name := range []string{"index.html", "verify.js", "verify.css", "wasm_exec.js", "bundle.js", "verify-wasm.js", "root.pem", "county.crl", "README.txt"} {
		if len(files[name]) == 0 {
			t.Errorf("the folder lacks %s", name)
		}
	}
	var ob offlineBundle
	js := strings.TrimSuffix(strings.TrimPrefix(string(files["bundle.js"]), "window.esealBundle = "), ";\n")
	if err := json.Unmarshal([]byte(js), &ob); err != nil {
		t.Fatalf("bundle.js: %v: %s", err, files["bundle.js"])
	}
	crl, _ := base64.StdEncoding.DecodeString(ob.CRL)
	if !ob.Offline || ob.Trust != string(testBundle.TrustPEM) || !bytes.Equal(crl, testBundle.CRL) ||
		ob.CRLThisUpdate != "2026-12-03T01:00:00Z" || ob.Made != "2026-12-04T00:00:00Z" {
		t.Errorf("bundle.js %+v", ob)
	}
	wasm := strings.TrimSuffix(strings.TrimPrefix(string(files["verify-wasm.js"]), `window.esealWasmGz = "`), "\";\n")
	gz, err := base64.StdEncoding.DecodeString(wasm)
	if err != nil || !bytes.Equal(gz, asset("verify.wasm.gz")) {
		t.Errorf("verify-wasm.js does not hold the embedded module (%v)", err)
	}

	// No trust bundle: no folder, and the reason.
	h := Handler(func(context.Context) (Bundle, error) { return Bundle{}, errors.New("keystore closed") }, nil)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/verify/offline.zip", nil))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "keystore closed") {
		t.Errorf("without a bundle: %d %s", w.Code, w.Body.String())
	}
	if _, err := OfflineZip(Bundle{}, time.Now()); err == nil {
		t.Error("OfflineZip without a trust bundle succeeded")
	}
}
