package seal_test

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/democatalog"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/seal"
)

// memRegistry serves a catalog from memory.
type memRegistry struct {
	towns map[string]seal.Township
	items map[string]seal.Item
	impl  map[seal.Implementation]bool
	fail  error
}

func newMemRegistry(t *testing.T) *memRegistry {
	c, err := democatalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := &memRegistry{towns: map[string]seal.Township{}, items: map[string]seal.Item{}, impl: map[seal.Implementation]bool{}}
	for _, x := range c.Townships {
		r.towns[x.Code] = x
	}
	for _, x := range c.Items {
		r.items[x.Code] = x
	}
	for _, x := range c.Implementations {
		r.impl[x] = true
	}
	return r
}

func (r *memRegistry) Township(_ context.Context, code string) (seal.Township, error) {
	if r.fail != nil {
		return seal.Township{}, r.fail
	}
	t, ok := r.towns[code]
	if !ok {
		return t, seal.ErrNotFound
	}
	return t, nil
}

func (r *memRegistry) Item(_ context.Context, code string) (seal.Item, error) {
	if r.fail != nil {
		return seal.Item{}, r.fail
	}
	it, ok := r.items[code]
	if !ok {
		return it, seal.ErrNotFound
	}
	return it, nil
}

func (r *memRegistry) Implements(_ context.Context, town, item string) (bool, error) {
	return r.impl[seal.Implementation{Township: town, Item: item}], nil
}

// memKeys serves the seals of townships from a map, as the keystore would:
// one Key per read, with a signer only for an active seal.
type memKeys map[string]*seal.Key

func (m memKeys) Current(_ context.Context, town string) (*seal.Key, error) {
	k, ok := m[town]
	if !ok {
		return nil, seal.ErrNoSeal
	}
	return k, nil
}

