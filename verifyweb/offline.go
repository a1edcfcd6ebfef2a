package verifyweb

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The offline folder, GET /verify/offline.zip: the page, as a folder that
// works when opened from disk (file://), for a county to publish on any
// web server or hand out on a USB stick. A browser will not fetch() from
// file://, so what the page would fetch comes as scripts instead:
// bundle.js holds the county root and the CRL of the moment, and
// verify-wasm.js the gzipped WebAssembly in base64. The CRL is a snapshot:
// the page shows when it was issued, and a newer folder brings a newer one.

const offlineDir = "eseal-verify/"

const offlineReadme = `电子印章离线验证页 / Offline seal verification page

打开 index.html 即可在本机验证已盖章的 PDF，文件不会上传到任何地方。
本文件夹随附县级根证书（root.pem）和生成时最新的证书吊销列表（county.crl），
生成时间见页面底部。吊销列表会更新：请定期重新下载本文件夹。
也可以用命令行验证：sealctl verify --trust root.pem --crl county.crl 文件.pdf

Open index.html to check a sealed PDF on this computer; the file is never uploaded.
The folder carries the county root (root.pem) and the revocation list that was current
when it was made (county.crl); the page shows when. Revocation lists change: download
the folder again from time to time. The command line does the same check:
sealctl verify --trust root.pem --crl county.crl file.pdf
`

// offlineBundle is bundle.js's object.
type offlineBundle struct {
	Offline       bool   `json:"offline"`
	Trust         string `json:"trust"`
	CRL           string `json:"crl,omitempty"`
	CRLThisUpdate string `json:"crlThisUpdate,omitempty"`
	CRLNextUpdate string `json:"crlNextUpdate,omitempty"`
	Made          string `json:"made"`
}

// OfflineZip builds the offline folder, zipped, with b bundled, made at
// made.
func OfflineZip(b Bundle, made time.Time) ([]byte, error) {
	if len(b.TrustPEM) == 0 {
		return nil, fmt.Errorf("verifyweb: the offline folder needs the county's trust bundle")
	}
	ob := offlineBundle{Offline: true, Trust: string(b.TrustPEM), Made: made.UTC().Format(time.RFC3339)}
	if b.CRL != nil {
		ob.CRL = base64.StdEncoding.EncodeToString(b.CRL)
		ob.CRLThisUpdate = b.ThisUpdate.UTC().Format(time.RFC3339)
		ob.CRLNextUpdate = b.NextUpdate.UTC().Format(time.RFC3339)
	}
	bj, err := json.Marshal(ob) // escapes <, > and &: safe inside a script
	if err != nil {
		return nil, err
	}
	gz := asset("verify.wasm.gz")
	files := []struct {
		name string
		body []byte
	}{
		{"index.html", asset("index.html")},
		{"verify.js", asset("verify.js")},
		{"verify.css", asset("verify.css")},
		{"wasm_exec.js", asset("wasm_exec.js")},
		{"bundle.js", []byte("window.esealBundle = " + string(bj) + ";\n")},
		{"verify-wasm.js", []byte("window.esealWasmGz = \"" + base64.StdEncoding.EncodeToString(gz) + "\";\n")},
		{"root.pem", b.TrustPEM},
		{"README.txt", []byte(offlineReadme)},
	}
	if b.CRL != nil {
		files = append(files, struct {
			name string
			body []byte
		}{"county.crl", b.CRL})
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		if f.body == nil || (f.name == "verify-wasm.js" && gz == nil) {
			return nil, fmt.Errorf("verifyweb: %s is missing from this build", f.name)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: offlineDir + f.name, Method: zip.Deflate, Modified: made})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// serveZip serves the offline folder for the current bundle. It is built
// once per trust bundle and CRL and kept: deflating the WebAssembly's
// base64 costs a tenth of a second, and anyone may ask.
func (h *handler) serveZip(w http.ResponseWriter, r *http.Request) {
	if h.bundle == nil {
		http.NotFound(w, r)
		return
	}
	b, err := h.bundle(r.Context())
	if err != nil {
		http.Error(w, "the county's trust bundle is not available: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	key := string(b.TrustPEM) + "\x00" + string(b.CRL)
	h.mu.Lock()
	if h.zipKey != key || h.zipBody == nil {
		body, err := OfflineZip(b, h.now())
		if err != nil {
			h.mu.Unlock()
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h.zipKey, h.zipBody = key, body
	}
	body := h.zipBody
	h.mu.Unlock()
	w.Header().Set("Content-Disposition", `attachment; filename="eseal-verify.zip"`)
	serve(w, r, "application/zip", body)
}
