package sqlite

import (
	"context"
	"fmt"
)

// Ping runs SELECT 1 on a reading connection within ctx: the service's
// readiness check. An embedded database is unavailable only when its file
// cannot be read.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: SELECT 1: %w", err)
	}
	return nil
}
