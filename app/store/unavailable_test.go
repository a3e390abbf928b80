package store_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"ikra/app/apptest"
	"ikra/app/store"
	"ikra/ent"
)

// Errors that say the database is out of reach are told apart from errors in a request.
func TestIsUnavailableKinds(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{context.Canceled, false},
		{&ent.NotFoundError{}, false},
		{&pgconn.PgError{Code: "23505", Message: "duplicate key value"}, false},
		{&pgconn.PgError{Code: "42601", Message: "syntax error"}, false},
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{&pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{fmt.Errorf("load session: %w", driver.ErrBadConn), true},
		{sql.ErrConnDone, true},
		{errors.New("sql: database is closed"), true},
		{fmt.Errorf("query: %w", errors.New("FATAL: the database system is shutting down (SQLSTATE 57P03)")), true},
	} {
		if got := store.IsUnavailable(c.err); got != c.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// The errors a real server gives while it is down, shutting down, or closed, are all
// "unavailable"; an error in the query is not.
func TestIsUnavailableRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	pg := apptest.PrivatePostgres(t)
	ctx := context.Background()
	db, err := store.Open(ctx, pg.URL, "")
	apptest.Must(t, err)
	defer db.Close()
	var one int
	err = db.SQL.QueryRowContext(ctx, "SELEC 1").Scan(&one)
	if err == nil || store.IsUnavailable(err) {
		t.Fatalf("a syntax error: %v (unavailable: %v)", err, store.IsUnavailable(err))
	}
	// A session held open is cut by the shutdown.
	conn, err := db.SQL.Conn(ctx)
	apptest.Must(t, err)
	pg.Stop()
	err = conn.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	conn.Close()
	if !store.IsUnavailable(err) {
		t.Errorf("a query on a connection the shutdown cut: %v is not unavailable", err)
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = db.Member.Query().Count(qctx)
	if !store.IsUnavailable(err) {
		t.Errorf("a query with the server down: %v is not unavailable", err)
	}
	if err := db.Ping(qctx); !store.IsUnavailable(err) {
		t.Errorf("a ping with the server down: %v is not unavailable", err)
	}
	pg.Start()
	if _, err := db.Member.Query().Count(ctx); err == nil || store.IsUnavailable(err) {
		// the table does not exist: not migrated, a request error
		t.Errorf("after the restart: %v", err)
	}
	db.Close()
	if _, err = db.SQL.ExecContext(ctx, "SELECT 1"); !store.IsUnavailable(err) {
		t.Errorf("a closed pool: %v is not unavailable", err)
	}
}
