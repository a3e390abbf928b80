package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// IdempotencyRecord is the first answer to a write of the POS/CRM API, kept per API
// key and Idempotency-Key: the unique index lets exactly one request claim a key, and
// a retry with the same request gets the stored answer again. Status 0 means the
// first request is still running.
type IdempotencyRecord struct {
	ent.Schema
}

// Fields of the IdempotencyRecord.
func (IdempotencyRecord) Fields() []ent.Field {
	return []ent.Field{
		field.Int("api_key_id"),
		field.String("key").NotEmpty().MaxLen(200),
		field.String("request_hash"),
		field.Int("status").Default(0),
		field.Text("body").Default(""),
		field.Time("created_at").Default(time.Now),
		field.Time("completed_at").Optional().Nillable(),
	}
}

// Indexes of the IdempotencyRecord.
func (IdempotencyRecord) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("api_key_id", "key").Unique(),
	}
}
