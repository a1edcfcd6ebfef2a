package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/atomicfile"
	"github.com/spf13/cobra"
)

// `sealctl corpus DIR` seals a copy of every PDF of a folder and checks
// each result (corpus_check.go): a county runs it on its own templates
// before going live, and we run it on public test corpora.

func (a *app) corpusCmd() *cobra.Command {
	var outDir, csvFile string
	var trust []string
	var timeout time.Duration
	var parallel int
	o := stampOpts{}
	cmd := &cobra.Command{
		Use:   "corpus DIR [--out-dir OUT] [--csv FILE]",
		Short: "试盖章：检查一个文件夹中的PDF能否盖章并显示印章 / check that every PDF of a folder seals visibly",
		Long: `试盖章：给文件夹中每个PDF的副本盖章（默认用本次运行临时生成的测试印章，不连接服务；
给出 --server 时通过服务盖章），并检查结果：印章完整显示在页面内、本系统的验证器认可、
qpdf --check 不比原文件差（装有 qpdf 时）。最后打印汇总表，并可写出CSV。原文件不会被修改。
Seal a copy of every PDF of a folder, with a throwaway seal made in memory for this run (no
service needed), or through the service when --server is given, and check each result: the
seal lies wholly on the page (the verifier's placement report), our verifier accepts it, and
qpdf --check finds it no worse than the input (when qpdf is installed). It prints a table
(sealed, repaired, refused by reason, invisible, rejected, timeouts) and can write a CSV. The
input files are never changed. It exits 1 when any file is invisible, rejected, worse in qpdf,
timed out or failed: refusals with a reason are not failures.`,
		Example: `  sealctl corpus ./模板 --csv 试盖章.csv
  sealctl corpus ./templates --out-dir /tmp/sealed --timeout 20s --lang en
  sealctl corpus ./模板 --server 10.0.0.5:8443 --tls-ca ca.pem --trust root.pem --item 450224-XK-0002 --doc-kind 准予行政许可决定书`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := corpusFiles(args[0])
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return fmt.Errorf("no PDF in %s", args[0])
			}
			if outDir == "" {
				if outDir, err = os.MkdirTemp("", "sealctl-corpus-"); err != nil {
					return err
				}
			} else if err := os.MkdirAll(outDir, 0o755); err != nil {
				return err
			}
			c := &corpusChecker{outDir: outDir, timeout: timeout}
			c.qpdf, _ = exec.LookPath("qpdf")
			ctx := cmd.Context()
			if a.server != "" {
				if o.item == "" || len(trust) == 0 {
					return errors.New("corpus --server needs --item (and --doc-kind when the item lists kinds) and --trust, the county root that the service's seals chain to")
				}
				if ctx, err = a.need(cmd); err != nil {
					return err
				}
				opts, err := readTrust(trust, nil)
				if err != nil {
					return err
				}
				c.roots = opts.Roots
				c.sealer = &serviceSealer{a: a, opts: o}
			} else {
				l, err := newLocalSealer()
				if err != nil {
					return err
				}
				c.sealer, c.roots = l, []*smx509.Certificate{l.root}
			}
			results := runCorpus(ctx, c, files, max(1, min(parallel, 32)), a.stderr)
			if csvFile != "" {
				if err := writeCorpusCSV(csvFile, results); err != nil {
					return err
				}
			}
			return a.corpusSummary(results, outDir, csvFile, c.qpdf != "")
		},
	}
	f := cmd.Flags()
	f.StringVar(&outDir, "out-dir", "", "folder for the sealed copies (default: a new temporary folder)")
	f.StringVar(&csvFile, "csv", "", "write one line per file to this CSV")
	f.DurationVar(&timeout, "timeout", 60*time.Second, "time budget per file: sealing and checks")
	f.IntVar(&parallel, "parallel", 2, "files checked at once (1-32)")
	f.StringArrayVar(&trust, "trust", nil, "with --server: PEM file of the county root (repeatable)")
	f.StringVar(&o.item, "item", "", "with --server: the item code to seal under")
	f.StringVar(&o.docKind, "doc-kind", "", "with --server: the document kind")
	return cmd
}

// corpusFiles lists the PDFs of dir (by extension, any case), sorted.
func corpusFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.EqualFold(filepath.Ext(e.Name()), ".pdf") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}

