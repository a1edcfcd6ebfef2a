package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/atomicfile"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/sealimage"
	"github.com/ronganxian/eseal/verify"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// What `sealctl corpus` does with one file: seal a copy, then check the
// result as a county would before going live. A file ends in one status:
//
//	sealed    sealed as it came, and every check passed
//	repaired  damaged, repaired by a full rewrite, sealed, and every check passed
//	refused   the engine or the service refused it, with a typed reason
//	invisible sealed, but the verifier's placement report says the seal is not wholly on the page
//	rejected  sealed, but our own verifier does not find the new seal valid
//	qpdf      sealed, but qpdf --check finds the output worse than the input
//	timeout   the per-file budget ran out
//	error     anything else (the file could not be read or written, the service failed)
//
// The last five are the engine's faults, and make the command exit 1.

// corpusStatus values.
const (
	stSealed    = "sealed"
	stRepaired  = "repaired"
	stRefused   = "refused"
	stInvisible = "invisible"
	stRejected  = "rejected"
	stQPDF      = "qpdf"
	stTimeout   = "timeout"
	stError     = "error"
)

// corpusResult is one file's line of the report.
type corpusResult struct {
	file, out       string
	status, reason  string // reason: the refusal's rule, or what failed
	message         string
	repaired        string
	verdict         string // our verifier's, of the sealed output
	placement       string // where the new seal is drawn, as the verifier reports it
	qpdfIn, qpdfOut string // ok, warnings, errors, or empty without qpdf
	// elapsed is the whole time spent on the file, checks included;
	// sealing the time the sealing alone took (the service's call, with
	// --server).
	elapsed, sealing time.Duration
}

// corpusSealer seals one document: in process with a throwaway seal, or
// through the service.
type corpusSealer interface {
	seal(ctx context.Context, name string, doc []byte) (out []byte, repaired string, err error)
	// refusal names the rule of a refusal, or "" when err is no refusal.
	refusal(err error) string
}

// localSealer seals in process with an SM2 key and certificate made in
// memory for this run, under a root made with it: nothing is kept, and
// the seal is worth nothing outside the run.
type localSealer struct {
	signer *cms.Signer
	image  *pdf.SealImage
	root   *smx509.Certificate
}

func newLocalSealer() (*localSealer, error) {
	chain, err := testpki.NewChain(testpki.Options{LeafName: "sealctl corpus throwaway seal (TEST)"})
	if err != nil {
		return nil, err
	}
	s, err := cms.NewSigner(chain.LeafKey(), chain.Certs, cms.ProfileDefault)
	if err != nil {
		return nil, err
	}
	img, err := pdf.NewSealImage(sealimage.Round(600), 0)
	if err != nil {
		return nil, err
	}
	return &localSealer{signer: s, image: img, root: chain.Root()}, nil
}

func (l *localSealer) seal(ctx context.Context, name string, doc []byte) ([]byte, string, error) {
	var out bytes.Buffer
	res, err := pdf.Seal(ctx, &out, bytes.NewReader(doc), int64(len(doc)), pdf.Request{
		Signer: l.signer, SealName: "sealctl corpus (TEST)", Reason: "corpus check", CaseNumber: name,
		Image: l.image, Repair: true,
	})
	if err != nil {
		return nil, "", err
	}
	return out.Bytes(), res.Repaired, nil
}

// localRules name the engine's refusals as the service's rules would,
// finer where the engine says more.
var localRules = []struct {
	err  error
	rule string
}{
	{pdf.ErrNotPDF, "not_pdf"},
	{pdf.ErrTruncated, "truncated"},
	{pdf.ErrDamaged, "damaged"},
	{pdf.ErrEncrypted, "encrypted"},
	{pdf.ErrCertifiedNoChanges, "certified"},
	{pdf.ErrCertifiedNoAnnotations, "certified"},
	{pdf.ErrTooLarge, "too_large"},
	{pdf.ErrUnsupported, "unsupported"},
	{pdf.ErrSealOffPage, "placement"},
	{pdf.ErrPageOutOfRange, "placement"},
	{pdf.ErrKeywordNotFound, "placement"},
	{pdf.ErrBadRequest, "bad_request"},
}

func (l *localSealer) refusal(err error) string {
	for _, r := range localRules {
		if errors.Is(err, r.err) {
			return r.rule
		}
	}
	return ""
}

