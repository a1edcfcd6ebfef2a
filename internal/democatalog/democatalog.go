// Package democatalog embeds the sample catalog of 融安县 (twelve
// townships, their items and implementation lists) that the demo service
// and the tests load. The data is illustrative, not an official 实施清单;
// see shared/catalog/README.md.
package democatalog

import (
	"bytes"
	_ "embed"

	"github.com/ronganxian/eseal/seal"
)

var (
	//go:embed townships.csv
	Townships []byte
	//go:embed items.csv
	Items []byte
	//go:embed township_items.csv
	Implementations []byte
)

// Load parses the embedded catalog.
func Load() (*seal.Catalog, error) {
	return seal.ParseCatalog(seal.CatalogSource{
		Townships:       bytes.NewReader(Townships),
		Items:           bytes.NewReader(Items),
		Implementations: bytes.NewReader(Implementations),
	})
}
