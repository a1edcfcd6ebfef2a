package outbox

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// worker is one subscription's HTTP client, with its opened credential.
type worker struct {
	endpoint string
	client   *http.Client
	bearer   string
	prev     uint64              // the seq of the last event sent, or before the first
	scanned  uint64              // the seq up to which records were looked at
	unsaved  uint64              // deliveries acknowledged but not yet recorded
	saved    time.Time           // when the row was last written (the lease renewed)
	checked  time.Time           // when the row was last read for an operator's change
	key      crypto.Signer       // the ledger key, asked for once a poll
	cert     *smx509.Certificate // and its certificate
	keyAt    time.Time           // when they were asked for
}

// newWorker opens sub's credential and builds its client.
func (o *Outbox) newWorker(sub *Subscription) (*worker, error) {
	if err := CheckEndpoint(sub.Endpoint); err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	w := &worker{endpoint: sub.Endpoint, client: &http.Client{Transport: tr}}
	if len(sub.ServerCA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(sub.ServerCA) {
			return nil, fmt.Errorf("subscription %s: the receiver's CA is not PEM certificates", sub.ID)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	var secret []byte
	if sub.Auth != AuthNone {
		var err error
		if secret, err = o.secrets.OpenSecret(secretOwner(sub.ID), sub.Credential); err != nil {
			return nil, fmt.Errorf("subscription %s: opening its credential: %w", sub.ID, err)
		}
		defer clear(secret)
	}
	switch sub.Auth {
	case AuthBearer:
		w.bearer = string(secret)
	case AuthMTLS:
		cert, err := tls.X509KeyPair(sub.ClientCert, secret)
		if err != nil {
			return nil, fmt.Errorf("subscription %s: its client certificate: %w", sub.ID, err)
		}
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	}
	return w, nil
}

func (w *worker) close() { w.client.CloseIdleConnections() }

// post sends one request, an event or a batch; only a 2xx acknowledges
// it. id, when set, goes in Ce-Id, for logs and proxies: the body is the
// event.
func (w *worker) post(ctx context.Context, body []byte, ctype, id string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	if id != "" {
		req.Header.Set("Ce-Id", id)
	}
	if w.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+w.bearer)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return errStatus{resp.StatusCode}
	}
	return nil
}

// secretOwner binds a subscription's sealed credential to it.
func secretOwner(id string) string { return "subscription:" + id }

// CheckEndpoint accepts an https URL, or an http one to a loopback
// address: events and credentials cross the network only under TLS.
func CheckEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: endpoint %q is not an absolute URL", ErrInvalid, endpoint)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("%w: endpoint %s: http only to a loopback address; use https", ErrInvalid, endpoint)
	}
	return fmt.Errorf("%w: endpoint %s: scheme %q, want https", ErrInvalid, endpoint, u.Scheme)
}
