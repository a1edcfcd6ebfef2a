package seal

import (
	"fmt"
	"slices"
	"strings"
)

// Window is the counter of the township service centre that handles an
// item, and so the clerks who may seal it.
type Window string

const (
	// WindowApproval is the 行政审批专窗, for licensing items.
	WindowApproval Window = "approval"
	// WindowService is the 综合服务专窗, for non-licensing items and public
	// services.
	WindowService Window = "service"
	// WindowDispatched marks an item of a dispatched agency (派驻机构, such
	// as 市场监管 or 公安) that works in the centre with its own seal. The
	// township seal never seals such an item.
	WindowDispatched Window = "dispatched"
)

// Valid reports whether w is one of the known windows.
func (w Window) Valid() bool {
	return w == WindowApproval || w == WindowService || w == WindowDispatched
}

// Township is a township government with its one seal.
type Township struct {
	Code     string // administrative division code, e.g. 450224100
	Name     string // e.g. 长安镇
	Kind     string // 镇 or 乡
	SealName string // the seal's legal name, e.g. 融安县长安镇人民政府行政审批专用章
}

// Government returns the name of the township government, as it appears
// in the seal certificate's organisation and at a decision's signature line:
// the seal name up to and including 人民政府.
func (t Township) Government() string {
	if i := strings.Index(t.SealName, "人民政府"); i >= 0 {
		return t.SealName[:i+len("人民政府")]
	}
	return t.Name + "人民政府"
}

// Validate checks the fields a township must have.
func (t Township) Validate() error {
	switch {
	case !isDivisionCode(t.Code):
		return fmt.Errorf("township code %q is not a 9-digit division code", t.Code)
	case !validText(t.Name, 64):
		return fmt.Errorf("township %s: name is empty or too long", t.Code)
	case t.Kind != "镇" && t.Kind != "乡":
		return fmt.Errorf("township %s: kind %q is neither 镇 nor 乡", t.Code, t.Kind)
	case !validText(t.SealName, 128) || !strings.HasSuffix(t.SealName, "专用章"):
		return fmt.Errorf("township %s: seal name %q is not a 专用章 name", t.Code, t.SealName)
	}
	return nil
}

// Item is an approval or service item (政务服务事项).
type Item struct {
	Code          string // e.g. 450224-XK-0002
	Name          string
	Type          string // 行政许可, 行政确认, 公共服务, ...
	Window        Window
	Domain        string // the supervising domain, e.g. 农业农村
	Supervisor    string // the county department, e.g. 县农业农村局
	LegalBasis    string
	TimeLimitDays int      // 承诺时限, in working days
	Documents     []string // document kinds that may carry the seal; empty: any
	Active        bool
}

// AllowsDocument reports whether a document of the given kind may carry
// the seal for this item.
func (it Item) AllowsDocument(kind string) bool {
	return len(it.Documents) == 0 || slices.Contains(it.Documents, kind)
}

// Validate checks the fields an item must have.
func (it Item) Validate() error {
	switch {
	case !validItemCode(it.Code):
		return fmt.Errorf("item code %q is not of the form 450224-XK-0001", it.Code)
	case !validText(it.Name, 256):
		return fmt.Errorf("item %s: name is empty or too long", it.Code)
	case !validText(it.Type, 64):
		return fmt.Errorf("item %s: type is empty or too long", it.Code)
	case !it.Window.Valid():
		return fmt.Errorf("item %s: window %q is not approval, service or dispatched", it.Code, it.Window)
	case !validText(it.Domain, 64):
		return fmt.Errorf("item %s: domain is empty or too long", it.Code)
	case !validText(it.Supervisor, 128):
		return fmt.Errorf("item %s: supervisor is empty or too long", it.Code)
	case len(it.LegalBasis) > 1024:
		return fmt.Errorf("item %s: legal basis is too long", it.Code)
	case it.TimeLimitDays < 0 || it.TimeLimitDays > 3650:
		return fmt.Errorf("item %s: time limit %d days is out of range", it.Code, it.TimeLimitDays)
	}
	for _, d := range it.Documents {
		if !validText(d, 128) {
			return fmt.Errorf("item %s: document kind %q is empty or too long", it.Code, d)
		}
	}
	return nil
}

func isDivisionCode(s string) bool {
	if len(s) != 9 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validItemCode accepts codes like 450224-XK-0001: a 6-digit county code,
// two capital letters, and a number.
func validItemCode(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[0]) != 6 || len(parts[1]) != 2 || len(parts[2]) == 0 || len(parts[2]) > 8 {
		return false
	}
	for _, c := range parts[0] + parts[2] {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, c := range parts[1] {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
