package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"ikra/app/apikeys"
	"ikra/app/auth"
	"ikra/app/config"
	"ikra/app/loadgen"
	"ikra/app/store"
)

const (
	loadPrepUsage = "usage: ikra load-prep --out DIR [--members N] [--offers N] [--partners N] [--codes N] | ikra load-prep --check"
	loadRunUsage  = "usage: ikra load-run --mode book|complete|api-complete --base URL --dir DIR [--conns N] [--secs N]"
)

// runLoadPrep is the hidden `ikra load-prep`: on a database seed-load filled, it makes
// what the write runs of .ci/perf-load consume (sessions, cashiers, API keys, confirmed
// bookings; app/loadgen.Prepare) and writes it to files. With --check it instead counts
// the members whose balance differs from the sum of their ledger entries, and fails
// when there is one.
func runLoadPrep(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("load-prep", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var opt loadgen.PrepOptions
	fs.StringVar(&opt.Dir, "out", "", "directory for the files")
	fs.IntVar(&opt.Members, "members", 500, "members with a session, who book")
	fs.IntVar(&opt.Offers, "offers", 200, "open offers they book")
	fs.IntVar(&opt.Partners, "partners", 50, "partners with a cashier and an API key")
	fs.IntVar(&opt.Codes, "codes", 20000, "confirmed bookings to complete, for each of the portal and the API")
	check := fs.Bool("check", false, "check balance = sum of entries for every member")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, loadPrepUsage)
	}
	if fs.NArg() > 0 || (!*check && (opt.Dir == "" || opt.Members <= 0 || opt.Offers <= 0 || opt.Partners <= 0 || opt.Codes <= 0)) {
		return errors.New(loadPrepUsage)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if *check {
		n, err := loadgen.Mismatches(ctx, db.SQL)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d members' balances differ from the sum of their ledger entries", n)
		}
		fmt.Fprintln(out, "every balance equals the sum of its ledger entries")
		return nil
	}
	start := time.Now()
	err = loadgen.Prepare(ctx, db.Client, auth.NewSessions(db.Client, nil, "", cfg.SessionTTL), apikeys.New(db.Client), opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "prepared %d member sessions, %d offers, %d cashiers and API keys, 2 × %d confirmed bookings in %s\n",
		opt.Members, opt.Offers, opt.Partners, opt.Codes, time.Since(start).Round(time.Millisecond))
	return nil
}

// runLoadRun is the hidden `ikra load-run`: one timed write run of .ci/perf-load
// (app/loadgen.Run). It prints one line of figures.
func runLoadRun(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("load-run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var opt loadgen.RunOptions
	secs := fs.Int("secs", 10, "seconds")
	fs.StringVar(&opt.Mode, "mode", "", "book, complete or api-complete")
	fs.StringVar(&opt.Base, "base", "", "the server, e.g. http://127.0.0.1:3096")
	fs.StringVar(&opt.Dir, "dir", "", "load-prep's files")
	fs.IntVar(&opt.Conns, "conns", 50, "concurrent connections")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, loadRunUsage)
	}
	if fs.NArg() > 0 || opt.Mode == "" || opt.Base == "" || opt.Dir == "" || opt.Conns <= 0 || *secs <= 0 {
		return errors.New(loadRunUsage)
	}
	opt.Duration = time.Duration(*secs) * time.Second
	res, err := loadgen.Run(ctx, opt)
	if err != nil {
		return err
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fmt.Fprintf(out, "requests=%d errors=%d seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f exhausted=%t\n",
		res.Requests, res.Errors, res.Elapsed.Seconds(), res.RPS(), ms(res.P50), ms(res.P99), res.Exhausted)
	if res.FirstErr != "" {
		fmt.Fprintf(out, "first error: %s\n", res.FirstErr)
	}
	return nil
}
