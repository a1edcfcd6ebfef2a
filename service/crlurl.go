package service

import (
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/ronganxian/eseal/api"
)

// crlDistributionPoints is what the certificates the county CA issues name
// as their CRL distribution point (RFC 5280 section 4.2.1.13): crl_url, or
// by default the CRL this service serves over HTTP (api.CRLPath), at the
// HTTP listener's address (https with TLS). A listener on every interface
// (0.0.0.0, ::) is named by the machine's host name; a county behind a
// proxy or a load balancer sets crl_url to the address verifiers reach.
// "off" names none. Verifiers fetch it with `sealctl verify --online`.
func crlDistributionPoints(c *Config) ([]string, error) {
	switch c.CRLURL {
	case "off":
		return nil, nil
	case "":
		host, port, err := net.SplitHostPort(c.HTTPListen)
		if err != nil {
			return nil, fmt.Errorf("config: http_listen %q: %w", c.HTTPListen, err)
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			if host, err = os.Hostname(); err != nil {
				return nil, fmt.Errorf("config: crl_url: the host name for http_listen %q: %w; set crl_url", c.HTTPListen, err)
			}
		}
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		return []string{scheme + "://" + net.JoinHostPort(host, port) + api.CRLPath}, nil
	}
	u, err := url.Parse(c.CRLURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("config: crl_url %q is not an http or https URL", c.CRLURL)
	}
	return []string{c.CRLURL}, nil
}
