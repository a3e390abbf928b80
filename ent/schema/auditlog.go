package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditLog records a staff action: who, what, when, and the state before and after.
type AuditLog struct {
	ent.Schema
}

// Fields of the AuditLog.
func (AuditLog) Fields() []ent.Field {
	return []ent.Field{
		field.Int("actor_id").Optional().Nillable(),
		field.String("actor_role").Default(""),
		field.Int("partner_id").Optional().Nillable(),
		field.String("action").NotEmpty(),
		field.String("target_type").Default(""),
		field.String("target_id").Default(""),
		field.JSON("before", map[string]any{}).Optional(),
		field.JSON("after", map[string]any{}).Optional(),
		field.String("ip").Default(""),
		field.String("request_id").Default(""),
		field.Time("created_at").Default(time.Now),
	}
}

// Indexes of the AuditLog.
func (AuditLog) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("created_at"),
		index.Fields("target_type", "target_id"),
		index.Fields("actor_id", "created_at"),
		index.Fields("action", "created_at"),
	}
}
