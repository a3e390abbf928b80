// Package api serves the JSON API (/api/v1) used by the Mini App and other clients.
package api

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/auth"
	"ikra/app/notify"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Handlers serve the JSON API.
type Handlers struct {
	db       *ent.Client
	sessions *auth.Sessions
	notify   *notify.Service
}

// New returns the API handlers.
func New(db *ent.Client, s *auth.Sessions, n *notify.Service) *Handlers {
	return &Handlers{db: db, sessions: s, notify: n}
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
	return c.JSON(out)
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
