package store

import (
	"context"
	"sync/atomic"

	"entgo.io/ent/dialect"
)

// counting wraps a driver and counts the statements it runs, so tests can check that a
// page runs a fixed number of queries however much data it shows (eager loading, not
// a query per row). An atomic add per statement costs nothing measurable.
type counting struct {
	dialect.Driver
	n *counter
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
	tx, err := c.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return countingTx{Tx: tx, n: c.n}, nil
}

type countingTx struct {
	dialect.Tx
	n *counter
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
