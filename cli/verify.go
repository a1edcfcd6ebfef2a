package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/emmansun/gmsm/smx509"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/verify"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
)

// `sealctl verify`: is this PDF validly sealed, as it is displayed now? It
// works offline, with the trust anchors and CRLs it is given, and needs no
// server.

const verifyLong = `验证PDF上的电子印章：签名是否完好、证书是否可信且未被吊销、签章后文件是否被修改。
无需连接服务，只需县级根证书（--trust）；提供证书吊销列表（--crl）时同时检查吊销状态。
verify checks the seals (signatures) on PDFs offline: are their bytes intact, is the
certificate chain trusted and not revoked at the signing time, and did anything change
what the pages show after signing. It needs only the county root (--trust) and, to
check revocation, the CRL (--crl); both may be PEM or DER, and be given several times.
--online also fetches the CRLs that the seals' certificates name (their CRL distribution
points, the county service's /county.crl), so that revocation is as of now (联网检查吊销).

退出状态 / exit status:
  0  每个文件至少有一个签章，且全部有效 / every file has a signature and all are valid
  1  有签章或文件无效 / a signature or a file is invalid
  2  有文件无法作为PDF读取（优先于1）/ a file cannot be read as a PDF (wins over 1)

--json (or --output json) prints, for each file, one JSON object: the FileReport
message of proto/seal/v1/verification.proto in the protobuf JSON mapping:
  {"verdict": "valid"|"invalid"|"unreadable", "reasons": [...], "warnings": [...],
   "size": "123", "revisions": 2, "file": "a.pdf",
   "signatures": [{"field", "signer", "sealName", "townshipCode", "itemCode", "itemName",
     "caseNo", "reason", "location", "filter", "subFilter", "signingTime",
     "signingTimeSource", "digestAlgorithm", "signatureAlgorithm", "digestMatch",
     "signatureValid", "chain": [{"subject", "issuer", "serial", "notBefore", "notAfter",
       "keyUsage", "signatureValid", "validAtSigningTime", "trustAnchor", "revocation"}],
     "chainTrusted", "keyUsageOk", "validAtSigningTime", "revocation", "revokedAt",
     "coversWholeFile", "revision", "laterRevisions": [{"revision", "kind", "detail",
       "allowed", "objects", "pages"}], "docMdp", "valid", "reasons", "warnings",
     "provenTime", "timeBasis": "proven"|"claimed", "timestamp": {"time",
       "accuracyMicros", "tsa", "tsaSubject", "tsaSerial", "serial", "policy",
       "hashAlgorithm", "signatureAlgorithm", "chainTrusted", "valid"}}]}
Every field is present (false, 0 and "" included). Each reason and warning is
"CODE: meaning: detail", where CODE is stable (e.g. digest_mismatch, untrusted,
revoked, modified_after_signing, byte_range_gap).

--at TIME verifies as of TIME (2050-01-01, or RFC 3339) instead of now. A seal
with a valid timestamp is judged at its proven time; one without says so
(time_only_claimed) once its certificate has expired.`

