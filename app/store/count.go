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
	n *atomic.Int64
}

func (c counting) Exec(ctx context.Context, query string, args, v any) error {
	c.n.Add(1)
	return c.Driver.Exec(ctx, query, args, v)
}

func (c counting) Query(ctx context.Context, query string, args, v any) error {
	c.n.Add(1)
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
	n *atomic.Int64
}

func (c countingTx) Exec(ctx context.Context, query string, args, v any) error {
	c.n.Add(1)
	return c.Tx.Exec(ctx, query, args, v)
}

func (c countingTx) Query(ctx context.Context, query string, args, v any) error {
	c.n.Add(1)
	return c.Tx.Query(ctx, query, args, v)
}

// Statements is how many statements have run through this database handle.
func (d *DB) Statements() int64 { return d.count.Load() }
