// Package member serves the member cabinet (/app), also shown inside the Telegram Mini App.
package member

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"ikra/app/analytics"
	"ikra/app/auth"
	"ikra/app/catalog"
	"ikra/app/members"
	"ikra/app/notify"
	"ikra/app/offers"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Handlers serve the member cabinet.
type Handlers struct {
	render   *ui.Renderer
	sessions *auth.Sessions
	members  *members.Service
	notify   *notify.Service
	catalog  *catalog.Service
	views    *analytics.Recorder
}

// New returns the member cabinet's handlers.
func New(r *ui.Renderer, s *auth.Sessions, m *members.Service, n *notify.Service, cat *catalog.Service) *Handlers {
	return &Handlers{render: r, sessions: s, members: m, notify: n, catalog: cat}
}

// RecordViews makes the offer page record each view with r, in the background.
func (h *Handlers) RecordViews(r *analytics.Recorder) { h.views = r }

// pageSize is how many cards the personal first page holds.
const pageSize = 24

// Home is the cabinet's start page. Without a filter it is the member's personal first
// page, ranked, each card with its reason (a member who has never seen the welcome
// screen is offered it first); its "more" (all=1) lists every offer, newest first.
// The filter bar (category, city, kind, payable with bonuses, available now, words)
// lists the matching offers newest first, paged by an opaque cursor. A malformed
// filter or cursor, or a query followed too deep, is the same page with a clear
// message and status 400.
func (h *Handlers) Home(c *fiber.Ctx) error {
	ctx := c.UserContext()
	v := ui.ViewerOf(c)
	if members.OnboardingDue(v.Member) {
		return c.Redirect("/app/welcome", fiber.StatusSeeOther)
	}
	form := ui.ReadCatalogForm(c)
	f, err := form.Filter()
	var page catalog.Page
	var cards []catalog.Card
	personal := err == nil && f.Empty() && f.Cursor == "" && !form.All
	switch {
	case personal:
		cards, err = h.catalog.Personal(ctx, v.ID(), pageSize)
	case err == nil:
		page, err = h.catalog.Search(ctx, v.ID(), f)
		cards = make([]catalog.Card, len(page.Offers))
		for i, o := range page.Offers {
			cards[i] = catalog.Card{ID: o.ID, Title: o.Title, Offer: o}
		}
	}
	problem := ui.CatalogError(err)
	if err != nil && problem == nil {
		return err
	}
	choices, err := h.catalog.FilterChoices(ctx)
	if err != nil {
		return err
	}
	unread, err := h.notify.UnreadCount(ctx, v.ID())
	if err != nil {
		return err
	}
	l := h.render.Locale(c)
	kinds := make([]ui.Option, len(offers.Kinds))
	for i, k := range offers.Kinds {
		kinds[i] = ui.Option{Value: k, Label: l.T("kind." + k), Selected: k == form.Kind}
	}
	grid, err := h.render.Cards(l, cards)
	if err != nil {
		return err
	}
	bar := ui.FilterBar{L: l, Form: form.Values(), Kind: kinds, Filtered: !f.Empty(),
		Categories: ui.Options(l, choices.Categories, func(x *ent.Category) int { return x.ID }, form.Category),
		Cities:     ui.Options(l, choices.Cities, func(x *ent.City) int { return x.ID }, form.City)}
	filter, err := h.render.Fragment("partials/catalog_filter", bar.Key(), func() any { return bar })
	if err != nil {
		return err
	}
	data := fiber.Map{"Cards": len(cards) > 0, "Grid": grid, "Filter": filter, "Unread": unread,
		"Filtered": !f.Empty(), "Next": page.Next, "Page": page.Number, "Problem": problem}
	switch {
	case personal && len(cards) > 0:
		data["Next"], data["More"] = "all", "/app?all=1" // every offer, newest first
	case page.Next != "":
		data["More"] = form.MoreURL("/app", page.Next)
	}
	p := h.render.Page(c, "app.home.title", data)
	p.Form = bar.Form
	if problem != nil {
		c.Status(problem.Status)
	}
	return c.Render("app/home", p, ui.LayoutMember)
}

// Offer shows one privilege; one the member may not see, or an unknown one, is 404.
func (h *Handlers) Offer(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	o, err := h.catalog.Offer(c.UserContext(), ui.ViewerOf(c).ID(), id)
	if errors.Is(err, catalog.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	h.views.Record(analytics.View{OfferID: o.ID, PartnerID: o.PartnerID, MemberID: ui.ViewerOf(c).ID()})
	return h.render.Render(c, ui.LayoutMember, "app/offer", "", fiber.Map{"Offer": o, "BookKey": NewKey()})
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

// Media serves an offer image to signed-in members, and only an image of an offer the
// member may see: the catalog decides, exactly as for the offer page.
func (h *Handlers) Media(c *fiber.Ctx) error {
	r, obj, err := h.catalog.Image(c.UserContext(), ui.ViewerOf(c).ID(), c.Params("*"))
	if errors.Is(err, catalog.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return ui.SendImage(c, r, obj.ContentType, false)
}