// verifyText holds the verify command's words, in Chinese and English.
var verifyText = map[string][2]string{
	"valid":             {"有效", "VALID"},
	"invalid":           {"无效", "INVALID"},
	"unreadable":        {"无法读取", "UNREADABLE"},
	"why":               {"原因", "why"},
	"warning":           {"提示", "note"},
	"signature":         {"签章", "signature"},
	"nosig":             {"没有签章", "no signature"},
	"seal":              {"印章", "seal"},
	"township":          {"乡镇代码", "township"},
	"signer":            {"签名者", "signer"},
	"item":              {"事项", "item"},
	"case":              {"办件编号", "case number"},
	"reason":            {"签章理由", "reason"},
	"time":              {"签章时间", "signing time"},
	"claimed-cms":       {"签名属性中声明", "claimed in the signed attributes"},
	"claimed-pdf":       {"签名字典中声明", "claimed in the signature dictionary"},
	"none":              {"未声明", "none claimed"},
	"claimed-timestamp": {"文档时间戳", "a document timestamp"},
	"proven":            {"证实时间", "proven time"},
	"proven-by":         {"由时间戳证实，精度 %s", "proven by a timestamp, accuracy %s"},
	"basis":             {"判定依据", "judged at"},
	"basis-proven":      {"证实时间（吊销与有效期按此判定）", "the proven time (validity and revocation judged at it)"},
	"basis-claimed":     {"声明时间（无有效时间戳，时间仅为签章方声明）", "the claimed time (no valid timestamp: the time is only the signer's claim)"},
	"tsa":               {"时间戳机构", "time-stamping authority"},
	"tsa-line":          {"%s，序列号 %s，策略 %s，%s", "%s, serial %s, policy %s, %s"},
	"tsa-ok":            {"时间戳有效", "token valid"},
	"tsa-bad":           {"时间戳无效", "token not valid"},
	"algorithms":        {"算法", "algorithms"},
	"integrity":         {"完整性", "integrity"},
	"digest-ok":         {"摘要一致", "digest matches"},
	"digest-bad":        {"摘要不符", "digest does not match"},
	"sig-ok":            {"签名值有效", "signature verifies"},
	"sig-bad":           {"签名值无效", "signature does not verify"},
	"chain":             {"证书链", "chain"},
	"trusted":           {"可信", "trusted"},
	"untrusted":         {"不可信", "not trusted"},
	"anchor":            {"信任锚", "trust anchor"},
	"valid-from":        {"有效期", "valid"},
	"cert-sig-ok":       {"签发者签名有效", "issuer's signature verifies"},
	"cert-sig-bad":      {"签发者签名未验证", "issuer's signature not verified"},
	"revocation":        {"吊销状态", "revocation"},
	"good":              {"未吊销", "not revoked"},
	"revoked":           {"已吊销", "revoked"},
	"suspended":         {"已挂失", "suspended"},
	"unknown":           {"未知（未提供吊销列表）", "unknown (no CRL given)"},
	"since":             {"自", "since"},
	"coverage":          {"签署范围", "covers"},
	"whole":             {"整个文件", "the whole file"},
	"partial":           {"文件的第 %d 版（共 %d 版）", "revision %d of %d"},
	"notrev":            {"不是文件的任何一版", "no revision of the file"},
	"later":             {"后续修改", "later changes"},
	"nolater":           {"无", "none"},
	"allowed":           {"允许", "allowed"},
	"forbidden":         {"不允许", "not allowed"},
	"rev":               {"第 %d 版", "revision %d"},
	"summary":           {"%d 个签章，%d 个有效", "%d signature(s), %d valid"},
	"seal-at":           {"印章位置", "seal drawn"},
	"seal-page":         {"第 %d 页 %s", "page %d at %s"},
	"seal-on":           {"在页面内", "on the page"},
	"seal-off":          {"超出页面可见区域 %s", "off the page, which shows %s"},
	"seal-hidden":       {"不显示", "not drawn"},
	"seal-nopage":       {"不在任何页面上", "on no page"},
	"seal-none":         {"无（不可见签名）", "none (an invisible signature)"},
}

// revisionKinds names the kinds of later change in Chinese.
var revisionKinds = map[string]string{
	"signature": "签章", "timestamp": "时间戳", "dss": "验证数据", "annotation": "注释", "form_field": "表单域",
	"page_content": "页面内容", "page_tree": "页面结构", "catalog": "文档目录", "metadata": "元数据",
	"unreferenced": "未引用的对象", "unparseable": "无法解析", "trailing_data": "文件末尾数据",
}

func (a *app) vt(key string) string {
	if a.lang == "en" {
		return verifyText[key][1]
	}
	return verifyText[key][0]
}

