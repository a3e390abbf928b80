package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Consent records a member's consent to personal-data processing and its withdrawal.
type Consent struct {
	ent.Schema
}

// Fields of the Consent.
func (Consent) Fields() []ent.Field {
	return []ent.Field{
		field.Int("member_id"),
		field.String("kind").Default("personal_data"),
		field.String("version").NotEmpty(),
		field.Enum("channel").Values("web", "tg", "bot"),
		field.Time("given_at").Default(time.Now),
		field.Time("withdrawn_at").Optional().Nillable(),
	}
}

// Edges of the Consent.
func (Consent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("consents").Unique().Required().Field("member_id"),
	}
}
