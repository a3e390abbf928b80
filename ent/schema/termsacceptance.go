package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// TermsAcceptance records that a member accepted a terms version, explicitly or by continued use.
type TermsAcceptance struct {
	ent.Schema
}

// Fields of the TermsAcceptance.
func (TermsAcceptance) Fields() []ent.Field {
	return []ent.Field{
		field.Int("member_id"),
		field.Int("terms_version_id"),
		field.Enum("channel").Values("web", "tg", "bot"),
		// False when acceptance is inferred from continued use.
		field.Bool("explicit").Default(true),
		field.Time("accepted_at").Default(time.Now),
	}
}

// Edges of the TermsAcceptance.
func (TermsAcceptance) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("terms_acceptances").Unique().Required().Field("member_id"),
		edge.From("terms_version", TermsVersion.Type).Ref("acceptances").Unique().Required().Field("terms_version_id"),
	}
}

// Indexes of the TermsAcceptance.
func (TermsAcceptance) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "terms_version_id").Unique(),
	}
}
