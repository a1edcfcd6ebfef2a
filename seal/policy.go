package seal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Rule names one rule of the seal (DESIGN.md §3). A refusal names the rule
// that refused, in the ledger, in logs and metrics, and to the caller.
type Rule string

const (
	RuleUnauthenticated    Rule = "unauthenticated"      // no principal
	RuleNotClerk           Rule = "not_clerk"            // only clerks seal
	RuleWrongTownship      Rule = "wrong_township"       // the seal of another township
	RuleBadRequest         Rule = "bad_request"          // case number or document kind malformed
	RuleUnknownItem        Rule = "unknown_item"         // item not registered
	RuleItemInactive       Rule = "item_inactive"        // item withdrawn
	RuleDispatchedItem     Rule = "dispatched_item"      // a dispatched agency's item (不得挪作他用)
	RuleWrongWindow        Rule = "wrong_window"         // clerk not at the item's window
	RuleItemNotImplemented Rule = "item_not_implemented" // not on the township's list
	RuleDocumentKind       Rule = "document_kind"        // kind not listed for the item
	RuleNoSeal             Rule = "no_seal"              // township has no live seal
	RuleSealSuspended      Rule = "seal_suspended"       // 挂失
	RuleSealRevoked        Rule = "seal_revoked"         // 注销
	RuleCertificateInvalid Rule = "certificate_invalid"  // not yet valid or expired
	RuleBadDocument        Rule = "bad_document"         // not a PDF we can seal: encrypted, damaged, certified
	RulePlacement          Rule = "placement"            // the seal cannot be placed as asked
	RuleRequestConflict    Rule = "request_conflict"     // the request id was used for another request
)

// zh holds the rule explanations in Chinese, for clerks.
var zh = map[Rule]string{
	RuleUnauthenticated:    "未认证：请提供有效的凭据",
	RuleNotClerk:           "只有窗口工作人员可以用印",
	RuleWrongTownship:      "不能使用其他乡镇的印章",
	RuleBadRequest:         "办件编号或文书类型不符合要求",
	RuleUnknownItem:        "事项未登记",
	RuleItemInactive:       "事项已停用",
	RuleDispatchedItem:     "派驻机构事项使用其自有印章，不得使用乡镇印章",
	RuleWrongWindow:        "本窗口无权办理该事项",
	RuleItemNotImplemented: "该事项不在本乡镇实施清单内",
	RuleDocumentKind:       "该事项不允许对此类文书用印",
	RuleNoSeal:             "本乡镇没有可用的印章",
	RuleSealSuspended:      "印章已挂失，暂停使用",
	RuleSealRevoked:        "印章已注销",
	RuleCertificateInvalid: "印章证书不在有效期内",
	RuleBadDocument:        "文件无法盖章（不是PDF、已加密、已损坏或已认证禁止修改）",
	RulePlacement:          "无法按要求放置印章（页码超出范围或未找到关键字）",
	RuleRequestConflict:    "请求编号已用于其他请求，请使用新的请求编号",
}

// Chinese returns the rule's explanation in Chinese.
func (r Rule) Chinese() string { return zh[r] }

// Refusal is the error a sealing request gets when a rule refuses it. It
// says which rule, and in Message what to fix.
type Refusal struct {
	Rule    Rule
	Message string
}

func (r *Refusal) Error() string { return fmt.Sprintf("seal refused (%s): %s", r.Rule, r.Message) }

// Refuse returns a refusal by rule; the message says what to fix.
func Refuse(rule Rule, format string, args ...any) *Refusal {
	return &Refusal{Rule: rule, Message: fmt.Sprintf(format, args...)}
}

var refuse = Refuse

// Unwrap lets errors.Is find the sentinel of a rule that has one: a
// request-id conflict is ErrRequestConflict.
func (r *Refusal) Unwrap() error {
	if r.Rule == RuleRequestConflict {
		return ErrRequestConflict
	}
	return nil
}

// AsRefusal returns the Refusal in err's chain, if any.
func AsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

// ErrNotFound is what a Registry returns for a code it does not know.
var ErrNotFound = errors.New("not found")

// Registry answers the policy's questions about the catalog.
type Registry interface {
	Township(ctx context.Context, code string) (Township, error)
	Item(ctx context.Context, code string) (Item, error)
	Implements(ctx context.Context, township, item string) (bool, error)
}

// Request is what a caller asks to seal.
type Request struct {
	Township string
	Item     string
	CaseNo   string // 办件编号
	DocKind  string // e.g. 准予行政许可决定书
	// Accepted is when the case was accepted (受理), if the window
	// application says: the start of the item's time limit. Zero: none.
	Accepted time.Time
}

