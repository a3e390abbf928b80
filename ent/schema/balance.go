package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Balance caches a member's ledger sums; it is updated in the same transaction as the entries.
type Balance struct {
	ent.Schema
}

// Fields of the Balance.
func (Balance) Fields() []ent.Field {
	return []ent.Field{
		field.Int("member_id").Unique(),
		field.Int64("available").Default(0).NonNegative(),
		field.Int64("pending").Default(0).NonNegative(),
		field.Int64("reserved").Default(0).NonNegative(),
		field.Int64("earned_total").Default(0).NonNegative(),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// Edges of the Balance.
func (Balance) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("balance").Unique().Required().Field("member_id"),
	}
}
