package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// FraudFlag is a signal a detection job raised for staff to review: catalog
// harvesting, a referral farm, a partner's unusual deal amounts or repeated
// completions for one member, a burst of sign-ups from one referral code. One row per
// subject, kind and window: dedup_key makes raising it idempotent.
type FraudFlag struct {
	ent.Schema
}

// Fields of the FraudFlag.
func (FraudFlag) Fields() []ent.Field {
	return []ent.Field{
		field.String("dedup_key").MaxLen(200).Unique().Immutable(),
		// harvesting, referral_farm, deal_amount, repeated_completion, signup_burst.
		field.String("kind").MaxLen(32).Immutable(),
		// The member or partner the signal is about (one or both).
		field.Int("member_id").Optional().Nillable().Immutable(),
		field.Int("partner_id").Optional().Nillable().Immutable(),
		// A short description in words, e.g. "12 invitees, none booked in 30 days".
		field.String("summary").MaxLen(500).Default(""),
		field.Int("score").Default(0),
		// Evidence rows: {"label": "...", "link": "/admin/..."}.
		field.JSON("evidence", []map[string]string{}).Optional(),
		field.Enum("status").Values("open", "dismissed", "actioned").Default("open"),
		// What the reviewer did: dismiss, annul, block.
		field.String("action").MaxLen(32).Default(""),
		field.String("review_note").MaxLen(1000).Default(""),
		field.Int("reviewed_by_id").Optional().Nillable(),
		field.Time("reviewed_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// Indexes of the FraudFlag.
func (FraudFlag) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "created_at"),
		index.Fields("kind", "created_at"),
		index.Fields("member_id"),
		index.Fields("partner_id"),
	}
}
