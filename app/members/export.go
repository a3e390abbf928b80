package members

import (
	"context"
	"time"

	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/claim"
	"ikra/ent/consent"
	"ikra/ent/ledgerentry"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/ent/referral"
	"ikra/ent/session"
	"ikra/ent/staff"
	"ikra/ent/supportmessage"
	"ikra/ent/supportthread"
	"ikra/ent/termsacceptance"
)

// Export is everything the platform holds about one member, as they download it.
// Other people appear only by first name (who invited the member, whom they invited);
// staff who answered them not at all.
type Export struct {
	ExportedAt       time.Time          `json:"exported_at"`
	Profile          ExportProfile      `json:"profile"`
	Balance          *ExportBalance     `json:"balance"`
	Sessions         []ExportSession    `json:"sessions"`
	TermsAcceptances []ExportAcceptance `json:"terms_acceptances"`
	Consents         []ExportConsent    `json:"consents"`
	Bookings         []ExportBooking    `json:"bookings"`
	Ledger           []ExportLedger     `json:"ledger_entries"`
	Notifications    []ExportNotice     `json:"notifications"`
	Support          []ExportThread     `json:"support_threads"`
	Claims           []ExportClaim      `json:"claims"`
	Referral         ExportReferral     `json:"referral"`
	StaffRoles       []ExportRole       `json:"staff_roles"`
}

