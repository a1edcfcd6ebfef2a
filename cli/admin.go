package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ronganxian/eseal/internal/atomicfile"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/spf13/cobra"
)

func (a *app) townshipsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "townships", Short: "乡镇 / townships"}
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "列出乡镇 / list townships", Example: "  sealctl townships list",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			resp, err := sealv1.NewRegistryServiceClient(a.cc).ListTownships(ctx, &sealv1.ListTownshipsRequest{})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			var rows [][]string
			for _, t := range resp.Townships {
				rows = append(rows, []string{t.Code, t.Name, t.Kind, t.SealName})
			}
			a.table([]string{"CODE", "NAME", "KIND", "SEAL"}, rows)
			return nil
		},
	}, &cobra.Command{
		Use: "items CODE", Short: "乡镇实施清单 / the items a township implements", Args: cobra.ExactArgs(1),
		Example: "  sealctl townships items 450224100",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			resp, err := sealv1.NewRegistryServiceClient(a.cc).GetImplementationList(ctx, &sealv1.GetImplementationListRequest{TownshipCode: args[0]})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			fmt.Fprintf(a.stdout, "%s %s (%s)\n", termText(resp.Township.Code), termText(resp.Township.Name), termText(resp.Township.SealName))
			a.itemTable(resp.Items)
			return nil
		},
	}, a.townshipsImportCmd())
	return cmd
}

func (a *app) itemTable(items []*sealv1.Item) {
	var rows [][]string
	for _, it := range items {
		active := "yes"
		if !it.Active {
			active = "no"
		}
		rows = append(rows, []string{it.Code, it.Window, it.Domain, fmt.Sprint(it.TimeLimitDays), active, it.Name})
	}
	a.table([]string{"CODE", "WINDOW", "DOMAIN", "DAYS", "ACTIVE", "NAME"}, rows)
}

func (a *app) itemsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "items", Short: "事项 / approval and service items"}
	var window, domain string
	list := &cobra.Command{
		Use: "list", Short: "列出事项 / list items", Example: "  sealctl items list --window approval",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			resp, err := sealv1.NewRegistryServiceClient(a.cc).ListItems(ctx, &sealv1.ListItemsRequest{Window: window, Domain: domain})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			a.itemTable(resp.Items)
			return nil
		},
	}
	list.Flags().StringVar(&window, "window", "", "approval, service or dispatched")
	list.Flags().StringVar(&domain, "domain", "", "supervising domain, e.g. 民政")
	get := &cobra.Command{
		Use: "get CODE", Short: "查看事项 / show one item", Args: cobra.ExactArgs(1),
		Example: "  sealctl items get 450224-XK-0002",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			it, err := sealv1.NewRegistryServiceClient(a.cc).GetItem(ctx, &sealv1.GetItemRequest{Code: args[0]})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(it)
			}
			a.table([]string{"FIELD", "VALUE"}, [][]string{{"code", it.Code}, {"name", it.Name}, {"type", it.Type},
				{"window", it.Window}, {"domain", it.Domain}, {"supervisor", it.Supervisor}, {"legal basis", it.LegalBasis},
				{"time limit (days)", fmt.Sprint(it.TimeLimitDays)}, {"documents", strings.Join(it.Documents, "; ")},
				{"active", fmt.Sprint(it.Active)}})
			return nil
		},
	}
	var townships, itemsCSV, impl string
	imp := &cobra.Command{
		Use: "import", Short: "导入事项目录（全部成功或全部不导入） / import the catalog CSVs, all or nothing",
		Example: "  sealctl items import --townships townships.csv --items items.csv --implementations township_items.csv",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			req := &sealv1.ImportCatalogRequest{}
			for _, f := range []struct {
				path string
				dst  *[]byte
			}{{townships, &req.TownshipsCsv}, {itemsCSV, &req.ItemsCsv}, {impl, &req.ImplementationsCsv}} {
				if f.path == "" {
					continue
				}
				if *f.dst, err = os.ReadFile(f.path); err != nil {
					return err
				}
			}
			resp, err := sealv1.NewRegistryServiceClient(a.cc).ImportCatalog(ctx, req)
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			fmt.Fprintf(a.stdout, "imported %d townships, %d items, %d implementations\n", resp.Townships, resp.Items, resp.Implementations)
			return nil
		},
	}
	imp.Flags().StringVar(&townships, "townships", "", "townships.csv")
	imp.Flags().StringVar(&itemsCSV, "items", "", "items.csv")
	imp.Flags().StringVar(&impl, "implementations", "", "township_items.csv")
	setActive := func(use, short string, active bool) *cobra.Command {
		return &cobra.Command{
			Use: use + " CODE", Short: short, Args: cobra.ExactArgs(1),
			Example: "  sealctl items " + use + " 450224-XK-0003",
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx, err := a.need(cmd)
				if err != nil {
					return err
				}
				it, err := sealv1.NewRegistryServiceClient(a.cc).SetItemActive(ctx, &sealv1.SetItemActiveRequest{Code: args[0], Active: active})
				if err != nil {
					return err
				}
				if a.json() {
					return a.printJSON(it)
				}
				a.itemTable([]*sealv1.Item{it})
				return nil
			},
		}
	}
	cmd.AddCommand(list, get, imp, setActive("withdraw", "停用事项 / withdraw an item", false),
		setActive("restore", "恢复事项 / restore an item", true))
	return cmd
}

