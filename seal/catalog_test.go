package seal_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/internal/democatalog"
	"github.com/ronganxian/eseal/seal"
)

func TestParseCatalogSample(t *testing.T) {
	c, err := democatalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	var xk2 seal.Item
	for _, it := range c.Items {
		if it.Code == "450224-XK-0002" {
			xk2 = it
		}
	}
	if xk2.Name != "农村村民宅基地审批" || xk2.Window != seal.WindowApproval || xk2.Domain != "农业农村" ||
		xk2.Supervisor != "县农业农村局" || xk2.TimeLimitDays != 20 || len(xk2.Documents) != 3 || !xk2.Active {
		t.Errorf("450224-XK-0002 parsed as %+v", xk2)
	}
	if g := c.Townships[0].Government(); g != "融安县长安镇人民政府" {
		t.Errorf("government of %s: %q", c.Townships[0].Name, g)
	}
}

func TestParseCatalogErrors(t *testing.T) {
	const townsHead = "code,name,kind,seal_name\n"
	const itemsHead = "code,name,type,window,domain,supervisor,legal_basis,time_limit_days,documents\n"
	const goodTown = "450224100,长安镇,镇,融安县长安镇人民政府行政审批专用章\n"
	const goodItem = "450224-XK-0002,农村村民宅基地审批,行政许可,approval,农业农村,县农业农村局,法,20,准予行政许可决定书\n"
	for _, tc := range []struct {
		name       string
		towns      string
		items      string
		impl       string
		wantErrors []string // "file:line|substring of the message"
	}{
		{"bad township code and duplicate", townsHead + goodTown + "4502241,长安镇,镇,X专用章\n" + goodTown, "", "",
			[]string{"townships.csv:3|not a 9-digit", "townships.csv:4|listed twice"}},
		{"bad window and days", "", itemsHead + strings.Replace(goodItem, "approval", "counter", 1) +
			strings.Replace(strings.Replace(goodItem, ",20,", ",twenty,", 1), "0002", "0003", 1), "",
			[]string{"items.csv:2|window \"counter\"", "items.csv:3|time_limit_days"}},
		{"missing column", "code,name,kind\n450224100,长安镇,镇\n", "", "", []string{"townships.csv:1|header lacks column \"seal_name\""}},
		{"unknown references", townsHead + goodTown, itemsHead + goodItem,
			"township_code,item_code\n450224100,450224-XK-0002\n450224999,450224-XK-0002\n450224100,450224-XK-0009\n450224100,450224-XK-0002\n",
			[]string{"township_items.csv:3|township 450224999 is not registered", "township_items.csv:4|item 450224-XK-0009 is not registered",
				"township_items.csv:5|listed twice"}},
		{"dispatched item on a township list", townsHead + goodTown,
			itemsHead + "450224-PZ-0001,个体工商户设立登记,行政许可,dispatched,市场监管,县市场监督管理局,法,3,营业执照\n",
			"township_code,item_code\n450224100,450224-PZ-0001\n", []string{"township_items.csv:2|dispatched agency"}},
		{"wrong field count", townsHead + "450224100,长安镇\n", "", "", []string{"townships.csv:2|2 fields"}},
		{"bare quote", townsHead + "450224100,\"长安镇,镇,X\n", "", "", []string{"townships.csv:2|"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := seal.CatalogSource{}
			if tc.towns != "" {
				src.Townships = strings.NewReader(tc.towns)
			}
			if tc.items != "" {
				src.Items = strings.NewReader(tc.items)
			}
			if tc.impl != "" {
				src.Implementations = strings.NewReader(tc.impl)
			}
			c, err := seal.ParseCatalog(src)
			var ie *seal.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, %v; want an ImportError", c, err)
			}
			if c != nil {
				t.Fatal("a refused import returned a catalog")
			}
			if len(ie.Lines) != len(tc.wantErrors) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ie.Lines), len(tc.wantErrors), err)
			}
			for i, want := range tc.wantErrors {
				where, what, _ := strings.Cut(want, "|")
				if got := ie.Lines[i].Error(); !strings.HasPrefix(got, where+": ") || !strings.Contains(got, what) {
					t.Errorf("problem %d: %q, want %s: ...%s...", i, got, where, what)
				}
			}
		})
	}
}

func TestParseCatalogKnownReferences(t *testing.T) {
	impl := "township_code,item_code\n450224100,450224-XK-0002\n"
	_, err := seal.ParseCatalog(seal.CatalogSource{Implementations: strings.NewReader(impl)})
	if err == nil {
		t.Fatal("implementation of unknown township and item accepted")
	}
	c, err := seal.ParseCatalog(seal.CatalogSource{
		Implementations: strings.NewReader(impl),
		Known:           func(string, string) (bool, bool) { return true, true },
	})
	if err != nil || len(c.Implementations) != 1 {
		t.Fatalf("registered references: %v, %v", c, err)
	}
}
