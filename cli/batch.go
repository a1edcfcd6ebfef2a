package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/mattn/go-isatty"
	"github.com/ronganxian/eseal/internal/atomicfile"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/spf13/cobra"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// batchJob is one file of a batch.
type batchJob struct {
	file, out string
	opts      stampOpts
}

// batchResult is one line of the report.
type batchResult struct {
	job     batchJob
	status  string // sealed, refused, error, skipped
	rule    string
	message string
	seq     uint64
	// repaired says what the service repaired before sealing a damaged
	// file; empty when it sealed the file as it came.
	repaired string
}

// readCSVJobs reads a batch list: file,item,case_no,doc_kind with a header;
// files are relative to the list's folder.
func readCSVJobs(path, outDir string) ([]batchJob, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"file", "item", "case_no"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: header lacks %q (want file,item,case_no,doc_kind)", path, need)
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var jobs []batchJob
	base := filepath.Dir(path)
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return jobs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		file := get(rec, "file")
		if file == "" {
			return nil, fmt.Errorf("%s:%d: no file", path, line)
		}
		if !filepath.IsAbs(file) {
			file = filepath.Join(base, file)
		}
		jobs = append(jobs, batchJob{file: file, out: filepath.Join(outDir, filepath.Base(file)),
			opts: stampOpts{item: get(rec, "item"), caseNo: get(rec, "case_no"), docKind: get(rec, "doc_kind")}})
	}
}

// dirJobs lists the PDFs of a folder; each file's name (without .pdf) is
// its case number.
func dirJobs(dir, outDir string, o stampOpts) ([]batchJob, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var jobs []batchJob
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".pdf") {
			continue
		}
		j := batchJob{file: filepath.Join(dir, e.Name()), out: filepath.Join(outDir, e.Name()), opts: o}
		j.opts.caseNo = strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		jobs = append(jobs, j)
	}
	sort.Slice(jobs, func(i, k int) bool { return jobs[i].file < jobs[k].file })
	return jobs, nil
}

func (a *app) runJob(ctx context.Context, j batchJob) batchResult {
	res := batchResult{job: j}
	if _, err := os.Stat(j.out); err == nil {
		res.status, res.message = "skipped", "output exists"
		return res
	}
	doc, err := os.ReadFile(j.file)
	if err != nil {
		res.status, res.message = "error", err.Error()
		return res
	}
	resp, err := a.sealDoc(ctx, &j.opts, doc)
	if err != nil {
		res.status, res.message = "error", err.Error()
		if st, ok := status.FromError(err); ok {
			res.message = st.Message()
			for _, d := range st.Details() {
				if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.Domain == sealapi.ErrorDomain {
					res.status, res.rule = "refused", ei.Reason
				}
			}
		}
		return res
	}
	if err := atomicfile.WriteFile(j.out, resp.Document, 0o644); err != nil {
		res.status, res.message = "error", err.Error()
		return res
	}
	res.status, res.seq, res.repaired = "sealed", resp.Record.Seq, resp.Repaired
	return res
}

// progress draws a bar on a terminal, or prints a line per file elsewhere.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	done  int
	mu    sync.Mutex
	a     *app
}

