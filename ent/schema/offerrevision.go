package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// OfferRevision is a proposed change to an offer that goes through moderation.
type OfferRevision struct {
	ent.Schema
}

// Fields of the OfferRevision.
func (OfferRevision) Fields() []ent.Field {
	return []ent.Field{
		field.Int("offer_id"),
		field.Int("author_id").Optional().Nillable(),
		field.Int("decided_by_id").Optional().Nillable(),
		field.JSON("data", map[string]any{}),
		field.Enum("status").Values("pending", "approved", "rejected").Default("pending"),
		field.String("reason").Default(""),
		field.Time("created_at").Default(time.Now),
		field.Time("decided_at").Optional().Nillable(),
	}
}

// Edges of the OfferRevision.
func (OfferRevision) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("offer", Offer.Type).Ref("revisions").Unique().Required().Field("offer_id"),
		edge.From("author", Member.Type).Ref("authored_revisions").Unique().Field("author_id"),
		edge.From("decided_by", Member.Type).Ref("decided_revisions").Unique().Field("decided_by_id"),
	}
}

// Indexes of the OfferRevision.
func (OfferRevision) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("offer_id", "status"),
		index.Fields("status", "created_at"),
	}
}
