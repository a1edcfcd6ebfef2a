package postgres

import (
	"context"

	"github.com/ronganxian/eseal/store"
)

// Ping asks the server to run SELECT 1 within ctx: the service's readiness
// check. A server that cannot be reached, is shutting down or starting up,
// or does not answer in time fails it with an error that wraps
// store.ErrUnavailable and names the cause (never the DSN's password).
// Give ctx a short deadline: a frozen server holds the call until then.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	err := d.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	if err != nil && ctx.Err() != nil {
		// The deadline came first: the database did not answer in time.
		return &pingTimeout{err: err}
	}
	return store.Unavailable("postgres: SELECT 1", err)
}

// pingTimeout is a readiness check that ran out of time: the database is
// unavailable as far as callers can tell.
type pingTimeout struct{ err error }

func (e *pingTimeout) Error() string {
	return "postgres: SELECT 1 did not answer in time: " + e.err.Error()
}

func (e *pingTimeout) Unwrap() []error { return []error{store.ErrUnavailable, e.err} }
