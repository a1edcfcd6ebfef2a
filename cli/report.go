package cli

import (
	"fmt"
	"time"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// reportCmd sums up the ledger: timeliness (限时办结) per township and item.
func (a *app) reportCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "统计报表 / reports over the ledger"}
	var from, to, township string
	timeliness := &cobra.Command{
		Use: "timeliness --from DATE --to DATE [--township CODE]", Short: "限时办结 / time limits kept and missed, per township and item",
		Args: cobra.NoArgs,
		Long: `Counts the sealings between --from and --to (dates in the county's zone, --to included) whose request
gave the acceptance time (stamp --accepted): how many kept the item's time limit, counted in working
days on the county's calendar, how many were late, and the median of the working days used.`,
		Example: "  sealctl report timeliness --from 2026-03-01 --to 2026-03-31 --township 450224100",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			zone, _ := time.LoadLocation(countyZone)
			f, err1 := time.ParseInLocation(time.DateOnly, from, zone)
			t, err2 := time.ParseInLocation(time.DateOnly, to, zone)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("--from %q and --to %q must be dates, YYYY-MM-DD", from, to)
			}
			resp, err := sealv1.NewReportServiceClient(a.cc).Timeliness(ctx, &sealv1.TimelinessRequest{
				From: timestamppb.New(f), To: timestamppb.New(t.AddDate(0, 0, 1)), TownshipCode: township})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			var rows [][]string
			for _, r := range resp.Rows {
				rows = append(rows, []string{r.TownshipCode, r.ItemCode, fmt.Sprint(r.OnTime), fmt.Sprint(r.Late),
					fmt.Sprint(r.Unknown), fmt.Sprintf("%.1f", r.MedianDaysUsed), fmt.Sprint(r.MaxDaysLate)})
			}
			a.table([]string{"TOWNSHIP", "ITEM", "ON TIME", "LATE", "UNKNOWN", "MEDIAN DAYS", "MOST LATE"}, rows)
			return nil
		},
	}
	timeliness.Flags().StringVar(&from, "from", "", "first day (YYYY-MM-DD)")
	timeliness.Flags().StringVar(&to, "to", "", "last day, included (YYYY-MM-DD)")
	timeliness.Flags().StringVar(&township, "township", "", "only this township")
	cmd.AddCommand(timeliness)
	return cmd
}
