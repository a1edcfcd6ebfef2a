package cli

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/ronganxian/eseal/internal/atomicfile"
	"github.com/ronganxian/eseal/pdf"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/tsa"
	"github.com/ronganxian/eseal/verify"
	"github.com/spf13/cobra"
)

// ltvCmd adds long-term validation data to a sealed PDF: a /DSS, in an
// incremental update of its own, with the CRLs (the files given, or the
// county's current CRL from the service) and every certificate the
// document's signatures and their timestamps embed. A verifier given no
// CRL, decades later, uses them (see verify/dss.go).
func (a *app) ltvCmd() *cobra.Command {
	var crls []string
	var out, tsaURL string
	var force bool
	cmd := &cobra.Command{
		Use:   "ltv [--crl FILE]... [--tsa URL] -o OUT.pdf FILE",
		Short: "添加长期验证数据 / add long-term validation data (a /DSS) to a sealed PDF",
		Long: `ltv appends to a sealed PDF the validation data a verifier will need when the
seal certificate has expired and today's CRL is no longer published: the CRLs
given with --crl (or, without them, the county's current CRL from the service)
and the certificates embedded in its signatures and time-stamp tokens, in a
/DSS of an incremental update. The seals stay valid: the update changes
nothing but the document's validation data. With --tsa URL, a document
timestamp from that RFC 3161 service follows (PAdES B-LTA): it proves when the
validation data existed. Check the result with
sealctl verify --trust root.pem --at 2050-01-01 OUT.pdf.`,
		Example: `  sealctl ltv --crl county.crl -o approval-ltv.pdf approval.pdf
  SEAL_SERVER=127.0.0.1:8443 sealctl ltv -o approval-ltv.pdf approval.pdf
  sealctl ltv --crl county.crl --tsa https://tsa.county.example/ -o approval-lta.pdf approval.pdf`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("ltv needs -o OUT.pdf")
			}
			if _, err := os.Stat(out); err == nil && !force {
				return fmt.Errorf("%s: %s", termText(out), a.t("out-exists"))
			}
			in, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			add := pdf.DSS{}
			for _, name := range crls {
				b, err := os.ReadFile(name)
				if err != nil {
					return err
				}
				rls, err := verify.ParseCRLs(b)
				if err != nil {
					return fmt.Errorf("--crl %s: %w", termText(name), err)
				}
				for _, rl := range rls {
					add.CRLs = append(add.CRLs, rl.Raw)
				}
			}
			if len(crls) == 0 {
				if _, err := a.dial(); err != nil {
					return err
				}
				c, err := sealv1.NewSealAdminServiceClient(a.cc).GetCRL(a.ctx(cmd.Context()), &sealv1.GetCRLRequest{})
				if err != nil {
					return fmt.Errorf("the county CRL from the service: %w", err)
				}
				add.CRLs = append(add.CRLs, c.Der)
			}
			if add.Certs, err = embeddedCertificates(in); err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := pdf.AddDSS(cmd.Context(), &buf, bytes.NewReader(in), int64(len(in)), add, pdf.Limits{}); err != nil {
				return err
			}
			doc := buf.Bytes()
			if tsaURL != "" {
				c := &tsa.Client{URL: tsaURL, HTTP: &http.Client{Timeout: 30 * time.Second}}
				stamp := func(d []byte) ([]byte, error) { return c.Timestamp(cmd.Context(), tsa.OIDSM3, d) }
				var stamped bytes.Buffer
				if err := pdf.AddDocTimestamp(cmd.Context(), &stamped, bytes.NewReader(doc), int64(len(doc)), stamp, 16<<10, pdf.Limits{}); err != nil {
					return err
				}
				doc = stamped.Bytes()
			}
			if err := atomicfile.WriteFile(out, doc, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: /DSS with %d CRL(s) and %d certificate(s)", termText(out), len(add.CRLs), len(add.Certs))
			if tsaURL != "" {
				fmt.Fprintf(a.stdout, ", then a document timestamp")
			}
			fmt.Fprintln(a.stdout)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&crls, "crl", nil, "CRL files, PEM or DER (default: the county's current CRL from the service); repeatable")
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write the PDF with its validation data")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite -o when it exists")
	cmd.Flags().StringVar(&tsaURL, "tsa", "", "an RFC 3161 time-stamping service (the county's tsa_listen): add a document timestamp after the DSS")
	return cmd
}

// embeddedCertificates returns the certificates the document's signatures
// embed, and those of their time-stamp tokens, each once.
func embeddedCertificates(doc []byte) ([][]byte, error) {
	sigs, err := pdf.Signatures(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		return nil, err
	}
	if len(sigs) == 0 {
		return nil, errors.New("the document carries no signature")
	}
	var out [][]byte
	addCert := func(raw []byte) {
		for _, c := range out {
			if bytes.Equal(c, raw) {
				return
			}
		}
		out = append(out, raw)
	}
	for _, s := range sigs {
		der, err := cms.TrimPadding(s.Contents)
		if err != nil {
			continue
		}
		// A seal: its chain, then its token's. A document timestamp: the
		// token is the whole value.
		token := der
		if res, _ := cms.Verify(der, s.SignedBytes(bytes.NewReader(doc)), &cms.VerifyOptions{Algorithms: cms.SM2 | cms.RSA | cms.ECDSA}); res != nil {
			for _, c := range res.Certificates {
				addCert(c.Raw)
			}
			token = res.TimeStampToken
		}
		if token == nil {
			continue
		}
		if tr, _ := cms.VerifyTimeStampToken(token, &cms.VerifyOptions{Algorithms: cms.SM2 | cms.RSA | cms.ECDSA}); tr != nil {
			for _, c := range tr.Certificates {
				addCert(c.Raw)
			}
		}
	}
	return out, nil
}
