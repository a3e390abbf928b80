package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Referral links an invitee to the member who invited them (one level only).
type Referral struct {
	ent.Schema
}

// Fields of the Referral.
func (Referral) Fields() []ent.Field {
	return []ent.Field{
		field.Int("referrer_id"),
		field.Int("invitee_id"),
		field.String("code"),
		field.Time("created_at").Default(time.Now),
	}
}

// Edges of the Referral.
func (Referral) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("referrer", Member.Type).Ref("referrals_made").Unique().Required().Field("referrer_id"),
		edge.From("invitee", Member.Type).Ref("referred_by").Unique().Required().Field("invitee_id"),
	}
}

// Indexes of the Referral.
func (Referral) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("referrer_id"),
		// app/fraud's referral-farm and sign-up-burst detectors read referrals by time window.
		index.Fields("created_at"),
	}
}
