package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ronganxian/eseal/archive"
	"github.com/ronganxian/eseal/internal/atomicfile"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/verify"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// archiveCmd is 档案资料资源共享: sealed documents and archive packages for
// the county office and the supervising departments, and their offline
// check.
func (a *app) archiveCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "archive", Short: "档案共享 / sealed documents and archive packages"}
	cmd.AddCommand(a.archiveExportCmd(), a.archiveVerifyCmd(), a.archiveDocumentCmd())
	return cmd
}

func (a *app) archiveExportCmd() *cobra.Command {
	var township, caseNo, from, to, out string
	var domains []string
	cmd := &cobra.Command{
		Use:   "export (--case C | --from DATE --to DATE) [--township T] -o PKG.zip",
		Short: "导出档案包 / export an archive package: one case, or a township's period",
		Args:  cobra.NoArgs,
		Long: `Exports one ZIP file: the sealed PDFs and their ledger records (each a signed event), the checkpoint
that covers them, the CRL and trust bundle, and a manifest signed by the county's ledger key. A
supervisor gets its domains' records only, a clerk its township's. --from and --to are dates in
the county's zone, --to included. The file is written whole or not at all.`,
		Example: "  sealctl archive export --township 450224100 --case 长安-2026-0042 -o case.zip\n" +
			"  sealctl archive export --township 450224100 --from 2026-03-01 --to 2026-03-31 -o march.zip",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("needs -o PKG.zip")
			}
			req := &sealv1.ExportArchiveRequest{TownshipCode: township, CaseNo: caseNo, Domains: domains}
			if from != "" || to != "" {
				zone, _ := time.LoadLocation(countyZone)
				f, err1 := time.ParseInLocation(time.DateOnly, from, zone)
				t, err2 := time.ParseInLocation(time.DateOnly, to, zone)
				if err1 != nil || err2 != nil {
					return fmt.Errorf("--from %q and --to %q must be dates, YYYY-MM-DD", from, to)
				}
				req.From, req.To = timestamppb.New(f), timestamppb.New(t.AddDate(0, 0, 1))
			}
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			n, err := a.exportArchive(ctx, req, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s (%d bytes); check it with: sealctl archive verify --trust ROOT.pem %s\n", out, n, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&township, "township", "", "the township (a clerk's own by default)")
	f.StringVar(&caseNo, "case", "", "one case number")
	f.StringVar(&from, "from", "", "first day of the period (YYYY-MM-DD)")
	f.StringVar(&to, "to", "", "last day of the period, included (YYYY-MM-DD)")
	f.StringSliceVar(&domains, "domain", nil, "only these domains (a supervisor: its own by default)")
	f.StringVarP(&out, "out", "o", "", "the package to write")
	return cmd
}

// exportArchive streams the package into a temporary file beside out and
// renames it when the service has sent all of it: a failure leaves no
// file, never half a package.
func (a *app) exportArchive(ctx context.Context, req *sealv1.ExportArchiveRequest, out string) (n int64, err error) {
	stream, err := sealv1.NewArchiveServiceClient(a.cc).ExportArchive(ctx, req)
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	for {
		c, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		k, err := tmp.Write(c.Data)
		n += int64(k)
		if err != nil {
			return 0, err
		}
	}
	if n == 0 {
		return 0, errors.New("the service sent an empty package")
	}
	if err := tmp.Sync(); err != nil {
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp.Name(), out)
}

func (a *app) archiveVerifyCmd() *cobra.Command {
	var trustFile string
	cmd := &cobra.Command{
		Use:   "verify --trust ROOT.pem PKG.zip",
		Short: "离线核验档案包 / check an archive package with the county root alone",
		Args:  cobra.ExactArgs(1),
		Long: `Checks, offline, with only the county root (--trust; nothing in the package is trusted as a root):
the manifest's signature by the county's ledger key and every file's size and SM3; each record's
signature, that it matches the package's filter, and that none is missing between the first and
the last; each document's SM3 against its record and its seals at the record's time, with the
package's CRL; and the checkpoint's signature. Prints a line per file; exits 2 when anything fails.`,
		Example: "  sealctl archive verify --trust county-root.pem case.zip",
		RunE: func(cmd *cobra.Command, args []string) error {
			if trustFile == "" {
				return errors.New("needs --trust ROOT.pem: the county root the package must chain to")
			}
			pem, err := os.ReadFile(trustFile)
			if err != nil {
				return err
			}
			roots, err := verify.ParseCertificates(pem)
			if err != nil {
				return fmt.Errorf("--trust %s: %w", trustFile, err)
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			rep, err := archive.Verify(cmd.Context(), f, st.Size(), archive.VerifyOptions{Roots: roots})
			if err != nil {
				return err
			}
			if a.json() {
				checks := []map[string]any{}
				for _, c := range rep.Checks {
					checks = append(checks, map[string]any{"file": c.Name, "ok": c.OK, "detail": c.Detail})
				}
				if err := a.printJSON(map[string]any{"valid": rep.Valid(), "records": rep.Records, "documents": rep.Documents,
					"deleted": rep.Deleted, "checks": checks, "manifest": rep.Manifest}); err != nil {
					return err
				}
			} else {
				var rows [][]string
				for _, c := range rep.Checks {
					rows = append(rows, []string{map[bool]string{true: "ok", false: "FAIL"}[c.OK], c.Name, c.Detail})
				}
				a.table([]string{"", "FILE", "DETAIL"}, rows)
				if rep.Valid() {
					fmt.Fprintf(a.stdout, "valid: %d records, %d documents verified, %d deleted under retention\n",
						rep.Records, rep.Documents, rep.Deleted)
				} else {
					fmt.Fprintln(a.stderr, "INVALID: the package does not verify (see the FAIL lines)")
				}
			}
			if !rep.Valid() {
				return exitError{2}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&trustFile, "trust", "", "the county root certificate (PEM)")
	return cmd
}

func (a *app) archiveDocumentCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "document SEQ -o FILE.pdf",
		Short: "取盖章文件 / fetch the sealed PDF of a ledger record",
		Args:  cobra.ExactArgs(1),
		Long: `Fetches the sealed PDF of a sealing record, by its ledger sequence number: the county office any,
a supervising department its domains', a clerk its township's. A document deleted under the
retention policy is refused as such; the record keeps its SM3.`,
		Example: "  sealctl archive document 1042 -o decision.pdf",
		RunE: func(cmd *cobra.Command, args []string) error {
			var seq uint64
			if _, err := fmt.Sscan(args[0], &seq); err != nil || seq == 0 {
				return fmt.Errorf("%q is not a ledger sequence number", args[0])
			}
			if out == "" {
				return errors.New("needs -o FILE.pdf")
			}
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			d, err := sealv1.NewArchiveServiceClient(a.cc).GetDocument(ctx, &sealv1.GetDocumentRequest{Seq: seq})
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(out, d.Pdf, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s (%d bytes): record %d, township %s, case %s\n", out, len(d.Pdf), seq,
				termText(d.Record.TownshipCode), termText(d.Record.CaseNo))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "the PDF to write")
	return cmd
}
