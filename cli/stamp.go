package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/atomicfile"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/spf13/cobra"
)

// streamAbove is the document size above which sealctl streams.
const streamAbove = 3 << 20

// stampOpts is one sealing as the command line asks for it.
type stampOpts struct {
	item, caseNo, docKind, requestID, reason string
	accepted                                 string // --accepted (受理时间), accepted.go
	page                                     int
	at, corner, keyword, offset              string
	riding                                   bool
	ridingY                                  float64
}

// requestID derives the request id from what is sealed, so that sealing the
// same file for the same case again — a retry, a resumed batch — is
// recognised by the service and not sealed twice.
func requestID(o *stampOpts, doc []byte) string {
	h := sm3.New()
	for _, s := range []string{o.item, o.caseNo, o.docKind} {
		fmt.Fprintf(h, "%d:%s|", len(s), s)
	}
	h.Write(doc)
	return "sealctl-" + hex.EncodeToString(h.Sum(nil)[:16])
}

func parsePair(s, what string) (float64, float64, error) {
	xs, ys, ok := strings.Cut(s, ",")
	x, err1 := strconv.ParseFloat(strings.TrimSpace(xs), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(ys), 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%s %q is not X,Y in millimetres", what, s)
	}
	return x, y, nil
}

// placement maps the placement flags to the API's.
func (o *stampOpts) placement() (*sealv1.Placement, error) {
	modes := 0
	for _, set := range []bool{o.at != "", o.keyword != "", o.riding} {
		if set {
			modes++
		}
	}
	if modes > 1 {
		return nil, errors.New("choose one of --at, --keyword and --riding")
	}
	switch {
	case o.at != "":
		x, y, err := parsePair(o.at, "--at")
		if err != nil {
			return nil, err
		}
		return &sealv1.Placement{Mode: &sealv1.Placement_Explicit{Explicit: &sealv1.ExplicitPlacement{
			Page: int32(o.page), XMm: x, YMm: y, Corner: o.corner}}}, nil
	case o.keyword != "":
		k := &sealv1.KeywordPlacement{Text: o.keyword}
		if o.offset != "" {
			x, y, err := parsePair(o.offset, "--offset")
			if err != nil {
				return nil, err
			}
			k.OffsetXMm, k.OffsetYMm = x, y
		}
		return &sealv1.Placement{Mode: &sealv1.Placement_Keyword{Keyword: k}}, nil
	case o.riding:
		return &sealv1.Placement{Mode: &sealv1.Placement_Riding{Riding: &sealv1.RidingPlacement{YMm: o.ridingY}}}, nil
	case o.page != 0:
		return nil, errors.New("--page goes with --at")
	}
	return nil, nil
}

func (o *stampOpts) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.item, "item", "", "registered item code, e.g. 450224-XK-0002 (事项编码)")
	f.StringVar(&o.caseNo, "case-no", "", "case number of the application (办件编号)")
	f.StringVar(&o.docKind, "doc-kind", "", "document kind, e.g. 准予行政许可决定书 (文书类型)")
	f.StringVar(&o.reason, "reason", "", "reason written into the signature (default: the item's name)")
	f.StringVar(&o.accepted, "accepted", "", `when the case was accepted (受理时间): "2026-03-06 17:59" in the county's zone, or RFC 3339; the record then says if the item's time limit was kept`)
	f.IntVar(&o.page, "page", 0, "page for --at (1-based; 0 is the last page)")
	f.StringVar(&o.at, "at", "", "X,Y of the seal's centre in mm from --corner")
	f.StringVar(&o.corner, "corner", "bottom-left", "corner --at measures from: bottom-left, top-left, top-right, bottom-right")
	f.StringVar(&o.keyword, "keyword", "", "centre the seal on this text, e.g. the township government's name or （盖章）")
	f.StringVar(&o.offset, "offset", "", "DX,DY in mm to move a --keyword seal")
	f.BoolVar(&o.riding, "riding", false, "cross-page seal (骑缝章) at the right edge of every page")
	f.Float64Var(&o.ridingY, "riding-y", 0, "for --riding: mm from the top edge to the seal's centre (0: middle)")
}

// sealDoc seals doc through the service, streaming large documents. A
// failure the service says to retry is retried with the same request id
// (retry.go).
func (a *app) sealDoc(ctx context.Context, o *stampOpts, doc []byte) (*sealv1.SealResponse, error) {
	var resp *sealv1.SealResponse
	err := a.retry.do(ctx, func() error {
		var err error
		resp, err = a.sealOnce(ctx, o, doc)
		return err
	})
	return resp, err
}

