package democatalog

import "testing"

func TestLoad(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Townships) != 12 || len(c.Items) != 26 || len(c.Implementations) != 285 {
		t.Fatalf("loaded %d townships, %d items, %d implementations; want 12, 26, 285",
			len(c.Townships), len(c.Items), len(c.Implementations))
	}
}
