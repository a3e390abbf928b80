package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable tells whether err says the database cannot be reached or is not
// serving (refused or cut connections, a server shutting down or starting up, a
// connect that timed out, a closed pool), as opposed to an error in the request
// itself. Such a failure is passing: the web answers it with 503 and Retry-After.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true // includes a connect that ran out of time
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case pe.Code == "53300": // too many connections
			return true
		}
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true // a dial, read or write on the connection to the server failed
	}
	// database/sql's own error for a closed pool is not exported; neither are the
	// server's words when it refuses a session before the protocol is up.
	msg := err.Error()
	for _, s := range []string{"sql: database is closed", "the database system is shutting down",
		"the database system is starting up", "the database system is in recovery mode", "conn closed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
