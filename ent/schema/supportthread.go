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
		field.Enum("status").Values("open", "answered", "closed").Default("open"),
		field.Enum("channel").Values("web", "tg", "bot").Default("web"),
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
	}
}
