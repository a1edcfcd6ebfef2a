package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ronganxian/eseal/internal/atomicfile"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/spf13/cobra"
)

// Shell completion of --item and --doc-kind asks the service which items the
// caller may seal and which document kinds each lists, so that a clerk
// pressing Tab sees the codes of their own township's registered items
// (实施清单) with their names, and then the kinds of the item already typed.
//
// Pressing Tab must be quick and must not load the service, so the answer is
// cached for catalogCacheTTL in the user's cache directory, one file per
// service address and credential (the file name is a hash of both; the file
// holds only item codes, names and kinds, never the token). Any failure —
// no credential, the service down, a slow answer — completes nothing rather
// than printing an error into the shell.

// catalogCacheTTL is how long a completion answer is reused. The catalog
// changes rarely (an import by the county office); a minute is long enough
// for a clerk's repeated Tabs and short enough that a new item appears soon.
const catalogCacheTTL = time.Minute

// completionTimeout bounds the call to the service behind one Tab.
const completionTimeout = 3 * time.Second

// completionItem is what completion needs of an item.
type completionItem struct {
	Code  string   `json:"code"`
	Name  string   `json:"name"`
	Kinds []string `json:"kinds"`
}

// catalogCache is the cached answer, as stored.
type catalogCache struct {
	Fetched time.Time        `json:"fetched"`
	Items   []completionItem `json:"items"`
}

// completeCatalog registers the completion of --item and --doc-kind on cmd.
func (a *app) completeCatalog(cmd *cobra.Command) {
	cmd.RegisterFlagCompletionFunc("item", func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, it := range a.catalogForCompletion(cmd.Context()) {
			if strings.HasPrefix(it.Code, prefix) {
				out = append(out, it.Code+"\t"+oneLine(it.Name))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	cmd.RegisterFlagCompletionFunc("doc-kind", func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		item, _ := cmd.Flags().GetString("item")
		var out []string
		for _, it := range a.catalogForCompletion(cmd.Context()) {
			if item != "" && it.Code != item {
				continue
			}
			for _, k := range it.Kinds {
				if strings.HasPrefix(k, prefix) && !slices.Contains(out, k) {
					out = append(out, k)
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

// catalogForCompletion returns the items the caller may seal, from the cache
// when it is fresh, else from the service (and then caches them). It
// returns nothing on any failure.
func (a *app) catalogForCompletion(ctx context.Context) []completionItem {
	if ctx == nil {
		ctx = context.Background()
	}
	if _, err := a.dial(); err != nil || a.token == "" {
		return nil
	}
	path := a.catalogCachePath()
	if c, ok := readCatalogCache(path, time.Now()); ok {
		return c.Items
	}
	ctx, cancel := context.WithTimeout(a.ctx(ctx), completionTimeout)
	defer cancel()
	items, err := a.sealableItems(ctx)
	if err != nil {
		return nil
	}
	if path != "" {
		if b, err := json.Marshal(catalogCache{Fetched: time.Now(), Items: items}); err == nil {
			if os.MkdirAll(filepath.Dir(path), 0o700) == nil {
				atomicfile.WriteFile(path, b, 0o600) // a cache: failing to keep it costs only speed
			}
		}
	}
	return items
}

// sealableItems asks the service for the active items the caller may seal: a
// clerk's are those its township implements, in its windows; anyone else
// gets the whole active catalog.
func (a *app) sealableItems(ctx context.Context) ([]completionItem, error) {
	me, err := sealv1.NewPrincipalServiceClient(a.cc).WhoAmI(ctx, &sealv1.WhoAmIRequest{})
	if err != nil {
		return nil, err
	}
	reg := sealv1.NewRegistryServiceClient(a.cc)
	var items []*sealv1.Item
	if me.TownshipCode != "" {
		list, err := reg.GetImplementationList(ctx, &sealv1.GetImplementationListRequest{TownshipCode: me.TownshipCode})
		if err != nil {
			return nil, err
		}
		items = list.Items
	} else {
		resp, err := reg.ListItems(ctx, &sealv1.ListItemsRequest{})
		if err != nil {
			return nil, err
		}
		items = resp.Items
	}
	var out []completionItem
	for _, it := range items {
		if !it.Active || (len(me.Windows) > 0 && !slices.Contains(me.Windows, it.Window)) {
			continue
		}
		out = append(out, completionItem{Code: it.Code, Name: it.Name, Kinds: it.Documents})
	}
	return out, nil
}

// catalogCachePath names the cache file for this service and credential, or
// "" when the user has no cache directory.
func (a *app) catalogCachePath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	h := sha256.Sum256([]byte(a.server + "\x00" + a.token))
	return filepath.Join(dir, "sealctl", "completion-"+hex.EncodeToString(h[:8])+".json")
}

// readCatalogCache reads a cache file fetched less than catalogCacheTTL
// before now (and not in the future: a clock set back does not keep it).
func readCatalogCache(path string, now time.Time) (catalogCache, bool) {
	var c catalogCache
	if path == "" {
		return c, false
	}
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, false
	}
	age := now.Sub(c.Fetched)
	return c, age >= 0 && age < catalogCacheTTL
}

// oneLine keeps a completion description on one line: shells split
// completions on newlines.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
