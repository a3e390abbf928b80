package partner

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/bookings"
	"ikra/app/web/ui"
	"ikra/ent/booking"
)

// Counter serves the bookings screens of the portal: the cashier's "enter or scan a
// code" screen with the inbox of new requests, the booking card and its actions. Every
// lookup goes through the booking service with the current partner.
type Counter struct {
	render   *ui.Renderer
	bookings *bookings.Service
}

// NewCounter returns the counter's handlers.
func NewCounter(r *ui.Renderer, b *bookings.Service) *Counter {
	return &Counter{render: r, bookings: b}
}

const counterPage = "partner/bookings/index"

// Index is the counter: a code field, the requests waiting for an answer and the latest
// bookings. A code typed into the field opens its card; a code this partner does not
// have keeps the cashier here with a message.
func (h *Counter) Index(c *fiber.Ctx) error {
	if typed := strings.TrimSpace(c.Query("code")); typed != "" {
		b, err := h.bookings.ByCode(c.UserContext(), current(c), typed)
		if errors.Is(err, bookings.ErrNotFound) {
			return h.counter(c, fiber.StatusUnprocessableEntity, typed)
		}
		if err != nil {
			return err
		}
		return c.Redirect("/partner/bookings/"+b.Code, fiber.StatusSeeOther)
	}
	return h.counter(c, fiber.StatusOK, "")
}

// counter renders the counter screen; with a typed code it says that code was not found.
func (h *Counter) counter(c *fiber.Ctx, status int, typed string) error {
	ctx := c.UserContext()
	pid := current(c)
	filter := c.Query("status")
	if filter != "" && booking.StatusValidator(booking.Status(filter)) != nil {
		return ui.ErrBadRequest
	}
	inbox, err := h.bookings.PartnerList(ctx, pid, string(booking.StatusRequested), 50)
	if err != nil {
		return err
	}
	latest, err := h.bookings.PartnerList(ctx, pid, filter, 100)
	if err != nil {
		return err
	}
	p := h.render.Page(c, "partner.bookings.title", fiber.Map{"Inbox": inbox, "Bookings": latest, "Status": filter})
	if typed != "" {
		p.Errors = ui.FieldErrors{"code": "partner.bookings.not_found"}
		p.Form = map[string]string{"code": typed}
	}
	return c.Status(status).Render(counterPage, p, ui.LayoutPartner)
}

// Show is a booking's card, found by its code within this partner. Another partner's
// code, or an unknown one, is a 404 that still shows the counter screen.
func (h *Counter) Show(c *fiber.Ctx) error {
	b, err := h.bookings.ByCode(c.UserContext(), current(c), c.Params("code"))
	if errors.Is(err, bookings.ErrNotFound) {
		return h.counter(c, fiber.StatusNotFound, strings.Clone(c.Params("code")))
	}
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutPartner, "partner/bookings/show", "", fiber.Map{"Booking": b})
}

// act runs one action on the booking named by the path's code and returns to its card.
func (h *Counter) act(c *fiber.Ctx, okKey string, do func(pid, id, actor int) error) error {
	pid := current(c)
	b, err := h.bookings.ByCode(c.UserContext(), pid, c.Params("code"))
	if errors.Is(err, bookings.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	back := "/partner/bookings/" + b.Code
	err = do(pid, b.ID, ui.ViewerOf(c).ID())
	switch {
	case errors.Is(err, bookings.ErrWindowClosed):
		return ui.Redirect(c, back, "error", "flash.booking_window_closed")
	case errors.Is(err, bookings.ErrTransition):
		return ui.Redirect(c, back, "error", "flash.booking_transition")
	case errors.Is(err, bookings.ErrNotFound):
		return ui.ErrNotFound
	case err != nil:
		return err
	}
	if c.FormValue("from") == "inbox" {
		back = "/partner/bookings" // answered from the inbox: back to the next request
	}
	return ui.Redirect(c, back, "ok", okKey)
}

// Confirm accepts a request.
func (h *Counter) Confirm(c *fiber.Ctx) error {
	return h.act(c, "flash.booking_confirmed", func(pid, id, actor int) error {
		_, err := h.bookings.Confirm(c.UserContext(), pid, id, actor)
		return err
	})
}

// Decline refuses a request; the reason is required.
func (h *Counter) Decline(c *fiber.Ctx) error {
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" {
		return h.invalid(c, ui.FieldErrors{"reason": "form.reason_required"})
	}
	return h.act(c, "flash.booking_declined", func(pid, id, actor int) error {
		_, err := h.bookings.Decline(c.UserContext(), pid, id, actor, reason)
		return err
	})
}

// Complete records the deal with its amount in tenge.
func (h *Counter) Complete(c *fiber.Ctx) error {
	tiyn, ok := bookings.ParseTenge(c.FormValue("amount"))
	if !ok {
		return h.invalid(c, ui.FieldErrors{"amount": "form.amount_invalid"})
	}
	return h.act(c, "flash.booking_completed", func(pid, id, actor int) error {
		_, err := h.bookings.Complete(c.UserContext(), pid, id, actor, tiyn)
		return err
	})
}

// NoShow records that the member did not come.
func (h *Counter) NoShow(c *fiber.Ctx) error {
	return h.act(c, "flash.booking_no_show", func(pid, id, actor int) error {
		_, err := h.bookings.NoShow(c.UserContext(), pid, id, actor)
		return err
	})
}

// Reverse undoes a completed deal within the window.
func (h *Counter) Reverse(c *fiber.Ctx) error {
	return h.act(c, "flash.booking_reversed", func(pid, id, actor int) error {
		_, err := h.bookings.Reverse(c.UserContext(), pid, id, actor)
		return err
	})
}

// invalid renders the card again with the form's errors and status 422.
func (h *Counter) invalid(c *fiber.Ctx, errs ui.FieldErrors) error {
	b, err := h.bookings.ByCode(c.UserContext(), current(c), c.Params("code"))
	if errors.Is(err, bookings.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return h.render.Invalid(c, ui.LayoutPartner, "partner/bookings/show", "", fiber.Map{"Booking": b}, errs,
		map[string]string{"amount": c.FormValue("amount"), "reason": c.FormValue("reason")})
}
