package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
)

// counting wraps a driver and counts the statements it runs, so tests can check that a
// page runs a fixed number of queries however much data it shows (eager loading, not
// a query per row). An atomic add per statement costs nothing measurable.
type counting struct {
	dialect.Driver
	n *counter
	// gate, on SQLite, lets one transaction of this process at a time begin: see
	// writeGate.
	gate chan struct{}
}

// gateWait is how long a transaction waits for the gate before it begins anyway and
// leaves the waiting to SQLite's busy timeout (as long), so that a transaction begun
// while another of the same goroutine is open fails as before instead of hanging.
const gateWait = 15 * time.Second

// writeGate returns the gate of an SQLite handle. Every SQLite transaction takes the
// write lock up front, and a writer that finds it taken sleeps in SQLite's busy handler
// in growing steps (up to 100 ms) instead of waking when the lock is free: under
// concurrent writes most of a request's time went to these sleeps, and the p99 to
// seconds. Queueing in the process instead hands the lock on at once.
func writeGate(dia string) chan struct{} {
	if dia != dialect.SQLite {
		return nil
	}
	return make(chan struct{}, 1)
}

// counter counts statements and, while a test traces, hands each one to the tracer.
type counter struct {
	n     atomic.Int64
	trace atomic.Pointer[func(string)]
}

func (c *counter) Add(query string) {
	c.n.Add(1)
	if f := c.trace.Load(); f != nil {
		(*f)(query)
	}
}

func (c counting) Exec(ctx context.Context, query string, args, v any) error {
	c.n.Add(query)
	return c.Driver.Exec(ctx, query, args, v)
}

func (c counting) Query(ctx context.Context, query string, args, v any) error {
	c.n.Add(query)
	return c.Driver.Query(ctx, query, args, v)
}

func (c counting) Tx(ctx context.Context) (dialect.Tx, error) {
	release := func() {}
	if c.gate != nil {
		t := time.NewTimer(gateWait)
		select {
		case c.gate <- struct{}{}:
			var once sync.Once
			release = func() { once.Do(func() { <-c.gate }) }
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		t.Stop()
	}
	tx, err := c.Driver.Tx(ctx)
	if err != nil {
		release()
		return nil, err
	}
	return countingTx{Tx: tx, n: c.n, release: release}, nil
}

type countingTx struct {
	dialect.Tx
	n       *counter
	release func() // lets the next transaction begin (the gate); idempotent
}

func (c countingTx) Commit() error {
	defer c.release()
	return c.Tx.Commit()
}

func (c countingTx) Rollback() error {
	defer c.release()
	return c.Tx.Rollback()
}

func (c countingTx) Exec(ctx context.Context, query string, args, v any) error {
	c.n.Add(query)
	return c.Tx.Exec(ctx, query, args, v)
}

func (c countingTx) Query(ctx context.Context, query string, args, v any) error {
	c.n.Add(query)
	return c.Tx.Query(ctx, query, args, v)
}

// Statements is how many statements have run through this database handle.
func (d *DB) Statements() int64 { return d.count.n.Load() }

// Trace hands every statement to f until the returned function is called; tests use it
// to say which statements a page ran. Only one tracer at a time.
func (d *DB) Trace(f func(query string)) (stop func()) {
	d.count.trace.Store(&f)
	return func() { d.count.trace.Store(nil) }
}