// ExportProfile is the member's account. There is no phone number: none is ever kept.
type ExportProfile struct {
	ID           int        `json:"id"`
	TelegramID   *int64     `json:"telegram_id"`
	FirstName    string     `json:"first_name"`
	LastName     string     `json:"last_name"`
	Username     string     `json:"username"`
	PhotoURL     string     `json:"photo_url"`
	Language     string     `json:"language"`
	Status       string     `json:"status"`
	ReferralCode string     `json:"referral_code"`
	Tier         string     `json:"tier,omitempty"`
	TierUntil    *time.Time `json:"tier_until,omitempty"`
	Interests    []string   `json:"interests"`
	City         string     `json:"city,omitempty"` // the city the member declared
	OnboardedAt  *time.Time `json:"onboarded_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	LastSeenAt   *time.Time `json:"last_seen_at"`
}

// ExportBalance is the member's bonus balance, in whole bonuses.
type ExportBalance struct {
	Available   int64 `json:"available"`
	Pending     int64 `json:"pending"`
	Reserved    int64 `json:"reserved"`
	EarnedTotal int64 `json:"earned_total"`
}

// ExportSession is one sign-in on a device.
type ExportSession struct {
	Channel    string     `json:"channel"`
	Device     string     `json:"device"`
	IP         string     `json:"ip"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// ExportAcceptance is the acceptance of one version of the terms.
type ExportAcceptance struct {
	Kind       string    `json:"kind"`
	Version    string    `json:"version"`
	Title      string    `json:"title"`
	Channel    string    `json:"channel"`
	Explicit   bool      `json:"explicit"`
	AcceptedAt time.Time `json:"accepted_at"`
}

// ExportConsent is a consent given and, perhaps, withdrawn.
type ExportConsent struct {
	Kind        string     `json:"kind"`
	Version     string     `json:"version"`
	Channel     string     `json:"channel"`
	GivenAt     time.Time  `json:"given_at"`
	WithdrawnAt *time.Time `json:"withdrawn_at"`
}

// ExportBooking is one booking of a privilege. Amounts: the deal in tiyn, the price
// in bonuses.
type ExportBooking struct {
	Code           string     `json:"code"`
	Offer          string     `json:"offer"`
	Partner        string     `json:"partner"`
	Status         string     `json:"status"`
	Channel        string     `json:"channel"`
	VisitAt        *time.Time `json:"visit_at"`
	Note           string     `json:"note"`
	DeclineReason  string     `json:"decline_reason,omitempty"`
	DealAmountTiyn int64      `json:"deal_amount_tiyn"`
	BonusPrice     int64      `json:"bonus_price"`
	CreatedAt      time.Time  `json:"created_at"`
	ConfirmedAt    *time.Time `json:"confirmed_at"`
	CompletedAt    *time.Time `json:"completed_at"`
	CancelledAt    *time.Time `json:"cancelled_at"`
	ReversedAt     *time.Time `json:"reversed_at"`
}

// ExportLedger is one change of the bonus balance, in whole bonuses.
type ExportLedger struct {
	Kind        string     `json:"kind"`
	Amount      int64      `json:"amount"`
	Bucket      string     `json:"bucket"`
	Reason      string     `json:"reason"`
	AvailableAt *time.Time `json:"available_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// ExportNotice is one service notification.
type ExportNotice struct {
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// ExportThread is a conversation with the care service.
type ExportThread struct {
	Subject   string          `json:"subject"`
	Status    string          `json:"status"`
	Channel   string          `json:"channel"`
	CreatedAt time.Time       `json:"created_at"`
	Messages  []ExportMessage `json:"messages"`
}

// ExportMessage is one message of a support thread.
type ExportMessage struct {
	FromStaff bool      `json:"from_staff"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportClaim is a written claim and its answer.
type ExportClaim struct {
	Subject    string     `json:"subject"`
	Body       string     `json:"body"`
	Status     string     `json:"status"`
	DueAt      time.Time  `json:"due_at"`
	Answer     string     `json:"answer"`
	AnsweredAt *time.Time `json:"answered_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// ExportReferral says who invited the member and whom they invited, by first name.
type ExportReferral struct {
	InvitedBy *ExportPerson  `json:"invited_by"`
	Invited   []ExportPerson `json:"invited"`
}

// ExportPerson is another member as the export shows them: a first name and a date.
type ExportPerson struct {
	FirstName string    `json:"first_name"`
	Since     time.Time `json:"since"`
}

// ExportRole is a staff role the member holds.
type ExportRole struct {
	Role      string    `json:"role"`
	Partner   string    `json:"partner,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Export gathers all data held about a member, loading each kind of record with one
// query. An unknown member is ErrNotFound.
func (s *Service) Export(ctx context.Context, memberID int) (*Export, error) {
	m, err := s.db.Member.Query().
		Where(member.ID(memberID)).
		WithTier().
		WithInterests().
		WithBalance().
		WithSessions(func(q *ent.SessionQuery) { q.Order(ent.Asc(session.FieldCreatedAt)) }).
		WithTermsAcceptances(func(q *ent.TermsAcceptanceQuery) {
			q.WithTermsVersion().Order(ent.Asc(termsacceptance.FieldAcceptedAt), ent.Asc(termsacceptance.FieldID))
		}).
		WithConsents(func(q *ent.ConsentQuery) { q.Order(ent.Asc(consent.FieldGivenAt), ent.Asc(consent.FieldID)) }).
		WithBookings(func(q *ent.BookingQuery) {
			q.WithOffer().WithPartner().Order(ent.Asc(booking.FieldCreatedAt), ent.Asc(booking.FieldID))
		}).
		WithLedgerEntries(func(q *ent.LedgerEntryQuery) {
			q.Order(ent.Asc(ledgerentry.FieldCreatedAt), ent.Asc(ledgerentry.FieldID))
		}).
		WithNotifications(func(q *ent.NotificationQuery) {
			q.Order(ent.Asc(notification.FieldCreatedAt), ent.Asc(notification.FieldID))
		}).
		WithSupportThreads(func(q *ent.SupportThreadQuery) {
			q.WithMessages(func(q *ent.SupportMessageQuery) {
				// Staff's internal notes are never shown to the member.
				q.Where(supportmessage.Internal(false)).Order(ent.Asc(supportmessage.FieldCreatedAt), ent.Asc(supportmessage.FieldID))
			}).Order(ent.Asc(supportthread.FieldCreatedAt), ent.Asc(supportthread.FieldID))
		}).
		WithClaims(func(q *ent.ClaimQuery) { q.Order(ent.Asc(claim.FieldCreatedAt), ent.Asc(claim.FieldID)) }).
		WithReferredBy(func(q *ent.ReferralQuery) { q.WithReferrer() }).
		WithReferralsMade(func(q *ent.ReferralQuery) {
			q.WithInvitee().Order(ent.Asc(referral.FieldCreatedAt), ent.Asc(referral.FieldID))
		}).
		WithStaff(func(q *ent.StaffQuery) { q.WithPartner().Order(ent.Asc(staff.FieldCreatedAt), ent.Asc(staff.FieldID)) }).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	e := m.Edges
	out := &Export{
		ExportedAt: s.now().UTC(),
		Profile: ExportProfile{
			ID: m.ID, TelegramID: m.TelegramID, FirstName: m.FirstName, LastName: m.LastName,
			Username: m.Username, PhotoURL: m.PhotoURL, Language: m.Language, Status: string(m.Status),
			ReferralCode: m.ReferralCode, TierUntil: m.TierUntil, Interests: []string{},
			CreatedAt: m.CreatedAt, LastSeenAt: m.LastSeenAt, OnboardedAt: m.OnboardedAt,
		},
		Sessions:         make([]ExportSession, 0, len(e.Sessions)),
		TermsAcceptances: make([]ExportAcceptance, 0, len(e.TermsAcceptances)),
		Consents:         make([]ExportConsent, 0, len(e.Consents)),
		Bookings:         make([]ExportBooking, 0, len(e.Bookings)),
		Ledger:           make([]ExportLedger, 0, len(e.LedgerEntries)),
		Notifications:    make([]ExportNotice, 0, len(e.Notifications)),
		Support:          make([]ExportThread, 0, len(e.SupportThreads)),
		Claims:           make([]ExportClaim, 0, len(e.Claims)),
		Referral:         ExportReferral{Invited: make([]ExportPerson, 0, len(e.ReferralsMade))},
		StaffRoles:       make([]ExportRole, 0, len(e.Staff)),
	}
	if e.Tier != nil {
		out.Profile.Tier = e.Tier.Slug
	}
	for _, c := range e.Interests {
		out.Profile.Interests = append(out.Profile.Interests, c.Slug)
	}
	if m.CityID != nil {
		c, err := s.db.City.Get(ctx, *m.CityID)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		if c != nil {
			out.Profile.City = c.Slug
		}
	}
	if b := e.Balance; b != nil {
		out.Balance = &ExportBalance{Available: b.Available, Pending: b.Pending, Reserved: b.Reserved, EarnedTotal: b.EarnedTotal}
	}
	for _, x := range e.Sessions {
		out.Sessions = append(out.Sessions, ExportSession{Channel: string(x.Channel), Device: x.UserAgent, IP: x.IP,
			CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt, RevokedAt: x.RevokedAt})
	}
	for _, x := range e.TermsAcceptances {
		a := ExportAcceptance{Channel: string(x.Channel), Explicit: x.Explicit, AcceptedAt: x.AcceptedAt}
		if v := x.Edges.TermsVersion; v != nil {
			a.Kind, a.Version, a.Title = string(v.Kind), v.Version, v.Title
		}
		out.TermsAcceptances = append(out.TermsAcceptances, a)
	}
	for _, x := range e.Consents {
		out.Consents = append(out.Consents, ExportConsent{Kind: x.Kind, Version: x.Version, Channel: string(x.Channel),
			GivenAt: x.GivenAt, WithdrawnAt: x.WithdrawnAt})
	}
	for _, x := range e.Bookings {
		b := ExportBooking{Code: x.Code, Status: string(x.Status), Channel: string(x.Channel), VisitAt: x.VisitAt,
			Note: x.Note, DeclineReason: x.DeclineReason, DealAmountTiyn: x.DealAmount, BonusPrice: x.BonusPrice,
			CreatedAt: x.CreatedAt, ConfirmedAt: x.ConfirmedAt, CompletedAt: x.CompletedAt,
			CancelledAt: x.CancelledAt, ReversedAt: x.ReversedAt}
		if o := x.Edges.Offer; o != nil {
			b.Offer = o.Title
		}
		if p := x.Edges.Partner; p != nil {
			b.Partner = p.Name
		}
		out.Bookings = append(out.Bookings, b)
	}
	for _, x := range e.LedgerEntries {
		out.Ledger = append(out.Ledger, ExportLedger{Kind: string(x.Kind), Amount: x.Amount, Bucket: string(x.Bucket),
			Reason: x.Reason, AvailableAt: x.AvailableAt, CreatedAt: x.CreatedAt})
	}
	for _, x := range e.Notifications {
		out.Notifications = append(out.Notifications, ExportNotice{Kind: x.Kind, Title: x.Title, Body: x.Body,
			Link: x.Link, CreatedAt: x.CreatedAt, ReadAt: x.ReadAt})
	}
	for _, x := range e.SupportThreads {
		t := ExportThread{Subject: x.Subject, Status: string(x.Status), Channel: string(x.Channel), CreatedAt: x.CreatedAt,
			Messages: make([]ExportMessage, 0, len(x.Edges.Messages))}
		for _, msg := range x.Edges.Messages {
			t.Messages = append(t.Messages, ExportMessage{FromStaff: msg.FromStaff, Body: msg.Body, CreatedAt: msg.CreatedAt})
		}
		out.Support = append(out.Support, t)
	}
	for _, x := range e.Claims {
		out.Claims = append(out.Claims, ExportClaim{Subject: x.Subject, Body: x.Body, Status: string(x.Status),
			DueAt: x.DueAt, Answer: x.Answer, AnsweredAt: x.AnsweredAt, CreatedAt: x.CreatedAt})
	}
	if r := e.ReferredBy; r != nil && r.Edges.Referrer != nil {
		out.Referral.InvitedBy = &ExportPerson{FirstName: r.Edges.Referrer.FirstName, Since: r.CreatedAt}
	}
	for _, r := range e.ReferralsMade {
		if r.Edges.Invitee != nil {
			out.Referral.Invited = append(out.Referral.Invited, ExportPerson{FirstName: r.Edges.Invitee.FirstName, Since: r.CreatedAt})
		}
	}
	for _, x := range e.Staff {
		role := ExportRole{Role: string(x.Role), CreatedAt: x.CreatedAt}
		if p := x.Edges.Partner; p != nil {
			role.Partner = p.Name
		}
		out.StaffRoles = append(out.StaffRoles, role)
	}
	return out, nil
}
