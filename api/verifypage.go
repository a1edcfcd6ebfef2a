package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/verifyweb"
)

// The public verification page (package verifyweb) is served beside REST
// on the HTTP listener, at /verify/ and, for a browser, at /; and the CRL
// as DER at /county.crl, the address seal certificates name as their CRL
// distribution point (sealsvc's crl_url), for verifiers that fetch
// it (`sealctl verify --online`); and the public lookup of a sealing by
// its verification QR code (lookup.go). All of it is public: the page, the
// county root and the CRL are what anyone needs to verify.

// CRLPath is where the HTTP listener serves the latest CRL, DER.
const CRLPath = "/county.crl"

// handlePage adds the page and the CRL to mux.
func (s *Server) handlePage(mux *http.ServeMux) {
	page := verifyweb.Handler(s.pageBundle, nil)
	mux.Handle("/verify", page)
	mux.Handle("/verify/", page)
	mux.Handle("/VERIFY/", page) // the verification QR code's upper-case URL (seal/verifyqr.go)
	mux.Handle("/{$}", page)
	mux.HandleFunc(CRLPath, s.serveCRL)
	lookup, _ := s.deps.Store.(InputLookup)
	mux.Handle("GET /v1/public/sealings/{short}", newLookupHandler(s.cfg.PublicLookup, lookup, s.deps.Store, s.log))
}

// pageBundle is the county's trust bundle and latest CRL, for the
// offline folder.
func (s *Server) pageBundle(ctx context.Context) (verifyweb.Bundle, error) {
	pem, err := s.deps.Keystore.TrustBundle(ctx)
	if err != nil {
		return verifyweb.Bundle{}, err
	}
	b := verifyweb.Bundle{TrustPEM: pem}
	switch crl, err := s.deps.Keystore.CRL(ctx); {
	case errors.Is(err, keystore.ErrNotFound): // none published yet
	case err != nil:
		return verifyweb.Bundle{}, err
	default:
		b.CRL, b.ThisUpdate, b.NextUpdate = crl.DER, crl.ThisUpdate, crl.NextUpdate
	}
	return b, nil
}

// serveCRL serves the latest CRL as DER (application/pkix-crl, RFC 5280
// section 4.2.1.13), or 404 when none is published yet.
func (s *Server) serveCRL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	crl, err := s.deps.Keystore.CRL(r.Context())
	switch {
	case errors.Is(err, keystore.ErrNotFound):
		http.Error(w, "no CRL is published yet", http.StatusNotFound)
		return
	case err != nil:
		s.log.Error("serving the CRL", "err", err)
		http.Error(w, "the CRL cannot be read now", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(crl.DER)
}
