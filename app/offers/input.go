package offers

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"ikra/app/tags"
	"ikra/ent"
)

// Limits of an offer's text fields, in characters.
const (
	MaxTitle       = 120
	MaxSummary     = 300
	MaxLongText    = 5000 // description and terms
	MaxAddresses   = 10
	MaxAddressLine = 200
)

// Kinds and visibilities an offer may have.
var (
	Kinds        = []string{"discount", "service", "event"}
	Visibilities = []string{"all", "tier", "invite"}
)

// OfferInput is every field a partner edits on an offer. It is also what a revision
// proposes (stored as its JSON data).
type OfferInput struct {
	Title          string     `json:"title"`
	Summary        string     `json:"summary"`
	Description    string     `json:"description"`
	Terms          string     `json:"terms"`
	Kind           string     `json:"kind"`
	CategoryID     int        `json:"category_id"`
	Tags           []string   `json:"tags,omitempty"` // finer tags, of the offer's category only
	CityID         int        `json:"city_id"`
	Addresses      []string   `json:"addresses"`
	ValidFrom      *time.Time `json:"valid_from,omitempty"`
	ValidUntil     *time.Time `json:"valid_until,omitempty"`
	Capacity       int        `json:"capacity"`         // 0: unlimited
	PerMemberLimit int        `json:"per_member_limit"` // at least 1
	MinTierID      *int       `json:"min_tier_id,omitempty"`
	CashbackBP     int        `json:"cashback_bp"` // basis points of the deal: 750 = 7.5%
	PriceBonus     int64      `json:"price_bonus"` // 0: not payable with bonuses
	Visibility     string     `json:"visibility"`
}

// Choices are the categories, cities and status tiers an offer may name: the form's
// lists, and what Validate checks references against.
type Choices struct {
	Categories []*ent.Category
	Cities     []*ent.City
	Tiers      []*ent.Tier
}

func (ch Choices) hasCategory(id int) bool {
	for _, c := range ch.Categories {
		if c.ID == id {
			return true
		}
	}
	return false
}

// categorySlug is the slug of the category with this ID; "" when there is none.
func (ch Choices) categorySlug(id int) string {
	for _, c := range ch.Categories {
		if c.ID == id {
			return c.Slug
		}
	}
	return ""
}

func (ch Choices) hasCity(id int) bool {
	for _, c := range ch.Cities {
		if c.ID == id {
			return true
		}
	}
	return false
}

func (ch Choices) hasTier(id int) bool {
	for _, t := range ch.Tiers {
		if t.ID == id {
			return true
		}
	}
	return false
}

// Normalize trims the text fields and drops empty address lines.
func (in *OfferInput) Normalize() {
	in.Title = strings.TrimSpace(in.Title)
	in.Summary = strings.TrimSpace(in.Summary)
	in.Description = strings.TrimSpace(in.Description)
	in.Terms = strings.TrimSpace(in.Terms)
	var lines []string
	for _, a := range in.Addresses {
		if a = strings.TrimSpace(a); a != "" {
			lines = append(lines, a)
		}
	}
	in.Addresses = lines
	in.Tags = tags.Clean(in.Tags)
}

// Validate returns field errors as message keys, by field name (the names of the
// JSON tags); empty when the input is acceptable. References are checked against ch.
func (in OfferInput) Validate(ch Choices) map[string]string {
	errs := map[string]string{}
	add := func(field, key string) {
		if _, ok := errs[field]; !ok {
			errs[field] = key
		}
	}
	n := utf8.RuneCountInString
	switch {
	case in.Title == "":
		add("title", "offer.err.title_required")
	case n(in.Title) > MaxTitle:
		add("title", "offer.err.title_long")
	}
	if n(in.Summary) > MaxSummary {
		add("summary", "offer.err.summary_long")
	}
	if n(in.Description) > MaxLongText {
		add("description", "offer.err.text_long")
	}
	if n(in.Terms) > MaxLongText {
		add("terms", "offer.err.text_long")
	}
	if !oneOf(in.Kind, Kinds) {
		add("kind", "offer.err.choose")
	}
	if !ch.hasCategory(in.CategoryID) {
		add("category_id", "offer.err.choose")
	}
	switch {
	case len(in.Tags) > tags.MaxOffer:
		add("tags", "offer.err.tags_many")
	case ch.hasCategory(in.CategoryID) && !tags.Fit(ch.categorySlug(in.CategoryID), in.Tags):
		add("tags", "offer.err.tags_category")
	}
	if !ch.hasCity(in.CityID) {
		add("city_id", "offer.err.choose")
	}
	switch {
	case len(in.Addresses) == 0:
		add("addresses", "offer.err.address_required")
	case len(in.Addresses) > MaxAddresses:
		add("addresses", "offer.err.addresses_many")
	}
	for _, a := range in.Addresses {
		if n(a) > MaxAddressLine {
			add("addresses", "offer.err.address_long")
		}
	}
	if in.ValidFrom != nil && in.ValidUntil != nil && !in.ValidFrom.Before(*in.ValidUntil) {
		add("valid_until", "offer.err.window")
	}
	if in.Capacity < 0 {
		add("capacity", "form.not_negative")
	}
	switch {
	case in.PerMemberLimit < 1:
		add("per_member_limit", "offer.err.per_member_min")
	case in.Capacity > 0 && in.PerMemberLimit > in.Capacity:
		add("per_member_limit", "offer.err.per_member_capacity")
	}
	if in.MinTierID != nil && !ch.hasTier(*in.MinTierID) {
		add("min_tier_id", "offer.err.choose")
	}
	if in.CashbackBP < 0 || in.CashbackBP > 10000 {
		add("cashback_bp", "offer.err.cashback_range")
	}
	if in.PriceBonus < 0 {
		add("price_bonus", "form.not_negative")
	}
	switch {
	case !oneOf(in.Visibility, Visibilities):
		add("visibility", "offer.err.choose")
	case in.Visibility == "tier" && in.MinTierID == nil:
		add("min_tier_id", "offer.err.tier_required")
	}
	return errs
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// InputOf is the live version of an offer as an input (what the edit form starts from).
func InputOf(o *ent.Offer) OfferInput {
	return OfferInput{
		Title: o.Title, Summary: o.Summary, Description: o.Description, Terms: o.Terms,
		Kind: string(o.Kind), CategoryID: o.CategoryID, Tags: append([]string(nil), o.Tags...), CityID: o.CityID,
		Addresses: append([]string(nil), o.Addresses...), ValidFrom: o.ValidFrom, ValidUntil: o.ValidUntil,
		Capacity: o.Capacity, PerMemberLimit: o.PerMemberLimit, MinTierID: o.MinTierID,
		CashbackBP: o.CashbackBp, PriceBonus: o.PriceBonus, Visibility: string(o.Visibility),
	}
}

// data is the input as a revision stores it.
func (in OfferInput) data() (map[string]any, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// RevisionInput reads what a revision proposes.
func RevisionInput(r *ent.OfferRevision) (OfferInput, error) {
	var in OfferInput
	b, err := json.Marshal(r.Data)
	if err != nil {
		return in, err
	}
	return in, json.Unmarshal(b, &in)
}
