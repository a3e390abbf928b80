package loyalty_test

import (
	"context"
	"testing"

	"ikra/app/apptest"
	"ikra/app/loyalty"
	"ikra/app/settings"
	"ikra/ent"
	"ikra/ent/tier"
)

// EnsureDefaults fills an empty database with the four tiers and the bonus settings,
// and never overwrites what an admin changed since.
func TestEnsureDefaults(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			apptest.Must(t, loyalty.EnsureDefaults(ctx, d.Client))
			tiers, err := d.Tier.Query().Order(ent.Asc(tier.FieldSort)).All(ctx)
			apptest.Must(t, err)
			var slugs []string
			for _, tr := range tiers {
				slugs = append(slugs, tr.Slug)
			}
			if len(slugs) != 4 || slugs[0] != "base" || slugs[1] != "silver" || slugs[2] != "gold" || slugs[3] != "black" {
				t.Fatalf("default tiers %v", slugs)
			}
			for i := 1; i < len(tiers); i++ {
				if tiers[i].MinEarned <= tiers[i-1].MinEarned || tiers[i].MultiplierBp <= tiers[i-1].MultiplierBp {
					t.Errorf("tier %s does not rise above %s", tiers[i].Slug, tiers[i-1].Slug)
				}
			}
			l := loyalty.New(d.Client, nil, settings.New(d.Client), nil)
			r, err := l.Rules(ctx)
			apptest.Must(t, err)
			if r.Welcome != 3000 || r.ReferralShareBP != 1000 || r.ReversalDays != 14 || len(r.Tiers) != 4 {
				t.Fatalf("default rules %+v", r)
			}

			// An admin's changes survive the next start.
			apptest.Must(t, d.Tier.Update().Where(tier.Slug("gold")).SetNameRu("Золото").Exec(ctx))
			_, err = d.Tier.Delete().Where(tier.Slug("black")).Exec(ctx)
			apptest.Must(t, err)
			apptest.Must(t, settings.New(d.Client).Set(ctx, loyalty.KeyWelcome, "500", nil))
			apptest.Must(t, loyalty.EnsureDefaults(ctx, d.Client))
			if n, _ := d.Tier.Query().Count(ctx); n != 3 {
				t.Errorf("%d tiers after a restart, want the 3 the admin kept", n)
			}
			if g, _ := d.Tier.Query().Where(tier.Slug("gold")).Only(ctx); g == nil || g.NameRu != "Золото" {
				t.Errorf("the edited tier was overwritten: %v", g)
			}
			if r, _ := l.Rules(ctx); r.Welcome != 500 {
				t.Errorf("welcome %d after a restart, want the admin's 500", r.Welcome)
			}
		})
	}
}

// An installation from before the Kazakh names gets them for its default tiers at the
// next start, except where an admin renamed the tier or typed a Kazakh name already.
func TestEnsureDefaultsKazakhNames(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			apptest.Must(t, loyalty.EnsureDefaults(ctx, d.Client))
			names := func() map[string]string {
				tiers, err := d.Tier.Query().All(ctx)
				apptest.Must(t, err)
				m := map[string]string{}
				for _, tr := range tiers {
					m[tr.Slug] = tr.NameKk
				}
				return m
			}
			if got := names(); got["base"] != "Базалық" || got["silver"] != "Күміс" || got["gold"] != "Алтын" {
				t.Fatalf("a fresh installation's Kazakh names: %v", got)
			}

			// As the upgrade finds them: no Kazakh names; the admin renamed silver.
			apptest.Must(t, d.Tier.Update().SetNameKk("").Exec(ctx))
			apptest.Must(t, d.Tier.Update().Where(tier.Slug("silver")).SetNameRu("Платина").Exec(ctx))
			apptest.Must(t, loyalty.EnsureDefaults(ctx, d.Client))
			if got := names(); got["base"] != "Базалық" || got["gold"] != "Алтын" || got["silver"] != "" {
				t.Errorf("after the upgrade: %v", got)
			}

			// The admin's Kazakh name survives restarts.
			apptest.Must(t, d.Tier.Update().Where(tier.Slug("gold")).SetNameKk("Алтын деңгей").Exec(ctx))
			apptest.Must(t, loyalty.EnsureDefaults(ctx, d.Client))
			if got := names(); got["gold"] != "Алтын деңгей" {
				t.Errorf("the admin's Kazakh name was overwritten: %v", got)
			}
		})
	}
}
