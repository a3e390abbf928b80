package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// WebhookEndpoint is a URL of a partner's own system that receives booking events,
// signed with the endpoint's secret.
type WebhookEndpoint struct {
	ent.Schema
}

// Fields of the WebhookEndpoint.
func (WebhookEndpoint) Fields() []ent.Field {
	return []ent.Field{
		field.Int("partner_id"),
		field.String("url").NotEmpty().MaxLen(2000),
		// The HMAC key of the signatures; shown to the partner's owners so they can verify.
		field.String("secret").NotEmpty().Sensitive(),
		// The event types the endpoint receives, e.g. "booking.completed".
		field.Strings("events"),
		field.Bool("active").Default(true),
		field.Time("created_at").Default(time.Now),
		field.Time("disabled_at").Optional().Nillable(),
	}
}

// Edges of the WebhookEndpoint.
func (WebhookEndpoint) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("partner", Partner.Type).Unique().Required().Field("partner_id"),
		edge.To("deliveries", WebhookDelivery.Type),
	}
}

// Indexes of the WebhookEndpoint.
func (WebhookEndpoint) Indexes() []ent.Index {
	return []ent.Index{index.Fields("partner_id", "active")}
}

// WebhookEvent is one event of a partner (a booking's state change), written in the
// transaction of the change; its event ID stays the same on every delivery attempt.
type WebhookEvent struct {
	ent.Schema
}

// Fields of the WebhookEvent.
func (WebhookEvent) Fields() []ent.Field {
	return []ent.Field{
		// The public event ID receivers de-duplicate by (a random UUID).
		field.String("event_id").NotEmpty().Unique(),
		field.Int("partner_id"),
		field.String("type").NotEmpty(),
		// The request body sent, exactly: JSON.
		field.Text("payload"),
		field.Time("created_at").Default(time.Now),
	}
}

// Edges of the WebhookEvent.
func (WebhookEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("partner", Partner.Type).Unique().Required().Field("partner_id"),
		edge.To("deliveries", WebhookDelivery.Type),
	}
}

// Indexes of the WebhookEvent.
func (WebhookEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("partner_id", "created_at")}
}

// WebhookDelivery is the delivery of one event to one endpoint, with its attempts.
type WebhookDelivery struct {
	ent.Schema
}

// Fields of the WebhookDelivery.
func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		field.Int("partner_id"),
		field.Int("endpoint_id"),
		field.Int("event_id"),
		field.Enum("status").Values("pending", "delivered", "failed").Default("pending"),
		field.Int("attempts").Default(0),
		// How many times the owner asked to send it again; part of the job's ID.
		field.Int("resends").Default(0),
		field.Int("last_status").Default(0),
		field.String("last_error").Default(""),
		field.Time("next_attempt_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
		field.Time("delivered_at").Optional().Nillable(),
	}
}

// Edges of the WebhookDelivery.
func (WebhookDelivery) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("endpoint", WebhookEndpoint.Type).Ref("deliveries").Unique().Required().Field("endpoint_id"),
		edge.From("event", WebhookEvent.Type).Ref("deliveries").Unique().Required().Field("event_id"),
	}
}

// Indexes of the WebhookDelivery.
func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("endpoint_id", "created_at"),
		index.Fields("status", "next_attempt_at"),
		index.Fields("partner_id"),
	}
}
