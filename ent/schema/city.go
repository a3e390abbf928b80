package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// City is a place where partners and their offers are located.
type City struct {
	ent.Schema
}

// Fields of the City.
func (City) Fields() []ent.Field {
	return []ent.Field{
		field.String("slug").NotEmpty().Unique(),
		field.String("name_ru"),
		field.String("name_en"),
		// Kazakh name; empty until translated, when the Russian one is shown.
		field.String("name_kk").Default(""),
	}
}

// Edges of the City.
func (City) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("offers", Offer.Type),
		edge.To("partners", Partner.Type),
	}
}
