package cli

import (
	"fmt"
	"os"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/spf13/cobra"
)

// townshipsImportCmd imports a townships CSV (the catalog's townships.csv:
// code,name,kind,seal_name) through RegistryService.ImportCatalog, all or
// nothing: a township already registered is replaced by code, and its
// implementation list is kept.
func (a *app) townshipsImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE.csv",
		Short: "导入乡镇（全部成功或全部不导入） / import townships from a CSV, all or nothing",
		Long: `导入乡镇名录：CSV 的列为 code,name,kind,seal_name（与目录的 townships.csv 相同）。已登记的乡镇按编码更新。
Import townships from a CSV with the columns code,name,kind,seal_name (the catalog's
townships.csv). A township already registered is updated by its code; its implementation list
stays. A line that does not parse refuses the whole file, naming the line. Items and
implementation lists: sealctl items import.`,
		Example: "  sealctl townships import townships.csv",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			resp, err := sealv1.NewRegistryServiceClient(a.cc).ImportCatalog(ctx, &sealv1.ImportCatalogRequest{TownshipsCsv: b})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			fmt.Fprintf(a.stdout, "imported %d townships\n", resp.Townships)
			return nil
		},
	}
}

// strictGroups makes every command that only groups others (townships,
// items, seals, …) fail on a word that is none of its commands, instead of
// printing its help and exiting 0, as cobra does: a script that calls a
// command this version lacks must see it fail.
func strictGroups(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		strictGroups(c)
	}
	if cmd.HasParent() && cmd.HasSubCommands() && !cmd.Runnable() {
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q; see %s --help", args[0], c.CommandPath(), c.CommandPath())
			}
			return c.Help()
		}
	}
}
