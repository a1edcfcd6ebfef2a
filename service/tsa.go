package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/tsa"
)

// The county time-stamping authority runs in the service: the sealer asks
// it in process for every seal's token, and it serves RFC 3161 on its own
// address (tsa_listen) for anyone else, or alone (`sealsvc tsa`, ServeTSA)
// on a host of its own. Its key is the keystore's TSA key; its serials come
// from the store's counter, shared by the replicas.

// defaultTokenReserve is the largest token expected from an external TSA:
// an RSA-4096 token with a chain of three certificates.
const defaultTokenReserve = 8192

// ErrTSAPlaintextOffLoopback refuses to serve the TSA without TLS off
// loopback, as the API refuses.
var ErrTSAPlaintextOffLoopback = errors.New("refusing to serve the TSA without TLS off loopback")

// validateTSA checks the tsa_* settings.
func (c *Config) validateTSA() []error {
	var errs []error
	if c.TSAUnreachable != "refuse" && c.TSAUnreachable != "seal_without" {
		errs = append(errs, fmt.Errorf("tsa_unreachable %q is not refuse or seal_without", c.TSAUnreachable))
	}
	if c.LTV != "on" && c.LTV != "off" && c.LTV != "lta" {
		errs = append(errs, fmt.Errorf("ltv %q is not on, lta or off", c.LTV))
	}
	if c.TSAHash != "sm3" && c.TSAHash != "sha256" {
		errs = append(errs, fmt.Errorf("tsa_hash %q is not sm3 or sha256", c.TSAHash))
	}
	if c.TSAPolicy != "" {
		if _, err := smx509.ParseOID(c.TSAPolicy); err != nil {
			errs = append(errs, fmt.Errorf("tsa_policy %q is not an object identifier: %v", c.TSAPolicy, err))
		}
	}
	if c.TSAAccuracy < 0 || c.TSAMaxRequestBytes < 0 || c.TSATokenReserve < 0 || c.TSATokenReserve > 1<<20 {
		errs = append(errs, errors.New("tsa_accuracy, tsa_max_request_bytes and tsa_token_reserve must not be negative (the reserve at most 1 MiB)"))
	}
	if c.TSAURL != "" && c.TSAURL != "off" {
		u, err := url.Parse(c.TSAURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, fmt.Errorf("tsa_url %q is not an http(s) URL", c.TSAURL))
		case u.Scheme == "http" && !sealapi.IsLoopback(u.Host):
			errs = append(errs, fmt.Errorf("tsa_url %q: off loopback the TSA must be reached over https", c.TSAURL))
		}
	}
	return errs
}

// newTSA makes the county TSA on the keystore's TSA key and the store's
// serial counter, and the sealer's timestamping as tsa_url says.
func (s *Service) newTSA() error {
	c := s.Config
	key := s.Keystore.TSAKey()
	auth, err := tsa.New(key, key, tsa.Config{Policy: c.TSAPolicy, Accuracy: time.Duration(c.TSAAccuracy)})
	if err != nil {
		return err
	}
	s.TSA = auth
	if c.LTV == "on" || c.LTV == "lta" {
		s.Sealer.LTV = countyLTV{s: s, lta: c.LTV == "lta"}
	}
	if c.TSAURL == "off" {
		return nil
	}
	ts := &seal.Timestamping{SealWithout: c.TSAUnreachable == "seal_without", SHA256: c.TSAHash == "sha256"}
	if c.TSAURL == "" {
		ts.TSA = auth // Reserve 0: the county TSA bounds its own tokens
	} else {
		ts.TSA = &tsa.Client{URL: c.TSAURL, HTTP: &http.Client{Timeout: 10 * time.Second}}
		ts.Reserve = int(c.TSATokenReserve)
		if ts.Reserve == 0 {
			ts.Reserve = defaultTokenReserve
		}
	}
	s.Sealer.Timestamping = ts
	return nil
}

// TSAHandler is the county TSA's HTTP handler.
func (s *Service) TSAHandler() http.Handler {
	return &tsa.Handler{Authority: s.TSA, MaxRequestBytes: s.Config.TSAMaxRequestBytes, Log: s.Log}
}

// ListenTSA opens the TSA's listener on addr: plaintext only on loopback,
// TLS with tls_cert and tls_key otherwise (or when they are set).
func (s *Service) ListenTSA(addr string) (net.Listener, error) {
	c := s.Config
	if c.TLSCert == "" && !sealapi.IsLoopback(addr) {
		return nil, fmt.Errorf("%w: %s; set tls_cert and tls_key, or listen on loopback", ErrTSAPlaintextOffLoopback, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tsa_listen: %w", err)
	}
	if c.TLSCert == "" {
		return ln, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("tsa_listen: TLS: %w", err)
	}
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}), nil
}

// ServeTSA serves the county TSA on ln until ctx ends.
func (s *Service) ServeTSA(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.TSAHandler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	err := srv.Serve(ln)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// RunTSA serves the county TSA alone on tsa_listen until ctx ends: `sealsvc
// tsa`, for a county that runs it on a host of its own, on the same store
// (the TSA key and the serial counter) as the sealing replicas.
func (s *Service) RunTSA(ctx context.Context) error {
	if s.Config.TSAListen == "" {
		s.Config.TSAListen = DefaultTSAListen
	}
	if _, _, err := s.Keystore.TSAKey().TSASigner(ctx); err != nil {
		return fmt.Errorf("the TSA cannot sign: %w", err)
	}
	ln, err := s.ListenTSA(s.Config.TSAListen)
	if err != nil {
		return err
	}
	s.Log.Info("county TSA listening", "addr", ln.Addr().String(), "policy", s.TSA.Policy().String())
	return s.ServeTSA(ctx, ln)
}

// DemoTSA is the demo's TSA setting: the TSA is served, on a free
// loopback port unless tsa_listen names one (several demos may run on one
// host), and a sealing whose token cannot be had is sealed without one
// (and says so), where production refuses it.
func DemoTSA(c *Config) {
	c.TSAUnreachable = "seal_without"
	if c.TSAListen == "" {
		c.TSAListen = "127.0.0.1:0"
	}
}

// countyLTV is the validation data every sealed document carries with ltv
// on: the county's current CRL, the CA's certificates and the county TSA's;
// with ltv lta, a document timestamp follows it.
type countyLTV struct {
	s   *Service
	lta bool
}

// DocumentTimestamp says whether a document timestamp follows the DSS.
func (l countyLTV) DocumentTimestamp() bool { return l.lta }

func (l countyLTV) ValidationData(ctx context.Context) (pdf.DSS, error) {
	var d pdf.DSS
	crl, err := l.s.Keystore.CRL(ctx)
	if err != nil {
		return d, err
	}
	d.CRLs = [][]byte{crl.DER}
	ca, err := l.s.Keystore.CA(ctx)
	if err != nil {
		return d, err
	}
	for _, c := range append([]*smx509.Certificate{ca.Certificate}, ca.Chain...) {
		d.Certs = append(d.Certs, c.Raw)
	}
	if l.s.Config.TSAURL == "" {
		if _, chain, err := l.s.Keystore.TSAKey().TSASigner(ctx); err == nil {
			d.Certs = append(d.Certs, chain[0].Raw)
		}
	}
	return d, nil
}
