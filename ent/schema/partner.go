package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Partner is a business (tenant) that publishes privileges on the platform.
type Partner struct {
	ent.Schema
}

// Fields of the Partner.
func (Partner) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty(),
		field.String("slug").NotEmpty().Unique(),
		field.String("bin").MinLen(12).MaxLen(12).Unique(),
		field.Enum("status").Values("active", "suspended").Default("active"),
		field.String("suspended_reason").Default(""),
		field.Text("description").Default(""),
		field.Int("category_id").Optional().Nillable(),
		field.Int("city_id").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// Edges of the Partner.
func (Partner) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("category", Category.Type).Ref("partners").Unique().Field("category_id"),
		edge.From("city", City.Type).Ref("partners").Unique().Field("city_id"),
		edge.To("staff", Staff.Type),
		edge.To("offers", Offer.Type),
		edge.To("bookings", Booking.Type),
	}
}
