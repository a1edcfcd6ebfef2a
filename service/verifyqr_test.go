package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyQRConfig: verify_qr and public_lookup read from YAML, items as
// "all" or a list; a bad base URL, an empty item list, a size outside
// 15–60 mm or negative lookup bounds are configuration errors; without the
// section no sealing draws the code.
func TestVerifyQRConfig(t *testing.T) {
	cases := []struct {
		name, yaml string
		err        string
		check      func(t *testing.T, c *Config)
	}{
		{"absent", "log_level: info\n", "", func(t *testing.T, c *Config) {
			if c.sealQR() != nil {
				t.Error("a code without the section")
			}
			if l := c.lookupConfig(); l.Rate != 0 || l.Burst != 0 || l.TrustForwardedFor {
				t.Errorf("lookup %+v: the defaults are the api's", l)
			}
		}},
		{"all", "verify_qr: {base_url: 'https://zwfw.example.gov.cn/eseal', items: all, size_mm: 25}\npublic_lookup: {rate: 2, burst: 5, max_results: 20, trust_forwarded_for: true}\n", "", func(t *testing.T, c *Config) {
			q := c.sealQR()
			if q == nil || !q.All || !q.For("x") || q.SizeMM != 25 || q.BaseURL != "https://zwfw.example.gov.cn/eseal" {
				t.Errorf("%+v", q)
			}
			if l := c.lookupConfig(); l.Rate != 2 || l.Burst != 5 || l.MaxResults != 20 || !l.TrustForwardedFor {
				t.Errorf("lookup %+v", l)
			}
		}},
		{"list", "verify_qr:\n  base_url: http://127.0.0.1:8080\n  items: [450224-XK-0002, 450224-FW-0001]\n", "", func(t *testing.T, c *Config) {
			q := c.sealQR()
			if q == nil || q.All || !q.For("450224-XK-0002") || !q.For("450224-FW-0001") || q.For("450224-XK-0003") {
				t.Errorf("%+v", q)
			}
		}},
		{"bad items word", "verify_qr: {base_url: 'http://h', items: some}\n", "neither all nor a list", nil},
		{"no items", "verify_qr: {base_url: 'http://h'}\n", "items is empty", nil},
		{"bad url", "verify_qr: {base_url: 'h:8080', items: all}\n", "verify_qr", nil},
		{"too small", "verify_qr: {base_url: 'http://h', items: all, size_mm: 10}\n", "size_mm", nil},
		{"negative rate", "public_lookup: {rate: -1}\n", "public_lookup", nil},
		{"too many results", "public_lookup: {max_results: 1000}\n", "public_lookup", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("ESEAL_DATA_DIR", dir)
			p := filepath.Join(dir, "sealsvc.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := LoadConfig(p)
			if err == nil {
				err = c.Validate()
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("%v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

// TestDemoVerifyQR: the demo draws the code on every item, leading to its
// own page; a configured section stays as it is.
func TestDemoVerifyQR(t *testing.T) {
	c := &Config{HTTPListen: "127.0.0.1:8080"}
	DemoVerifyQR(c)
	if q := c.sealQR(); q == nil || !q.All || q.BaseURL != "http://127.0.0.1:8080" {
		t.Errorf("demo: %+v", q)
	}
	own := &VerifyQRConfig{BaseURL: "https://x", Items: QRItems{Codes: []string{"a"}}}
	c = &Config{VerifyQR: own}
	DemoVerifyQR(c)
	if c.VerifyQR != own {
		t.Error("the demo replaced a configured verify_qr")
	}
}
