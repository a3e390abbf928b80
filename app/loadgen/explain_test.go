package loadgen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"ikra/app/apptest"
	"ikra/app/bookings"
	"ikra/app/catalog"
	"ikra/app/fraud"
	"ikra/app/ledger"
	"ikra/app/loadgen"
	"ikra/app/loyalty"
	"ikra/app/offers"
	"ikra/app/settings"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/member"
	"ikra/ent/offer"
)

// bigTables are the tables that grow with the platform; a list query must reach their
// rows through an index, never by reading the whole table. SQLite's plan shows a missing
// index whatever the table holds; PostgreSQL's planner rightly reads a table of a few
// pages in full, so there a sequential scan counts only on a table of bigRows or more.
var bigTables = map[string]bool{
	"offers": true, "offer_media": true, "bookings": true, "members": true,
	"offer_views": true, "offer_revisions": true, "offer_invited": true, "referrals": true,
}

// statement is one SQL statement a page ran, with its arguments.
const bigRows = 1000

type statement struct {
	query string
	args  []any
}

// capture is an ent driver that remembers the SELECTs it runs.
type capture struct {
	dialect.Driver
	mu   sync.Mutex
	seen []statement
}

func (c *capture) Query(ctx context.Context, query string, args, v any) error {
	if strings.HasPrefix(strings.TrimSpace(strings.ToUpper(query)), "SELECT") {
		a, _ := args.([]any)
		c.mu.Lock()
		c.seen = append(c.seen, statement{query, append([]any(nil), a...)})
		c.mu.Unlock()
	}
	return c.Driver.Query(ctx, query, args, v)
}

func (c *capture) take() []statement {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.seen
	c.seen = nil
	return s
}

// With 10 000 offers on the platform, the SQL of the catalog (unfiltered and by
// category), the offer page, the partner's offer list, the partner's bookings inbox
// and the fraud detectors reads no growing table in full: EXPLAIN on SQLite and
// PostgreSQL shows an index for each of them.
func TestListQueriesUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 10 000 offers")
	}
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			apptest.Must(t, loyalty.EnsureDefaults(ctx, d.DB.Client))
			res, err := loadgen.Generate(ctx, d.DB.Client, loadgen.Options{Offers: 10000, Members: 5000, Bookings: 10000, Views: 10000})
			apptest.Must(t, err)
			if res.Offers != 10000 || res.Bookings == 0 || res.Media == 0 {
				t.Fatalf("generated %+v", res)
			}
			if _, err := loadgen.Generate(ctx, d.DB.Client, loadgen.Options{Offers: 1}); err != loadgen.ErrLoaded {
				t.Fatalf("second run: %v, want ErrLoaded", err)
			}
			// Fresh statistics, as a running installation has them (PostgreSQL's planner
			// prefers a sequential scan on a table it believes empty).
			_, err = d.DB.SQL.ExecContext(ctx, "ANALYZE")
			apptest.Must(t, err)

			drv := &capture{Driver: entsql.OpenDB(d.DB.Dialect, d.DB.SQL)}
			db := ent.NewClient(ent.Driver(drv))
			l := loyalty.New(db, ledger.New(db, d.DB.Dialect), settings.New(db), nil)
			cat := catalog.New(db, l, nil)
			offs := offers.New(db, nil, nil)
			books := bookings.New(db, d.DB.Dialect, cat, l, nil, settings.New(db))

			memberID := d.DB.Member.Query().Where(member.TierIDIsNil()).FirstIDX(ctx)
			o := d.DB.Offer.Query().Where(offer.VisibilityEQ(offer.VisibilityAll), offer.ValidUntilIsNil()).
				Order(ent.Asc(offer.FieldID)).FirstX(ctx)
			partnerID := d.DB.Booking.Query().Where(booking.StatusEQ(booking.StatusRequested)).FirstX(ctx).PartnerID

			pages := []struct {
				name string
				run  func() error
			}{
				{"catalog", func() error {
					p, err := cat.Search(ctx, memberID, catalog.Filter{})
					if err == nil && len(p.Offers) != catalog.DefaultLimit {
						err = fmt.Errorf("%d offers", len(p.Offers))
					}
					return err
				}},
				{"catalog by category", func() error {
					p, err := cat.Search(ctx, memberID, catalog.Filter{CategoryID: o.CategoryID})
					if err == nil && len(p.Offers) == 0 {
						err = fmt.Errorf("no offers")
					}
					return err
				}},
				{"offer page", func() error { _, err := cat.Offer(ctx, memberID, o.ID); return err }},
				{"personal first page", func() error {
					cards, err := cat.Personal(ctx, memberID, 24)
					if err == nil && len(cards) == 0 {
						err = fmt.Errorf("no cards")
					}
					return err
				}},
				{"partner's offers", func() error {
					l, err := offs.List(ctx, partnerID)
					if err == nil && len(l) == 0 {
						err = fmt.Errorf("no offers")
					}
					return err
				}},
				{"partner's bookings inbox", func() error {
					_, err := books.PartnerList(ctx, partnerID, string(booking.StatusRequested), 50)
					return err
				}},
				{"partner's latest bookings", func() error {
					_, err := books.PartnerList(ctx, partnerID, "", 100)
					return err
				}},
				{"fraud detectors", func() error {
					_, err := fraud.New(db, nil, nil, nil).Detect(ctx)
					return err
				}},
			}
			for _, p := range pages {
				drv.take()
				if err := p.run(); err != nil {
					t.Fatalf("%s: %v", p.name, err)
				}
				for _, s := range drv.take() {
					scans, plan := explain(t, d.DB, s)
					t.Logf("%s: %s\n%s", p.name, s.query, plan)
					for _, tbl := range scans {
						t.Errorf("%s reads all of %s:\n%s\n%v\nplan:\n%s", p.name, tbl, s.query, s.args, plan)
					}
				}
			}
		})
	}
}