// runCorpus checks the files, parallel at once, drawing a progress bar on
// w when it is a terminal.
func runCorpus(ctx context.Context, c *corpusChecker, files []string, parallel int, w io.Writer) []corpusResult {
	results := make([]corpusResult, len(files))
	bar := &corpusBar{w: w, tty: isTerminal(w), total: len(files)}
	next := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for i := range next {
				results[i] = c.run(ctx, files[i])
				bar.step()
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// corpusBar is a progress bar on a terminal, and nothing elsewhere.
type corpusBar struct {
	w           io.Writer
	tty         bool
	total, done int
	mu          sync.Mutex
}

func (b *corpusBar) step() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done++
	if !b.tty {
		return
	}
	const width = 30
	n := width * b.done / b.total
	fmt.Fprintf(b.w, "\r[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), b.done, b.total)
	if b.done == b.total {
		fmt.Fprintln(b.w)
	}
}

// corpusFault is whether a status is the engine's fault.
func corpusFault(status string) bool {
	switch status {
	case stSealed, stRepaired, stRefused:
		return false
	}
	return true
}

// corpusSummary prints the table: one row per status (refusals by
// reason), with counts and the time per file.
func (a *app) corpusSummary(results []corpusResult, outDir, csvFile string, qpdf bool) error {
	type row struct {
		key          string
		n            int
		times, seals []time.Duration
	}
	rows := map[string]*row{}
	var all, allSeals []time.Duration
	faults := 0
	for _, r := range results {
		key := r.status
		if r.status == stRefused {
			key = stRefused + " (" + r.reason + ")"
		}
		if rows[key] == nil {
			rows[key] = &row{key: key}
		}
		rows[key].n++
		rows[key].times = append(rows[key].times, r.elapsed)
		rows[key].seals = append(rows[key].seals, r.sealing)
		all, allSeals = append(all, r.elapsed), append(allSeals, r.sealing)
		if corpusFault(r.status) {
			faults++
		}
	}
	order := []string{stSealed, stRepaired}
	var refused []string
	for k := range rows {
		if strings.HasPrefix(k, stRefused) {
			refused = append(refused, k)
		}
	}
	sort.Strings(refused)
	order = append(order, refused...)
	order = append(order, stInvisible, stRejected, stQPDF, stTimeout, stError)
	var table [][]string
	for _, k := range order {
		r := rows[k]
		if r == nil {
			continue
		}
		med, p95, mx := timeStats(r.times)
		smed, _, _ := timeStats(r.seals)
		table = append(table, []string{k, fmt.Sprint(r.n), smed, med, p95, mx})
	}
	med, p95, mx := timeStats(all)
	smed, _, _ := timeStats(allSeals)
	table = append(table, []string{a.ct("corpus_total"), fmt.Sprint(len(results)), smed, med, p95, mx})
	a.table([]string{a.ct("corpus_status"), a.ct("corpus_files"), a.ct("corpus_seal"), a.ct("corpus_median"), "p95", "max"}, table)
	fmt.Fprintf(a.stdout, "%s: %s\n", a.ct("corpus_out"), termText(outDir))
	if csvFile != "" {
		fmt.Fprintf(a.stdout, "%s: %s\n", a.ct("report"), termText(csvFile))
	}
	if !qpdf {
		fmt.Fprintln(a.stdout, a.ct("corpus_noqpdf"))
	}
	for _, r := range results {
		if corpusFault(r.status) {
			fmt.Fprintf(a.stdout, "  %s  %s %s\n", termText(r.file), r.status, termText(r.message))
		}
	}
	if faults > 0 {
		return exitError{1}
	}
	return nil
}

// timeStats gives the median, 95th percentile and largest of ds, in
// milliseconds.
func timeStats(ds []time.Duration) (string, string, string) {
	if len(ds) == 0 {
		return "", "", ""
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, k int) bool { return s[i] < s[k] })
	ms := func(d time.Duration) string { return millis(d) + " ms" }
	return ms(s[len(s)/2]), ms(s[min(len(s)-1, len(s)*95/100)]), ms(s[len(s)-1])
}

// millis writes d in milliseconds to a tenth: small files seal in less
// than one.
func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

func writeCorpusCSV(path string, results []corpusResult) error {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"file", "status", "reason", "message", "repaired", "verdict", "seal", "qpdf_in", "qpdf_out", "ms", "output", "seal_ms"})
	for _, r := range results {
		w.Write([]string{r.file, r.status, r.reason, r.message, r.repaired, r.verdict, r.placement, r.qpdfIn, r.qpdfOut,
			millis(r.elapsed), r.out, millis(r.sealing)})
	}
	w.Flush()
	return atomicfile.WriteFile(path, []byte(b.String()), 0o644)
}

// corpusText is the corpus command's text, Chinese and English.
var corpusText = map[string][2]string{
	"corpus_total":  {"合计", "total"},
	"corpus_status": {"结果", "result"},
	"corpus_files":  {"文件数", "files"},
	"corpus_seal":   {"盖章用时（中位数）", "sealing (median)"},
	"corpus_median": {"含检查（中位数）", "with checks (median)"},
	"corpus_out":    {"盖章后的副本", "sealed copies"},
	"corpus_noqpdf": {"未安装 qpdf：未做 qpdf --check 检查", "qpdf is not installed: no qpdf --check"},
	"report":        {"报告", "report"},
}

func (a *app) ct(key string) string {
	if a.lang == "en" {
		return corpusText[key][1]
	}
	return corpusText[key][0]
}
