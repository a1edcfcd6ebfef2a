package cli

import (
	"os"
	"strings"

	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// lang is "zh" or "en": from --lang, else SEAL_LANG, else LANG, else zh.
func detectLang(flag string) string {
	for _, v := range []string{flag, os.Getenv("SEAL_LANG"), os.Getenv("LANG")} {
		switch {
		case strings.HasPrefix(v, "zh"):
			return "zh"
		case strings.HasPrefix(v, "en"):
			return "en"
		}
	}
	return "zh"
}

// msgs holds the CLI's own messages in both languages.
var msgs = map[string][2]string{ // zh, en
	"sealed":           {"已盖章", "sealed"},
	"refused":          {"拒绝盖章", "refused"},
	"rule":             {"规则", "rule"},
	"record":           {"账本记录", "ledger record"},
	"output":           {"输出文件", "output"},
	"replayed":         {"（重复请求，返回首次结果）", "(repeated request: the first result)"},
	"repaired":         {"文件已损坏，修复后盖章", "the file was damaged: repaired, then sealed"},
	"seal-at":          {"盖章位置：第 %d 页，印章中心距页面左下角 %.0f, %.0f 毫米", "seal on page %d, centred %.0f, %.0f mm from the bottom-left corner"},
	"seal-at-pages":    {"骑缝章，%d 页", "riding seal on %d pages"},
	"seal-why":         {"位置依据：%s", "why there: %s"},
	"doc-kind-default": {"未指定文书类型，按该事项唯一的文书类型盖章", "no --doc-kind given: sealed as the item's only document kind"},
	"seal-image-drawn": {"按规则绘制的印章图样", "drawn by the rules"},
	"seal-image-scan":  {"县里提供的印章扫描件（已清理）", "the county's scan, cleaned"},
	"out-exists":       {"输出文件已存在，不覆盖（如需覆盖请加 --force）", "the output file exists; not overwritten (give --force to overwrite it)"},
	"error":            {"错误", "error"},
	"batch_done":       {"批量盖章完成", "batch finished"},
	"ok":               {"成功", "sealed"},
	"failed":           {"失败", "failed"},
	"skipped":          {"已完成（跳过）", "already done (skipped)"},
	"report":           {"报告", "report"},
	"chain_ok":         {"账本完整", "ledger intact"},
	"chain_broken":     {"账本断裂", "ledger broken"},
	"records":          {"条记录", "records"},
	"checkpoints":      {"个签名检查点", "signed checkpoints"},
}

func (a *app) t(key string) string {
	m, ok := msgs[key]
	if !ok {
		return key
	}
	if a.lang == "en" {
		return m[1]
	}
	return m[0]
}

// explain turns a service error into a line for a person: for a refusal,
// the rule and the explanation in the user's language.
func (a *app) explain(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.Domain == sealapi.ErrorDomain {
			if a.lang == "zh" && ei.Metadata["message_zh"] != "" {
				return a.t("refused") + "（" + a.t("rule") + " " + ei.Reason + "）：" + ei.Metadata["message_zh"] + "。" + st.Message()
			}
			return a.t("refused") + " (" + a.t("rule") + " " + ei.Reason + "): " + st.Message()
		}
	}
	return st.Code().String() + ": " + st.Message()
}
