package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"ikra/app/config"
	"ikra/app/loadgen"
	"ikra/app/loyalty"
	"ikra/app/scraping"
	"ikra/app/settings"
	"ikra/app/store"
	"ikra/app/terms"
)

const seedLoadUsage = "usage: ikra seed-load --offers N --members M [--partners P] [--bookings B] [--views V] [--ledger L] [--seed S] [--owner TELEGRAM_ID] [--scrape-limit N]"

// runSeedLoad is `ikra seed-load`: it fills the configured database with synthetic load
// data (app/loadgen) for performance measurements. It refuses a database that already
// holds load data. It needs only the database.
func runSeedLoad(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed-load", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var opt loadgen.Options
	var seed int64
	fs.IntVar(&opt.Offers, "offers", 0, "published offers")
	fs.IntVar(&opt.Members, "members", 0, "members")
	fs.IntVar(&opt.Partners, "partners", 0, "partners (default offers/50)")
	fs.IntVar(&opt.Bookings, "bookings", 0, "bookings (default offers/2)")
	fs.IntVar(&opt.Views, "views", 0, "offer views (default offers)")
	fs.IntVar(&opt.Ledger, "ledger", -1, "ledger entries (default 5 per member, at most 50 per member)")
	fs.Int64Var(&seed, "seed", 9, "random seed")
	fs.Int64Var(&opt.Owner, "owner", 0, "Telegram ID of an existing member to make owner of the busiest generated partner")
	scrapeLimit := fs.Int("scrape-limit", 0, "set both anti-scraping thresholds to N (for a load run)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, seedLoadUsage)
	}
	if fs.NArg() > 0 || opt.Offers <= 0 || opt.Members < 0 || opt.Partners < 0 || opt.Bookings < 0 || opt.Views < 0 || seed <= 0 || opt.Owner < 0 || *scrapeLimit < 0 {
		return errors.New(seedLoadUsage)
	}
	if opt.Ledger == -1 {
		opt.Ledger = 5 * opt.Members
	} else if opt.Ledger < 0 {
		return errors.New(seedLoadUsage)
	}
	opt.Seed = uint64(seed)
	opt.Progress = func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := terms.EnsureInitial(ctx, db.Client); err != nil {
		return err
	}
	if err := loyalty.EnsureDefaults(ctx, db.Client); err != nil {
		return err
	}
	start := time.Now()
	res, err := loadgen.Generate(ctx, db.Client, opt)
	if err != nil {
		return err
	}
	// Fresh planner statistics, as a running database has them (autovacuum on
	// PostgreSQL): right after a bulk load PostgreSQL believes the tables nearly empty
	// and sorts every visible offer instead of walking the newest-first index (200 ms
	// against 3 ms per catalog query at 100 000 offers).
	analyzed := time.Now()
	if _, err := db.SQL.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	fmt.Fprintf(out, "made %d partners, %d offers (%d images), %d members, %d staff, %d bookings, %d views, %d ledger entries in %s (statistics: %s)\n",
		res.Partners, res.Offers, res.Media, res.Members, res.Staff, res.Bookings, res.Views, res.Ledger, time.Since(start).Round(time.Millisecond),
		time.Since(analyzed).Round(time.Millisecond))
	if opt.Owner != 0 {
		fmt.Fprintf(out, "member %d owns partner %d\n", opt.Owner, res.OwnerPartner)
	}
	if *scrapeLimit > 0 {
		// Straight into the settings, past the admin form's ceiling: a load run reads far
		// more pages from one member and address than any person would.
		st := settings.New(db.Client)
		for _, k := range []string{scraping.KeyOffersPerHour, scraping.KeyPagesPer10Min} {
			if err := st.Set(ctx, k, strconv.Itoa(*scrapeLimit), nil); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "anti-scraping thresholds set to %d\n", *scrapeLimit)
	}
	return nil
}