func (a *app) sealTable(seals ...*sealv1.Seal) {
	var rows [][]string
	for _, s := range seals {
		until := ""
		if s.NotAfter != nil {
			until = s.NotAfter.AsTime().Format("2006-01-02")
		}
		rows = append(rows, []string{s.TownshipCode, s.State, s.CertSerial, until, s.Name, s.Id})
	}
	a.table([]string{"TOWNSHIP", "STATE", "SERIAL", "UNTIL", "NAME", "ID"}, rows)
}

func (a *app) sealsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "seals", Short: "印章管理 / seal administration (county office)"}
	var township string
	list := &cobra.Command{
		Use: "list", Short: "列出印章 / list seals", Example: "  sealctl seals list --township 450224100",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			resp, err := sealv1.NewSealAdminServiceClient(a.cc).ListSeals(ctx, &sealv1.ListSealsRequest{TownshipCode: township})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			a.sealTable(resp.Seals...)
			return nil
		},
	}
	list.Flags().StringVar(&township, "township", "", "only this township's seals")
	client := func() sealv1.SealAdminServiceClient { return sealv1.NewSealAdminServiceClient(a.cc) }
	var reason string
	action := func(use, short string, call func(*cobra.Command, string) (*sealv1.Seal, error)) *cobra.Command {
		return &cobra.Command{
			Use: use + " TOWNSHIP", Short: short, Args: cobra.ExactArgs(1),
			Example: "  sealctl seals " + use + " 450224100",
			RunE: func(cmd *cobra.Command, args []string) error {
				if _, err := a.need(cmd); err != nil {
					return err
				}
				s, err := call(cmd, args[0])
				if err != nil {
					return err
				}
				if a.json() {
					return a.printJSON(s)
				}
				a.sealTable(s)
				return nil
			},
		}
	}
	issue := action("issue", "制章 / issue the township's seal", func(cmd *cobra.Command, t string) (*sealv1.Seal, error) {
		return client().IssueSeal(a.ctx(cmd.Context()), &sealv1.IssueSealRequest{TownshipCode: t})
	})
	suspend := action("suspend", "挂失 / suspend the seal", func(cmd *cobra.Command, t string) (*sealv1.Seal, error) {
		return client().SuspendSeal(a.ctx(cmd.Context()), &sealv1.SealActionRequest{TownshipCode: t})
	})
	resume := action("resume", "解除挂失 / resume a suspended seal", func(cmd *cobra.Command, t string) (*sealv1.Seal, error) {
		return client().ResumeSeal(a.ctx(cmd.Context()), &sealv1.SealActionRequest{TownshipCode: t})
	})
	rotate := action("rotate", "换钥 / replace the seal's key and certificate", func(cmd *cobra.Command, t string) (*sealv1.Seal, error) {
		return client().RotateSeal(a.ctx(cmd.Context()), &sealv1.SealActionRequest{TownshipCode: t})
	})
	revoke := action("revoke", "注销 / revoke the seal for good", func(cmd *cobra.Command, t string) (*sealv1.Seal, error) {
		return client().RevokeSeal(a.ctx(cmd.Context()), &sealv1.SealActionRequest{TownshipCode: t, Reason: reason})
	})
	revoke.Flags().StringVar(&reason, "reason", "unspecified", "keyCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn or unspecified")
	var out string
	trust := &cobra.Command{
		Use: "trust", Short: "下载信任根 / download the county trust bundle (PEM)", Example: "  sealctl seals trust -f root.pem",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := a.dial(); err != nil {
				return err
			}
			tb, err := client().GetTrustBundle(a.ctx(cmd.Context()), &sealv1.GetTrustBundleRequest{})
			if err != nil {
				return err
			}
			return a.writeOrPrint(out, []byte(tb.Pem))
		},
	}
	trust.Flags().StringVarP(&out, "file", "f", "", "write to this file instead of standard output")
	crl := &cobra.Command{
		Use: "crl -f FILE", Short: "下载吊销列表 / download the CRL (DER)", Example: "  sealctl seals crl -f county.crl",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("crl needs -f FILE")
			}
			if _, err := a.dial(); err != nil {
				return err
			}
			c, err := client().GetCRL(a.ctx(cmd.Context()), &sealv1.GetCRLRequest{})
			if err != nil {
				return err
			}
			return a.writeOrPrint(out, c.Der)
		},
	}
	crl.Flags().StringVarP(&out, "file", "f", "", "where to write the CRL")
	cmd.AddCommand(list, issue, suspend, resume, rotate, revoke, trust, crl, a.sealImageCmd(), a.sesealExportCmd(), a.sesealImportCmd())
	return cmd
}

