package webverify

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
)

// The warm-up document: a small PDF sealed by the demo service, with its
// root and CRL (see warmdata/README.md): a drawn seal with its SESeal and a
// TSA token, as every document the service seals carries, so that warming
// up runs the paths the reader's document will.
var (
	//go:embed warmdata/valid.pdf
	warmPDF []byte
	//go:embed warmdata/root.pem
	warmRoot []byte
	//go:embed warmdata/crl.pem
	warmCRL []byte
)

// Warm verifies a small sealed document once, so that the reader's first
// verification does not pay for the verifier's set-up. In the browser the
// first verification of the one-page decision took about ten times as long
// as the next (469 ms against 47 ms, measured in headless Chromium): the
// engine compiles each WebAssembly function when it is first called, and
// the curve's tables are built on first use. The page calls Warm once the
// verifier is ready, while the reader chooses a file. It returns the
// verdict, which does not matter beyond showing that the whole path ran.
func Warm() (string, error) {
	out, err := Report(context.Background(), Input{Name: "warm.pdf", Document: warmPDF,
		Trust: [][]byte{warmRoot}, CRLs: [][]byte{warmCRL}})
	if err != nil {
		return "", err
	}
	var rep struct{ Verdict string }
	if err := json.Unmarshal(out, &rep); err != nil {
		return "", fmt.Errorf("webverify: warm-up report: %w", err)
	}
	return rep.Verdict, nil
}
