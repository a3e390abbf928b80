package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ikra/ent"
	"ikra/ent/offer"
)

// tracker counts the statements the SQLite driver prepared for a caching connection
// and which of them are still open, so the tests can see what the cache closes.
type tracker struct {
	mu       sync.Mutex
	prepared map[string]int // by text
	open     map[*trackedStmt]bool
}

func (tr *tracker) openCount() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.open)
}

func (tr *tracker) preparedCount(query string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.prepared[query]
}

func (tr *tracker) isOpen(query string) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for s := range tr.open {
		if s.text == query {
			return true
		}
	}
	return false
}

type trackingConn struct {
	innerConn
	tr *tracker
}

func (c trackingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.innerConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	ts := &trackedStmt{Stmt: st, text: query, tr: c.tr}
	c.tr.mu.Lock()
	c.tr.prepared[query]++
	c.tr.open[ts] = true
	c.tr.mu.Unlock()
	return ts, nil
}

type trackedStmt struct {
	driver.Stmt
	text string
	tr   *tracker
}

func (s *trackedStmt) Close() error {
	s.tr.mu.Lock()
	if !s.tr.open[s] {
		s.tr.mu.Unlock()
		panic("statement closed twice: " + s.text)
	}
	delete(s.tr.open, s)
	s.tr.mu.Unlock()
	return s.Stmt.Close()
}

