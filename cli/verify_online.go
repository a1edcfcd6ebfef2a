package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/emmansun/gmsm/pkcs7"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/verify"
)

// `sealctl verify --online`: revocation from the CRLs that the signatures'
// certificates name as their CRL distribution points (the county's
// /county.crl, or its crl_url), fetched now, besides any --crl given.
// A fetched CRL counts only if the CA that issued the certificate signed
// it (the verifier checks), so a distribution point can withhold a CRL but
// not forge one. A point that cannot be fetched is said on stderr and
// leaves revocation as the other CRLs make it (unknown without any).

// maxCRLBytes bounds a fetched CRL: a county's CRL lists its revoked seals
// and is a few kilobytes; this leaves room for years of them.
const maxCRLBytes = 8 << 20

// crlFetchTimeout bounds fetching one CRL.
const crlFetchTimeout = 15 * time.Second

// ErrCRLFetch is a distribution point's CRL that could not be fetched or
// read; the error names the URL.
var ErrCRLFetch = errors.New("sealctl: cannot fetch the CRL")

// distributionPoints lists the http and https CRL distribution points of
// the certificates in the signatures of the PDF named, each once.
func distributionPoints(name string) ([]string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	sigs, err := pdf.Signatures(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range sigs {
		der, err := cms.TrimPadding(s.Contents)
		if err != nil {
			continue // the verifier reports it
		}
		p7, err := pkcs7.Parse(der)
		if err != nil {
			continue
		}
		for _, c := range p7.Certificates {
			for _, u := range c.CRLDistributionPoints {
				if pu, err := url.Parse(u); err == nil && (pu.Scheme == "http" || pu.Scheme == "https") && !seen[u] {
					seen[u] = true
					out = append(out, u)
				}
			}
		}
	}
	return out, nil
}

// fetchCRL fetches and parses the CRL at u.
func fetchCRL(ctx context.Context, client *http.Client, u string) ([]*smx509.RevocationList, error) {
	ctx, cancel := context.WithTimeout(ctx, crlFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w from %s: %v", ErrCRLFetch, u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w from %s: %v", ErrCRLFetch, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w from %s: HTTP %s", ErrCRLFetch, u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCRLBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w from %s: %v", ErrCRLFetch, u, err)
	}
	if len(body) > maxCRLBytes {
		return nil, fmt.Errorf("%w from %s: larger than %d bytes", ErrCRLFetch, u, maxCRLBytes)
	}
	crls, err := verify.ParseCRLs(body)
	if err != nil {
		return nil, fmt.Errorf("%w from %s: %v", ErrCRLFetch, u, err)
	}
	return crls, nil
}

// onlineOptions returns opts with the CRLs of the file's distribution
// points added, fetching each URL once per run (cache); what cannot be
// fetched is written to stderr.
func (a *app) onlineOptions(ctx context.Context, name string, opts verify.Options, cache map[string][]*smx509.RevocationList) verify.Options {
	urls, err := distributionPoints(name)
	if err != nil {
		return opts // the verification reports the file
	}
	client := &http.Client{Timeout: crlFetchTimeout}
	out := opts
	out.CRLs = append([]*smx509.RevocationList(nil), opts.CRLs...)
	for _, u := range urls {
		crls, ok := cache[u]
		if !ok {
			crls, err = fetchCRL(ctx, client, u)
			if err != nil {
				fmt.Fprintf(a.stderr, "sealctl: --online: %s\n", termText(err.Error()))
			}
			cache[u] = crls
		}
		out.CRLs = append(out.CRLs, crls...)
	}
	return out
}
