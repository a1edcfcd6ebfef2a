package seal

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The CSV formats of the county's catalog (see shared/catalog/README.md).
// Each file starts with this header; columns are matched by name, so their
// order may differ.
var (
	TownshipsHeader       = []string{"code", "name", "kind", "seal_name"}
	ItemsHeader           = []string{"code", "name", "type", "window", "domain", "supervisor", "legal_basis", "time_limit_days", "documents"}
	ImplementationsHeader = []string{"township_code", "item_code"}
)

// maxCatalogRows bounds one import so that a hostile file cannot exhaust
// memory; the county has tens of townships and hundreds of items.
const maxCatalogRows = 100_000

// maxImportErrors is how many line errors an import reports before it stops
// looking; enough to fix a file in one pass, not so many as to flood.
const maxImportErrors = 50

// Implementation says that a township implements an item: the pair is on the
// township's published list (实施清单).
type Implementation struct {
	Township string
	Item     string
}

// Catalog is a parsed and cross-checked import.
type Catalog struct {
	Townships       []Township
	Items           []Item
	Implementations []Implementation
}

// LineError is one problem in one line of one file.
type LineError struct {
	File string
	Line int // 1-based, counting the header
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ImportError lists every problem an import found. An import with any
// problem imports nothing.
type ImportError struct {
	Lines     []*LineError
	Truncated bool // more problems than were listed
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "catalog import refused: %d problem(s)", len(e.Lines))
	for _, l := range e.Lines {
		b.WriteString("\n  ")
		b.WriteString(l.Error())
	}
	if e.Truncated {
		b.WriteString("\n  ... more problems not listed")
	}
	return b.String()
}

// CatalogSource is one import: any of the three files may be nil. Known
// resolves references to townships and items that are already registered
// and not in this import; it may be nil.
type CatalogSource struct {
	Townships       io.Reader
	Items           io.Reader
	Implementations io.Reader
	Known           func(township, item string) (townshipKnown, itemKnown bool)
}

// ParseCatalog reads and checks an import: every row well formed, no
// duplicate keys, and every implementation naming a township and an item
// that exist, in this import or already. It returns an *ImportError that
// lists each problem with its file and line.
func ParseCatalog(src CatalogSource) (*Catalog, error) {
	c := &Catalog{}
	ie := &ImportError{}
	add := func(file string, line int, err error) {
		if len(ie.Lines) == maxImportErrors {
			ie.Truncated = true
			return
		}
		ie.Lines = append(ie.Lines, &LineError{File: file, Line: line, Err: err})
	}

	townships := map[string]bool{}
	if src.Townships != nil {
		readCSV("townships.csv", src.Townships, TownshipsHeader, add, func(line int, f map[string]string) {
			t := Township{Code: f["code"], Name: f["name"], Kind: f["kind"], SealName: f["seal_name"]}
			if err := t.Validate(); err != nil {
				add("townships.csv", line, err)
				return
			}
			if townships[t.Code] {
				add("townships.csv", line, fmt.Errorf("township %s listed twice", t.Code))
				return
			}
			townships[t.Code] = true
			c.Townships = append(c.Townships, t)
		})
	}

	items := map[string]Window{}
	if src.Items != nil {
		readCSV("items.csv", src.Items, ItemsHeader, add, func(line int, f map[string]string) {
			days, err := strconv.Atoi(f["time_limit_days"])
			if err != nil {
				add("items.csv", line, fmt.Errorf("time_limit_days %q is not a number", f["time_limit_days"]))
				return
			}
			it := Item{
				Code: f["code"], Name: f["name"], Type: f["type"], Window: Window(f["window"]),
				Domain: f["domain"], Supervisor: f["supervisor"], LegalBasis: f["legal_basis"],
				TimeLimitDays: days, Active: true,
			}
			for _, d := range strings.Split(f["documents"], ";") {
				if d = strings.TrimSpace(d); d != "" && !slices.Contains(it.Documents, d) {
					it.Documents = append(it.Documents, d)
				}
			}
			if err := it.Validate(); err != nil {
				add("items.csv", line, err)
				return
			}
			if _, dup := items[it.Code]; dup {
				add("items.csv", line, fmt.Errorf("item %s listed twice", it.Code))
				return
			}
			items[it.Code] = it.Window
			c.Items = append(c.Items, it)
		})
	}

	if src.Implementations != nil {
		pairs := map[Implementation]bool{}
		readCSV("township_items.csv", src.Implementations, ImplementationsHeader, add, func(line int, f map[string]string) {
			p := Implementation{Township: f["township_code"], Item: f["item_code"]}
			tKnown, iKnown := townships[p.Township], false
			w, inImport := items[p.Item]
			iKnown = inImport
			if src.Known != nil && (!tKnown || !iKnown) {
				kt, ki := src.Known(p.Township, p.Item)
				tKnown, iKnown = tKnown || kt, iKnown || ki
			}
			switch {
			case !tKnown:
				add("township_items.csv", line, fmt.Errorf("township %s is not registered", p.Township))
			case !iKnown:
				add("township_items.csv", line, fmt.Errorf("item %s is not registered", p.Item))
			case inImport && w == WindowDispatched:
				add("township_items.csv", line, fmt.Errorf("item %s belongs to a dispatched agency, not to the township seal", p.Item))
			case pairs[p]:
				add("township_items.csv", line, fmt.Errorf("township %s, item %s listed twice", p.Township, p.Item))
			default:
				pairs[p] = true
				c.Implementations = append(c.Implementations, p)
			}
		})
	}
	if len(ie.Lines) > 0 {
		return nil, ie
	}
	return c, nil
}

// readCSV reads one catalog file, checking its header, and calls row with
// each record's fields by column name. Problems go to add.
func readCSV(file string, r io.Reader, header []string, add func(string, int, error), row func(int, map[string]string)) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		add(file, 1, fmt.Errorf("reading the header: %w", err))
		return
	}
	cols := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // a BOM from spreadsheet exports
		cols[h] = i
	}
	for _, h := range header {
		if _, ok := cols[h]; !ok {
			add(file, 1, fmt.Errorf("header lacks column %q (want %s)", h, strings.Join(header, ",")))
			return
		}
	}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			add(file, line, err)
			return
		}
		if n == maxCatalogRows {
			add(file, line, fmt.Errorf("more than %d rows", maxCatalogRows))
			return
		}
		if len(rec) != len(head) {
			add(file, line, fmt.Errorf("%d fields, header has %d", len(rec), len(head)))
			continue
		}
		f := make(map[string]string, len(header))
		for _, h := range header {
			f[h] = strings.TrimSpace(rec[cols[h]])
		}
		row(line, f)
	}
}
