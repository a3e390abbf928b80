package member

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/skip2/go-qrcode"

	"ikra/app/bookings"
	"ikra/app/catalog"
	"ikra/app/ledger"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Bookings serve the member's booking screens: the form on the offer page, the list
// with codes and QR images, and cancelling.
type Bookings struct {
	render   *ui.Renderer
	catalog  *catalog.Service
	bookings *bookings.Service
	baseURL  string
}

// NewBookings returns the member's booking handlers; baseURL makes the QR a link the
// cashier's handset camera opens.
func NewBookings(r *ui.Renderer, cat *catalog.Service, b *bookings.Service, baseURL string) *Bookings {
	return &Bookings{render: r, catalog: cat, bookings: b, baseURL: baseURL}
}

// bookForm is the booking form on the offer page.
type bookForm struct {
	Comment, Date, Key string
	date               *time.Time
}

func (f *bookForm) validate(now time.Time) ui.FieldErrors {
	errs := ui.FieldErrors{}
	d, ok := bookings.ParseDate(f.Date, now)
	if !ok {
		errs.Add("date", "form.date_invalid")
	}
	f.date = d
	return errs
}

// NewKey is a fresh idempotency key for a form.
func NewKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Book requests the offer for the signed-in member (POST /app/offers/:id/book).
func (h *Bookings) Book(c *fiber.Ctx) error {
	ctx := c.UserContext()
	v := ui.ViewerOf(c)
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	back := "/app/offers/" + strconv.Itoa(id)
	f := bookForm{Comment: c.FormValue("comment"), Date: c.FormValue("date"), Key: c.FormValue("key")}
	if errs := f.validate(time.Now()); len(errs) > 0 {
		o, err := h.catalog.Offer(ctx, v.ID(), id)
		if errors.Is(err, catalog.ErrNotFound) {
			return ui.ErrNotFound
		}
		if err != nil {
			return err
		}
		return h.render.Invalid(c, ui.LayoutMember, "app/offer", "", fiber.Map{"Offer": o, "BookKey": f.Key}, errs,
			map[string]string{"comment": f.Comment, "date": f.Date})
	}
	channel := v.Channel
	if channel != "tg" {
		channel = "web"
	}
	_, err = h.bookings.Request(ctx, v.ID(), id, channel, f.Comment, f.date, f.Key)
	switch {
	case errors.Is(err, bookings.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, ledger.ErrConflict):
		return ui.Conflict(c, back, err)
	case errors.Is(err, bookings.ErrFull):
		return ui.Redirect(c, back, "error", "flash.booking_full")
	case errors.Is(err, bookings.ErrLimit):
		return ui.Redirect(c, back, "error", "flash.booking_limit")
	case errors.Is(err, bookings.ErrInsufficient):
		return ui.Redirect(c, back, "error", "flash.bonuses_insufficient")
	case err != nil:
		return err
	}
	return ui.Redirect(c, "/app/bookings", "ok", "flash.booked")
}

// List shows the member's bookings with codes, QR images, statuses and what happens next.
func (h *Bookings) List(c *fiber.Ctx) error {
	list, err := h.bookings.MemberList(c.UserContext(), ui.ViewerOf(c).ID(), 100)
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutMember, "app/bookings", "app.bookings.title", fiber.Map{"Bookings": list})
}

// QR is the QR image of one of the member's bookings: a link to its card in the
// partner portal, which a cashier's camera opens (GET /app/bookings/:id/qr.png).
func (h *Bookings) QR(c *fiber.Ctx) error {
	b, err := h.own(c)
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(h.baseURL+"/partner/bookings/"+b.Code, qrcode.Medium, 320)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	return c.Send(png)
}

// Cancel cancels one of the member's bookings while that is allowed.
func (h *Bookings) Cancel(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	_, err = h.bookings.CancelByMember(c.UserContext(), ui.ViewerOf(c).ID(), id)
	switch {
	case errors.Is(err, bookings.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, bookings.ErrTransition):
		return ui.Redirect(c, "/app/bookings", "error", "flash.booking_transition")
	case err != nil:
		return err
	}
	return ui.Redirect(c, "/app/bookings", "ok", "flash.booking_cancelled")
}

func (h *Bookings) own(c *fiber.Ctx) (*ent.Booking, error) {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return nil, ui.ErrNotFound
	}
	b, err := h.bookings.ForMember(c.UserContext(), ui.ViewerOf(c).ID(), id)
	if errors.Is(err, bookings.ErrNotFound) {
		return nil, ui.ErrNotFound
	}
	return b, err
}
