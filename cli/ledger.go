package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/emmansun/gmsm/smx509"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/seal"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
)

func (a *app) recordRow(r *sealv1.LedgerRecord) []string {
	caseNo := r.CaseNo
	if r.Result == string(seal.ResultLifecycle) {
		caseNo = r.SealId // a seal's change concerns no case: name the seal
	}
	return []string{fmt.Sprint(r.Seq), a.when(r.Time.AsTime()), termText(r.TownshipCode),
		termText(r.ItemCode), termText(caseNo), termText(r.Principal), termText(a.resultText(r)), hex.EncodeToString(r.Hash)[:16]}
}

// resultText is a record's RESULT column: the kind, and what the kind's
// note says (a refusal's rule, a supervision result's kind and outcome, a
// seal's change and serials), in the user's language where it has names.
func (a *app) resultText(r *sealv1.LedgerRecord) string {
	switch seal.Result(r.Result) {
	case seal.ResultSupervised:
		if n, err := seal.ParseSupervisionNote(r.Detail); err == nil {
			k, o := n.Kind.Chinese(), n.Outcome.Chinese()
			if a.lang == "en" {
				k, o = n.Kind.English(), n.Outcome.English()
			}
			return fmt.Sprintf("supervised (%s: %s, %s)", k, o, n.Date)
		}
	case seal.ResultLifecycle:
		if n, err := seal.ParseLifecycleNote(r.Detail); err == nil {
			act := n.Action.Chinese()
			if a.lang == "en" {
				act = n.Action.English()
			}
			serials := n.NewSerial
			if n.OldSerial != "" && n.OldSerial != n.NewSerial {
				serials = strings.TrimSuffix(n.OldSerial+" -> "+n.NewSerial, " -> ")
			}
			return fmt.Sprintf("lifecycle (%s %s)", act, serials)
		}
	}
	res := r.Result
	if r.Rule != "" {
		res += " (" + r.Rule + ")"
	}
	return res
}

var recordHeader = []string{"SEQ", "TIME", "TOWNSHIP", "ITEM", "CASE", "PRINCIPAL", "RESULT", "HASH"}