func (a *app) verifyCmd() *cobra.Command {
	var trust, crls []string
	var asJSON bool
	var extract string
	var at string
	var online bool
	cmd := &cobra.Command{
		Use:   "verify [--trust root.pem]... [--crl file]... [--at TIME] [--json] FILE...",
		Short: "离线验证已盖章的PDF / verify sealed PDFs offline",
		Long:  verifyLong,
		Example: `  sealctl verify --trust county-root.pem approval.pdf
  sealctl verify --trust county-root.pem --crl county.crl --lang en *.pdf
  sealctl verify --trust county-root.pem --json approval.pdf
  sealctl verify --trust county-root.pem --at 2050-01-01 approval.pdf
  sealctl verify --trust county-root.pem --online approval.pdf`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			opts, err := readTrust(trust, crls)
			if err == nil && at != "" {
				var when time.Time
				if when, err = parseAt(at); err == nil {
					opts.Now = func() time.Time { return when }
				}
			}
			if err != nil {
				fmt.Fprintf(a.stderr, "sealctl: %v\n", err)
				return exitError{2}
			}
			status := 0
			fetched := map[string][]*smx509.RevocationList{} // --online: each URL once
			for _, name := range files {
				fopts := opts
				if online {
					fopts = a.onlineOptions(cmd.Context(), name, opts, fetched)
				}
				rep := verifyFile(cmd.Context(), name, fopts)
				if extract != "" {
					if err := a.extractSeals(extract, name, rep); err != nil {
						return err
					}
				}
				if asJSON || a.json() {
					if err := a.printReportJSON(name, rep); err != nil {
						return err
					}
				} else {
					a.printReport(a.stdout, name, rep)
				}
				switch rep.Verdict {
				case verify.VerdictUnreadable:
					status = 2
				case verify.VerdictInvalid:
					status = max(status, 1)
				}
			}
			if status != 0 {
				return exitError{status}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&trust, "trust", nil, "trust anchor certificates, PEM or DER (the county root); repeatable")
	f.StringArrayVar(&crls, "crl", nil, "certificate revocation lists, PEM or DER; repeatable")
	f.BoolVar(&asJSON, "json", false, "print one JSON report per file (see the schema above)")
	f.BoolVar(&online, "online", false, "also fetch the CRLs the seals' certificates name (their CRL distribution points) and check revocation with them")
	f.StringVar(&extract, "extract-seal", "", "write the registered picture of each signature's seal (its SESeal) into this folder")
	f.StringVar(&at, "at", "", "verify as of this time (2050-01-01, or RFC 3339 with its offset) instead of now: will it still verify then?")
	return cmd
}

// readTrust reads the trust anchors and CRLs named on the command line.
func readTrust(trust, crls []string) (verify.Options, error) {
	var opts verify.Options
	for _, name := range trust {
		b, err := os.ReadFile(name)
		if err != nil {
			return opts, err
		}
		certs, err := verify.ParseCertificates(b)
		if err != nil {
			return opts, fmt.Errorf("--trust %s: %w", name, err)
		}
		opts.Roots = append(opts.Roots, certs...)
	}
	for _, name := range crls {
		b, err := os.ReadFile(name)
		if err != nil {
			return opts, err
		}
		rls, err := verify.ParseCRLs(b)
		if err != nil {
			return opts, fmt.Errorf("--crl %s: %w", name, err)
		}
		opts.CRLs = append(opts.CRLs, rls...)
	}
	return opts, nil
}

// verifyFile verifies one file; a file that cannot be opened or read is
// reported unreadable.
func verifyFile(ctx context.Context, name string, opts verify.Options) *verify.FileReport {
	unreadable := func(err error) *verify.FileReport {
		return &verify.FileReport{Verdict: verify.VerdictUnreadable, Reasons: []verify.Problem{{Code: verify.CodeUnreadable, Detail: err.Error()}}}
	}
	f, err := os.Open(name)
	if err != nil {
		return unreadable(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return unreadable(err)
	}
	if !st.Mode().IsRegular() {
		return unreadable(errors.New("not a regular file"))
	}
	rep, err := verify.PDF(ctx, f, st.Size(), opts)
	if err != nil {
		return unreadable(err)
	}
	return rep
}

// paren puts s in parentheses, full-width in Chinese.
func (a *app) paren(s string) string {
	if a.lang == "en" {
		return " (" + s + ")"
	}
	return "（" + s + "）"
}

func (a *app) printReportJSON(name string, rep *verify.FileReport) error {
	m := sealapi.Report(rep)
	m.File = name
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(a.stdout, string(b))
	return err
}

// problemText says a problem in the user's language: the code's meaning,
// then the detail (which names offsets and objects, in English).
func (a *app) problemText(p verify.Problem) string {
	meaning := p.Code.Chinese()
	if a.lang == "en" || meaning == "" {
		meaning = p.Code.English()
	}
	if p.Detail == "" {
		return meaning
	}
	if a.lang == "en" {
		return meaning + ": " + p.Detail
	}
	return meaning + "：" + p.Detail
}

// printReport prints a report for a person: the verdict, then why, then
// the details of each signature.
func (a *app) printReport(w io.Writer, name string, rep *verify.FileReport) {
	colon := "："
	if a.lang == "en" {
		colon = ": "
	}
	fmt.Fprintf(w, "%s%s%s\n", termText(name), colon, a.vt(string(rep.Verdict)))
	if rep.Verdict != verify.VerdictUnreadable && len(rep.Signatures) > 0 {
		valid := 0
		for _, s := range rep.Signatures {
			if s.Valid {
				valid++
			}
		}
		fmt.Fprintf(w, "  "+a.vt("summary")+"\n", len(rep.Signatures), valid)
	}
	for _, p := range rep.Reasons {
		fmt.Fprintf(w, "  %s%s%s\n", a.vt("why"), colon, termText(a.problemText(p)))
	}
	for _, p := range rep.Warnings {
		fmt.Fprintf(w, "  %s%s%s\n", a.vt("warning"), colon, termText(a.problemText(p)))
	}
	for i, s := range rep.Signatures {
		a.printSignature(w, i+1, rep.Revisions, s)
	}
}

func (a *app) printSignature(w io.Writer, n, revisions int, s verify.SignatureReport) {
	verdict := a.vt("invalid")
	if s.Valid {
		verdict = a.vt("valid")
	}
	fmt.Fprintf(w, "\n  %s %d %s  %s\n", a.vt("signature"), n, termText(s.Field), verdict)
	var rows [][2]string
	add := func(label, value string) {
		if value != "" {
			rows = append(rows, [2]string{a.vt(label), value})
		}
	}
	for _, p := range s.Reasons {
		add("why", a.problemText(p))
	}
	add("seal", s.SealName)
	add("township", s.Township)
	add("signer", s.Signer)
	add("item", strings.TrimSpace(s.ItemCode+" "+s.ItemName))
	add("case", s.CaseNumber)
	add("reason", s.Reason)
	switch s.SigningTimeSource {
	case "cms", "pdf", "timestamp", "ses":
		add("time", a.when(s.SigningTime)+a.paren(a.vt("claimed-"+s.SigningTimeSource)))
	default:
		add("time", a.vt("none"))
	}
	a.timeRows(s, add)
	if s.SignatureAlgorithm != "" {
		add("algorithms", s.DigestAlgorithm+" / "+s.SignatureAlgorithm)
		digest, sig := a.vt("digest-bad"), a.vt("sig-bad")
		if s.DigestMatch {
			digest = a.vt("digest-ok")
		}
		if s.SignatureValid {
			sig = a.vt("sig-ok")
		}
		sep := "，"
		if a.lang == "en" {
			sep = ", "
		}
		add("integrity", digest+sep+sig)
	}
	if len(s.Chain) > 0 {
		trusted := a.vt("untrusted")
		if s.ChainTrusted {
			trusted = a.vt("trusted")
		}
		add("chain", trusted)
		for _, c := range s.Chain {
			line := c.Subject + "  " + a.vt("valid-from") + " " + a.day(c.NotBefore) + " – " + a.day(c.NotAfter)
			if len(c.KeyUsage) > 0 {
				line += "  " + strings.Join(c.KeyUsage, ", ")
			}
			switch {
			case c.TrustAnchor:
				line += a.paren(a.vt("anchor"))
			case c.SignatureValid:
				line += a.paren(a.vt("cert-sig-ok"))
			default:
				line += a.paren(a.vt("cert-sig-bad"))
			}
			rows = append(rows, [2]string{"", "  " + line})
		}
		rev := a.vt(string(s.Revocation))
		if !s.RevokedAt.IsZero() {
			rev += a.paren(a.vt("since") + " " + a.when(s.RevokedAt))
		}
		add("revocation", rev)
	}
	switch {
	case s.Revision == 0:
		add("coverage", a.vt("notrev"))
	case s.CoversWholeFile:
		add("coverage", a.vt("whole"))
	default:
		add("coverage", fmt.Sprintf(a.vt("partial"), s.Revision, revisions))
	}
	a.sealRows(s.Seals, add)
	a.sesealRows(s, add)
	if len(s.LaterRevisions) == 0 {
		add("later", a.vt("nolater"))
	}
	for i, c := range s.LaterRevisions {
		kind := c.Kind
		if a.lang != "en" && revisionKinds[kind] != "" {
			kind = revisionKinds[kind]
		}
		ok := a.vt("forbidden")
		if c.Allowed {
			ok = a.vt("allowed")
		}
		label := ""
		if i == 0 {
			label = a.vt("later")
		}
		rows = append(rows, [2]string{label, fmt.Sprintf(a.vt("rev"), c.Revision) + " " + kind + a.paren(ok) + ": " + c.Detail})
	}
	for _, p := range s.Warnings {
		add("warning", a.problemText(p))
	}
	width := 0
	for _, r := range rows {
		width = max(width, displayWidth(r[0]))
	}
	for _, r := range rows {
		// Every value may come from the PDF: it is printed escaped.
		fmt.Fprintf(w, "    %s%s  %s\n", r[0], strings.Repeat(" ", width-displayWidth(r[0])), termText(r[1]))
	}
}

// sealRows says where each widget of a signature draws its seal, and
// whether that lies on the page (verify/placement.go).
func (a *app) sealRows(seals []verify.SealPlacement, add func(key, value string)) {
	if len(seals) == 0 {
		add("seal-at", a.vt("seal-none"))
		return
	}
	for _, p := range seals {
		var v string
		switch {
		case p.Page == 0:
			v = a.vt("seal-nopage")
		case !p.Drawn:
			v = fmt.Sprintf(a.vt("seal-page"), p.Page, verify.FormatRect(p.Rect)) + a.paren(a.vt("seal-hidden"))
		case p.OnPage:
			v = fmt.Sprintf(a.vt("seal-page"), p.Page, verify.FormatRect(p.Rect)) + a.paren(a.vt("seal-on"))
		default:
			v = fmt.Sprintf(a.vt("seal-page"), p.Page, verify.FormatRect(p.Rect)) + a.paren(fmt.Sprintf(a.vt("seal-off"), verify.FormatRect(p.CropBox)))
		}
		add("seal-at", v)
	}
}
