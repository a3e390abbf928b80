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

// The most statements each member page may run with nothing cached on the node (a
// member's first request after a change), and once the cache (app/cache) holds the
// member, their roles, status and tastes, the candidate pools and the offers shown.
var statementCeiling = map[string][2]int64{ // cold, warm
	// Cold, the rows every page shares (member, roles, tiers, categories, cities,
	// settings, suspended partners) come first; then the page's own. /app: status,
	// interests, views, bookings, the candidate pools and invitations, booking counts,
	// the cards' offers and images, unread. Every signed-in request also reads the
	// settings (maintenance mode), the terms versions and the member's acceptances
	// (acceptance by continued use), all cached: nothing of it when warm.
	"/app":           {24, 0},
	"/app?all=1":     {16, 0},
	"/app?q=word":    {15, 1}, // a text search always asks the index
	"/api/v1/offers": {15, 0},
	"offer page":     {14, 1}, // the visibility check always asks the database
	"/app/bonuses":   {7, 2},
	"/api/v1/me":     {8, 1},
}

// TestQueryCountsPinned: the catalog page, its search, the offer page, the API's
// offer list and profile and the bonus history run the same number of statements with 10 offers
// and with 10 000, and for a newcomer and for a member with 1 000 ledger entries, cold
// and warm, and never more than statementCeiling. Both worlds come from the load generator with the
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

	count := func(c *apptest.Client, name string, warm int) int64 {
		path := paths[name]
		c.Get(path) // the session is known, as on every request after sign-in
		if warm == 0 {
			env.App.Cache.Flush() // nothing else is: a member's first request after a change
		}
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
		if most := statementCeiling[name][warm]; n > most {
			t.Errorf("%s (%s) ran %d statements (at most %d) with %d offers:\n%s", path, state[warm], n, most, offers, strings.Join(ran, "\n"))
		}
		return n
	}
	out := map[string]int64{}
	for name := range paths {
		for warm := range 2 {
			a, b := count(newcomer, name, warm), count(veteran, name, warm)
			if a != b {
				t.Errorf("%s (%s): %d statements for a newcomer, %d for a member with 1 000 ledger entries", name, state[warm], a, b)
			}
			out[name+" "+state[warm]] = a
		}
	}
	return out
}

var state = [2]string{"cold", "warm"}
