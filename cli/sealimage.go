package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ronganxian/eseal/internal/atomicfile"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/spf13/cobra"
)

// sealImageCmd is `sealctl seals image`: the picture of a township's seal,
// as documents show it, for the county office to check before it is used.
func (a *app) sealImageCmd() *cobra.Command {
	var out string
	var dpi int32
	cmd := &cobra.Command{
		Use:   "image TOWNSHIP -o seal.png|seal.svg",
		Short: "印章图样 / the picture of a township's seal, as documents show it",
		Long: `Writes the picture of the township's current seal: drawn by the rules from the seal's name
(PNG at --dpi, or SVG), or the county's cleaned scan (PNG only). The format follows -o's extension.`,
		Example: "  sealctl seals image 450224100 -o 长安镇印章.png --dpi 600\n  sealctl seals image 450224100 -o 长安镇印章.svg",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
			if out == "" || (format != "png" && format != "svg") {
				return errors.New("seals image needs -o FILE.png or -o FILE.svg")
			}
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			img, err := sealv1.NewSealAdminServiceClient(a.cc).GetSealImage(ctx,
				&sealv1.GetSealImageRequest{TownshipCode: args[0], Format: format, Dpi: dpi})
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(out, img.Data, 0o644); err != nil {
				return err
			}
			if a.json() {
				img.Data = nil
				return a.printJSON(img)
			}
			how := a.t("seal-image-drawn")
			if !img.Drawn {
				how = a.t("seal-image-scan")
			}
			fmt.Fprintf(a.stdout, "%s: %s (%s, %g mm) → %s\n", termText(img.SealName), how, img.MediaType, img.DiameterMm, termText(out))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write: .png or .svg")
	cmd.Flags().Int32Var(&dpi, "dpi", 300, "resolution of a PNG, 36–2400")
	return cmd
}

// sesealExportCmd is `sealctl seals export`: the seal's national seal data.
func (a *app) sesealExportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export TOWNSHIP -o seal.esl",
		Short: "导出电子印章数据 / write the seal's GB/T 38540 SESeal",
		Long: `Writes the national seal data (GB/T 38540 SESeal, DER) of the township's current seal: made and
signed by the county office as seal maker the first time, or the one imported from a licensed seal maker.`,
		Example: "  sealctl seals export 450224100 -o 长安镇.esl",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("seals export needs -o FILE")
			}
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			es, err := sealv1.NewSealAdminServiceClient(a.cc).ExportSESeal(ctx, &sealv1.ExportSESealRequest{TownshipCode: args[0]})
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(out, es.Der, 0o644); err != nil {
				return err
			}
			return a.printSESeal(es, out)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (DER)")
	return cmd
}

// sesealImportCmd is `sealctl seals import`: an SESeal made elsewhere.
func (a *app) sesealImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import TOWNSHIP seal.esl",
		Short: "导入外部制章系统制作的电子印章数据 / use an SESeal made by a licensed seal maker",
		Long: `Replaces the SESeal of the township's current seal with one made by a licensed external seal-making
system. It is refused unless it names the seal's certificate, is valid now, and its maker's signature
verifies; documents sealed afterwards draw its picture and carry it. Verifiers trust it only when the
maker's certificate chains to a root in their trust bundle.`,
		Example: "  sealctl seals import 450224100 长安镇.esl",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			der, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			es, err := sealv1.NewSealAdminServiceClient(a.cc).ImportSESeal(ctx, &sealv1.ImportSESealRequest{TownshipCode: args[0], Seseal: der})
			if err != nil {
				return err
			}
			return a.printSESeal(es, "")
		},
	}
}

func (a *app) printSESeal(es *sealv1.SESeal, file string) error {
	if a.json() {
		es.Der = nil
		return a.printJSON(es)
	}
	rows := [][]string{{"esID", es.EsId}, {"name", es.Name}, {"maker", es.Maker},
		{"valid", a.when(es.ValidFrom.AsTime()) + " – " + a.when(es.ValidUntil.AsTime())}, {"imported", fmt.Sprint(es.Imported)}}
	if file != "" {
		rows = append(rows, []string{"file", file})
	}
	a.table([]string{"FIELD", "VALUE"}, rows)
	return nil
}