func (a *app) ledgerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "ledger", Short: "用印账本 / the ledger of every sealing and refusal"}
	filter := &sealv1.RecordFilter{}
	var after uint64
	var limit int32
	list := &cobra.Command{
		Use: "list", Short: "列出记录 / list records", Example: "  sealctl ledger list --after 100 --limit 20",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			resp, err := sealv1.NewLedgerServiceClient(a.cc).ListRecords(ctx, &sealv1.ListRecordsRequest{Filter: filter, AfterSeq: after, Limit: limit})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(resp)
			}
			var rows [][]string
			for _, r := range resp.Records {
				rows = append(rows, a.recordRow(r))
			}
			a.table(recordHeader, rows)
			return nil
		},
	}
	for _, c := range []*cobra.Command{list} {
		c.Flags().StringVar(&filter.TownshipCode, "township", "", "only this township")
		c.Flags().StringSliceVar(&filter.Domains, "domains", nil, "only these domains")
		c.Flags().Uint64Var(&after, "after", 0, "records after this sequence number")
		c.Flags().Int32Var(&limit, "limit", 100, "at most this many")
	}
	get := &cobra.Command{
		Use: "get SEQ", Short: "查看一条记录 / show one record", Args: cobra.ExactArgs(1),
		Example: "  sealctl ledger get 42",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			var seq uint64
			if _, err := fmt.Sscan(args[0], &seq); err != nil {
				return fmt.Errorf("%q is not a sequence number", args[0])
			}
			r, err := sealv1.NewLedgerServiceClient(a.cc).GetRecord(ctx, &sealv1.GetRecordRequest{Seq: seq})
			if err != nil {
				return err
			}
			return a.printJSON(r)
		},
	}
	watchFilter := &sealv1.RecordFilter{}
	var watchAfter uint64
	watch := &cobra.Command{
		Use: "watch", Short: "实时接收新记录 / stream new records as they are appended",
		Long:    "Stream records after --after, then each new one, until interrupted. Pass the last sequence number you saw to resume.",
		Example: "  sealctl ledger watch --after 1200 --output json",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			st, err := sealv1.NewLedgerServiceClient(a.cc).WatchRecords(ctx, &sealv1.WatchRecordsRequest{Filter: watchFilter, AfterSeq: watchAfter})
			if err != nil {
				return err
			}
			for {
				r, err := st.Recv()
				if errors.Is(err, io.EOF) || errors.Is(cmd.Context().Err(), context.Canceled) {
					return nil
				}
				if err != nil {
					return err
				}
				if a.json() {
					b, _ := protojson.Marshal(r)
					fmt.Fprintln(a.stdout, string(b))
					continue
				}
				fmt.Fprintln(a.stdout, strings.Join(a.recordRow(r), "  "))
			}
		},
	}
	watch.Flags().StringVar(&watchFilter.TownshipCode, "township", "", "only this township")
	watch.Flags().StringSliceVar(&watchFilter.Domains, "domains", nil, "only these domains")
	watch.Flags().Uint64Var(&watchAfter, "after", 0, "start after this sequence number")
	checkpoint := &cobra.Command{
		Use: "checkpoint", Short: "签署账本检查点 / sign a checkpoint of the ledger's head now",
		Example: "  SEAL_TOKEN_FILE=out/demo/credentials/admin.token sealctl ledger checkpoint",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			c, err := sealv1.NewLedgerServiceClient(a.cc).CreateCheckpoint(ctx, &sealv1.CreateCheckpointRequest{})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(c)
			}
			fmt.Fprintf(a.stdout, "checkpoint at record %d, head %x\n", c.Seq, c.Head[:8])
			return nil
		},
	}
	var exportFile string
	export := &cobra.Command{
		Use: "export -f FILE", Short: "导出账本（供离线核验） / export the ledger for offline verification",
		Example: "  sealctl ledger export -f ledger.jsonl",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if exportFile == "" {
				return errors.New("export needs -f FILE")
			}
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			recs, cps, err := a.fetchLedger(ctx)
			if err != nil {
				return err
			}
			var b strings.Builder
			for _, c := range cps {
				line, _ := protojson.Marshal(&sealv1.Checkpoint{Seq: c.Seq, Head: c.Head, Time: c.Time, Signature: c.Signature, Certificate: c.Certificate})
				b.WriteString(`{"checkpoint":` + string(line) + "}\n")
			}
			for _, r := range recs {
				line, _ := protojson.Marshal(r)
				b.WriteString(`{"record":` + string(line) + "}\n")
			}
			if err := a.writeOrPrint(exportFile, []byte(b.String())); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "exported %d %s, %d %s to %s\n", len(recs), a.t("records"), len(cps), a.t("checkpoints"), exportFile)
			return nil
		},
	}
	export.Flags().StringVarP(&exportFile, "file", "f", "", "where to write (JSON lines)")
	var verifyFile, trustFile string
	verify := &cobra.Command{
		Use:   "verify [--file EXPORT] --trust ROOT.pem",
		Short: "核验账本链与签名检查点 / check the chain and the signed checkpoints",
		Long: `Check that the records form one unbroken SM3 chain and that every checkpoint is signed by a key
that chains to the county root, and agrees with the record it names. The check runs here, not on the
server: from an export (--file), entirely offline, or from records fetched from the service. It says
exactly where a chain breaks. Exit status 0 when intact, 1 when broken.`,
		Example: `  sealctl ledger verify --file ledger.jsonl --trust root.pem
  sealctl ledger verify --trust root.pem   # fetch from the service, check here`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if trustFile == "" {
				return errors.New("verify needs --trust ROOT.pem: the county root that checkpoints must chain to")
			}
			pem, err := os.ReadFile(trustFile)
			if err != nil {
				return err
			}
			roots := smx509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				return fmt.Errorf("%s holds no certificate", trustFile)
			}
			var recs []*sealv1.LedgerRecord
			var cps []*sealv1.Checkpoint
			if verifyFile != "" {
				recs, cps, err = readExport(verifyFile)
			} else {
				var ctx context.Context
				if ctx, err = a.need(cmd); err == nil {
					recs, cps, err = a.fetchLedger(ctx)
				}
			}
			if err != nil {
				return err
			}
			return a.verifyLedger(recs, cps, roots)
		},
	}
	verify.Flags().StringVar(&verifyFile, "file", "", "an export made by 'sealctl ledger export' (offline)")
	verify.Flags().StringVar(&trustFile, "trust", "", "the county root certificate (PEM)")
	cmd.AddCommand(list, get, watch, checkpoint, export, verify)
	return cmd
}

