package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"ikra/app/baseline"
	"ikra/app/config"
	"ikra/app/store"
)

const baselineUsage = "usage: ikra baseline [--addr host:port] --bytes N"

// runBaseline is the hidden `ikra baseline`: it serves the reference pages of a load
// run (app/baseline) over the configured database until ctx ends. .ci/perf-catalog
// starts it next to `ikra serve`.
func runBaseline(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:3098", "listen address")
	size := fs.Int("bytes", 0, "size of the /bare page, the catalog page's size")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, baselineUsage)
	}
	if fs.NArg() > 0 || *size <= 0 {
		return errors.New(baselineUsage)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	srv, err := baseline.New(ctx, db.SQL, *size)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(out, "baseline listening on %s\n", *addr)
	return srv.Listen(ctx, *addr)
}
