package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Category is a catalog section that offers and partners belong to.
type Category struct {
	ent.Schema
}

// Fields of the Category.
func (Category) Fields() []ent.Field {
	return []ent.Field{
		field.String("slug").NotEmpty().Unique(),
		field.String("name_ru"),
		field.String("name_en"),
		// Kazakh name; empty until translated, when the Russian one is shown.
		field.String("name_kk").Default(""),
		field.String("icon").Default(""),
		field.Int("sort").Default(0),
	}
}

// Edges of the Category.
func (Category) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("offers", Offer.Type),
		edge.To("partners", Partner.Type),
		edge.From("interested_members", Member.Type).Ref("interests"),
	}
}
