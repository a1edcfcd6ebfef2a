// Command sealsvc runs the township e-seal service and administers it on the
// server: init makes a data directory with its key-encryption key and county
// CA, serve runs the gRPC and REST API (--demo fills it with the sample
// county first).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ronganxian/eseal/service"
	"github.com/spf13/cobra"
)

func main() {
	if err := root().Execute(); err != nil {
		os.Exit(1)
	}
}

type flags struct {
	config, data, grpcListen, httpListen string
	// store, postgresDSN and kekFile are init's and join's: they choose
	// where the installation keeps its data, and init writes them into
	// the configuration file it makes.
	store, postgresDSN, kekFile string
}

func (f *flags) load() (*service.Config, error) {
	if f.data != "" {
		os.Setenv("ESEAL_DATA_DIR", f.data)
	}
	c, err := service.LoadConfig(f.config)
	if err != nil {
		return nil, err
	}
	if f.grpcListen != "" {
		c.GRPCListen = f.grpcListen
	}
	if f.httpListen != "" {
		c.HTTPListen = f.httpListen
	}
	if f.store != "" {
		c.Store = f.store
	}
	if f.postgresDSN != "" {
		c.PostgresDSN = f.postgresDSN
	}
	if f.kekFile != "" {
		if c.KEKFile, err = filepath.Abs(f.kekFile); err != nil {
			return nil, err
		}
		c.KEKEnv = ""
	}
	return c, nil
}

// storeFlags are the flags that say where an installation keeps its data.
func (f *flags) storeFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.store, "store", "", "sqlite (one machine: DATA/seal.db) or postgres (replicas share the database; ESEAL_STORE)")
	cmd.Flags().StringVar(&f.postgresDSN, "postgres-dsn", "", "with --store postgres: postgres://USER:PASSWORD@HOST/DB (ESEAL_POSTGRES_DSN); written to the configuration file, mode 0600")
	cmd.Flags().StringVar(&f.kekFile, "kek-file", "", "the key-encryption key file (default DATA/kek; ESEAL_KEK_FILE)")
}

func root() *cobra.Command {
	f := &flags{}
	cmd := &cobra.Command{
		Use:           "sealsvc",
		Short:         "The township e-seal service (乡镇电子印章服务)",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	cmd.PersistentFlags().StringVar(&f.config, "config", "", "configuration file (YAML); ESEAL_* variables and flags override it")
	cmd.PersistentFlags().StringVar(&f.data, "data", "", "data directory (default ./data)")
	cmd.AddCommand(serveCmd(f), initCmd(f), joinCmd(f), kekCmd(f), tsaCmd(f))
	return cmd
}

func serveCmd(f *flags) *cobra.Command {
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the service (运行服务)",
		Example: `  sealsvc serve --config /etc/eseal/sealsvc.yaml
  sealsvc serve --demo --data ./demo-data --listen 127.0.0.1:8443`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.load()
			if err != nil {
				return err
			}
			log := service.NewLogger(c, os.Stderr)
			if demo {
				service.DemoTSA(c)
				service.DemoVerifyQR(c)
				if err := service.EnsureKEK(c.KEKFile); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			svc, err := service.Open(ctx, c, log)
			if err != nil {
				return err
			}
			defer svc.Close()
			if demo {
				if err := svc.PrepareDemo(ctx); err != nil {
					return fmt.Errorf("demo: %w", err)
				}
				log.Info("demo ready", "data", c.DataDir, "credentials", filepath.Join(c.DataDir, "credentials"),
					"trust", filepath.Join(c.DataDir, "trust", "root.pem"))
			}
			return svc.Serve(ctx)
		},
	}
	cmd.Flags().BoolVar(&demo, "demo", false, "fill the data directory with the demo county (test CA, twelve townships, credentials) on first start")
	cmd.Flags().StringVar(&f.grpcListen, "listen", "", "gRPC address (default 127.0.0.1:8443)")
	cmd.Flags().StringVar(&f.httpListen, "http", "", "REST address (default 127.0.0.1:8080)")
	return cmd
}

