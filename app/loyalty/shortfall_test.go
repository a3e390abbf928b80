package loyalty_test

import (
	"testing"

	"ikra/app/loyalty"
	"ikra/ent"
)

// Shortfall is the price less what the member holds, and nothing for a status that
// is affordable or not for sale.
func TestShortfall(t *testing.T) {
	gold := &ent.Tier{PriceBonus: 40000, PeriodDays: 30}
	for _, tt := range []struct {
		name      string
		tier      *ent.Tier
		available int64
		want      int64
	}{
		{"nothing held", gold, 0, 40000},
		{"some held", gold, 38800, 1200},
		{"exactly the price", gold, 40000, 0},
		{"more than the price", gold, 50000, 0},
		{"a negative balance counts as nothing", gold, -500, 40000},
		{"not for sale", &ent.Tier{PriceBonus: 0, PeriodDays: 30}, 0, 0},
		{"no period", &ent.Tier{PriceBonus: 100}, 0, 0},
		{"no tier", nil, 0, 0},
	} {
		if got := loyalty.Shortfall(tt.tier, tt.available); got != tt.want {
			t.Errorf("%s: Shortfall = %d, want %d", tt.name, got, tt.want)
		}
	}
}
