package store

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"
	"sync"
)

// SQLite compiles the text of every statement it runs; ent hands each query to
// database/sql as text, so without help a page spends much of its time compiling the
// same few dozen statements again. The driver registered here as "sqlite-stmtcache"
// wraps the SQLite driver: each connection keeps its most recently used statements
// prepared, keyed by their text, and runs a query on the prepared statement. The
// connection itself — DSN, pragmas, time format, transactions — is the SQLite driver's.
// PostgreSQL's driver (pgx) caches statements itself.

const (
	stmtCacheDriverName = "sqlite-stmtcache"
	// stmtCacheSize bounds the statements one connection keeps prepared.
	stmtCacheSize = 256
	// stmtCacheMaxText keeps one-off giant statements (bulk inserts) out of the cache.
	stmtCacheMaxText = 16 << 10
)

func init() {
	// The driver the SQLite package registered, so that functions or hooks registered
	// on it apply to these connections too. sql.Open connects to nothing.
	db, err := sql.Open("sqlite", "")
	if err != nil {
		panic(err)
	}
	inner := db.Driver()
	db.Close()
	sql.Register(stmtCacheDriverName, &stmtCacheDriver{inner: inner, size: stmtCacheSize})
}

type stmtCacheDriver struct {
	inner driver.Driver
	size  int
}

func (d *stmtCacheDriver) Open(name string) (driver.Conn, error) {
	c, err := d.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return newCachingConn(c, d.size)
}

// innerConn is what the SQLite driver's connection implements and the wrapper uses.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

func newCachingConn(c driver.Conn, size int) (driver.Conn, error) {
	in, ok := c.(innerConn)
	if !ok {
		c.Close()
		return nil, errors.New("store: the SQLite driver's connection lacks the interfaces the statement cache needs")
	}
	return &cachingConn{in: in, size: size, byText: make(map[string]*list.Element)}, nil
}

// cachingConn is one SQLite connection with its statement cache. database/sql uses a
// connection from one goroutine at a time, rows included; the mutex only keeps the
// cache's bookkeeping safe should that ever change.
type cachingConn struct {
	in   innerConn
	size int

	mu     sync.Mutex
	lru    list.List // of *cachedStmt, most recently used first
	byText map[string]*list.Element
	closed bool
}

// cachedStmt is a prepared statement of the cache. While busy (its rows are open) it is
// not handed out again; once evicted or its connection closed it is closed as soon as it
// is not busy.
type cachedStmt struct {
	text    string
	stmt    driver.Stmt
	busy    bool
	evicted bool
}

// cacheable tells whether a statement may be kept prepared: one statement only (the
// SQLite driver re-parses a script on every run, so keeping one saves nothing), and not
// a giant one-off.
func cacheable(query string) bool {
	return len(query) <= stmtCacheMaxText && !strings.Contains(query, ";")
}

// acquire returns the cached statement for query, prepared now if it was not cached,
// marked busy. It returns nil (and no error) when the cached statement is busy: the
// caller then runs the query without the cache.
func (c *cachingConn) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	c.mu.Lock()
	if e, ok := c.byText[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			c.mu.Unlock()
			return nil, nil
		}
		cs.busy = true
		c.lru.MoveToFront(e)
		c.mu.Unlock()
		return cs, nil
	}
	c.mu.Unlock()

	st, err := c.in.PrepareContext(ctx, query)
	if err != nil {
		return nil, err // not cached: the next run prepares again
	}
	if _, ok := st.(driver.StmtQueryContext); !ok {
		st.Close()
		return nil, nil
	}
	if _, ok := st.(driver.StmtExecContext); !ok {
		st.Close()
		return nil, nil
	}
	cs := &cachedStmt{text: query, stmt: st, busy: true}
	var evict []*cachedStmt
	c.mu.Lock()
	if _, ok := c.byText[query]; ok || c.closed {
		// Cached meanwhile (or the connection closed): this one is closed after its run.
		cs.evicted = true
		c.mu.Unlock()
		return cs, nil
	}
	c.byText[query] = c.lru.PushFront(cs)
	for c.lru.Len() > c.size {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.byText, old.text)
		if old.busy {
			old.evicted = true
		} else {
			evict = append(evict, old)
		}
	}
	c.mu.Unlock()
	for _, old := range evict {
		old.stmt.Close() //nolint:errcheck // closing a reset statement only frees it
	}
	return cs, nil
}

// release makes cs available again, or closes it if it left the cache meanwhile.
func (c *cachingConn) release(cs *cachedStmt) error {
	c.mu.Lock()
	cs.busy = false
	closeIt := cs.evicted && !c.closed
	c.mu.Unlock()
	if closeIt {
		return cs.stmt.Close()
	}
	return nil
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if !cacheable(query) {
		return c.in.QueryContext(ctx, query, args)
	}
	cs, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		// The cached statement's rows are still open (a second query inside a
		// transaction): a statement of its own, closed with its rows.
		return c.in.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.release(cs) //nolint:errcheck // the query's error is the one to report
		return nil, err
	}
	return &cachedRows{in: rows, release: func() error { return c.release(cs) }}, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if !cacheable(query) {
		return c.in.ExecContext(ctx, query, args)
	}
	cs, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.in.ExecContext(ctx, query, args)
	}
	res, err := cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	if rerr := c.release(cs); err == nil && rerr != nil {
		return nil, rerr
	}
	return res, err
}

// Close closes the cached statements, then the connection. database/sql closes a
// connection only once its rows are closed, so no statement is busy here; one that
// were would be left to SQLite, which frees it when the connection goes.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	c.closed = true
	var idle []*cachedStmt
	for e := c.lru.Front(); e != nil; e = e.Next() {
		if cs := e.Value.(*cachedStmt); !cs.busy {
			idle = append(idle, cs)
		}
	}
	c.lru.Init()
	clear(c.byText)
	c.mu.Unlock()
	var err error
	for _, cs := range idle {
		if e := cs.stmt.Close(); err == nil {
			err = e
		}
	}
	if e := c.in.Close(); e != nil {
		err = e
	}
	return err
}

// Everything else is the SQLite connection's own.

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.in.Prepare(query) }
func (c *cachingConn) Begin() (driver.Tx, error)                 { return c.in.Begin() }
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.in.BeginTx(ctx, opts)
}
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.in.PrepareContext(ctx, query)
}
func (c *cachingConn) Ping(ctx context.Context) error         { return c.in.Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.in.ResetSession(ctx) }
func (c *cachingConn) IsValid() bool                          { return c.in.IsValid() }

// cachedRows are the rows of a cached statement; closing them makes the statement
// available again.
type cachedRows struct {
	in      driver.Rows
	release func() error
	done    bool
}

func (r *cachedRows) Columns() []string              { return r.in.Columns() }
func (r *cachedRows) Next(dest []driver.Value) error { return r.in.Next(dest) }

func (r *cachedRows) Close() error {
	if r.done {
		// Closing twice must not reset the statement again: another query may
		// be running on it by now.
		return nil
	}
	r.done = true
	err := r.in.Close()
	if rerr := r.release(); err == nil {
		err = rerr
	}
	return err
}

// The column type interfaces the SQLite driver's rows implement, passed on; the
// fallbacks are what database/sql assumes when rows lack them.

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.in.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.in.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.in.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.in.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.in.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
