package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Session is a per-device sign-in, keyed by the SHA-256 hex of its token.
type Session struct {
	ent.Schema
}

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").NotEmpty().Unique().Immutable(),
		field.Int("member_id"),
		field.String("user_agent").Default(""),
		field.String("ip").Default(""),
		field.Enum("channel").Values("web", "tg", "bot").Default("web"),
		field.Time("created_at").Default(time.Now),
		field.Time("last_seen_at").Default(time.Now),
		field.Time("expires_at"),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("sessions").Unique().Required().Field("member_id"),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id"),
	}
}
