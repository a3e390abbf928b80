package cache

import (
	"context"
	"time"

	"ikra/ent"
	"ikra/ent/category"
	"ikra/ent/city"
	"ikra/ent/partner"
	"ikra/ent/tier"
)

// TTLs: how long an entry may live when its change was missed (see the package doc).
const (
	MemberTTL = 30 * time.Second
	TableTTL  = 5 * time.Minute
)

// Rows are the cached reads the services share: members by ID, and the tier, category
// and city tables whole. Made with a nil bus, every read goes to the database.
type Rows struct {
	db         *ent.Client
	members    *ByID[*ent.Member]
	tiers      *Value[[]*ent.Tier]
	categories *Value[[]*ent.Category]
	cities     *Value[[]*ent.City]
	suspended  *Value[[]int]
}

// NewRows returns the shared reads over db, cached through b when b is not nil.
func NewRows(b *Bus, db *ent.Client) *Rows {
	r := &Rows{db: db}
	if b == nil {
		return r
	}
	r.members = NewByID(b, MemberTTL, 100_000, r.loadMember, "Member")
	r.tiers = NewValue(b, TableTTL, r.loadTiers, "Tier")
	r.categories = NewValue(b, TableTTL, r.loadCategories, "Category")
	r.cities = NewValue(b, TableTTL, r.loadCities, "City")
	r.suspended = NewValue(b, TableTTL, r.loadSuspended, "Partner")
	return r
}

// Member returns the member with this ID (ent's not-found error when there is none).
// The row is shared: do not modify it.
func (r *Rows) Member(ctx context.Context, id int) (*ent.Member, error) {
	if r.members == nil {
		return r.loadMember(ctx, id)
	}
	return r.members.Get(ctx, id)
}

// Tiers returns every status tier, lowest first (by sort, then threshold).
func (r *Rows) Tiers(ctx context.Context) ([]*ent.Tier, error) {
	if r.tiers == nil {
		return r.loadTiers(ctx)
	}
	return r.tiers.Get(ctx)
}

// Categories returns every category in display order.
func (r *Rows) Categories(ctx context.Context) ([]*ent.Category, error) {
	if r.categories == nil {
		return r.loadCategories(ctx)
	}
	return r.categories.Get(ctx)
}

// Cities returns every city by its Russian name.
func (r *Rows) Cities(ctx context.Context) ([]*ent.City, error) {
	if r.cities == nil {
		return r.loadCities(ctx)
	}
	return r.cities.Get(ctx)
}

// SuspendedPartners returns the IDs of the suspended partners (few, if any).
func (r *Rows) SuspendedPartners(ctx context.Context) ([]int, error) {
	if r.suspended == nil {
		return r.loadSuspended(ctx)
	}
	return r.suspended.Get(ctx)
}

func (r *Rows) loadSuspended(ctx context.Context) ([]int, error) {
	return r.db.Partner.Query().Where(partner.StatusEQ(partner.StatusSuspended)).IDs(ctx)
}

func (r *Rows) loadMember(ctx context.Context, id int) (*ent.Member, error) {
	return r.db.Member.Get(ctx, id)
}

func (r *Rows) loadTiers(ctx context.Context) ([]*ent.Tier, error) {
	return r.db.Tier.Query().Order(ent.Asc(tier.FieldSort), ent.Asc(tier.FieldMinEarned)).All(ctx)
}

func (r *Rows) loadCategories(ctx context.Context) ([]*ent.Category, error) {
	return r.db.Category.Query().Order(ent.Asc(category.FieldSort), ent.Asc(category.FieldID)).All(ctx)
}

func (r *Rows) loadCities(ctx context.Context) ([]*ent.City, error) {
	return r.db.City.Query().Order(ent.Asc(city.FieldNameRu), ent.Asc(city.FieldID)).All(ctx)
}