func (s *trackedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *trackedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

type trackingConnector struct {
	dsn  string
	size int
	tr   *tracker
}

func (c trackingConnector) Connect(context.Context) (driver.Conn, error) {
	in, err := c.Driver().(*stmtCacheDriver).inner.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachingConn(trackingConn{innerConn: in.(innerConn), tr: c.tr}, c.size)
}

func (c trackingConnector) Driver() driver.Driver {
	db, _ := sql.Open(stmtCacheDriverName, "")
	defer db.Close()
	return db.Driver()
}

// trackedDB opens a fresh SQLite database, with the application's DSN, whose
// connections cache up to size statements, and a table t(id, v) of n rows.
func trackedDB(t *testing.T, size, n int) (*sql.DB, *tracker) {
	t.Helper()
	tr := &tracker{prepared: map[string]int{}, open: map[*trackedStmt]bool{}}
	db := sql.OpenDB(trackingConnector{dsn: SQLiteDSN(filepath.Join(t.TempDir(), "t.db")), size: size, tr: tr})
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
	for i := 1; i <= n; i++ {
		mustExec(t, db, "INSERT INTO t (id, v) VALUES (?, ?)", i, fmt.Sprint("v", i))
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	return db, tr
}

type execer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

func mustExec(t *testing.T, db execer, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

type queryer interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func value(t *testing.T, db queryer, q string, args ...any) string {
	t.Helper()
	var s string
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

// The application's SQLite handle goes through the cache, and the DSN's settings still
// apply to its connections.
func TestOpenUsesStatementCache(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, ok := db.SQL.Driver().(*stmtCacheDriver); !ok {
		t.Fatalf("SQLite driver: %T", db.SQL.Driver())
	}
	for q, want := range map[string]string{
		"PRAGMA journal_mode": "wal", "PRAGMA foreign_keys": "1", "PRAGMA busy_timeout": "15000", "PRAGMA synchronous": "1",
	} {
		if got := value(t, db.SQL, q); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
	}
	// Times are written in the sortable UTC format.
	mustExec(t, db.SQL, "CREATE TABLE tt (at DATETIME)")
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("", 5*3600))
	mustExec(t, db.SQL, "INSERT INTO tt (at) VALUES (?)", at)
	if got := value(t, db.SQL, "SELECT CAST(at AS TEXT) FROM tt"); got != "2024-05-06 02:08:09+00:00" {
		t.Errorf("stored time %q", got)
	}
	var back time.Time
	if err := db.SQL.QueryRowContext(ctx, "SELECT at FROM tt").Scan(&back); err != nil || !back.Equal(at) {
		t.Errorf("time read back %v, %v", back, err)
	}
	// Transactions take the write lock up front (_txlock=immediate): a second writer
	// waits for the first instead of failing when it upgrades.
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := db.SQL.BeginTx(short, nil); err == nil {
		t.Error("a second transaction began while the first held the write lock")
	}
	tx.Rollback()
}

// A statement run again on the same connection is prepared once.
func TestStmtCacheReusesStatements(t *testing.T) {
	db, tr := trackedDB(t, 16, 20)
	db.SetMaxOpenConns(1)
	const q = "SELECT v FROM t WHERE id = ?"
	for i := 1; i <= 20; i++ {
		if got := value(t, db, q, i); got != fmt.Sprint("v", i) {
			t.Fatalf("row %d: %s", i, got)
		}
	}
	if n := tr.preparedCount(q); n != 1 {
		t.Errorf("prepared %d times", n)
	}
	if n := tr.preparedCount("INSERT INTO t (id, v) VALUES (?, ?)"); n != 1 {
		t.Errorf("insert prepared %d times", n)
	}
}

// Inside a transaction a second query may run while the rows of the first are open:
// the cached statement is busy, so the second gets a statement of its own, closed with
// its rows, and both read their own rows.
func TestStmtCacheBusyStatementNotShared(t *testing.T) {
	db, tr := trackedDB(t, 16, 10)
	ctx := context.Background()
	const q = "SELECT id, v FROM t WHERE id > ? ORDER BY id"
	value(t, db, "SELECT v FROM t WHERE id > ? ORDER BY id", 0) // something else cached too
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	a, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tx.QueryContext(ctx, q, 5)
	if err != nil {
		t.Fatal(err)
	}
	if tr.preparedCount(q) != 1 {
		t.Errorf("the busy statement's query was prepared %d times through the cache, want 1 (the other on its own)", tr.preparedCount(q))
	}
	// A third, inside the loop, while both are open.
	c, err := tx.QueryContext(ctx, q, 8)
	if err != nil {
		t.Fatal(err)
	}
	read := func(r *sql.Rows) (int, string) {
		t.Helper()
		if !r.Next() {
			t.Fatalf("rows ended early: %v", r.Err())
		}
		var id int
		var v string
		if err := r.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		return id, v
	}
	for i := 1; i <= 5; i++ {
		if id, v := read(a); id != i || v != fmt.Sprint("v", i) {
			t.Fatalf("first query row %d: %d %s", i, id, v)
		}
		if id, _ := read(b); id != 5+i {
			t.Fatalf("second query row %d: %d", i, id)
		}
		if i <= 2 {
			if id, _ := read(c); id != 8+i {
				t.Fatalf("third query row %d: %d", i, id)
			}
		}
	}
	for _, r := range []*sql.Rows{a, b, c} {
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The own statements are gone, the cached one stays and serves the next run.
	// CREATE TABLE, INSERT and the two SELECTs, on the one connection used so far.
	if open := tr.openCount(); open != 4 {
		t.Errorf("open statements: %d, want 4", open)
	}
	before := tr.preparedCount(q)
	rows, err := tx.QueryContext(ctx, q, 9)
	if err != nil {
		t.Fatal(err)
	}
	if id, v := read(rows); id != 10 || v != "v10" {
		t.Fatalf("after reuse: %d %s", id, v)
	}
	rows.Close()
	if tr.preparedCount(q) != before {
		t.Error("the cached statement was not reused once free")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if n := tr.openCount(); n != 0 {
		t.Errorf("%d statements open after the pool closed", n)
	}
}

// The cache keeps at most its size; an evicted statement is closed, but one whose rows
// are open only once they close; closing the connection closes the rest.
func TestStmtCacheEvictsAndCloses(t *testing.T) {
	db, tr := trackedDB(t, 4, 10)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := 0; i < 10; i++ {
		value(t, conn, fmt.Sprintf("SELECT v FROM t WHERE id = ? AND %d = %d", i, i), 1)
	}
	// The pool has one connection here (database/sql reuses the idle one), so the
	// connection's cache holds all open statements.
	if n := tr.openCount(); n != 4 {
		t.Fatalf("open statements after 10 queries with room for 4: %d", n)
	}
	const held = "SELECT id FROM t WHERE id >= ? ORDER BY id"
	rows, err := conn.QueryContext(ctx, held, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ { // pushes held out of the cache while its rows are open
		value(t, conn, fmt.Sprintf("SELECT v FROM t WHERE id = ? AND %d = %d", 100+i, 100+i), 2)
	}
	if !tr.isOpen(held) {
		t.Fatal("an evicted statement was closed while its rows were open")
	}
	n := 0
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		n++
		if id != n {
			t.Fatalf("row %d: id %d", n, id)
		}
	}
	if err := rows.Err(); err != nil || n != 10 {
		t.Fatalf("read %d rows: %v", n, err)
	}
	rows.Close()
	if tr.isOpen(held) {
		t.Error("an evicted statement stayed open after its rows closed")
	}
	if n := tr.openCount(); n != 4 {
		t.Errorf("open statements: %d, want 4", n)
	}
	// Run again: prepared afresh, correct.
	if got := value(t, conn, held, 7); got != "7" {
		t.Errorf("held query again: %s", got)
	}
	conn.Close()
	db.Close()
	if n := tr.openCount(); n != 0 {
		t.Errorf("%d statements open after the connection closed", n)
	}
}

// A statement that fails to prepare is not cached: once the column exists it runs.
// A cached SELECT * follows a column added on the same connection, and a cached
// statement keeps working after an index is created.
func TestStmtCacheSchemaChanges(t *testing.T) {
	db, tr := trackedDB(t, 16, 3)
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	const bad = "SELECT extra FROM t WHERE id = ?"
	if _, err := db.QueryContext(ctx, bad, 1); err == nil {
		t.Fatal("a query of a missing column ran")
	}
	const all = "SELECT * FROM t WHERE id = ?"
	cols := func() []string {
		t.Helper()
		rows, err := db.QueryContext(ctx, all, 2)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(c))
		ptrs := make([]any, len(c))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if !rows.Next() {
			t.Fatal("no row")
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		return append(c, fmt.Sprint(vals))
	}
	if got := fmt.Sprint(cols()); got != "[id v [2 v2]]" {
		t.Fatalf("before: %s", got)
	}
	mustExec(t, db, "ALTER TABLE t ADD COLUMN extra TEXT NOT NULL DEFAULT 'x'")
	mustExec(t, db, "CREATE INDEX t_v ON t (v)")
	if got := fmt.Sprint(cols()); got != "[id v extra [2 v2 x]]" {
		t.Fatalf("after ALTER TABLE: %s", got)
	}
	if tr.preparedCount(all) != 1 {
		t.Errorf("SELECT * prepared %d times, want the cached one reused", tr.preparedCount(all))
	}
	if got := value(t, db, bad, 3); got != "x" {
		t.Errorf("the once failing query: %s", got)
	}
	if got := value(t, db, "SELECT id FROM t WHERE v = ?", "v3"); got != "3" {
		t.Errorf("indexed lookup: %s", got)
	}
}

// Scripts run every statement, as the driver runs them, and stay out of the cache, as
// do trigger bodies with semicolons.
func TestStmtCacheScripts(t *testing.T) {
	db, tr := trackedDB(t, 16, 1)
	db.SetMaxOpenConns(1)
	const script = "CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER); INSERT INTO b (y) VALUES (7)"
	mustExec(t, db, script)
	mustExec(t, db, "CREATE TRIGGER a_to_b AFTER INSERT ON a BEGIN INSERT INTO b (y) VALUES (new.x); END")
	mustExec(t, db, "INSERT INTO a (x) VALUES (?)", 8)
	if got := value(t, db, "SELECT group_concat(y) FROM (SELECT y FROM b ORDER BY y)"); got != "7,8" {
		t.Errorf("b holds %s", got)
	}
	if tr.preparedCount(script) != 0 {
		t.Error("a script went through the cache")
	}
}

// A query whose context ends while its rows are open leaves the cached statement
// usable.
func TestStmtCacheCanceledQuery(t *testing.T) {
	db, _ := trackedDB(t, 16, 50)
	db.SetMaxOpenConns(1)
	const q = "SELECT id FROM t WHERE id >= ? ORDER BY id"
	ctx, cancel := context.WithCancel(context.Background())
	rows, err := db.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no first row")
	}
	cancel()
	for rows.Next() {
	}
	if err := rows.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("rows: %v", err)
	}
	rows.Close()
	if got := value(t, db, q, 42); got != "42" {
		t.Errorf("after a canceled query: %s", got)
	}
	if _, err := db.QueryContext(ctx, q, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("query with a done context: %v", err)
	}
	if got := value(t, db, q, 43); got != "43" {
		t.Errorf("after a refused query: %s", got)
	}
}

// Many goroutines over a small pool and a small cache, with transactions, nested
// queries and evictions: every answer right (run with -race).
func TestStmtCacheConcurrent(t *testing.T) {
	db, tr := trackedDB(t, 3, 30)
	db.SetMaxOpenConns(4)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				id := (g*7+i)%30 + 1
				q := fmt.Sprintf("SELECT v FROM t WHERE id = ? AND %d > 0", i%5+1)
				var v string
				if err := db.QueryRowContext(ctx, q, id).Scan(&v); err != nil || v != fmt.Sprint("v", id) {
					errs <- fmt.Errorf("%s %d: %q %v", q, id, v, err)
					return
				}
				if i%10 != 0 {
					continue
				}
				err := func() error {
					tx, err := db.BeginTx(ctx, nil)
					if err != nil {
						return err
					}
					defer tx.Rollback()
					rows, err := tx.QueryContext(ctx, "SELECT id FROM t WHERE id <= ? ORDER BY id", 3)
					if err != nil {
						return err
					}
					defer rows.Close()
					for rows.Next() {
						var n int
						if err := rows.Scan(&n); err != nil {
							return err
						}
						var inner string
						if err := tx.QueryRowContext(ctx, "SELECT id FROM t WHERE id <= ? ORDER BY id", n).Scan(&inner); err != nil {
							return err
						}
						if inner != "1" {
							return fmt.Errorf("nested query: %s", inner)
						}
						if _, err := tx.ExecContext(ctx, "UPDATE t SET v = v WHERE id = ?", n); err != nil {
							return err
						}
					}
					if err := rows.Err(); err != nil {
						return err
					}
					rows.Close()
					return tx.Commit()
				}()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	db.Close()
	if n := tr.openCount(); n != 0 {
		t.Errorf("%d statements open after the pool closed", n)
	}
}

// reportCPU reports the process's CPU time per operation, as cpu-ns/op, when the
// returned function runs: on a shared machine the wall time swings with the load.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if used := cpuTime() - start; used > 0 && b.N > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// BenchmarkSQLiteQuery runs, through the statement cache and through the plain driver,
// over 2 000 offers: a catalog-like ent query (a city's published offers of two kinds,
// newest first, a page of 20) and a lookup of one offer by ID (the shape of most of a
// page's other queries).
func BenchmarkSQLiteQuery(b *testing.B) {
	for _, bc := range []struct{ name, driver string }{{"cached", stmtCacheDriverName}, {"plain", "sqlite"}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := openSQLite(ctx, b.TempDir(), bc.driver)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			cat := db.Category.Create().SetSlug("c").SetNameRu("К").SetNameEn("C").SaveX(ctx)
			var cities []*ent.City
			for i := range 3 {
				cities = append(cities, db.City.Create().SetSlug(fmt.Sprint("city", i)).SetNameRu("Г").SetNameEn("C").SaveX(ctx))
			}
			p := db.Partner.Create().SetName("P").SetSlug("p").SetBin("000000000001").SaveX(ctx)
			kinds := []offer.Kind{offer.KindDiscount, offer.KindService, offer.KindEvent}
			for chunk := 0; chunk < 20; chunk++ {
				builders := make([]*ent.OfferCreate, 100)
				for i := range builders {
					n := chunk*100 + i
					at := time.Now().Add(-time.Duration(n) * time.Minute)
					builders[i] = db.Offer.Create().SetPartnerID(p.ID).SetCategoryID(cat.ID).SetCityID(cities[n%3].ID).
						SetTitle(fmt.Sprint("Offer ", n)).SetKind(kinds[n%3]).SetStatus(offer.StatusPublished).SetPublishedAt(at)
				}
				db.Offer.CreateBulk(builders...).ExecX(ctx)
			}
			b.Run("page20", func(b *testing.B) {
				city := cities[1].ID
				defer reportCPU(b)()
				for b.Loop() {
					offers, err := db.Offer.Query().
						Where(offer.StatusEQ(offer.StatusPublished), offer.CityID(city), offer.KindIn(offer.KindDiscount, offer.KindService)).
						Order(ent.Desc(offer.FieldPublishedAt), ent.Desc(offer.FieldID)).
						Limit(20).All(ctx)
					if err != nil || len(offers) != 20 {
						b.Fatalf("%d offers: %v", len(offers), err)
					}
				}
			})
			b.Run("byID", func(b *testing.B) {
				id := 0
				defer reportCPU(b)()
				for b.Loop() {
					id = id%2000 + 1
					if _, err := db.Offer.Query().Where(offer.ID(id)).Only(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
