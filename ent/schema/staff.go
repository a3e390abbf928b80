package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Staff grants a member a role at a partner, or on the platform when partner is empty.
type Staff struct {
	ent.Schema
}

// Fields of the Staff.
func (Staff) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("role").Values("owner", "manager", "cashier", "superadmin", "moderator", "support", "concierge"),
		field.Int("member_id"),
		field.Int("partner_id").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
	}
}

// Edges of the Staff.
func (Staff) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("staff").Unique().Required().Field("member_id"),
		edge.From("partner", Partner.Type).Ref("staff").Unique().Field("partner_id"),
	}
}

// Indexes of the Staff.
func (Staff) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id"),
		index.Fields("partner_id"),
	}
}