func TestPolicyRules(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	chain := testpki.MustChain(testpki.Options{})
	valid := func(state seal.State) *seal.Key {
		k := &seal.Key{ID: "s", State: state, NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(1, 0, 0)}
		if state == seal.StateActive {
			k.Signer, k.Chain = chain.LeafKey(), chain.Certs
		}
		return k
	}
	lostDuringRead := valid(seal.StateActive)
	lostDuringRead.Signer, lostDuringRead.Chain = nil, nil
	reg := newMemRegistry(t)
	inactive := reg.items["450224-XK-0003"]
	inactive.Active = false
	reg.items["450224-XK-0003"] = inactive
	keys := memKeys{
		"450224100": valid(seal.StateActive),
		"450224101": valid(seal.StateSuspended),
		"450224102": valid(seal.StateRevoked),
		"450224103": {ID: "x", State: seal.StateActive, NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(0, 0, -1)},
		"450224105": valid(seal.StateRotated),
		"450224201": valid(seal.StateIssued),
		"450224202": valid(seal.StatePending),
		"450224203": lostDuringRead,
		"450224200": valid(seal.StateActive),
	}
	p := &seal.Policy{Registry: reg, Keys: keys, Now: func() time.Time { return now }}

	approval := &seal.Principal{ID: "c1", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}}
	service := &seal.Principal{ID: "c2", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowService}}
	clerkAt := func(town string) *seal.Principal {
		return &seal.Principal{ID: "c-" + town, Role: seal.RoleClerk, Township: town, Windows: []seal.Window{seal.WindowApproval, seal.WindowService}}
	}
	req := func(item, kind string) seal.Request {
		return seal.Request{Item: item, CaseNo: "CA-2026-0001", DocKind: kind}
	}
	const permit = "准予行政许可决定书"
	for _, tc := range []struct {
		name string
		who  *seal.Principal
		req  seal.Request
		want seal.Rule // "" means granted
	}{
		{"granted", approval, req("450224-XK-0002", permit), ""},
		{"granted at a township that names itself", approval, seal.Request{Township: "450224100", Item: "450224-XK-0002", CaseNo: "1", DocKind: permit}, ""},
		{"no principal", nil, req("450224-XK-0002", permit), seal.RuleUnauthenticated},
		{"supervisor cannot seal", &seal.Principal{ID: "s", Role: seal.RoleSupervisor, Domains: []string{"农业农村"}}, req("450224-XK-0002", permit), seal.RuleNotClerk},
		{"another township's seal", approval, seal.Request{Township: "450224101", Item: "450224-XK-0002", CaseNo: "1", DocKind: permit}, seal.RuleWrongTownship},
		{"no case number", approval, seal.Request{Item: "450224-XK-0002", DocKind: permit}, seal.RuleBadRequest},
		{"case number with a newline", approval, seal.Request{Item: "450224-XK-0002", CaseNo: "1\n2", DocKind: permit}, seal.RuleBadRequest},
		{"unknown item", approval, req("450224-XK-9999", permit), seal.RuleUnknownItem},
		{"inactive item", approval, req("450224-XK-0003", permit), seal.RuleItemInactive},
		{"dispatched agency's item", clerkAt("450224100"), req("450224-PZ-0001", "营业执照"), seal.RuleDispatchedItem},
		{"service window seals a licensing decision", service, req("450224-XK-0002", permit), seal.RuleWrongWindow},
		{"approval window seals a service item", approval, req("450224-QR-0001", "审核意见书"), seal.RuleWrongWindow},
		{"item not on the township's list", clerkAt("450224200"), req("450224-XK-0006", "林木采伐许可证"), seal.RuleItemNotImplemented},
		{"document kind not listed", approval, req("450224-XK-0002", "营业执照"), seal.RuleDocumentKind},
		{"document kind missing, the item seals several", approval, req("450224-XK-0002", ""), seal.RuleBadRequest},
		{"document kind missing, the item seals one", clerkAt("450224100"), req("450224-JF-0001", ""), ""},
		{"suspended seal", clerkAt("450224101"), req("450224-XK-0002", permit), seal.RuleSealSuspended},
		{"revoked seal", clerkAt("450224102"), req("450224-XK-0002", permit), seal.RuleSealRevoked},
		{"expired certificate", clerkAt("450224103"), req("450224-XK-0002", permit), seal.RuleCertificateInvalid},
		{"no seal", clerkAt("450224104"), req("450224-XK-0002", permit), seal.RuleNoSeal},
		{"rotated seal", clerkAt("450224105"), req("450224-XK-0002", permit), seal.RuleSealRevoked},
		{"seal not yet activated", clerkAt("450224201"), req("450224-XK-0002", permit), seal.RuleNoSeal},
		{"seal waiting for its certificate", clerkAt("450224202"), req("450224-XK-0002", permit), seal.RuleNoSeal},
		{"seal that could not sign when read", clerkAt("450224203"), req("450224-XK-0002", permit), seal.RuleNoSeal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := p.Check(context.Background(), tc.who, tc.req)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if d.Township.Code != "450224100" || d.Item.Code != tc.req.Item || d.Key.ID != "s" || d.Key.Signer == nil {
					t.Fatalf("decision %+v", d)
				}
				// The kind asked for, or the item's only one.
				if want := cmp.Or(tc.req.DocKind, d.Item.Documents[0]); d.DocKind != want {
					t.Fatalf("decision for kind %q, want %q", d.DocKind, want)
				}
				return
			}
			r, ok := seal.AsRefusal(err)
			if !ok {
				t.Fatalf("got %v, want a refusal by %s", err, tc.want)
			}
			if r.Rule != tc.want {
				t.Fatalf("refused by %s (%s), want %s", r.Rule, r.Message, tc.want)
			}
			if d != nil || r.Message == "" || r.Rule.Chinese() == "" {
				t.Fatalf("refusal without message or with a decision: %+v %+v", r, d)
			}
			// A missing kind names the kinds the clerk may choose.
			if tc.req.DocKind == "" && tc.req.Item != "" && tc.want == seal.RuleBadRequest && !strings.Contains(r.Message, "不予行政许可决定书") {
				t.Fatalf("the refusal of a missing kind does not list the kinds: %s", r.Message)
			}
		})
	}
}

func TestPolicyStoreFailureIsNotARefusal(t *testing.T) {
	reg := newMemRegistry(t)
	reg.fail = errors.New("database is down")
	p := &seal.Policy{Registry: reg, Keys: memKeys{}}
	who := &seal.Principal{ID: "c1", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}}
	_, err := p.Check(context.Background(), who, seal.Request{Item: "450224-XK-0002", CaseNo: "1", DocKind: "准予行政许可决定书"})
	if _, ok := seal.AsRefusal(err); ok || !errors.Is(err, reg.fail) {
		t.Fatalf("got %v; want the store's error, not a refusal", err)
	}
}

func TestPrincipalValidate(t *testing.T) {
	for _, tc := range []struct {
		p  seal.Principal
		ok bool
	}{
		{seal.Principal{ID: "c", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}}, true},
		{seal.Principal{ID: "c", Role: seal.RoleClerk, Township: "450224100"}, false},
		{seal.Principal{ID: "c", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowDispatched}}, false},
		{seal.Principal{ID: "c", Role: seal.RoleClerk, Windows: []seal.Window{seal.WindowService}}, false},
		{seal.Principal{ID: "s", Role: seal.RoleSupervisor, Domains: []string{"民政"}}, true},
		{seal.Principal{ID: "s", Role: seal.RoleSupervisor}, false},
		{seal.Principal{ID: "a", Role: seal.RoleAdmin}, true},
		{seal.Principal{ID: "x", Role: "root"}, false},
		{seal.Principal{Role: seal.RoleAdmin}, false},
	} {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}
