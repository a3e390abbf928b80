// Package partner serves the partner portal (/partner). Every query is scoped to the
// partner the staff member acts for, taken from the context: another partner's ID is 404.
package partner

import (
	"github.com/gofiber/fiber/v2"

	"ikra/app/web/ui"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/offer"
)

// Handlers serve the partner portal.
type Handlers struct {
	db     *ent.Client
	render *ui.Renderer
}

// New returns the partner portal's handlers.
func New(db *ent.Client, r *ui.Renderer) *Handlers { return &Handlers{db: db, render: r} }

func current(c *fiber.Ctx) int {
	p, ok := ui.PartnerOf(c)
	if !ok {
		panic("partner: handler reached without the partner guard")
	}
	return p.PartnerID
}

// Dashboard shows the partner's offers and bookings by status.
func (h *Handlers) Dashboard(c *fiber.Ctx) error {
	ctx := c.UserContext()
	pid := current(c)
	var offers []struct {
		Status string `json:"status"`
		Count  int    `json:"count"`
	}
	if err := h.db.Offer.Query().Where(offer.PartnerID(pid)).GroupBy(offer.FieldStatus).Aggregate(ent.Count()).Scan(ctx, &offers); err != nil {
		return err
	}
	var bookings []struct {
		Status string `json:"status"`
		Count  int    `json:"count"`
	}
	if err := h.db.Booking.Query().Where(booking.PartnerID(pid)).GroupBy(booking.FieldStatus).Aggregate(ent.Count()).Scan(ctx, &bookings); err != nil {
		return err
	}
	p, err := h.db.Partner.Get(ctx, pid)
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutPartner, "partner/dashboard", "partner.dashboard.title", fiber.Map{
		"PartnerRow": p, "Offers": offers, "Bookings": bookings,
	})
}
