package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SupportMessage is one message in a support thread, from the member or from staff.
type SupportMessage struct {
	ent.Schema
}

// Fields of the SupportMessage.
func (SupportMessage) Fields() []ent.Field {
	return []ent.Field{
		field.Int("thread_id"),
		field.Int("author_id").Optional().Nillable(),
		field.Bool("from_staff").Default(false),
		field.Text("body"),
		// An internal note between staff: never shown or sent to the member.
		field.Bool("internal").Default(false),
		// The automatic acknowledgement written when the member opens a thread.
		field.Bool("automatic").Default(false),
		// Media keys of attached images (stored through the media rules).
		field.JSON("attachments", []string{}).Optional(),
		field.Time("created_at").Default(time.Now),
	}
}

// Edges of the SupportMessage.
func (SupportMessage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("thread", SupportThread.Type).Ref("messages").Unique().Required().Field("thread_id"),
		edge.From("author", Member.Type).Ref("support_messages").Unique().Field("author_id"),
	}
}

// Indexes of the SupportMessage.
func (SupportMessage) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("thread_id", "created_at"),
	}
}
