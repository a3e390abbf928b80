package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LedgerEntry is one immutable, append-only change of a member's bonus balance.
type LedgerEntry struct {
	ent.Schema
}

// Fields of the LedgerEntry.
func (LedgerEntry) Fields() []ent.Field {
	return []ent.Field{
		field.Int("member_id").Immutable(),
		field.Enum("kind").
			Values("welcome", "cashback", "referral", "reserve", "capture", "release", "spend",
				"tier_purchase", "annulment", "reversal", "adjustment", "mature", "refund").
			Comment("mature moves a pending amount to available when its reversal window closes; refund returns the bonus price of a reversed deal").
			Immutable(),
		// Signed amount in whole bonuses.
		field.Int64("amount").Immutable(),
		field.Enum("bucket").Values("available", "pending", "reserved").Default("available").Immutable(),
		field.String("reason").Default("").Immutable(),
		field.String("ref_type").Default("").Immutable(),
		field.String("ref_id").Default("").Immutable(),
		// Member id of the staff member or actor who caused the entry.
		field.Int("actor_id").Optional().Nillable().Immutable(),
		field.String("idempotency_key").NotEmpty().Unique().Immutable(),
		field.Int("reverses_id").Optional().Nillable().Immutable(),
		// The entry this one derives from, e.g. the cashback a referral share came from.
		field.Int("source_id").Optional().Nillable().Immutable(),
		// When a pending amount becomes available.
		field.Time("available_at").Optional().Nillable().Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Edges of the LedgerEntry.
func (LedgerEntry) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("ledger_entries").Unique().Required().Immutable().Field("member_id"),
		edge.To("reversals", LedgerEntry.Type).
			From("reverses").Unique().Immutable().Field("reverses_id"),
		edge.To("derived", LedgerEntry.Type).
			From("source").Unique().Immutable().Field("source_id"),
	}
}

// Indexes of the LedgerEntry.
func (LedgerEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "created_at"),
		index.Fields("member_id", "bucket"),
		index.Fields("ref_type", "ref_id"),
		// The back office's figures over a period.
		index.Fields("created_at"),
		// What derives from an entry (a referral share, a maturing) and what reverses or
		// settles it: read on every completion, capture and reversal, which at a million
		// entries read the whole table without them (1–2 s per completion).
		index.Fields("source_id"),
		index.Fields("reverses_id"),
	}
}