// fetchLedger reads every record and checkpoint the credential may see.
func (a *app) fetchLedger(ctx context.Context) ([]*sealv1.LedgerRecord, []*sealv1.Checkpoint, error) {
	client := sealv1.NewLedgerServiceClient(a.cc)
	var recs []*sealv1.LedgerRecord
	var after uint64
	for {
		resp, err := client.ListRecords(ctx, &sealv1.ListRecordsRequest{AfterSeq: after, Limit: 1000})
		if err != nil {
			return nil, nil, err
		}
		recs = append(recs, resp.Records...)
		if resp.NextAfterSeq == 0 {
			break
		}
		after = resp.NextAfterSeq
	}
	cps, err := client.ListCheckpoints(ctx, &sealv1.ListCheckpointsRequest{})
	if err != nil {
		return nil, nil, err
	}
	return recs, cps.Checkpoints, nil
}

// maxExportLine bounds one line of an export.
const maxExportLine = 1 << 20

func readExport(path string) ([]*sealv1.LedgerRecord, []*sealv1.Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var recs []*sealv1.LedgerRecord
	var cps []*sealv1.Checkpoint
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxExportLine)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		// Each line is {"record":…} or {"checkpoint":…}, as export writes it;
		// the inner message is decoded strictly by protojson.
		switch {
		case strings.HasPrefix(string(line), `{"record":`):
			r := &sealv1.LedgerRecord{}
			if err := protojson.Unmarshal(line[len(`{"record":`):len(line)-1], r); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			recs = append(recs, r)
		case strings.HasPrefix(string(line), `{"checkpoint":`):
			c := &sealv1.Checkpoint{}
			if err := protojson.Unmarshal(line[len(`{"checkpoint":`):len(line)-1], c); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			cps = append(cps, c)
		default:
			return nil, nil, fmt.Errorf("%s:%d: not a ledger export line", path, n)
		}
	}
	return recs, cps, sc.Err()
}

func (a *app) verifyLedger(recs []*sealv1.LedgerRecord, cps []*sealv1.Checkpoint, roots *smx509.CertPool) error {
	var checkpoints []*seal.Checkpoint
	for _, c := range cps {
		checkpoints = append(checkpoints, sealapi.CheckpointFrom(c))
	}
	fail := func(err error) error {
		var br *seal.ChainBreak
		if errors.As(err, &br) {
			fmt.Fprintf(a.stdout, "%s: record %d: %s\n", a.t("chain_broken"), br.Seq, termText(br.Reason))
		} else {
			fmt.Fprintf(a.stdout, "%s: %s\n", a.t("chain_broken"), termText(err.Error()))
		}
		return exitError{1}
	}
	v, err := seal.NewChainVerifier(checkpoints, &seal.CheckpointTrust{Roots: roots, IsLedgerKey: seal.IsLedgerCertificate})
	if err != nil {
		return fail(err)
	}
	for _, r := range recs {
		if err := v.Add(sealapi.RecordFrom(r)); err != nil {
			return fail(err)
		}
	}
	if err := v.Finish(); err != nil {
		return fail(err)
	}
	fmt.Fprintf(a.stdout, "%s: %d %s, %d %s\n", a.t("chain_ok"), v.Checked, a.t("records"), v.Anchored, a.t("checkpoints"))
	return nil
}
