package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ScrapeFlag is a member or a client address that opened far more offers or catalog
// pages in one window than a person would (app/scraping), kept for staff to review.
// One row per subject, kind and window: dedup_key makes raising it idempotent.
type ScrapeFlag struct {
	ent.Schema
}

// Fields of the ScrapeFlag.
func (ScrapeFlag) Fields() []ent.Field {
	return []ent.Field{
		field.String("dedup_key").MaxLen(200).Unique().Immutable(),
		field.Int("member_id").Optional().Nillable().Immutable(),
		field.String("ip").MaxLen(64).Immutable(),
		// offers (distinct offers opened) or pages (catalog pages read).
		field.String("kind").MaxLen(16).Immutable(),
		field.Int("count"),
		field.Int("threshold").Immutable(),
		field.Int("window_seconds").Immutable(),
		field.Time("window_start").Immutable(),
		field.Time("first_seen").Immutable(),
		field.Time("last_seen"),
		// A sample of the most recent paths or offer IDs, newest first.
		field.JSON("evidence", []string{}).Optional(),
		field.Enum("status").Values("open", "reviewed").Default("open"),
		field.Int("reviewed_by_id").Optional().Nillable(),
		field.Time("reviewed_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of the ScrapeFlag.
func (ScrapeFlag) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("created_at"),
		index.Fields("member_id"),
	}
}