func initCmd(f *flags) *cobra.Command {
	var caName, caOrg string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Make an installation: key-encryption key, county CA and its first CRL, admin credential (初始化)",
		Long: `Make a new installation in the data directory: the key-encryption key (KEK, mode 0600), the county
seal CA and its first CRL, the trust files (trust/root.pem), a configuration file (sealsvc.yaml) and
the county office's admin credential (credentials/admin.token).

The store is SQLite in the data directory unless --store postgres (or ESEAL_STORE=postgres) names
PostgreSQL, with --postgres-dsn (or ESEAL_POSTGRES_DSN): the CA, the keys (encrypted under the KEK),
the catalog and the ledger then live in that database, which every replica shares, and the DSN is
written into the configuration file. Add replicas with "sealsvc join", each with a copy of this KEK.`,
		Example: `  sealsvc init --data /var/lib/eseal --ca-name 融安县电子印章CA --ca-org 融安县政务服务监督管理办公室
  sealsvc init --data /var/lib/eseal --store postgres --postgres-dsn 'postgres://eseal:PASSWORD@db.internal/eseal'`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := service.PrepareInit(ctx, c); err != nil {
				return err
			}
			svc, err := service.Open(ctx, c, service.NewLogger(c, os.Stderr))
			if err != nil {
				return err
			}
			defer svc.Close()
			res, err := svc.Init(ctx, caName, caOrg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "data directory: %s\nstore:          %s\nconfiguration:  %s\nKEK file:       %s (mode 0600; back it up apart from the database; every replica needs a copy)\ncounty root:    %s\nCRL:            number %s\nadmin token:    %s\n",
				c.DataDir, c.Store, res.ConfigFile, kekText(c), res.RootPEM, res.CRLNumber, res.AdminToken)
			return nil
		},
	}
	cmd.Flags().StringVar(&caName, "ca-name", "融安县电子印章CA", "common name of the county seal CA")
	cmd.Flags().StringVar(&caOrg, "ca-org", "融安县政务服务监督管理办公室", "organisation of the county seal CA")
	f.storeFlags(cmd)
	return cmd
}

func joinCmd(f *flags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "join --postgres-dsn DSN",
		Short: "Make another replica of an installation on PostgreSQL, with the first replica's KEK (加入副本)",
		Long: `Make the data directory of another replica: it checks that the PostgreSQL database already holds the
county CA (made by "sealsvc init --store postgres" on the first replica) and that this replica's KEK
is the first replica's, then writes the trust files and a configuration file. It makes no key, CA or
credential. Copy the first replica's KEK file here first (mode 0600), to DATA/kek or --kek-file.`,
		Example: `  scp -p replica-a:/var/lib/eseal/kek /var/lib/eseal/kek
  sealsvc join --data /var/lib/eseal --postgres-dsn 'postgres://eseal:PASSWORD@db.internal/eseal'`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.load()
			if err != nil {
				return err
			}
			if f.store == "" && os.Getenv("ESEAL_STORE") == "" {
				c.Store = "postgres"
			}
			res, err := service.Join(cmd.Context(), c, service.NewLogger(c, os.Stderr))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "data directory: %s\nconfiguration:  %s\nKEK file:       %s (the first replica's)\ncounty root:    %s\n",
				c.DataDir, res.ConfigFile, kekText(c), res.RootPEM)
			return nil
		},
	}
	f.storeFlags(cmd)
	return cmd
}

// kekText names where c's KEK is.
func kekText(c *service.Config) string {
	if c.KEKEnv != "" {
		return "$" + c.KEKEnv
	}
	return c.KEKFile
}

func kekCmd(f *flags) *cobra.Command {
	var next string
	rotate := &cobra.Command{
		Use:   "rotate --new-kek-file PATH",
		Short: "Rewrap every key under a new key-encryption key (更换密钥加密密钥)",
		Long: `Generate a new key-encryption key at PATH (mode 0600) and rewrap every stored key under it, in one
transaction; seals and certificates stay as they are. Stop the service first. Afterwards configure
kek_file: PATH (or ESEAL_KEK_FILE) and keep the old KEK only as long as backups made under it.`,
		Example: "  sealsvc kek rotate --config /etc/eseal/sealsvc.yaml --new-kek-file /etc/eseal/kek-2027",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if next == "" {
				return fmt.Errorf("rotate needs --new-kek-file")
			}
			c, err := f.load()
			if err != nil {
				return err
			}
			svc, err := service.Open(cmd.Context(), c, service.NewLogger(c, os.Stderr))
			if err != nil {
				return err
			}
			defer svc.Close()
			if err := svc.RotateKEK(cmd.Context(), next); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "every key is now wrapped under %s; set kek_file: %s (or ESEAL_KEK_FILE) before the next start\n", next, next)
			return nil
		},
	}
	rotate.Flags().StringVar(&next, "new-kek-file", "", "where to write the new key-encryption key")
	cmd := &cobra.Command{Use: "kek", Short: "Key-encryption key administration"}
	cmd.AddCommand(rotate)
	return cmd
}

func tsaCmd(f *flags) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "tsa",
		Short: "Run the county time-stamping authority alone (时间戳服务)",
		Long: `Serves RFC 3161 (application/timestamp-query) on tsa_listen, with the TSA key of
the installation's keystore and the serial counter of its store, for a county
that runs its TSA on a host of its own. sealsvc serve runs the same TSA too.`,
		Example: `  sealsvc tsa --config /etc/eseal/sealsvc.yaml --listen 0.0.0.0:8318`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.load()
			if err != nil {
				return err
			}
			if listen != "" {
				c.TSAListen = listen
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			svc, err := service.Open(ctx, c, service.NewLogger(c, os.Stderr))
			if err != nil {
				return err
			}
			defer svc.Close()
			return svc.RunTSA(ctx)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to serve on (default tsa_listen, 127.0.0.1:8318); off loopback it needs tls_cert and tls_key")
	return cmd
}
