package cli

import (
	"fmt"
	"strings"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/spf13/cobra"
)

// casesCmd tells a case's whole story: its sealings, refusals and the
// supervising departments' results, in ledger order.
func (a *app) casesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cases", Short: "办件 / a case's whole story"}
	var township string
	show := &cobra.Command{
		Use: "show CASE [--township CODE]", Short: "查看办件全过程 / show a case's sealings, refusals and supervision results",
		Args: cobra.ExactArgs(1),
		Long: `Shows every record of one case, in ledger order: sealings (with their time limits), refusals, and the
supervising departments' results. A clerk sees the cases of their own township (--township defaults to
it); a department the records of its domains; the county office all.`,
		Example: "  sealctl cases show 长安-2026-0001\n  sealctl cases show 长安-2026-0001 --township 450224100 --output json",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			if township == "" {
				me, err := sealv1.NewPrincipalServiceClient(a.cc).WhoAmI(ctx, &sealv1.WhoAmIRequest{})
				if err != nil {
					return err
				}
				if township = me.TownshipCode; township == "" {
					return fmt.Errorf("give --township: case numbers are per township, and %s is bound to none", termText(me.Id))
				}
			}
			c, err := sealv1.NewSupervisionServiceClient(a.cc).GetCase(ctx, &sealv1.GetCaseRequest{TownshipCode: township, CaseNo: args[0]})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(c)
			}
			fmt.Fprintf(a.stdout, "%s %s (%s %s)\n", a.t("case"), termText(c.CaseNo), a.t("township"), termText(c.TownshipCode))
			for _, e := range c.Entries {
				fmt.Fprintln(a.stdout, a.caseLine(e))
			}
			if c.Truncated {
				fmt.Fprintln(a.stdout, a.t("case-truncated"))
			}
			return nil
		},
	}
	show.Flags().StringVar(&township, "township", "", "the case's township (default: yours, for a clerk)")
	cmd.AddCommand(show)
	return cmd
}

// caseLine is one record of a case's story.
func (a *app) caseLine(e *sealv1.CaseEntry) string {
	r := e.Record
	head := fmt.Sprintf("#%d  %s  ", r.Seq, a.when(r.Time.AsTime()))
	switch r.Result {
	case "sealed":
		s := head + fmt.Sprintf("%s  %s %s  (%s)", a.t("sealed"), termText(r.ItemCode), termText(r.DocKind), termText(r.Principal))
		if t := e.Timeliness; t != nil {
			s += "  " + a.timelinessText(t)
		}
		return s
	case "refused":
		return head + fmt.Sprintf("%s  %s %s: %s  (%s)", a.t("refused"), termText(r.ItemCode), termText(r.Rule),
			termText(r.Detail), termText(r.Principal))
	case "supervised":
		return head + a.t("supervised") + "  " + a.supervisionText(e.Supervision)
	}
	return head + termText(r.Result) + "  " + termText(r.Detail)
}

// timelinessText says how a sealing kept its time limit (限时办结).
func (a *app) timelinessText(t *sealv1.CaseTimeliness) string {
	var b strings.Builder
	b.WriteString(a.t("time-limit") + ": ")
	switch t.Status {
	case "early":
		fmt.Fprintf(&b, a.t("tl-early"), t.Days, t.Deadline)
	case "on_time":
		fmt.Fprintf(&b, a.t("tl-on-time"), t.Deadline)
	case "late":
		fmt.Fprintf(&b, a.t("tl-late"), t.Days, t.Deadline)
	default:
		b.WriteString(a.t("tl-unknown") + " " + termText(t.UnknownReason))
	}
	return b.String()
}

// The messages of supervision.go and cases.go, added to msgs (lang.go).
func init() {
	for k, v := range map[string][2]string{ // zh, en
		"supervision-recorded": {"已记录监管结果", "supervision result recorded"},
		"supervised":           {"监管结果", "supervision"},
		"attachment":           {"附件", "attachment"},
		"case":                 {"办件", "case"},
		"township":             {"乡镇", "township"},
		"case-truncated":       {"（记录过多，仅显示前 1000 条；其余请用 sealctl ledger list 查看）", "(too many records: the first 1000 shown; see sealctl ledger list for the rest)"},
		"time-limit":           {"限时办结", "time limit"},
		"tl-early":             {"提前 %d 个工作日（期限 %s）", "%d working days early (deadline %s)"},
		"tl-on-time":           {"按期（期限 %s）", "on the deadline's day (%s)"},
		"tl-late":              {"超期 %d 个工作日（期限 %s）", "%d working days late (deadline %s)"},
		"tl-unknown":           {"无法计算", "not counted:"},
		"lifecycle":            {"印章变更", "seal"},
	} {
		msgs[k] = v
	}
}
