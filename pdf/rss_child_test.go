package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/verify"
)

// The jobs that BenchmarkPeakRSS measures in a child: sealing and
// verifying through the public calls, with the default limits, as the
// service does.

func init() { pdf.RSSChild = rssChild }

// rssChild does one job on file: "seal-default", "seal-keyword" or
// "verify" (trusting the DER root in file+".root", when there is one). It
// returns the outcome: the refusal or the verdict.
func rssChild(mode, file string) (string, error) {
	doc, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	switch mode {
	case "seal-default", "seal-keyword":
		req, _, err := sealRequest()
		if err != nil {
			return "", err
		}
		if mode == "seal-keyword" {
			req.Placements = []pdf.Placement{pdf.Keyword{Text: "人民政府"}}
		}
		var out bytes.Buffer
		if _, err := pdf.Seal(ctx, &out, bytes.NewReader(doc), int64(len(doc)), req); err != nil {
			return "refused: " + err.Error(), nil
		}
		return fmt.Sprintf("sealed, %d bytes", out.Len()), nil
	case "verify":
		var opts verify.Options
		if der, err := os.ReadFile(file + ".root"); err == nil {
			if opts.Roots, err = verify.ParseCertificates(der); err != nil {
				return "", err
			}
		}
		rep, err := verify.PDF(ctx, bytes.NewReader(doc), int64(len(doc)), opts)
		if err != nil {
			return "", err
		}
		if len(rep.Reasons) > 0 {
			return fmt.Sprintf("%s: %v", rep.Verdict, rep.Reasons[0]), nil
		}
		return string(rep.Verdict), nil
	}
	return "", errors.New("unknown job " + mode)
}

// sealForRSS seals doc as the child does, and returns it with the DER of
// its signer's root.
func sealForRSS(doc []byte) ([]byte, []byte, error) {
	req, root, err := sealRequest()
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(doc), int64(len(doc)), req); err != nil {
		return nil, nil, err
	}
	return out.Bytes(), root.Raw, nil
}
