package catalog_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/cache"
	"ikra/app/catalog"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/media"
	"ikra/app/settings"
	"ikra/ent"
	"ikra/ent/offer"
)

// Pages of the catalog served from the cached pools are the pages the database query
// gives: every page, with a category or none, across more offers than a pool holds,
// with invite-only offers (the member invited to some), offers above the member's
// status, equal publication times, a closed validity window and a suspended partner.
func TestPoolPagesMatchTheDatabase(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			w := newSearchWorld(t, d)
			objects, err := media.NewDisk(t.TempDir())
			apptest.Must(t, err)
			cached := catalog.New(w.db, loyalty.New(w.db, ledger.New(w.db, d.Dialect), settings.New(w.db), nil), objects)
			bus := cache.NewBus(nil, "t:", nil)
			w.db.Use(bus.Hook())
			cached.UseCache(bus)
			plain := w.cat
			catalog.WithoutPools(plain)

			high := must(w.db.Tier.Create().SetSlug("high").SetNameRu("В").SetNameEn("H").SetMinEarned(1 << 40).SetSort(1000).Save(w.ctx))(t)
			at := w.at
			for i := range 330 {
				w.offer(fmt.Sprint("Offer ", i), func(c *ent.OfferCreate) {
					switch {
					case i%4 == 0:
						c.SetPublishedAt(at) // a run of equal keys
					case i%17 == 0:
						c.SetVisibility(offer.VisibilityInvite)
						if i%2 == 0 {
							c.AddInvitedIDs(w.member.ID)
						}
					case i%13 == 0:
						c.SetMinTierID(high.ID) // above a newcomer
					case i%11 == 0:
						c.SetValidUntil(w.at.Add(-time.Minute)) // closed
					case i%19 == 0:
						c.SetPartnerID(w.blocked.ID)
					}
					if i%3 == 0 {
						c.SetCategoryID(w.spa.ID)
					}
				})
			}
			_, err = w.db.Partner.UpdateOneID(w.blocked.ID).SetStatus("suspended").Save(w.ctx)
			apptest.Must(t, err)

			walk := func(s *catalog.Service, f catalog.Filter) []int {
				t.Helper()
				var ids []int
				for range 100 {
					p, err := s.Search(w.ctx, w.member.ID, f)
					apptest.Must(t, err)
					for _, o := range p.Offers {
						ids = append(ids, o.ID)
					}
					if p.Next == "" {
						return ids
					}
					f.Cursor = p.Next
				}
				t.Fatal("more than 100 pages")
				return nil
			}
			for _, f := range []catalog.Filter{{}, {Limit: 7}, {Limit: catalog.MaxLimit}, {CategoryID: w.spa.ID}, {CategoryID: w.food.ID, Limit: 9}} {
				want := walk(plain, f)
				for round := range 2 { // a cold cache, then a warm one
					if got := walk(cached, f); !slices.Equal(got, want) {
						t.Fatalf("filter %+v, round %d: pools give %d offers %v…, the database %d %v…", f, round, len(got), head(got), len(want), head(want))
					}
				}
				if f.CategoryID == 0 && len(want) <= 120 {
					t.Fatalf("only %d offers visible; the test needs more than a pool holds", len(want))
				}
			}
		})
	}
}

func head(ids []int) []int { return ids[:min(len(ids), 8)] }
