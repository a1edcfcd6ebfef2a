package cli

import (
	"errors"
	"fmt"
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