func (a *app) writeOrPrint(path string, b []byte) error {
	if path == "" {
		_, err := a.stdout.Write(b)
		return err
	}
	if d := filepath.Dir(path); d != "" {
		os.MkdirAll(d, 0o755)
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

func (a *app) principalsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "principals", Short: "用户与凭据 / principals and their tokens (county office)"}
	p := &sealv1.Principal{}
	var tokenOut string
	create := &cobra.Command{
		Use: "create ID --role clerk|supervisor|admin", Short: "新建用户并发放令牌 / create a principal and its token", Args: cobra.ExactArgs(1),
		Example: `  sealctl principals create changan-1 --role clerk --township 450224100 --windows approval --token-out changan-1.token
  sealctl principals create minzheng --role supervisor --domains 民政`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			p.Id = args[0]
			resp, err := sealv1.NewPrincipalServiceClient(a.cc).CreatePrincipal(ctx, &sealv1.CreatePrincipalRequest{Principal: p})
			if err != nil {
				return err
			}
			if tokenOut == "" {
				fmt.Fprintln(a.stdout, resp.Token)
				return nil
			}
			if err := atomicfile.WriteFile(tokenOut, []byte(resp.Token+"\n"), 0o600); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "created %s (%s); token in %s\n", resp.Principal.Id, resp.Principal.Role, tokenOut)
			return nil
		},
	}
	create.Flags().StringVar(&p.Name, "name", "", "a person's or office's name")
	create.Flags().StringVar(&p.Role, "role", "clerk", "clerk, supervisor or admin")
	create.Flags().StringVar(&p.TownshipCode, "township", "", "clerks: the township")
	create.Flags().StringSliceVar(&p.Windows, "windows", nil, "clerks: approval and/or service")
	create.Flags().StringSliceVar(&p.Domains, "domains", nil, "supervisors: the domains they supervise")
	create.Flags().StringVar(&tokenOut, "token-out", "", "write the token to this file (mode 0600) instead of printing it")
	list := &cobra.Command{
		Use: "list", Short: "列出用户 / list principals", Example: "  sealctl principals list --output json",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			resp, err := sealv1.NewPrincipalServiceClient(a.cc).ListPrincipals(ctx, &sealv1.ListPrincipalsRequest{})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			var rows [][]string
			for _, p := range resp.Principals {
				rows = append(rows, []string{p.Id, p.Role, p.TownshipCode, strings.Join(p.Windows, ","), strings.Join(p.Domains, ","), fmt.Sprint(p.Disabled)})
			}
			a.table([]string{"ID", "ROLE", "TOWNSHIP", "WINDOWS", "DOMAINS", "DISABLED"}, rows)
			return nil
		},
	}
	disable := &cobra.Command{
		Use: "disable ID", Short: "停用用户 / disable a principal's tokens", Args: cobra.ExactArgs(1),
		Example: "  sealctl principals disable changan-1",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			pr, err := sealv1.NewPrincipalServiceClient(a.cc).DisablePrincipal(ctx, &sealv1.DisablePrincipalRequest{Id: args[0]})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "disabled %s\n", pr.Id)
			return nil
		},
	}
	cmd.AddCommand(create, list, disable, a.rotateCmd())
	return cmd
}

