package web_test

import (
	"context"
	"fmt"
	"testing"

	"ikra/app/apptest"
)

// The pages that list things run a fixed number of statements however many rows they
// show: related rows are eager-loaded, never queried per row.
func TestPagesRunFixedQueries(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	db := env.App.DB.Client
	c := env.Client()
	c.SignIn(9401, "Counter")
	place := env.Place()
	addOffers := func(n int) {
		for i := range n {
			o := env.Offer(place, env.Partner(place, fmt.Sprint("P", i)).ID, fmt.Sprint("O", i))
			apptest.Must(t, db.OfferMedia.Create().SetOfferID(o.ID).SetKey(fmt.Sprintf("offers/%d/1.png", o.ID)).SetContentType("image/png").SetSize(1).Exec(ctx))
		}
	}
	count := func(path string) int64 {
		c.Get(path) // warm the session cache so both counts see the same path
		before := env.App.DB.Statements()
		if r := c.Get(path); r.Status != 200 {
			t.Fatalf("%s: %d", path, r.Status)
		}
		return env.App.DB.Statements() - before
	}
	addOffers(2)
	few := map[string]int64{"/app": count("/app"), "/app/bonuses": count("/app/bonuses"), "/api/v1/me": count("/api/v1/me")}
	addOffers(15)
	for path, n := range few {
		if got := count(path); got != n {
			t.Errorf("%s ran %d statements with more rows, %d with few", path, got, n)
		}
	}
	t.Logf("statements per page: %v", few)
}
