package service

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestCRLDistributionPoints: the URL seal certificates name for their
// CRL, by default and as configured; a bad one is refused, naming it.
func TestCRLDistributionPoints(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    Config
		want []string
		err  string
	}{
		{"default", Config{HTTPListen: "127.0.0.1:8080"}, []string{"http://127.0.0.1:8080/county.crl"}, ""},
		{"default with TLS", Config{HTTPListen: "10.0.0.5:8080", TLSCert: "tls.crt"}, []string{"https://10.0.0.5:8080/county.crl"}, ""},
		{"every interface", Config{HTTPListen: "0.0.0.0:8080"}, []string{"http://" + host + ":8080/county.crl"}, ""},
		{"IPv6", Config{HTTPListen: "[::1]:8080"}, []string{"http://[::1]:8080/county.crl"}, ""},
		{"configured", Config{HTTPListen: "127.0.0.1:8080", CRLURL: "https://eseal.county.gov.cn/county.crl"}, []string{"https://eseal.county.gov.cn/county.crl"}, ""},
		{"off", Config{HTTPListen: "127.0.0.1:8080", CRLURL: "off"}, nil, ""},
		{"not http", Config{HTTPListen: "127.0.0.1:8080", CRLURL: "ldap://x/crl"}, nil, `crl_url "ldap://x/crl"`},
		{"no host", Config{HTTPListen: "127.0.0.1:8080", CRLURL: "http:///county.crl"}, nil, "crl_url"},
		{"bad listener", Config{HTTPListen: "nonsense"}, nil, "http_listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := crlDistributionPoints(&tc.c)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestCRLURLFromEnvironment: ESEAL_CRL_URL sets crl_url.
func TestCRLURLFromEnvironment(t *testing.T) {
	t.Setenv("ESEAL_DATA_DIR", t.TempDir())
	t.Setenv("ESEAL_CRL_URL", "https://proxy.example/county.crl")
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if c.CRLURL != "https://proxy.example/county.crl" {
		t.Errorf("crl_url %q", c.CRLURL)
	}
}
