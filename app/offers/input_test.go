package offers

import (
	"strings"
	"testing"
	"time"

	"ikra/ent"
)

// Each rule of an offer's input refuses exactly its field with its message key.
func TestOfferInputValidate(t *testing.T) {
	ch := Choices{Categories: []*ent.Category{{ID: 1}}, Cities: []*ent.City{{ID: 2}}, Tiers: []*ent.Tier{{ID: 3}}}
	valid := func() OfferInput {
		return OfferInput{Title: "Ужин", Kind: "discount", CategoryID: 1, CityID: 2, Addresses: []string{"Абая, 1"},
			PerMemberLimit: 1, Visibility: "all", CashbackBP: 750}
	}
	if errs := valid().Validate(ch); len(errs) != 0 {
		t.Fatalf("a valid input refused: %v", errs)
	}
	from := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	until := from.Add(-time.Hour)
	tier, ghost := 3, 99
	for _, tc := range []struct {
		name  string
		edit  func(*OfferInput)
		field string
		key   string
	}{
		{"no title", func(in *OfferInput) { in.Title = "" }, "title", "offer.err.title_required"},
		{"long title", func(in *OfferInput) { in.Title = strings.Repeat("я", MaxTitle+1) }, "title", "offer.err.title_long"},
		{"long summary", func(in *OfferInput) { in.Summary = strings.Repeat("я", MaxSummary+1) }, "summary", "offer.err.summary_long"},
		{"long description", func(in *OfferInput) { in.Description = strings.Repeat("я", MaxLongText+1) }, "description", "offer.err.text_long"},
		{"long terms", func(in *OfferInput) { in.Terms = strings.Repeat("я", MaxLongText+1) }, "terms", "offer.err.text_long"},
		{"unknown kind", func(in *OfferInput) { in.Kind = "party" }, "kind", "offer.err.choose"},
		{"unknown category", func(in *OfferInput) { in.CategoryID = 9 }, "category_id", "offer.err.choose"},
		{"unknown city", func(in *OfferInput) { in.CityID = 9 }, "city_id", "offer.err.choose"},
		{"no address", func(in *OfferInput) { in.Addresses = nil }, "addresses", "offer.err.address_required"},
		{"eleven addresses", func(in *OfferInput) { in.Addresses = make([]string, 11) }, "addresses", "offer.err.addresses_many"},
		{"long address", func(in *OfferInput) { in.Addresses = []string{strings.Repeat("я", MaxAddressLine+1)} }, "addresses", "offer.err.address_long"},
		{"window backwards", func(in *OfferInput) { in.ValidFrom, in.ValidUntil = &from, &until }, "valid_until", "offer.err.window"},
		{"window empty", func(in *OfferInput) { in.ValidFrom, in.ValidUntil = &from, &from }, "valid_until", "offer.err.window"},
		{"negative capacity", func(in *OfferInput) { in.Capacity = -1 }, "capacity", "form.not_negative"},
		{"per member zero", func(in *OfferInput) { in.PerMemberLimit = 0 }, "per_member_limit", "offer.err.per_member_min"},
		{"per member over capacity", func(in *OfferInput) { in.Capacity, in.PerMemberLimit = 2, 3 }, "per_member_limit", "offer.err.per_member_capacity"},
		{"unknown tier", func(in *OfferInput) { in.MinTierID = &ghost }, "min_tier_id", "offer.err.choose"},
		{"cashback over 100%", func(in *OfferInput) { in.CashbackBP = 10001 }, "cashback_bp", "offer.err.cashback_range"},
		{"negative cashback", func(in *OfferInput) { in.CashbackBP = -1 }, "cashback_bp", "offer.err.cashback_range"},
		{"negative price", func(in *OfferInput) { in.PriceBonus = -1 }, "price_bonus", "form.not_negative"},
		{"unknown visibility", func(in *OfferInput) { in.Visibility = "friends" }, "visibility", "offer.err.choose"},
		{"tier visibility without a tier", func(in *OfferInput) { in.Visibility = "tier" }, "min_tier_id", "offer.err.tier_required"},
	} {
		in := valid()
		tc.edit(&in)
		errs := in.Validate(ch)
		if len(errs) != 1 || errs[tc.field] != tc.key {
			t.Errorf("%s: %v, want only %s=%s", tc.name, errs, tc.field, tc.key)
		}
	}
	// The edges are allowed.
	in := valid()
	in.Title, in.Addresses, in.Capacity, in.PerMemberLimit, in.CashbackBP = strings.Repeat("я", MaxTitle), make([]string, 10), 3, 3, 10000
	for i := range in.Addresses {
		in.Addresses[i] = "x"
	}
	in.Visibility, in.MinTierID = "tier", &tier
	if errs := in.Validate(ch); len(errs) != 0 {
		t.Fatalf("edge values refused: %v", errs)
	}
}

// A revision's stored data reads back as the input it was written from.
func TestRevisionDataRoundTrip(t *testing.T) {
	from := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	tier := 3
	in := OfferInput{Title: "Ужин", Kind: "event", CategoryID: 1, CityID: 2, Addresses: []string{"a", "b"}, ValidFrom: &from,
		Capacity: 5, PerMemberLimit: 2, MinTierID: &tier, CashbackBP: 1234, PriceBonus: 1 << 40, Visibility: "tier"}
	data, err := in.data()
	if err != nil {
		t.Fatal(err)
	}
	out, err := RevisionInput(&ent.OfferRevision{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if out.Title != in.Title || !out.ValidFrom.Equal(from) || out.ValidUntil != nil || *out.MinTierID != 3 ||
		out.PriceBonus != in.PriceBonus || out.CashbackBP != 1234 || len(out.Addresses) != 2 {
		t.Fatalf("round trip: %+v", out)
	}
}