// serviceSealer seals through the service, under one item and document
// kind, each file's name as its case number.
type serviceSealer struct {
	a    *app
	opts stampOpts
}

func (s *serviceSealer) seal(ctx context.Context, name string, doc []byte) ([]byte, string, error) {
	o := s.opts
	o.caseNo = name
	resp, err := s.a.sealDoc(ctx, &o, doc)
	if err != nil {
		return nil, "", err
	}
	return resp.Document, resp.Repaired, nil
}

func (s *serviceSealer) refusal(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.Domain == sealapi.ErrorDomain {
			return ei.Reason
		}
	}
	return ""
}

// corpusChecker runs the per-file steps.
type corpusChecker struct {
	sealer  corpusSealer
	roots   []*smx509.Certificate
	outDir  string
	timeout time.Duration
	qpdf    string // the qpdf executable, empty when not installed
}

func (c *corpusChecker) run(ctx context.Context, file string) (r corpusResult) {
	start := time.Now()
	r.file = file
	defer func() { r.elapsed = time.Since(start) }()
	doc, err := os.ReadFile(file)
	if err != nil {
		r.status, r.reason, r.message = stError, "read", err.Error()
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if c.qpdf != "" {
		r.qpdfIn = c.qpdfCheck(ctx, file)
	}
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	sealStart := time.Now()
	out, repaired, err := c.sealer.seal(ctx, name, doc)
	r.sealing = time.Since(sealStart)
	switch {
	case ctx.Err() != nil:
		r.status, r.message = stTimeout, fmt.Sprintf("no result within %s", c.timeout)
		return r
	case err != nil:
		if rule := c.sealer.refusal(err); rule != "" {
			r.status, r.reason = stRefused, rule
		} else {
			r.status, r.reason = stError, "seal"
		}
		r.message = err.Error()
		if st, ok := status.FromError(err); ok {
			r.message = st.Message()
		}
		return r
	}
	r.repaired = repaired
	r.out = filepath.Join(c.outDir, filepath.Base(file))
	if err := atomicfile.WriteFile(r.out, out, 0o644); err != nil {
		r.status, r.reason, r.message = stError, "write", err.Error()
		return r
	}
	r.status = stSealed
	if repaired != "" {
		r.status, r.message = stRepaired, repaired
	}
	rep, err := verify.PDF(ctx, bytes.NewReader(out), int64(len(out)), verify.Options{Roots: c.roots})
	if err != nil {
		r.status, r.reason, r.message = stError, "verify", err.Error()
		if ctx.Err() != nil {
			r.status, r.message = stTimeout, fmt.Sprintf("verification not done within %s", c.timeout)
		}
		return r
	}
	r.verdict = string(rep.Verdict)
	last := len(rep.Signatures) - 1
	switch {
	case last < 0:
		r.status, r.message = stRejected, "the verifier finds no signature"
		if len(rep.Reasons) > 0 {
			r.message += ": " + rep.Reasons[0].String()
		}
		return r
	case !rep.Signatures[last].Valid:
		r.status, r.message = stRejected, rep.Signatures[last].Reasons[0].String()
		return r
	}
	seals := rep.Signatures[last].Seals
	var where []string
	visible := len(seals) > 0
	for _, s := range seals {
		where = append(where, fmt.Sprintf("p%d %s", s.Page, verify.FormatRect(s.Rect)))
		visible = visible && s.Drawn && s.OnPage
	}
	r.placement = strings.Join(where, "; ")
	if !visible {
		r.status, r.message = stInvisible, "the seal is not wholly on the page: "+r.placement
		return r
	}
	if c.qpdf != "" {
		r.qpdfOut = c.qpdfCheck(ctx, r.out)
		if qpdfRank[r.qpdfOut] > qpdfRank[r.qpdfIn] {
			r.status, r.message = stQPDF, fmt.Sprintf("qpdf --check: %s before, %s after", r.qpdfIn, r.qpdfOut)
		}
	}
	return r
}

// qpdfRank orders qpdf --check's outcomes.
var qpdfRank = map[string]int{"ok": 0, "warnings": 1, "errors": 2}

// qpdfCheck runs qpdf --check: "ok" (exit 0), "warnings" (exit 3) or
// "errors" (anything else).
func (c *corpusChecker) qpdfCheck(ctx context.Context, file string) string {
	err := exec.CommandContext(ctx, c.qpdf, "--check", file).Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		return "warnings"
	}
	return "errors"
}
