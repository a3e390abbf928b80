package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Claim is a formal written claim that must be answered in writing by due_at.
type Claim struct {
	ent.Schema
}

// Fields of the Claim.
func (Claim) Fields() []ent.Field {
	return []ent.Field{
		field.Int("member_id"),
		field.Int("answered_by_id").Optional().Nillable(),
		field.String("subject"),
		field.Text("body"),
		field.Enum("status").Values("received", "in_progress", "answered").Default("received"),
		field.Time("due_at"),
		field.Text("answer").Default(""),
		field.Time("answered_at").Optional().Nillable(),
		// The staff member answering the claim.
		field.Int("assignee_id").Optional().Nillable(),
		// What the claim is about, when the member named it.
		field.Int("booking_id").Optional().Nillable(),
		field.Int("partner_id").Optional().Nillable(),
		// Media keys of attached images.
		field.JSON("attachments", []string{}).Optional(),
		field.Enum("channel").Values("web", "tg", "bot").Default("web"),
		// The reminders sent to the assignee 7 days and 1 day before due_at.
		field.Time("reminded_7d_at").Optional().Nillable(),
		field.Time("reminded_1d_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
	}
}

// Edges of the Claim.
func (Claim) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("claims").Unique().Required().Field("member_id"),
		edge.From("answered_by", Member.Type).Ref("answered_claims").Unique().Field("answered_by_id"),
	}
}

// Indexes of the Claim.
func (Claim) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "due_at"),
		index.Fields("member_id"),
		index.Fields("assignee_id", "status"),
	}
}
