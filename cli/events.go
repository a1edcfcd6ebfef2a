package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/events"
	"github.com/spf13/cobra"
)

// eventsCmd is the receiver's side of the event push: check a file of
// events offline, or receive them into one.
func (a *app) eventsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "推送事件 / the receiver's side of the signed events"}
	var trustFile string
	verify := &cobra.Command{
		Use: "verify FILE.jsonl --trust ROOT.pem", Short: "离线核验事件 / check received events with the county root alone",
		Args: cobra.ExactArgs(1),
		Long: `Checks every event in a JSONL file (one CloudEvent a line, as received): that the record
hashes to its chain hash and the county's ledger key signed it, and, per subscription, that no
event is missing between the first and the last held. Duplicates (at-least-once delivery) are
counted, and must be identical.`,
		Example: "  sealctl events verify events.jsonl --trust county-root.pem",
		RunE: func(cmd *cobra.Command, args []string) error {
			roots, err := loadRoots(trustFile)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			rep, err := events.NewVerifier(roots).VerifyStream(f)
			if a.json() {
				out := map[string]any{"valid": err == nil, "events": rep.Events, "distinct": rep.Distinct,
					"duplicates": rep.Duplicates, "reordered": rep.Reordered, "subscriptions": rep.Subscriptions}
				if err != nil {
					out["error"] = err.Error()
				}
				if perr := a.printJSON(out); perr != nil {
					return perr
				}
			} else if err == nil {
				fmt.Fprintf(a.stdout, "valid: %d events (%d distinct, %d duplicates, %d out of order) signed by the county's ledger key, none missing\n",
					rep.Events, rep.Distinct, rep.Duplicates, rep.Reordered)
				for sub, n := range rep.Subscriptions {
					fmt.Fprintf(a.stdout, "  subscription %s: %d events\n", termText(sub), n)
				}
			}
			if err != nil {
				if !a.json() {
					fmt.Fprintf(a.stderr, "INVALID: %v\n", err)
				}
				return exitError{2}
			}
			return nil
		},
	}
	verify.Flags().StringVar(&trustFile, "trust", "", "the county root certificate (PEM)")

	var listen, out string
	serve := &cobra.Command{
		Use: "serve --listen 127.0.0.1:PORT --out FILE.jsonl", Short: "接收事件 / a small receiver: append each event to a JSONL file",
		Args: cobra.NoArgs,
		Long: `Receives CloudEvents (structured JSON mode) by HTTP POST on any path and appends each to the file,
one a line, before answering 204: an event acknowledged is on disk. With --trust, each event is
checked on arrival and one that does not verify is refused. It listens only on a loopback
address (it has no TLS); behind a TLS proxy, or for tests and the demo.`,
		Example: "  sealctl events serve --listen 127.0.0.1:9900 --out events.jsonl --trust county-root.pem",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			var roots *smx509.CertPool
			if trustFile != "" {
				var err error
				if roots, err = loadRoots(trustFile); err != nil {
					return err
				}
			}
			return ServeEvents(ctx, listen, out, roots, a.stdout)
		},
	}
	serve.Flags().StringVar(&listen, "listen", "127.0.0.1:9900", "loopback address to listen on")
	serve.Flags().StringVar(&out, "out", "events.jsonl", "file the events are appended to")
	serve.Flags().StringVar(&trustFile, "trust", "", "the county root certificate (PEM): refuse events that do not verify under it")
	cmd.AddCommand(verify, serve)
	return cmd
}

func loadRoots(path string) (*smx509.CertPool, error) {
	if path == "" {
		return nil, errors.New("needs --trust ROOT.pem: the county root the ledger key must chain to")
	}
	return events.LoadRoots(path)
}

// ServeEvents receives events on addr, a loopback address, appending each
// to the file out (synced) before acknowledging it, until ctx ends. With
// roots, an event that does not verify under them is refused (400) and
// not stored. It prints the address it listens on, and each event it
// keeps, to w.
func ServeEvents(ctx context.Context, addr, out string, roots *smx509.CertPool, w io.Writer) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return fmt.Errorf("--listen %s: a loopback address only (this receiver has no TLS)", addr)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	rc := &events.Receiver{Store: events.AppendTo(f)}
	checked := "stored unchecked; sealctl events verify checks the file"
	if roots != nil {
		rc.Verifier = events.NewVerifier(roots)
		checked = "each checked on arrival against the county root"
		appendLine := rc.Store
		rc.Store = func(e *events.Event, line []byte) error {
			if err := appendLine(e, line); err != nil {
				return err
			}
			fmt.Fprintf(w, "event %s (after %s) %s %s: signature verified, stored\n",
				termText(e.ID), termText(e.PrevSeq), termText(e.Type), termText(e.Subject))
			return nil
		}
	}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(w, "receiving events on http://%s/ into %s (%s)\n", l.Addr(), out, checked)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
