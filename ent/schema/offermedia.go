package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// OfferMedia is an image attached to an offer, stored in object storage under key.
type OfferMedia struct {
	ent.Schema
}

// Fields of the OfferMedia.
func (OfferMedia) Fields() []ent.Field {
	return []ent.Field{
		field.Int("offer_id"),
		field.String("key").NotEmpty(),
		field.String("content_type"),
		field.Int64("size").NonNegative(),
		field.Int("width").Default(0),
		field.Int("height").Default(0),
		field.Int("sort").Default(0),
		// live images are shown to members; one added to a published offer is pending
		// until a moderator approves the offer's revision, and rejected if refused.
		field.Enum("status").Values("live", "pending", "rejected").Default("live"),
		field.Time("created_at").Default(time.Now),
	}
}

// Edges of the OfferMedia.
func (OfferMedia) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("offer", Offer.Type).Ref("media").Unique().Required().Field("offer_id"),
	}
}

// Indexes of the OfferMedia.
func (OfferMedia) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("offer_id", "sort"),
	}
}
