package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PartnerApplication is a business's request to join the platform as a partner,
// filed by a signed-in member and decided by a moderator. No phone number is kept.
type PartnerApplication struct {
	ent.Schema
}

// Fields of the PartnerApplication.
func (PartnerApplication) Fields() []ent.Field {
	return []ent.Field{
		field.Int("member_id"),
		field.String("brand").NotEmpty(),
		field.String("legal_name").NotEmpty(),
		field.String("bin").MinLen(12).MaxLen(12),
		field.Int("category_id"),
		field.Int("city_id"),
		field.String("address").Default(""),
		field.String("email").Default(""),
		field.String("website").Default(""),
		field.Text("description").Default(""),
		field.Enum("status").Values("pending", "approved", "rejected").Default("pending"),
		field.String("reason").Default(""),
		// partner_id is the partner the approval created.
		field.Int("partner_id").Optional().Nillable(),
		field.Int("decided_by").Optional().Nillable(),
		field.Time("decided_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
	}
}

// Indexes of the PartnerApplication.
func (PartnerApplication) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id"),
		index.Fields("status", "created_at"),
		index.Fields("bin"),
	}
}