var sqliteScan = regexp.MustCompile(`^SCAN (\w+)`)

// explain returns the growing tables the statement reads in full, and its plan.
func explain(t *testing.T, db *store.DB, s statement) ([]string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if db.Dialect == dialect.Postgres {
		var raw string
		apptest.Must(t, db.SQL.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+s.query, s.args...).Scan(&raw))
		var plans []struct{ Plan pgNode }
		apptest.Must(t, json.Unmarshal([]byte(raw), &plans))
		var scans []string
		var walk func(n pgNode)
		walk = func(n pgNode) {
			if n.NodeType == "Seq Scan" && bigTables[n.Relation] && rowsIn(t, db, n.Relation) >= bigRows {
				scans = append(scans, n.Relation)
			}
			for _, c := range n.Plans {
				walk(c)
			}
		}
		for _, p := range plans {
			walk(p.Plan)
		}
		return scans, raw
	}
	rows, err := db.SQL.QueryContext(ctx, "EXPLAIN QUERY PLAN "+s.query, s.args...)
	apptest.Must(t, err)
	defer rows.Close()
	var scans []string
	var plan strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		apptest.Must(t, rows.Scan(&id, &parent, &unused, &detail))
		plan.WriteString(detail + "\n")
		m := sqliteScan.FindStringSubmatch(detail)
		// A SCAN through an index reads it all unless a LIMIT stops the walk (the
		// newest-first lists walk the index in order and stop after a page).
		limited := strings.Contains(s.query, " LIMIT ")
		if m != nil && bigTables[m[1]] && (!limited || !strings.Contains(detail, "USING INDEX") && !strings.Contains(detail, "COVERING INDEX") &&
			!strings.Contains(detail, "USING INTEGER PRIMARY KEY")) {
			scans = append(scans, m[1])
		}
	}
	apptest.Must(t, rows.Err())
	return scans, plan.String()
}

type pgNode struct {
	NodeType string   `json:"Node Type"`
	Relation string   `json:"Relation Name"`
	Plans    []pgNode `json:"Plans"`
}

func rowsIn(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	apptest.Must(t, db.SQL.QueryRow(`SELECT COUNT(*) FROM "`+table+`"`).Scan(&n))
	return n
}
