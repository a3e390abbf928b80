package store_test

import (
	"context"
	"testing"

	"ikra/app/apptest"
	"ikra/ent/offer"
)

// The search schema is created idempotently: migrating again changes nothing, and on
// SQLite a database from before the search table gets it filled from the offers it
// already holds (and kept in step afterwards by the triggers).
func TestSearchSchemaMigrates(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			cat, err := d.Category.Create().SetSlug("c").SetNameRu("К").SetNameEn("C").Save(ctx)
			apptest.Must(t, err)
			city, err := d.City.Create().SetSlug("a").SetNameRu("А").SetNameEn("A").Save(ctx)
			apptest.Must(t, err)
			p, err := d.Partner.Create().SetName("Zerno").SetSlug("p").SetBin("000000000001").Save(ctx)
			apptest.Must(t, err)
			apptest.Must(t, d.Offer.Create().SetPartnerID(p.ID).SetCategoryID(cat.ID).SetCityID(city.ID).SetTitle("Кофе").
				SetKind(offer.KindDiscount).Exec(ctx))
			if d.Name == "sqlite" {
				// As a database from before the search table.
				for _, q := range []string{"DROP TABLE offer_fts", "DROP TRIGGER offers_fts_insert", "DROP TRIGGER offers_fts_update",
					"DROP TRIGGER offers_fts_delete", "DROP TRIGGER partners_fts_name"} {
					_, err := d.SQL.ExecContext(ctx, q)
					apptest.Must(t, err)
				}
			}
			apptest.Must(t, d.Migrate(ctx))
			apptest.Must(t, d.Migrate(ctx))
			if d.Name == "sqlite" {
				var n int
				apptest.Must(t, d.SQL.QueryRowContext(ctx, "SELECT count(*) FROM offer_fts WHERE offer_fts MATCH 'zerno'").Scan(&n))
				if n != 1 {
					t.Fatalf("offers found by their partner after the upgrade: %d", n)
				}
				return
			}
			var n int
			apptest.Must(t, d.SQL.QueryRowContext(ctx,
				"SELECT count(*) FROM pg_indexes WHERE indexname IN ('offers_text_search', 'partners_name_search')").Scan(&n))
			if n != 2 {
				t.Fatalf("search indexes: %d", n)
			}
		})
	}
}