// Decision is a granted request: the township and item, which the ledger
// records, and the seal's key that may sign it.
type Decision struct {
	Township Township
	Item     Item
	// DocKind is the kind of document sealed: the one asked for, or the
	// item's only kind when none was asked for.
	DocKind string
	Key     *Key
}

// Policy decides sealing requests. Every path that seals asks it first.
type Policy struct {
	Registry Registry
	Keys     Keys
	Now      func() time.Time // nil: time.Now
}

// Check applies the rules in order: who asks, what item, which seal. It
// returns a *Refusal naming the first rule that refuses, or another error
// when the registry or the seal's lookup fails (which is not a refusal: the
// request may be retried).
func (p *Policy) Check(ctx context.Context, who *Principal, req Request) (*Decision, error) {
	// Rule 1: the caller, its township and its window.
	if who == nil {
		return nil, refuse(RuleUnauthenticated, "no credentials")
	}
	if who.Role != RoleClerk {
		return nil, refuse(RuleNotClerk, "principal %s has role %s; only clerks seal", who.ID, who.Role)
	}
	if req.Township != "" && req.Township != who.Township {
		return nil, refuse(RuleWrongTownship, "principal %s is bound to township %s, not %s", who.ID, who.Township, quoted(req.Township, maxCodeLen))
	}
	req.Township = who.Township
	if !validText(req.CaseNo, maxCaseNoLen) {
		return nil, refuse(RuleBadRequest, "case number (办件编号) must be 1 to %d bytes of printable text", maxCaseNoLen)
	}
	if req.DocKind != "" && !validText(req.DocKind, maxDocKindLen) {
		return nil, refuse(RuleBadRequest, "document kind must be at most %d bytes of printable text", maxDocKindLen)
	}

	// Rule 2: the item.
	if !validText(req.Item, maxCodeLen) {
		return nil, refuse(RuleUnknownItem, "item %s is not registered", quoted(req.Item, maxCodeLen))
	}
	item, err := p.Registry.Item(ctx, req.Item)
	if errors.Is(err, ErrNotFound) {
		return nil, refuse(RuleUnknownItem, "item %q is not registered", req.Item)
	} else if err != nil {
		return nil, fmt.Errorf("looking up item %s: %w", req.Item, err)
	}
	if !item.Active {
		return nil, refuse(RuleItemInactive, "item %s (%s) is no longer active", item.Code, item.Name)
	}
	if item.Window == WindowDispatched {
		return nil, refuse(RuleDispatchedItem, "item %s (%s) belongs to the dispatched agency of %s, which uses its own seal", item.Code, item.Name, item.Domain)
	}
	if !who.AtWindow(item.Window) {
		return nil, refuse(RuleWrongWindow, "item %s is handled at the %s window; principal %s works at %v", item.Code, item.Window, who.ID, who.Windows)
	}
	town, err := p.Registry.Township(ctx, req.Township)
	if errors.Is(err, ErrNotFound) {
		return nil, refuse(RuleWrongTownship, "township %s is not registered", req.Township)
	} else if err != nil {
		return nil, fmt.Errorf("looking up township %s: %w", req.Township, err)
	}
	ok, err := p.Registry.Implements(ctx, town.Code, item.Code)
	if err != nil {
		return nil, fmt.Errorf("looking up the implementation list of %s: %w", town.Code, err)
	}
	if !ok {
		return nil, refuse(RuleItemNotImplemented, "item %s is not on the implementation list of %s (%s)", item.Code, town.Name, town.Code)
	}
	// A clerk who names no kind gets the item's only one; with several,
	// they are named, since none can be guessed. A kind that is named and
	// not listed is the document_kind refusal.
	kind := req.DocKind
	switch {
	case kind == "" && len(item.Documents) == 1:
		kind = item.Documents[0]
	case kind == "" && len(item.Documents) > 1:
		return nil, refuse(RuleBadRequest, "item %s seals %d kinds of document; name one: %s", item.Code, len(item.Documents), strings.Join(item.Documents, ", "))
	case len(item.Documents) > 0 && !item.AllowsDocument(kind):
		return nil, refuse(RuleDocumentKind, "item %s may seal only %v, not %q", item.Code, item.Documents, kind)
	}

	// Rule 3: the seal, read once: its state, its validity, and its signer.
	key, err := p.Keys.Current(ctx, town.Code)
	if errors.Is(err, ErrNoSeal) {
		return nil, refuse(RuleNoSeal, "township %s has no seal", town.Code)
	} else if err != nil {
		return nil, fmt.Errorf("looking up the seal of %s: %w", town.Code, err)
	}
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	if r := key.refusal(town.Name, now); r != nil {
		return nil, r
	}
	return &Decision{Township: town, Item: item, DocKind: kind, Key: key}, nil
}
