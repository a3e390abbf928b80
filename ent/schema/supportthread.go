package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SupportThread is a care-service conversation between a member and support staff.
type SupportThread struct {
	ent.Schema
}

// Fields of the SupportThread.
func (SupportThread) Fields() []ent.Field {
	return []ent.Field{
		field.Int("member_id"),
		field.Int("assignee_id").Optional().Nillable(),
		field.String("subject").Default(""),
		// open: waiting for staff; answered: waiting for the member; closed: resolved.
		field.Enum("status").Values("open", "answered", "closed").Default("open"),
		// The channel the member last wrote from; replies are delivered there.
		field.Enum("channel").Values("web", "tg", "bot").Default("web"),
		// support: the care service; concierge: a request for help with an offer.
		field.Enum("kind").Values("support", "concierge").Default("support"),
		// The offer a concierge request is about.
		field.Int("offer_id").Optional().Nillable(),
		// The booking a concierge made for the member on this request.
		field.Int("booking_id").Optional().Nillable(),
		field.Time("first_response_at").Optional().Nillable(),
		field.Time("resolved_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// Edges of the SupportThread.
func (SupportThread) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("support_threads").Unique().Required().Field("member_id"),
		edge.From("assignee", Member.Type).Ref("assigned_threads").Unique().Field("assignee_id"),
		edge.To("messages", SupportMessage.Type),
	}
}

// Indexes of the SupportThread.
func (SupportThread) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "updated_at"),
		index.Fields("member_id"),
		index.Fields("kind", "status", "updated_at"),
		index.Fields("assignee_id", "status"),
	}
}
