package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// APIKey lets a partner's till or CRM call the POS/CRM API. Only the SHA-256 hex of
// the secret is kept; prefix is the start of the key, shown to tell keys apart.
type APIKey struct {
	ent.Schema
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.Int("partner_id"),
		field.String("name").MaxLen(100),
		field.Strings("scopes"),
		field.String("prefix").MaxLen(32),
		field.String("secret_hash").NotEmpty().Unique().Immutable().Sensitive(),
		field.Int("created_by"),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of the APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("partner_id"),
	}
}
