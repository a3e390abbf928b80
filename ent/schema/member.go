package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Member is a person signed in through Telegram: customer, partner staff or platform staff.
type Member struct {
	ent.Schema
}

// Fields of the Member.
func (Member) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("telegram_id").Optional().Nillable().Unique(),
		field.String("first_name").Default(""),
		field.String("last_name").Default(""),
		field.String("username").Default(""),
		field.String("photo_url").Default(""),
		field.String("language").Default("ru"),
		field.Enum("status").Values("active", "blocked", "deleted").Default("active"),
		field.String("blocked_reason").Default(""),
		field.String("referral_code").NotEmpty().Unique(),
		field.Int("tier_id").Optional().Nillable(),
		field.Time("tier_until").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
		field.Time("last_seen_at").Optional().Nillable(),
		field.Time("deleted_at").Optional().Nillable(),
		// The member's own city, declared on the welcome screen or in settings; it ranks
		// offers there higher. A plain ID: a city is never deleted.
		field.Int("city_id").Optional().Nillable(),
		// When the member saw or skipped the welcome screen (interests, city, language);
		// nil until then, so /app offers it once.
		field.Time("onboarded_at").Optional().Nillable(),
		// Finer interests within categories, from catalog's tag vocabulary (e.g. "coffee"),
		// chosen with the categories on the welcome screen.
		field.Strings("interest_tags").Optional(),
		// When Telegram refused a message to the member for good (403: they blocked the
		// bot or deleted their account); nil while the chat is reachable. Notifications
		// are not sent to Telegram while it is set; it clears when the member writes to
		// the bot or signs in again.
		field.Time("telegram_unreachable_at").Optional().Nillable(),
	}
}

// Edges of the Member.
func (Member) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("staff", Staff.Type),
		edge.To("sessions", Session.Type),
		edge.To("bookings", Booking.Type),
		edge.To("ledger_entries", LedgerEntry.Type),
		edge.To("notifications", Notification.Type),
		edge.To("terms_acceptances", TermsAcceptance.Type),
		edge.To("consents", Consent.Type),
		edge.To("support_threads", SupportThread.Type),
		edge.To("claims", Claim.Type),
		edge.To("interests", Category.Type),
		edge.To("balance", Balance.Type).Unique(),
		edge.To("referrals_made", Referral.Type),
		edge.To("referred_by", Referral.Type).Unique(),
		edge.To("authored_revisions", OfferRevision.Type),
		edge.To("decided_revisions", OfferRevision.Type),
		edge.To("concierge_bookings", Booking.Type),
		edge.To("assigned_threads", SupportThread.Type),
		edge.To("support_messages", SupportMessage.Type),
		edge.To("answered_claims", Claim.Type),
		edge.From("tier", Tier.Type).Ref("members").Unique().Field("tier_id"),
		edge.From("invited_offers", Offer.Type).Ref("invited"),
	}
}

// Indexes of the Member.
func (Member) Indexes() []ent.Index {
	return []ent.Index{
		// The back office counts new and active members over a period.
		index.Fields("created_at"),
		index.Fields("last_seen_at"),
	}
}
