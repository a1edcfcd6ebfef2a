package verify

import (
	"context"
	"io"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
)

// Long-term validation: a document may carry the validation data its seals
// need in a /DSS (pdf.AddDSS, `sealctl ltv`): the CRLs current when it was
// sealed and the certificates of the chains. When the caller gives no CRL,
// the verifier uses those. They are safe to take from an unsigned
// revision: a CRL counts only when its issuer's signature on it verifies
// (chain.go), and a certificate only helps build a chain that must still
// end at a trust anchor.

// useDSS sets the verifier's CRLs and extra intermediates from the
// document's /DSS, and says so in the report.
func (v *verifier) useDSS(ctx context.Context, src io.ReaderAt, size int64, lim pdf.Limits, rep *FileReport) {
	dss, err := pdf.ReadDSS(ctx, src, size, lim)
	if err != nil || (len(dss.CRLs) == 0 && len(dss.Certs) == 0) {
		return // no DSS; a damaged one is as good as none, and Analyze reports damage
	}
	for _, der := range dss.CRLs {
		rl, err := smx509.ParseRevocationList(der)
		if err != nil {
			rep.Warnings = append(rep.Warnings, problem(CodeCRLIgnored, "a CRL in the /DSS does not parse: %v", err))
			continue
		}
		v.crls = append(v.crls, rl)
	}
	for _, der := range dss.Certs {
		c, err := smx509.ParseCertificate(der)
		if err != nil {
			continue
		}
		v.intermediates = append(v.intermediates, c)
	}
	rep.Warnings = append(rep.Warnings, problem(CodeDSSUsed, "%d CRL(s) and %d certificate(s)", len(dss.CRLs), len(dss.Certs)))
}
