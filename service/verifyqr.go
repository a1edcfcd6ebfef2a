package service

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/ronganxian/eseal/api"
	"github.com/ronganxian/eseal/seal"
	"go.yaml.in/yaml/v3"
)

// The verification QR code and the public lookup it leads to (issue 18;
// seal/verifyqr.go, api/lookup.go), as configured:
//
//	verify_qr:
//	  base_url: https://zwfw.example.gov.cn   # where readers reach /verify/
//	  items: all                              # or a list of item codes
//	  size_mm: 22                             # the code's side, quiet zone included
//	public_lookup:
//	  rate: 1                # lookups a second per client address, on average
//	  burst: 10              # at once
//	  max_results: 10        # sealings listed in one answer
//	  trust_forwarded_for: false
//
// Without verify_qr no sealing draws the code; the lookup is served all the
// same, with these defaults.

// VerifyQRConfig is the verify_qr section.
type VerifyQRConfig struct {
	BaseURL string  `yaml:"base_url"`
	Items   QRItems `yaml:"items"`
	SizeMM  float64 `yaml:"size_mm"`
}

// QRItems is "all", or a list of item codes.
type QRItems struct {
	All   bool
	Codes []string
}

// UnmarshalYAML reads "all" or a sequence of codes.
func (q *QRItems) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.Value != "all" {
			return fmt.Errorf("verify_qr items: %q is neither all nor a list of item codes", n.Value)
		}
		q.All = true
		return nil
	}
	return n.Decode(&q.Codes)
}

// PublicLookupConfig is the public_lookup section.
type PublicLookupConfig struct {
	Rate              float64 `yaml:"rate"`
	Burst             int     `yaml:"burst"`
	MaxResults        int     `yaml:"max_results"`
	TrustForwardedFor bool    `yaml:"trust_forwarded_for"`
}

// sealQR is the Sealer's VerifyQR, nil without the section.
func (c *Config) sealQR() *seal.VerifyQR {
	q := c.VerifyQR
	if q == nil {
		return nil
	}
	v := &seal.VerifyQR{BaseURL: q.BaseURL, All: q.Items.All, SizeMM: q.SizeMM}
	if len(q.Items.Codes) > 0 {
		v.Items = map[string]bool{}
		for _, code := range q.Items.Codes {
			v.Items[code] = true
		}
	}
	return v
}

func (c *Config) lookupConfig() api.LookupConfig {
	l := c.PublicLookup
	return api.LookupConfig{Rate: l.Rate, Burst: l.Burst, MaxResults: l.MaxResults, TrustForwardedFor: l.TrustForwardedFor}
}

func (c *Config) validateQR() []error {
	var errs []error
	if q := c.VerifyQR; q != nil {
		if err := c.sealQR().Check(); err != nil {
			errs = append(errs, fmt.Errorf("verify_qr: %w", err))
		}
		if !q.Items.All && len(q.Items.Codes) == 0 {
			errs = append(errs, errors.New("verify_qr: items is empty; say all, or list the item codes"))
		}
		if q.SizeMM != 0 && (q.SizeMM < 15 || q.SizeMM > 60) {
			errs = append(errs, fmt.Errorf("verify_qr: size_mm %.1f is outside 15–60 (a version 3 code needs about 15 mm to scan from paper)", q.SizeMM))
		}
	}
	if l := c.PublicLookup; l.Rate < 0 || l.Burst < 0 || l.MaxResults < 0 || l.MaxResults > 100 {
		errs = append(errs, errors.New("public_lookup: rate, burst and max_results must not be negative, and max_results at most 100"))
	}
	return errs
}

// DemoVerifyQR turns the verification QR code on for every item, leading
// to this service's own page on http_listen, unless the configuration
// says otherwise: `sealsvc serve --demo` seals the sample decision with it.
func DemoVerifyQR(c *Config) {
	if c.VerifyQR == nil {
		scheme := "http://"
		if c.TLSCert != "" {
			scheme = "https://"
		}
		c.VerifyQR = &VerifyQRConfig{BaseURL: scheme + cmp.Or(c.HTTPListen, "127.0.0.1:8080"), Items: QRItems{All: true}}
	}
}
