package sqlite

import "testing"

// migrationsBefore returns the migrations before the one whose SQL is
// schema: the schema of a database made before that migration, for tests
// that upgrade one.
func migrationsBefore(t *testing.T, schema string) []migration {
	t.Helper()
	for i, m := range migrations {
		if m.sql == schema {
			return migrations[:i]
		}
	}
	t.Fatal("the migration is not among the migrations")
	return nil
}