func (p *progress) step(r batchResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if !p.tty {
		fmt.Fprintf(p.w, "[%d/%d] %s %s", p.done, p.total, p.a.t(map[string]string{
			"sealed": "ok", "refused": "refused", "error": "failed", "skipped": "skipped"}[r.status]), r.job.file)
		if r.rule != "" {
			fmt.Fprintf(p.w, " (%s)", r.rule)
		}
		fmt.Fprintln(p.w)
		return
	}
	const width = 30
	n := width * p.done / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), p.done, p.total)
	if p.done == p.total {
		fmt.Fprintln(p.w)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func (a *app) batchCmd() *cobra.Command {
	o := stampOpts{}
	var outDir, report string
	var parallel int
	cmd := &cobra.Command{
		Use:   "batch (DIR | LIST.csv) --out-dir OUT",
		Short: "批量盖章 / seal a folder of PDFs or a CSV list",
		Long: `批量盖章：给一个文件夹中的所有PDF（文件名即办件编号，事项和文书类型由参数给出），或一个CSV清单
（列：file,item,case_no,doc_kind）中的文件盖章。并行处理；中断后重新运行同一命令即可继续，已盖章的文件
不会重复盖章。最后打印汇总，并写出CSV报告。
Seal every PDF of a folder (the file name is the case number; --item and --doc-kind apply to
all) or every file of a CSV list (columns file,item,case_no,doc_kind). Files are sealed in
parallel. Run the same command again after an interruption: nothing is sealed twice (an
existing output is kept, and the request id of each file is derived from its content). It ends
with a summary and a CSV report of what was sealed and what was refused, and why.`,
		Example: `  sealctl batch ./待盖章 --out-dir ./已盖章 --item 450224-XK-0002 --doc-kind 准予行政许可决定书
  sealctl batch 清单.csv --out-dir ./已盖章 --report 报告.csv --parallel 8`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if outDir == "" {
				return errors.New("batch needs --out-dir")
			}
			var jobs []batchJob
			var err error
			if fi, serr := os.Stat(args[0]); serr == nil && fi.IsDir() {
				if o.item == "" {
					return errors.New("a folder batch needs --item (and --doc-kind when the item lists kinds)")
				}
				jobs, err = dirJobs(args[0], outDir, o)
			} else {
				jobs, err = readCSVJobs(args[0], outDir)
			}
			if err != nil {
				return err
			}
			if len(jobs) == 0 {
				return fmt.Errorf("nothing to seal in %s", args[0])
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return err
			}
			ctx, err := a.need(cmd)
			if err != nil {
				return err
			}
			parallel = max(1, min(parallel, 32))
			results := make([]batchResult, len(jobs))
			p := &progress{w: a.stderr, tty: isTerminal(a.stderr), total: len(jobs), a: a}
			next := make(chan int)
			var wg sync.WaitGroup
			for range parallel {
				wg.Go(func() {
					for i := range next {
						results[i] = a.runJob(ctx, jobs[i])
						p.step(results[i])
					}
				})
			}
			for i := range jobs {
				next <- i
			}
			close(next)
			wg.Wait()
			if report == "" {
				report = filepath.Join(outDir, "batch-report.csv")
			}
			if err := writeReport(report, results); err != nil {
				return err
			}
			return a.summarise(results, report)
		},
	}
	o.flags(cmd)
	a.completeCatalog(cmd)
	cmd.Flags().StringVar(&outDir, "out-dir", "", "folder for the sealed PDFs")
	cmd.Flags().StringVar(&report, "report", "", "CSV report (default OUT/batch-report.csv)")
	cmd.Flags().IntVar(&parallel, "parallel", 4, "files sealed at once (1-32)")
	return cmd
}

func writeReport(path string, results []batchResult) error {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"file", "item", "case_no", "doc_kind", "status", "rule", "message", "output", "ledger_seq", "repaired"})
	for _, r := range results {
		seq := ""
		if r.seq > 0 {
			seq = fmt.Sprint(r.seq)
		}
		out := ""
		if r.status == "sealed" || r.status == "skipped" {
			out = r.job.out
		}
		w.Write([]string{r.job.file, r.job.opts.item, r.job.opts.caseNo, r.job.opts.docKind, r.status, r.rule, r.message, out, seq, r.repaired})
	}
	w.Flush()
	return atomicfile.WriteFile(path, []byte(b.String()), 0o644)
}

func (a *app) summarise(results []batchResult, report string) error {
	count := map[string]int{}
	for _, r := range results {
		count[r.status]++
		if r.repaired != "" {
			count["repaired"]++
		}
	}
	if a.json() {
		return a.printJSON(map[string]any{"total": len(results), "sealed": count["sealed"], "skipped": count["skipped"],
			"refused": count["refused"], "error": count["error"], "repaired": count["repaired"], "report": report})
	}
	fmt.Fprintf(a.stdout, "%s: %d  %s %d  %s %d  %s %d  %s %d\n%s: %s\n", a.t("batch_done"), len(results),
		a.t("ok"), count["sealed"], a.t("skipped"), count["skipped"], a.t("refused"), count["refused"],
		a.t("failed"), count["error"], a.t("report"), report)
	for _, r := range results {
		switch {
		case r.status == "refused" || r.status == "error":
			fmt.Fprintf(a.stdout, "  %s  %s %s\n", termText(r.job.file), termText(r.rule), termText(r.message))
		case r.repaired != "":
			fmt.Fprintf(a.stdout, "  %s  %s: %s\n", termText(r.job.file), a.t("repaired"), termText(r.repaired))
		}
	}
	if count["refused"]+count["error"] > 0 {
		return exitError{1}
	}
	return nil
}
