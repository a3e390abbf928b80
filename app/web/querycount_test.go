package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/ledger"
	"ikra/app/loadgen"
	"ikra/app/members"
	"ikra/ent"
	"ikra/ent/category"
)

// The most statements each member page may run; the cache (app/cache) keeps the
// member, their roles, tiers, categories, cities and settings out of these numbers.
var statementCeiling = map[string]int64{
	"/app":           13, // status, interests, views, bookings, 3 candidate sets, 2 booking counts, cards ×3, unread
	"/app?all=1":     5,
	"/app?q=word":    5,
	"/api/v1/offers": 4,
	"offer page":     4,
	"/app/bonuses":   2,
	"/api/v1/me":     2,
}

// TestQueryCountsPinned: the catalog page, its search, the offer page, the API's
// offer list and profile and the bonus history run the same number of statements with 10 offers
// and with 10 000, and for a newcomer and for a member with 1 000 ledger entries, and
// never more than statementCeiling. Both worlds come from the load generator with the
// same seed, so the same kinds of offers (limited places, tier-locked, invite-only,
// with images) are in both.
func TestQueryCountsPinned(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 10 000 offers")
	}
	small := countWorld(t, 10)
	large := countWorld(t, 10000)
	for path, n := range small {
		if large[path] != n {
			t.Errorf("%s: %d statements with 10 offers, %d with 10 000", path, n, large[path])
		}
	}
	t.Logf("statements per page: %v", small)
}

// countWorld generates offers, signs in a newcomer and a member with 1 000 ledger
// entries, both with declared interests, and returns the statements each page runs
// (the same for both members, or the test fails).
func countWorld(t *testing.T, offers int) map[string]int64 {
	env := apptest.New(t)
	ctx := context.Background()
	db := env.App.DB
	_, err := loadgen.Generate(ctx, db.Client, loadgen.Options{Offers: offers, Members: 20, Seed: 7})
	apptest.Must(t, err)
	cats, err := db.Category.Query().Order(ent.Asc(category.FieldID)).IDs(ctx)
	apptest.Must(t, err)

	newcomer, m0 := env.Member(9501, "Newcomer")
	veteran, m1 := env.Member(9502, "Veteran")
	for _, m := range []*ent.Member{m0, m1} {
		apptest.Must(t, env.App.Members.SaveInterests(ctx, m.ID, members.Interests{CategoryIDs: cats[:2], Language: "ru"}))
	}
	apptest.Must(t, env.App.Ledger.InTx(ctx, func(tx *ent.Tx) error {
		for i := range 1000 {
			_, err := env.App.Ledger.CreditTx(ctx, tx, ledger.Op{MemberID: m1.ID, Amount: 1, Kind: ledger.KindCashback,
				Reason: "test", RefType: "test", Key: fmt.Sprint("count:", i)})
			if err != nil {
				return err
			}
		}
		return nil
	}))
	if n := db.LedgerEntry.Query().CountX(ctx); n < 1000 {
		t.Fatalf("%d ledger entries", n)
	}

	// An offer both can open, for the offer page.
	list := newcomer.Get("/app?all=1")
	id := regexp.MustCompile(`href="/app/offers/(\d+)"`).FindStringSubmatch(list.Body)
	if id == nil {
		t.Fatalf("no offer on /app?all=1 with %d offers", offers)
	}
	offerID, _ := strconv.Atoi(id[1])
	shown, err := db.Offer.Get(ctx, offerID)
	apptest.Must(t, err)
	word := strings.Trim(strings.Fields(shown.Title)[0], ":")
	paths := map[string]string{"/app": "/app", "/app?all=1": "/app?all=1", "/app?q=word": "/app?q=" + url.QueryEscape(word),
		"/api/v1/offers": "/api/v1/offers", "offer page": "/app/offers/" + id[1], "/app/bonuses": "/app/bonuses", "/api/v1/me": "/api/v1/me"}

	count := func(c *apptest.Client, name string) int64 {
		path := paths[name]
		c.Get(path) // warm the caches, as every request after a member's first finds them
		var ran []string
		stop := db.Trace(func(q string) { ran = append(ran, q) })
		r := c.Get(path)
		stop()
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
		if name == "/app?q=word" && !strings.Contains(r.Body, shown.Title) {
			t.Fatalf("searching %q does not find %q", word, shown.Title)
		}
		n := int64(len(ran))
		if n > statementCeiling[name] {
			t.Errorf("%s ran %d statements (at most %d) with %d offers:\n%s", path, n, statementCeiling[name], offers, strings.Join(ran, "\n"))
		}
		return n
	}
	out := map[string]int64{}
	for name := range paths {
		a, b := count(newcomer, name), count(veteran, name)
		if a != b {
			t.Errorf("%s: %d statements for a newcomer, %d for a member with 1 000 ledger entries", name, a, b)
		}
		out[name] = a
	}
	return out
}
