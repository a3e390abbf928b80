// Package member serves the member cabinet (/app), also shown inside the Telegram Mini App.
package member

import (
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/auth"
	"ikra/app/loyalty"
	"ikra/app/media"
	"ikra/app/members"
	"ikra/app/notify"
	"ikra/app/web/ui"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/offermedia"
	"ikra/ent/partner"
	"ikra/ent/tier"
)

// Handlers serve the member cabinet.
type Handlers struct {
	db       *ent.Client
	render   *ui.Renderer
	sessions *auth.Sessions
	members  *members.Service
	notify   *notify.Service
	media    media.Store
	loyalty  *loyalty.Service
}

// New returns the member cabinet's handlers.
func New(db *ent.Client, r *ui.Renderer, s *auth.Sessions, m *members.Service, n *notify.Service, st media.Store, l *loyalty.Service) *Handlers {
	return &Handlers{db: db, render: r, sessions: s, members: m, notify: n, media: st, loyalty: l}
}

// pageSize caps catalog pagination (anti-scraping).
const pageSize = 24

// visibleQuery narrows offers to those the member may see: published, of an active
// partner, not expired, open to the member's status tier, and — for invite-only
// offers — with the member on the list.
func (h *Handlers) visibleQuery(c *fiber.Ctx, now time.Time) (*ent.OfferQuery, error) {
	id := ui.ViewerOf(c).ID()
	q := h.db.Offer.Query().Where(
		offer.StatusEQ(offer.StatusPublished),
		offer.HasPartnerWith(partner.StatusEQ(partner.StatusActive)),
		offer.Or(offer.ValidUntilIsNil(), offer.ValidUntilGT(now)),
		offer.Or(offer.VisibilityNEQ(offer.VisibilityInvite), offer.HasInvitedWith(member.ID(id))),
	)
	st, err := h.loyalty.Status(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	if st.Tier == nil {
		q.Where(offer.MinTierIDIsNil())
	} else {
		q.Where(offer.Or(offer.MinTierIDIsNil(), offer.HasMinTierWith(tier.SortLTE(st.Tier.Sort))))
	}
	return q, nil
}

// Home is the cabinet's start page: the newest privileges.
func (h *Handlers) Home(c *fiber.Ctx) error {
	ctx := c.UserContext()
	q, err := h.visibleQuery(c, time.Now())
	if err != nil {
		return err
	}
	offers, err := q.
		WithPartner().WithCategory().WithCity().
		WithMedia(func(q *ent.OfferMediaQuery) { q.Order(ent.Asc(offermedia.FieldSort)) }).
		Order(ent.Desc(offer.FieldPublishedAt), ent.Desc(offer.FieldID)).
		Limit(pageSize).
		All(ctx)
	if err != nil {
		return err
	}
	unread, err := h.notify.UnreadCount(ctx, ui.ViewerOf(c).ID())
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutMember, "app/home", "app.home.title", fiber.Map{"Offers": offers, "Unread": unread})
}

// Offer shows one privilege; a closed, foreign or unknown one is 404.
func (h *Handlers) Offer(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	q, err := h.visibleQuery(c, time.Now())
	if err != nil {
		return err
	}
	o, err := q.
		Where(offer.ID(id)).
		WithPartner().WithCategory().WithCity().
		WithMedia(func(q *ent.OfferMediaQuery) { q.Order(ent.Asc(offermedia.FieldSort)) }).
		Only(c.UserContext())
	if ent.IsNotFound(err) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutMember, "app/offer", "", fiber.Map{"Offer": o})
}

// Notifications lists the member's notifications.
func (h *Handlers) Notifications(c *fiber.Ctx) error {
	list, err := h.notify.List(c.UserContext(), ui.ViewerOf(c).ID(), 50)
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutMember, "app/notifications", "app.notifications.title", fiber.Map{"Items": list})
}

// ReadNotifications marks every notification read.
func (h *Handlers) ReadNotifications(c *fiber.Ctx) error {
	if _, err := h.notify.MarkAllRead(c.UserContext(), ui.ViewerOf(c).ID()); err != nil {
		return err
	}
	return ui.Redirect(c, "/app/notifications", "ok", "flash.notifications_read")
}

// Settings shows language and the member's sessions, one per device.
func (h *Handlers) Settings(c *fiber.Ctx) error {
	v := ui.ViewerOf(c)
	list, err := h.sessions.List(c.UserContext(), v.ID())
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutMember, "app/settings", "app.settings.title", fiber.Map{"Sessions": list, "Current": v.SessionID})
}

// SetLanguage changes the member's interface language.
func (h *Handlers) SetLanguage(c *fiber.Ctx) error {
	if err := h.members.SetLanguage(c.UserContext(), ui.ViewerOf(c).ID(), c.FormValue("lang")); err != nil {
		return ui.Fail(fiber.StatusUnprocessableEntity, "error.language", err)
	}
	return ui.Redirect(c, "/app/settings", "ok", "flash.saved")
}

// RevokeSession signs one of the member's devices out.
func (h *Handlers) RevokeSession(c *fiber.Ctx) error {
	v := ui.ViewerOf(c)
	err := h.sessions.Revoke(c.UserContext(), v.ID(), c.Params("id"))
	if errors.Is(err, auth.ErrNoSession) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	if c.Params("id") == v.SessionID {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return ui.Redirect(c, "/app/settings", "ok", "flash.session_revoked")
}

// RevokeOtherSessions signs out every device but this one.
func (h *Handlers) RevokeOtherSessions(c *fiber.Ctx) error {
	v := ui.ViewerOf(c)
	ctx := c.UserContext()
	list, err := h.sessions.List(ctx, v.ID())
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.ID != v.SessionID {
			if err := h.sessions.Revoke(ctx, v.ID(), s.ID); err != nil && !errors.Is(err, auth.ErrNoSession) {
				return err
			}
		}
	}
	return ui.Redirect(c, "/app/settings", "ok", "flash.sessions_revoked")
}

// Media serves an offer image to signed-in members only: nothing about closed offers
// is public. Only images of offers the member may see are served.
func (h *Handlers) Media(c *fiber.Ctx) error {
	key := c.Params("*")
	if media.ValidKey(key) != nil {
		return ui.ErrNotFound
	}
	ctx := c.UserContext()
	ok, err := h.db.OfferMedia.Query().
		Where(offermedia.Key(key), offermedia.HasOfferWith(
			offer.StatusEQ(offer.StatusPublished),
			offer.HasPartnerWith(partner.StatusEQ(partner.StatusActive)))).
		Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return ui.ErrNotFound
	}
	r, obj, err := h.media.Get(ctx, key)
	if errors.Is(err, media.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, obj.ContentType)
	c.Set(fiber.HeaderCacheControl, "private, max-age=86400")
	return c.Send(b)
}
