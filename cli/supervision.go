package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/emmansun/gmsm/sm3"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/spf13/cobra"
)

// supervisionCmd is for the supervising departments: they record their
// results against the cases of their domains (事中事后监管结果).
func (a *app) supervisionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "supervision", Short: "监管结果 / supervision results of the county departments"}
	req := &sealv1.RecordResultRequest{}
	var attachment string
	record := &cobra.Command{
		Use:   "record --township CODE --case CASE --kind KIND --outcome OUTCOME --date YYYY-MM-DD [--note TEXT] [--attachment FILE]",
		Short: "记录监管结果 / record a result against a case of your domain",
		Args:  cobra.NoArgs,
		Long: `Records a supervising department's result against a case, as a ledger record that is pushed to the
platform and shown in the case's story (sealctl cases show). Only a department whose domains include
the domain of the case's sealing may record.

--kind:    现场核查 (onsite), 抽查 (spot_check), 整改 (rectification), 复查 (review), 投诉核查 (complaint)
--outcome: 合格 (pass), 不合格 (fail), 限期整改 (rectify), 已整改 (rectified), 未发现问题 (no_finding)
--date is the day of the check, not after today. --attachment names a file (the inspection report):
its SM3 is recorded, the file itself is not sent.`,
		Example: `  sealctl supervision record --township 450224100 --case 长安-2026-0001 --kind 现场核查 --outcome 合格 \
    --date 2026-12-03 --note "现场与申报一致" --attachment 核查记录.pdf`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Check what can be checked here first, with the service's
			// own lists, so that a typo costs no round trip.
			if _, err := seal.ParseSupervisionKind(req.Kind); err != nil {
				return err
			}
			if _, err := seal.ParseSupervisionOutcome(req.Outcome); err != nil {
				return err
			}
			if attachment != "" {
				sum, err := fileSM3(attachment)
				if err != nil {
					return err
				}
				req.AttachmentSm3 = sum
			}
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			resp, err := sealv1.NewSupervisionServiceClient(a.cc).RecordResult(ctx, req)
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			fmt.Fprintf(a.stdout, "%s: %s #%d\n", a.t("supervision-recorded"), a.t("record"), resp.Record.Seq)
			fmt.Fprintln(a.stdout, "  "+a.supervisionText(resp.Result))
			return nil
		},
	}
	f := record.Flags()
	f.StringVar(&req.TownshipCode, "township", "", "the case's township (case numbers are per township)")
	f.StringVar(&req.CaseNo, "case", "", "the case number (办件编号)")
	f.StringVar(&req.Kind, "kind", "", "what was done: 现场核查, 抽查, 整改, 复查, 投诉核查 (or their codes)")
	f.StringVar(&req.Outcome, "outcome", "", "what was found: 合格, 不合格, 限期整改, 已整改, 未发现问题 (or their codes)")
	f.StringVar(&req.Date, "date", "", "the day of the check, YYYY-MM-DD")
	f.StringVar(&req.Note, "note", "", fmt.Sprintf("a summary, at most %d bytes", seal.MaxSupervisionNoteLen))
	f.StringVar(&attachment, "attachment", "", "a document whose SM3 is recorded (the file is not sent)")
	f.StringVar(&req.RequestId, "request-id", "", "makes a retry safe: the same id gets the first record")
	for _, name := range []string{"township", "case", "kind", "outcome", "date"} {
		record.MarkFlagRequired(name)
	}
	cmd.AddCommand(record)
	return cmd
}

// fileSM3 hashes a file as it streams by.
func fileSM3(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("the attachment: %w", err)
	}
	defer f.Close()
	h := sm3.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("the attachment %s: %w", path, err)
	}
	return h.Sum(nil), nil
}

// supervisionText is a result on one line, in the user's language.
func (a *app) supervisionText(r *sealv1.SupervisionResult) string {
	if r == nil {
		return "?"
	}
	kind, outcome := seal.SupervisionKind(r.Kind), seal.SupervisionOutcome(r.Outcome)
	k, o := kind.Chinese(), outcome.Chinese()
	if a.lang == "en" {
		k, o = kind.English(), outcome.English()
	}
	s := fmt.Sprintf("%s %s: %s (%s)", r.Date, termText(k), termText(o), termText(r.Principal))
	if r.Note != "" {
		s += " " + termText(r.Note)
	}
	if len(r.AttachmentSm3) > 0 {
		s += fmt.Sprintf(" [%s SM3 %x]", a.t("attachment"), r.AttachmentSm3)
	}
	return s
}
