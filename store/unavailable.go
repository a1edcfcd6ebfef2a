package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// IsUnavailable reports whether err says that the database could not be
// reached, rather than that it refused what was asked: ErrUnavailable
// itself, a connection that was lost or refused (driver.ErrBadConn,
// sql.ErrConnDone, an unexpected end of the connection, a network error), a
// server that is shutting down or starting up, or one that had no
// connection to spare. It looks only at standard interfaces, so that it
// needs no driver: a PostgreSQL error's SQLSTATE (class 08, connection
// exception; 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
// cannot_connect_now; 53300 too_many_connections), and a driver's
// SafeToRetry (pgx: the failure came before anything was sent).
//
// A context's end is not a database fault: callers test for
// context.Canceled and context.DeadlineExceeded first.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		code := st.SQLState()
		if strings.HasPrefix(code, "08") {
			return true
		}
		switch code {
		case "57P01", "57P02", "57P03", "53300":
			return true
		}
		return false // the server answered: it is there
	}
	var retry interface{ SafeToRetry() bool }
	if errors.As(err, &retry) && retry.SafeToRetry() {
		return true
	}
	var ne net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.As(err, &ne):
		return true
	}
	return false
}

// Unavailable returns err wrapped so that errors.Is(ErrUnavailable) holds,
// with op (what was being done) in its text, if IsUnavailable(err);
// otherwise err unchanged. The driver's error stays in the chain, for the
// log; it never holds the password of the connection string.
func Unavailable(op string, err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !IsUnavailable(err) {
		return err
	}
	return &unavailableError{op: op, err: err}
}

type unavailableError struct {
	op  string
	err error
}

func (e *unavailableError) Error() string {
	return fmt.Sprintf("%v: %s: %v", ErrUnavailable, e.op, e.err)
}

func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }
