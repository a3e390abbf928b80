package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// StaffInvite is a one-time link a partner's owner creates to let someone join the
// partner in a role. Only the SHA-256 of the link's token is stored.
type StaffInvite struct {
	ent.Schema
}

// Fields of the StaffInvite.
func (StaffInvite) Fields() []ent.Field {
	return []ent.Field{
		field.Int("partner_id"),
		field.Enum("role").Values("manager", "cashier"),
		field.String("token_hash").NotEmpty().Unique(),
		field.Int("created_by"),
		field.Time("expires_at"),
		field.Time("used_at").Optional().Nillable(),
		field.Int("used_by").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
	}
}

// Indexes of the StaffInvite.
func (StaffInvite) Indexes() []ent.Index {
	return []ent.Index{index.Fields("partner_id")}
}
