// Package store opens the database behind ent: SQLite in the data folder by default,
// PostgreSQL when a URL is given, and applies schema changes safely.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // pure-Go SQLite driver "sqlite", wrapped in stmtcache.go

	"ikra/ent"
	"ikra/ent/migrate"
)

// DB is an open database: the ent client and the raw handle beneath it.
type DB struct {
	*ent.Client
	SQL     *sql.DB
	Dialect string
	count   *counter
}

// Open connects to PostgreSQL when databaseURL is set, otherwise to SQLite at dataDir/ikra.db.
func Open(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	if databaseURL != "" {
		db, err := sql.Open("pgx", databaseURL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		// As many idle as open: under load a connection closed after one request
		// would be opened again for the next (a TLS and authentication round).
		db.SetMaxOpenConns(25)
		db.SetMaxIdleConns(25)
		db.SetConnMaxIdleTime(5 * time.Minute)
		if err := ping(ctx, db); err != nil {
			db.Close()
			return nil, fmt.Errorf("postgres: %w", err)
		}
		return wrap(db, dialect.Postgres), nil
	}
	return openSQLite(ctx, dataDir, stmtCacheDriverName)
}

// openSQLite opens dataDir/ikra.db through driverName: the statement-caching driver, or
// the plain one for a benchmark to compare.
func openSQLite(ctx context.Context, dataDir, driverName string) (*DB, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	db, err := sql.Open(driverName, SQLiteDSN(filepath.Join(dataDir, "ikra.db")))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// Reads run in parallel under WAL; writers queue on the busy timeout because every
	// transaction takes the write lock up front (_txlock=immediate), so a reader never
	// has to upgrade a lock and fail with "database is locked".
	// Idle connections are kept (database/sql keeps 2 by default): opening one runs
	// the pragmas again and starts with an empty statement cache.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := ping(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return wrap(db, dialect.SQLite), nil
}

// SQLiteDSN is the connection string for the SQLite file at path: the busy timeout is set
// before WAL so that even switching the journal mode waits instead of failing. Times are
// written in UTC as "2006-01-02 15:04:05.999999999+00:00", which sorts and compares as
// the instants do (the driver's default, Go's Time.String(), does neither).
func SQLiteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(15000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	return "file:" + path + "?" + q.Encode()
}

func wrap(db *sql.DB, dia string) *DB {
	n := new(counter)
	drv := counting{Driver: entsql.OpenDB(dia, db), n: n, gate: writeGate(dia)}
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: db, Dialect: dia, count: n}
}

func ping(ctx context.Context, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// Ping tells whether the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.SQL.PingContext(ctx) }

// Migrate brings the schema up to date. It only adds: tables, columns and indexes are
// created, nothing is dropped, so existing data survives an upgrade. On PostgreSQL an
// advisory lock keeps several nodes starting at once from migrating together.
func (d *DB) Migrate(ctx context.Context) error {
	// ent's migration rewrites package-level schema tables: one at a time per process.
	migrateMu.Lock()
	defer migrateMu.Unlock()
	if d.Dialect == dialect.Postgres {
		conn, err := d.SQL.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		const lockKey = 7_301_947_001
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck
	}
	if err := d.Schema.Create(ctx, schema.WithDropColumn(false), schema.WithDropIndex(false), migrate.WithForeignKeys(true)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := migrateJoinIndexes(ctx, d.SQL); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if d.Dialect == dialect.SQLite {
		// Times written by versions before the sortable format are rewritten once.
		if err := convertSQLiteTimesOnce(ctx, d.SQL); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := migrateSearchSQLite(ctx, d.SQL); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if d.Dialect == dialect.Postgres {
		if err := migrateSearchPG(ctx, d.SQL); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

var migrateMu sync.Mutex

// Close closes the client and the connection pool.
func (d *DB) Close() error { return d.Client.Close() }

// WithTx runs fn in a transaction, rolling back on error or panic.
func WithTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) (err error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			tx.Rollback() //nolint:errcheck
			panic(v)
		}
	}()
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return err
	}
	return tx.Commit()
}
