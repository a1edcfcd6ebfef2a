package cli

import (
	"fmt"
	"os"
	"strings"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/spf13/cobra"
)

var subscriptionHeader = []string{"ID", "STATE", "ENDPOINT", "FILTER", "AUTH", "BATCH", "CURSOR", "DELIVERED", "FAILURES", "LAST ERROR"}

func (a *app) subscriptionRow(s *sealv1.Subscription) []string {
	var filter []string
	if s.TownshipCode != "" {
		filter = append(filter, "township="+s.TownshipCode)
	}
	if len(s.Domains) > 0 {
		filter = append(filter, "domains="+strings.Join(s.Domains, ","))
	}
	if len(filter) == 0 {
		filter = []string{"all"}
	}
	return []string{s.Id, s.State, s.Endpoint, strings.Join(filter, " "), s.Auth, fmt.Sprint(max(s.Batch, 1)), fmt.Sprint(s.Cursor),
		fmt.Sprint(s.Delivered), fmt.Sprint(s.Failures), s.LastError}
}

func (a *app) printSubscriptions(subs ...*sealv1.Subscription) error {
	if a.json() {
		if len(subs) == 1 {
			return a.printJSON(subs[0])
		}
		return a.printJSON(&sealv1.ListSubscriptionsResponse{Subscriptions: subs})
	}
	var rows [][]string
	for _, s := range subs {
		rows = append(rows, a.subscriptionRow(s))
	}
	a.table(subscriptionHeader, rows)
	return nil
}

// subscriptionsCmd manages where the ledger is pushed (county office).
func (a *app) subscriptionsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "subscriptions", Short: "事件推送订阅 / where the ledger is pushed as signed events (county office)"}
	req := &sealv1.CreateSubscriptionRequest{}
	var secretFile, certFile, caFile string
	create := &cobra.Command{
		Use: "create ID --endpoint URL", Short: "新建订阅 / push events to a receiver", Args: cobra.ExactArgs(1),
		Example: `  sealctl subscriptions create gx-platform --endpoint https://platform.example/eseal/events --auth bearer --secret-file token.txt
  sealctl subscriptions create minzheng --endpoint https://mz.example/events --domains 民政 --auth mtls --client-cert c.pem --secret-file c.key
  sealctl subscriptions create local --endpoint http://127.0.0.1:9900/ --from 1   # the whole ledger
  sealctl subscriptions create archive --endpoint http://127.0.0.1:9900/ --from 1 --batch 100   # a receiver that takes batches`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			req.Id = args[0]
			for _, f := range []struct {
				path string
				out  *[]byte
			}{{secretFile, &req.Secret}, {certFile, &req.ClientCertPem}, {caFile, &req.ServerCaPem}} {
				if f.path == "" {
					continue
				}
				if *f.out, err = os.ReadFile(f.path); err != nil {
					return err
				}
			}
			if req.Auth == "bearer" {
				req.Secret = []byte(strings.TrimSpace(string(req.Secret)))
			}
			s, err := sealv1.NewSubscriptionServiceClient(a.cc).CreateSubscription(ctx, req)
			clear(req.Secret)
			if err != nil {
				return err
			}
			return a.printSubscriptions(s)
		},
	}
	f := create.Flags()
	f.StringVar(&req.Endpoint, "endpoint", "", "the receiver's URL (https; http only to loopback)")
	f.StringVar(&req.TownshipCode, "township", "", "only this township's records")
	f.StringSliceVar(&req.Domains, "domains", nil, "only these domains' records")
	f.StringVar(&req.Auth, "auth", "none", "none, bearer or mtls")
	f.StringVar(&secretFile, "secret-file", "", "file with the bearer token, or the client certificate's PEM key (stored encrypted)")
	f.StringVar(&certFile, "client-cert", "", "PEM client certificate, for --auth mtls")
	f.StringVar(&caFile, "server-ca", "", "PEM roots to check the receiver's certificate (default: the system's)")
	f.Uint64Var(&req.FromSeq, "from", 0, "first record to deliver (default: those appended from now on; 1: all)")
	f.Uint32Var(&req.Batch, "batch", 0, "most events in one request: 1 (the default) sends one event a request, in structured mode,\n"+
		"which every CloudEvents receiver takes; 2 to 500 sends runs of events in CloudEvents' batched mode\n"+
		"(application/cloudevents-batch+json), which the receiver must take, as 'sealctl events serve' does")

	list := &cobra.Command{
		Use: "list", Short: "列出订阅 / list subscriptions", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			resp, err := sealv1.NewSubscriptionServiceClient(a.cc).ListSubscriptions(ctx, &sealv1.ListSubscriptionsRequest{})
			if err != nil {
				return err
			}
			return a.printSubscriptions(resp.Subscriptions...)
		},
	}
	one := func(use, short string, call func(c sealv1.SubscriptionServiceClient, cmd *cobra.Command, id string) (*sealv1.Subscription, error)) *cobra.Command {
		return &cobra.Command{Use: use + " ID", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if _, err := a.need(cmd); err != nil {
					return err
				}
				s, err := call(sealv1.NewSubscriptionServiceClient(a.cc), cmd, args[0])
				if err != nil {
					return err
				}
				return a.printSubscriptions(s)
			}}
	}
	pause := one("pause", "暂停推送 / stop delivery; the cursor stays", func(c sealv1.SubscriptionServiceClient, cmd *cobra.Command, id string) (*sealv1.Subscription, error) {
		return c.PauseSubscription(a.ctx(cmd.Context()), &sealv1.SubscriptionRequest{Id: id})
	})
	resume := one("resume", "恢复推送 / restart a paused or parked subscription", func(c sealv1.SubscriptionServiceClient, cmd *cobra.Command, id string) (*sealv1.Subscription, error) {
		return c.ResumeSubscription(a.ctx(cmd.Context()), &sealv1.SubscriptionRequest{Id: id})
	})
	var from uint64
	replay := one("replay", "重新推送 / deliver again from a record on", func(c sealv1.SubscriptionServiceClient, cmd *cobra.Command, id string) (*sealv1.Subscription, error) {
		return c.ReplaySubscription(a.ctx(cmd.Context()), &sealv1.ReplaySubscriptionRequest{Id: id, FromSeq: from})
	})
	replay.Flags().Uint64Var(&from, "from", 1, "the first record to deliver again")
	status := &cobra.Command{Use: "status ID", Short: "订阅状态 / one subscription, with what is still to deliver", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			s, err := sealv1.NewSubscriptionServiceClient(a.cc).GetSubscriptionStatus(ctx, &sealv1.SubscriptionRequest{Id: args[0]})
			if err != nil {
				return err
			}
			if err := a.printSubscriptions(s); err != nil || a.json() {
				return err
			}
			fmt.Fprintf(a.stdout, "backlog: %d record(s) to deliver (counted up to 1000); delivered by: %s\n", s.Backlog, orNone(s.LeaseOwner))
			return nil
		}}
	cmd.AddCommand(create, list, pause, resume, replay, status)
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
