package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// app is one run of sealctl.
type app struct {
	conn
	langFlag string
	lang     string
	output   string         // "table" or "json"
	tz       string         // --tz
	loc      *time.Location // the zone human output shows times in (zone.go)
	stdout   io.Writer
	stderr   io.Writer
}

// Main runs sealctl with args and returns the process exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.root()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(context.Background())
	a.close()
	if err == nil {
		return 0
	}
	if e, ok := err.(exitError); ok {
		return e.code
	}
	fmt.Fprintf(stderr, "sealctl: %s\n", a.explain(err))
	return 1
}

// exitError ends sealctl with a status, its message already printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func (a *app) root() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sealctl",
		Short: "乡镇电子印章客户端 / the township e-seal client",
		Long: `sealctl 为窗口工作人员盖章、批量盖章，管理事项、乡镇、印章和账本，并离线验证已盖章的PDF。
sealctl seals files for window clerks (one or in batches), administers items, townships, seals
and the ledger, and verifies sealed PDFs offline.

连接 / connection: --server or SEAL_SERVER (default 127.0.0.1:8443), --token-file or
SEAL_TOKEN_FILE, --tls-ca or SEAL_TLS_CA. Plain text is used only to a loopback address.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			a.lang = detectLang(a.langFlag)
			var err error
			a.loc, err = a.zone()
			return err
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&a.server, "server", "", "service address (SEAL_SERVER; default 127.0.0.1:8443)")
	f.StringVar(&a.tokenFile, "token-file", "", "file holding the bearer token (SEAL_TOKEN_FILE)")
	f.StringVar(&a.caFile, "tls-ca", "", "PEM file of the CA that issued the service's TLS certificate (SEAL_TLS_CA)")
	f.StringVar(&a.output, "output", "table", "output: table or json")
	f.StringVar(&a.langFlag, "lang", "", "language of messages: zh or en (SEAL_LANG, LANG)")
	f.StringVar(&a.tz, "tz", "", "time zone of the times shown (SEAL_TZ; default: TZ when set, else Asia/Shanghai); JSON keeps offsets")
	a.retry.flags(f)
	cmd.AddCommand(a.stampCmd(), a.batchCmd(), a.townshipsCmd(), a.itemsCmd(), a.sealsCmd(),
		a.ledgerCmd(), a.principalsCmd(), a.whoamiCmd(), a.verifyCmd(), a.corpusCmd(),
		a.subscriptionsCmd(), a.eventsCmd(), a.ltvCmd(), a.reportCmd(), a.archiveCmd(), a.supervisionCmd(), a.casesCmd())
	strictGroups(cmd)
	return cmd
}

// table prints rows under a header, in columns aligned for the terminal's
// widths (Chinese characters take two columns).
// Cells come from the server or from files, so they are printed escaped
// (termText).
func (a *app) table(header []string, rows [][]string) {
	all := [][]string{header}
	for _, r := range rows {
		esc := make([]string, len(r))
		for i, c := range r {
			esc[i] = termText(c)
		}
		all = append(all, esc)
	}
	widths := make([]int, len(header))
	for _, r := range all {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], displayWidth(c))
			}
		}
	}
	var b strings.Builder
	for _, r := range all {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	io.WriteString(a.stdout, b.String())
}

// printJSON prints a protobuf message, or any value, as JSON.
func (a *app) printJSON(v any) error {
	if m, ok := v.(proto.Message); ok {
		b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", EmitUnpopulated: true}.Marshal(m)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(a.stdout, string(b))
		return err
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func (a *app) json() bool { return a.output == "json" }

// need dials and checks that there is a credential.
func (a *app) need(cmd *cobra.Command) (context.Context, error) {
	if _, err := a.dial(); err != nil {
		return nil, err
	}
	if a.token == "" {
		return nil, errNoCredential
	}
	return a.ctx(cmd.Context()), nil
}