// rotateCmd rotates a principal's token: the county office anyone's, a
// principal its own (no ID). The old token keeps working for the server's
// token_overlap, so that the program using it can switch to the new one.
func (a *app) rotateCmd() *cobra.Command {
	var tokenOut string
	var revoke bool
	cmd := &cobra.Command{
		Use: "rotate [ID]", Short: "更换令牌 / issue a new token; the old one works for a day more", Args: cobra.MaximumNArgs(1),
		Example: `  sealctl principals rotate changan-1 --token-out changan-1.token
  SEAL_TOKEN_FILE=window.token sealctl principals rotate --token-out window.token   # one's own
  sealctl principals rotate changan-1 --revoke-previous   # the old token leaked: it stops now`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			req := &sealv1.RotateTokenRequest{RevokePrevious: revoke}
			if len(args) == 1 {
				req.Id = args[0]
			}
			resp, err := sealv1.NewPrincipalServiceClient(a.cc).RotateToken(ctx, req)
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			if tokenOut == "" {
				fmt.Fprintln(a.stdout, resp.Token)
			} else {
				if err := atomicfile.WriteFile(tokenOut, []byte(resp.Token+"\n"), 0o600); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "rotated %s; new token in %s\n", termText(resp.Principal.GetId()), tokenOut)
			}
			fmt.Fprintf(a.stderr, "the new token works until %s; the previous ones until %s at the latest\n",
				a.when(resp.TokenExpiresAt.AsTime()), a.when(resp.PreviousExpireAt.AsTime()))
			return nil
		},
	}
	cmd.Flags().StringVar(&tokenOut, "token-out", "", "write the token to this file (mode 0600) instead of printing it")
	cmd.Flags().BoolVar(&revoke, "revoke-previous", false, "the previous tokens stop working now, not after the overlap")
	return cmd
}

func (a *app) whoamiCmd() *cobra.Command {
	return &cobra.Command{
		Use: "whoami", Short: "当前凭据是谁 / who the credential belongs to",
		Example: "  SEAL_TOKEN_FILE=out/demo/credentials/450224100-approval.token sealctl whoami",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			p, err := sealv1.NewPrincipalServiceClient(a.cc).WhoAmI(ctx, &sealv1.WhoAmIRequest{})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(p)
			}
			fmt.Fprintf(a.stdout, "%s  role=%s township=%s windows=%s domains=%s\n", termText(p.Id), termText(p.Role),
				termText(p.TownshipCode), termText(strings.Join(p.Windows, ",")), termText(strings.Join(p.Domains, ",")))
			return nil
		},
	}
}
