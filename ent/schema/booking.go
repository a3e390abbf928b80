package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Booking is a member's request for an offer and its redemption at the partner.
type Booking struct {
	ent.Schema
}

// Fields of the Booking.
func (Booking) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").NotEmpty().Unique(),
		field.Enum("status").
			Values("requested", "confirmed", "declined", "cancelled", "expired", "completed", "no_show", "reversed").
			Default("requested"),
		field.Enum("channel").Values("web", "tg", "bot", "concierge").Default("web"),
		field.Int("member_id"),
		field.Int("offer_id"),
		// Denormalised from the offer for tenant scoping.
		field.Int("partner_id"),
		// The concierge who booked on the member's behalf.
		field.Int("booked_by_id").Optional().Nillable(),
		field.Time("visit_at").Optional().Nillable(),
		field.String("note").Default(""),
		field.String("decline_reason").Default(""),
		// Deal amount in tiyn.
		field.Int64("deal_amount").Default(0).NonNegative(),
		field.Int64("bonus_price").Default(0).NonNegative(),
		field.Time("expires_at").Optional().Nillable(),
		field.Time("confirmed_at").Optional().Nillable(),
		field.Time("completed_at").Optional().Nillable(),
		field.Time("cancelled_at").Optional().Nillable(),
		field.Time("reversed_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// Edges of the Booking.
func (Booking) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("bookings").Unique().Required().Field("member_id"),
		edge.From("offer", Offer.Type).Ref("bookings").Unique().Required().Field("offer_id"),
		edge.From("partner", Partner.Type).Ref("bookings").Unique().Required().Field("partner_id"),
		edge.From("booked_by", Member.Type).Ref("concierge_bookings").Unique().Field("booked_by_id"),
	}
}

// Indexes of the Booking.
func (Booking) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "created_at"),
		index.Fields("partner_id", "status", "created_at"),
		index.Fields("offer_id", "status"),
		// The back office's figures and lists over a period.
		index.Fields("created_at"),
		// app/fraud's deal-amount and repeated-completion detectors read completions by time window.
		index.Fields("status", "completed_at"),
	}
}
