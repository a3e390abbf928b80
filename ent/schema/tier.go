package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Tier is a member status level reached by activity or bought with bonuses.
type Tier struct {
	ent.Schema
}

// Fields of the Tier.
func (Tier) Fields() []ent.Field {
	return []ent.Field{
		field.String("slug").NotEmpty().Unique(),
		field.String("name_ru"),
		field.String("name_en"),
		// Kazakh name; empty until translated, when the Russian one is shown.
		field.String("name_kk").Default(""),
		// Bonuses earned over the last 12 months needed to reach the tier.
		field.Int64("min_earned").Default(0).NonNegative(),
		// Cashback multiplier in basis points: 10000 = x1.0.
		field.Int("multiplier_bp").Default(10000).NonNegative(),
		// Price in bonuses; 0 means the tier cannot be bought.
		field.Int64("price_bonus").Default(0).NonNegative(),
		field.Int("period_days").Default(30).NonNegative(),
		field.Int("sort").Default(0),
	}
}

// Edges of the Tier.
func (Tier) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("members", Member.Type),
		edge.To("offers", Offer.Type),
	}
}
