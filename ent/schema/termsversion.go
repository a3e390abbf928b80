package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// TermsVersion is a published version of the public offer or the privacy policy.
type TermsVersion struct {
	ent.Schema
}

// Fields of the TermsVersion.
func (TermsVersion) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("offer", "privacy"),
		field.String("version").NotEmpty(),
		field.String("title").Default(""),
		field.Text("body"),
		// When the version takes effect: members accept it by using the platform after it.
		field.Time("published_at"),
		field.Time("created_at").Default(time.Now),
		field.Int("created_by_id").Optional().Nillable(),
		// When every member was sent the notice of this version (the announce job's
		// outbox mark); empty until then.
		field.Time("announced_at").Optional().Nillable(),
	}
}

// Edges of the TermsVersion.
func (TermsVersion) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("acceptances", TermsAcceptance.Type),
	}
}

// Indexes of the TermsVersion.
func (TermsVersion) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("kind", "version").Unique(),
		index.Fields("kind", "published_at"),
	}
}