// sealOnce makes one sealing call.
func (a *app) sealOnce(ctx context.Context, o *stampOpts, doc []byte) (*sealv1.SealResponse, error) {
	pl, err := o.placement()
	if err != nil {
		return nil, err
	}
	id := o.requestID
	if id == "" {
		id = requestID(o, doc)
	}
	req := &sealv1.SealRequest{RequestId: id, ItemCode: o.item, CaseNo: o.caseNo, DocKind: o.docKind,
		Placement: pl, Reason: o.reason}
	if req.AcceptedAt, err = parseAccepted(o.accepted); err != nil {
		return nil, err
	}
	client := sealv1.NewSealingServiceClient(a.cc)
	if len(doc) <= streamAbove {
		req.Document = doc
		return client.Seal(ctx, req)
	}
	st, err := client.SealStream(ctx)
	if err != nil {
		return nil, err
	}
	req.DocumentBytes = int64(len(doc)) // the service reserves room for exactly this
	if err := st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Header{Header: req}}); err != nil {
		return nil, err
	}
	for b := doc; len(b) > 0; {
		n := min(len(b), 1<<20)
		if err := st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Chunk{Chunk: b[:n]}}); err != nil {
			break // the server's error comes with Recv
		}
		b = b[n:]
	}
	st.CloseSend()
	first, err := st.Recv()
	if err != nil {
		return nil, err
	}
	resp := &sealv1.SealResponse{Record: first.GetRecord(), Repaired: first.GetRepaired(), Placement: first.GetPlacement()}
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return resp, nil
		}
		if err != nil {
			return nil, err
		}
		resp.Document = append(resp.Document, m.GetChunk()...)
	}
}

func (a *app) stampCmd() *cobra.Command {
	o := &stampOpts{}
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "stamp IN.pdf -o OUT.pdf --item CODE --case-no NO",
		Short: "盖章：给一个PDF盖本乡镇的印章 / seal one PDF with your township's seal",
		Long: `盖章：通过服务给一个PDF盖上本乡镇的电子印章。乡镇由凭据决定。被拒绝时打印拒绝的规则。
Seal one PDF through the service with your township's seal; the township comes from your
credential. A refusal prints the rule that refused, and sealctl exits with status 1.`,
		Example: `  sealctl stamp 决定书.pdf -o 决定书-盖章.pdf --item 450224-XK-0002 --case-no 长安-2026-0042 --doc-kind 准予行政许可决定书
  sealctl stamp in.pdf -o out.pdf --item 450224-XK-0002 --case-no C1 --doc-kind 准予行政许可决定书 --keyword 人民政府
  sealctl stamp in.pdf -o out.pdf --item 450224-XK-0002 --case-no C1 --doc-kind 准予行政许可决定书 --page 1 --at 150,60
  sealctl stamp in.pdf -o out.pdf --item 450224-QR-0001 --case-no C2 --doc-kind 审核意见书 --riding`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" || o.item == "" || o.caseNo == "" {
				return errors.New("stamp needs -o OUT.pdf, --item and --case-no")
			}
			if _, err := os.Stat(out); err == nil && !force {
				// Refused before sealing, so that no ledger record is made
				// for a document that would not be written.
				return fmt.Errorf("%s: %s", termText(out), a.t("out-exists"))
			}
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			resp, err := a.sealDoc(ctx, o, doc)
			if err != nil {
				fmt.Fprintln(a.stderr, a.explain(err))
				return exitError{1}
			}
			if err := atomicfile.WriteFile(out, resp.Document, 0o644); err != nil {
				return err
			}
			if a.json() {
				return a.printStampJSON(resp)
			}
			fmt.Fprintf(a.stdout, "%s  %s  %s #%d  %s %s\n", a.t("sealed"), termText(out), a.t("record"), resp.Record.Seq,
				termText(resp.Record.ItemCode), termText(resp.Record.CaseNo))
			if resp.Repaired != "" {
				fmt.Fprintf(a.stdout, "%s: %s\n", a.t("repaired"), termText(resp.Repaired))
			}
			if o.docKind == "" && resp.Record.DocKind != "" {
				fmt.Fprintf(a.stdout, "%s: %s\n", a.t("doc-kind-default"), termText(resp.Record.DocKind))
			}
			if where := a.sealedWhere(ctx, resp.Document); where != "" {
				fmt.Fprintln(a.stdout, where)
			}
			if resp.Placement != "" {
				fmt.Fprintf(a.stdout, "  %s\n", fmt.Sprintf(a.t("seal-why"), termText(resp.Placement)))
			}
			return nil
		},
	}
	o.flags(cmd)
	a.completeCatalog(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "where to write the sealed PDF")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite -o when it exists")
	cmd.Flags().StringVar(&o.requestID, "request-id", "", "idempotency key (default: derived from the file, item, case and kind)")
	return cmd
}
