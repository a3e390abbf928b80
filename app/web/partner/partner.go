// Package partner serves the partner portal (/partner). Every query is scoped to the
// partner the staff member acts for, taken from the context: another partner's ID is 404.
package partner

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/web/ui"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/offer"
	"ikra/ent/staff"
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

// Bookings lists the partner's latest bookings, optionally by status; a code in the
// search box jumps to that booking.
func (h *Handlers) Bookings(c *fiber.Ctx) error {
	if code := normaliseCode(c.Query("code")); code != "" {
		return c.Redirect("/partner/bookings/"+code, fiber.StatusSeeOther)
	}
	q := h.db.Booking.Query().Where(booking.PartnerID(current(c)))
	status := c.Query("status")
	if status != "" {
		if booking.StatusValidator(booking.Status(status)) != nil {
			return ui.ErrBadRequest
		}
		q.Where(booking.StatusEQ(booking.Status(status)))
	}
	list, err := q.WithMember().WithOffer().Order(ent.Desc(booking.FieldCreatedAt)).Limit(100).All(c.UserContext())
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutPartner, "partner/bookings/index", "partner.bookings.title", fiber.Map{"Bookings": list, "Status": status})
}

// Booking finds a booking by its code, within this partner only.
func (h *Handlers) Booking(c *fiber.Ctx) error {
	b, err := h.db.Booking.Query().
		Where(booking.Code(normaliseCode(c.Params("code"))), booking.PartnerID(current(c))).
		WithMember().WithOffer().Only(c.UserContext())
	if ent.IsNotFound(err) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutPartner, "partner/bookings/show", "", fiber.Map{"Booking": b})
}

// Staff lists the people who work for the partner.
func (h *Handlers) Staff(c *fiber.Ctx) error {
	list, err := h.db.Staff.Query().Where(staff.PartnerID(current(c))).WithMember().
		Order(ent.Asc(staff.FieldRole), ent.Asc(staff.FieldID)).All(c.UserContext())
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutPartner, "partner/staff", "partner.staff.title", fiber.Map{"Staff": list})
}

// normaliseCode upper-cases a booking code and drops spaces and dashes people type.
func normaliseCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.NewReplacer(" ", "", "-", "").Replace(s)
	if len(s) > 16 {
		return ""
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return ""
		}
	}
	return s
}
