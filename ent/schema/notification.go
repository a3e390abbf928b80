package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Notification is a service message shown in the cabinet and delivered to Telegram.
type Notification struct {
	ent.Schema
}

// Fields of the Notification.
func (Notification) Fields() []ent.Field {
	return []ent.Field{
		field.Int("member_id"),
		field.String("kind").NotEmpty(),
		field.String("title").Default(""),
		field.Text("body"),
		field.String("link").Default(""),
		// Business key that makes creating the same notification twice a no-op.
		field.String("dedup_key").NotEmpty().Unique(),
		field.Time("read_at").Optional().Nillable(),
		field.Time("telegram_sent_at").Optional().Nillable(),
		field.Int("telegram_attempts").Default(0),
		field.String("telegram_error").Default(""),
		// When the running delivery attempt began; nil when no attempt is in flight. An
		// attempt that never recorded its outcome (the worker died while sending) is in
		// doubt: Telegram may have the message, so it is not sent again.
		field.Time("telegram_attempt_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
	}
}

// Edges of the Notification.
func (Notification) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("notifications").Unique().Required().Field("member_id"),
	}
}

// Indexes of the Notification.
func (Notification) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "created_at"),
	}
}
