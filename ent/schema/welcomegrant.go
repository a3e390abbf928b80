package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// WelcomeGrant remembers, by one-way hash, a Telegram ID that already received the welcome bonus.
type WelcomeGrant struct {
	ent.Schema
}

// Fields of the WelcomeGrant.
func (WelcomeGrant) Fields() []ent.Field {
	return []ent.Field{
		field.String("tg_hash").NotEmpty().Unique(),
		field.Time("created_at").Default(time.Now),
	}
}
