package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Offer is a privilege a partner publishes for members.
type Offer struct {
	ent.Schema
}

// Fields of the Offer.
func (Offer) Fields() []ent.Field {
	return []ent.Field{
		field.Int("partner_id"),
		field.Int("category_id"),
		field.Int("city_id"),
		field.Int("min_tier_id").Optional().Nillable(),
		field.String("title").NotEmpty(),
		field.String("summary").Default(""),
		field.Text("description").Default(""),
		field.Text("terms").Default(""),
		field.Enum("kind").Values("discount", "service", "event"),
		field.Enum("status").Values("draft", "pending", "published", "rejected", "archived").Default("draft"),
		field.String("reject_reason").Default(""),
		field.Strings("addresses").Optional(),
		// Finer tags within the offer's category, from catalog.TagsOf (e.g. "coffee");
		// read with the ranking's candidate columns.
		field.Strings("tags").Optional(),
		field.Time("valid_from").Optional().Nillable(),
		field.Time("valid_until").Optional().Nillable(),
		// Total number of bookings allowed; 0 means unlimited.
		field.Int("capacity").Default(0).NonNegative(),
		field.Int("per_member_limit").Default(1).NonNegative(),
		// Cashback in basis points of the deal amount: 500 = 5%.
		field.Int("cashback_bp").Default(0).Range(0, 10000),
		// Price in bonuses; 0 means the offer is not payable with bonuses.
		field.Int64("price_bonus").Default(0).NonNegative(),
		field.Enum("visibility").Values("all", "tier", "invite").Default("all"),
		field.Int64("views").Default(0),
		field.Int64("bookings_count").Default(0),
		field.Time("published_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// Edges of the Offer.
func (Offer) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("partner", Partner.Type).Ref("offers").Unique().Required().Field("partner_id"),
		edge.From("category", Category.Type).Ref("offers").Unique().Required().Field("category_id"),
		edge.From("city", City.Type).Ref("offers").Unique().Required().Field("city_id"),
		edge.From("min_tier", Tier.Type).Ref("offers").Unique().Field("min_tier_id"),
		edge.To("media", OfferMedia.Type),
		edge.To("revisions", OfferRevision.Type),
		edge.To("bookings", Booking.Type),
		edge.To("invited", Member.Type),
	}
}

// Indexes of the Offer.
func (Offer) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "city_id", "category_id"),
		index.Fields("partner_id", "status"),
		index.Fields("partner_id", "updated_at"),
		index.Fields("status", "published_at"),
		// The offers a higher status opens, newest first (the locked cards of /app).
		index.Fields("min_tier_id", "published_at"),
	}
}
