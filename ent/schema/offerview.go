package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// OfferView is one opening of an offer's page by a member, recorded in the background
// (app/analytics) for the partner's analytics. Append-only; it carries plain IDs and
// no foreign keys, so recording never waits on, or fails for, the rows it names.
type OfferView struct {
	ent.Schema
}

// Fields of the OfferView.
func (OfferView) Fields() []ent.Field {
	return []ent.Field{
		field.Int("offer_id").Immutable(),
		// Denormalised from the offer for tenant scoping.
		field.Int("partner_id").Immutable(),
		field.Int("member_id").Immutable(),
		// The calendar day of the view in Asia/Almaty, YYYY-MM-DD, for per-day counts.
		field.String("day").MaxLen(10).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of the OfferView.
func (OfferView) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("partner_id", "created_at"),
		index.Fields("offer_id", "created_at"),
		// The personal first page reads a member's recent views (catalog.profile).
		index.Fields("member_id", "created_at"),
	}
}
