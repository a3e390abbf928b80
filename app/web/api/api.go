// Package api serves the JSON API (/api/v1) used by the Mini App and other clients.
package api

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/auth"
	"ikra/app/loyalty"
	"ikra/app/notify"
	"ikra/app/web/member"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Handlers serve the JSON API.
type Handlers struct {
	db       *ent.Client
	sessions *auth.Sessions
	notify   *notify.Service
	loyalty  *loyalty.Service
	history  *member.History
}

// New returns the API handlers.
func New(db *ent.Client, s *auth.Sessions, n *notify.Service, l *loyalty.Service, h *member.History) *Handlers {
	return &Handlers{db: db, sessions: s, notify: n, loyalty: l, history: h}
}

// Me is the signed-in member.
type Me struct {
	ID         int           `json:"id"`
	TelegramID int64         `json:"telegram_id"`
	FirstName  string        `json:"first_name"`
	LastName   string        `json:"last_name"`
	Username   string        `json:"username"`
	Language   string        `json:"language"`
	Roles      []string      `json:"roles"`
	Partners   []PartnerRole `json:"partners"`
	// Bonuses: spendable now, waiting for their deals' reversal windows, set aside for bookings.
	Balance      int64   `json:"balance"`
	Pending      int64   `json:"pending"`
	Reserved     int64   `json:"reserved"`
	Tier         *string `json:"tier"` // the effective status tier's slug; null without one
	ReferralCode string  `json:"referral_code"`
}

// PartnerRole is a partner the member works for.
type PartnerRole struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// Me returns the signed-in member.
func (h *Handlers) Me(c *fiber.Ctx) error {
	v := ui.ViewerOf(c)
	m := v.Member
	out := Me{ID: m.ID, FirstName: m.FirstName, LastName: m.LastName, Username: m.Username, Language: m.Language,
		Roles: append([]string{"member"}, v.Platform...), Partners: []PartnerRole{}}
	if m.TelegramID != nil {
		out.TelegramID = *m.TelegramID
	}
	seen := map[string]bool{}
	for _, p := range v.Partners {
		out.Partners = append(out.Partners, PartnerRole{ID: p.PartnerID, Name: p.Name, Role: p.Role})
		if !seen[p.Role] {
			seen[p.Role] = true
			out.Roles = append(out.Roles, p.Role)
		}
	}
	ctx := c.UserContext()
	bal, err := h.loyalty.Ledger().Balance(ctx, m.ID)
	if err != nil {
		return err
	}
	st, err := h.loyalty.StatusOf(ctx, m)
	if err != nil {
		return err
	}
	out.Balance, out.Pending, out.Reserved, out.ReferralCode = bal.Available, bal.Pending, bal.Reserved, m.ReferralCode
	if st.Tier != nil {
		out.Tier = &st.Tier.Slug
	}
	return c.JSON(out)
}

// Entry is one ledger entry of the member's bonus history.
type Entry struct {
	ID          int        `json:"id"`
	Kind        string     `json:"kind"`
	Amount      int64      `json:"amount"` // signed, whole bonuses
	Bucket      string     `json:"bucket"` // available, pending or reserved
	Reason      string     `json:"reason"` // what it was for, in the member's language
	CreatedAt   time.Time  `json:"created_at"`
	AvailableAt *time.Time `json:"available_at"` // when a pending credit becomes available
}

// Bonuses lists the member's bonus history, newest first, as the cabinet shows it (the
// mirror halves of moves between buckets left out), a page at a time:
// ?before=<next_before of the previous page>.
func (h *Handlers) Bonuses(c *fiber.Ctx) error {
	ctx := c.UserContext()
	before, err := member.Before(c)
	if err != nil {
		return err
	}
	lines, cursor, err := h.history.Page(ctx, h.loyalty.Ledger(), ui.ViewerOf(c).ID(), ui.Lang(c), before)
	if err != nil {
		return err
	}
	out := make([]Entry, 0, len(lines))
	for _, l := range lines {
		out = append(out, Entry{ID: l.ID, Kind: string(l.Kind), Amount: l.Amount, Bucket: string(l.Bucket), Reason: l.Text,
			CreatedAt: l.CreatedAt, AvailableAt: l.AvailableAt})
	}
	var next *int
	if cursor > 0 {
		next = &cursor
	}
	return c.JSON(fiber.Map{"entries": out, "next_before": next})
}

// Session is one signed-in device.
type Session struct {
	ID         string    `json:"id"`
	Channel    string    `json:"channel"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	Current    bool      `json:"current"`
}

// Sessions lists the member's live sessions.
func (h *Handlers) Sessions(c *fiber.Ctx) error {
	v := ui.ViewerOf(c)
	list, err := h.sessions.List(c.UserContext(), v.ID())
	if err != nil {
		return err
	}
	out := make([]Session, 0, len(list))
	for _, s := range list {
		out = append(out, Session{ID: s.ID, Channel: string(s.Channel), UserAgent: s.UserAgent, IP: s.IP,
			CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, Current: s.ID == v.SessionID})
	}
	return c.JSON(fiber.Map{"sessions": out})
}

// RevokeSession ends one of the member's sessions.
func (h *Handlers) RevokeSession(c *fiber.Ctx) error {
	err := h.sessions.Revoke(c.UserContext(), ui.ViewerOf(c).ID(), c.Params("id"))
	if errors.Is(err, auth.ErrNoSession) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// Notification is one service notification.
type Notification struct {
	ID        int        `json:"id"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	ReadAt    *time.Time `json:"read_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// Notifications lists the member's latest notifications.
func (h *Handlers) Notifications(c *fiber.Ctx) error {
	list, err := h.notify.List(c.UserContext(), ui.ViewerOf(c).ID(), 50)
	if err != nil {
		return err
	}
	out := make([]Notification, 0, len(list))
	for _, n := range list {
		out = append(out, Notification{ID: n.ID, Kind: n.Kind, Title: n.Title, Body: n.Body, Link: n.Link, ReadAt: n.ReadAt, CreatedAt: n.CreatedAt})
	}
	return c.JSON(fiber.Map{"notifications": out})
}
