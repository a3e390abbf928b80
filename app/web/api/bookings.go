package api

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"ikra/app/analytics"
	"ikra/app/bookings"
	"ikra/app/catalog"
	"ikra/app/ledger"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Bookings serve the catalog and bookings in the JSON API.
type Bookings struct {
	catalog  *catalog.Service
	bookings *bookings.Service
	views    *analytics.Recorder
	render   *ui.Renderer // names tags in the request's language
	items    itemMemo
}

// RecordViews makes the offer endpoint record each view with r, in the background.
func (h *Bookings) RecordViews(r *analytics.Recorder) { h.views = r }

// NewBookings returns the catalog and booking API handlers.
func NewBookings(cat *catalog.Service, b *bookings.Service, r *ui.Renderer) *Bookings {
	return &Bookings{catalog: cat, bookings: b, render: r}
}

// Offer is a privilege as the API shows it.
type Offer struct {
	ID             int        `json:"id"`
	Title          string     `json:"title"`
	Summary        string     `json:"summary"`
	Description    string     `json:"description"`
	Terms          string     `json:"terms"`
	Kind           string     `json:"kind"`
	Partner        Named      `json:"partner"`
	Category       Named      `json:"category"`
	City           Named      `json:"city"`
	Addresses      []string   `json:"addresses"`
	CashbackBP     int        `json:"cashback_bp"`      // basis points of the deal: 500 = 5%
	PriceBonus     int64      `json:"price_bonus"`      // whole bonuses reserved at booking; 0: free
	PerMemberLimit int        `json:"per_member_limit"` // 0: unlimited
	ValidUntil     *time.Time `json:"valid_until"`
	Images         []string   `json:"images"` // paths, in order; the first is the cover
	Tags           []Tag      `json:"tags"`   // finer interests within the category
}

// Tag is a catalog tag: its stable key and its name in the request's language.
type Tag struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// Named is a related row's ID and name.
type Named struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func offerJSON(o *ent.Offer, l ui.Locale) Offer {
	lang := l.Lang
	out := Offer{ID: o.ID, Title: o.Title, Summary: o.Summary, Description: o.Description, Terms: o.Terms, Kind: string(o.Kind),
		Addresses: o.Addresses, CashbackBP: o.CashbackBp, PriceBonus: o.PriceBonus, PerMemberLimit: o.PerMemberLimit,
		ValidUntil: o.ValidUntil, Images: []string{}}
	if out.Addresses == nil {
		out.Addresses = []string{}
	}
	if p := o.Edges.Partner; p != nil {
		out.Partner = Named{ID: p.ID, Name: p.Name}
	}
	if c := o.Edges.Category; c != nil {
		out.Category = Named{ID: c.ID, Name: ui.Name(lang, c)}
	}
	if c := o.Edges.City; c != nil {
		out.City = Named{ID: c.ID, Name: ui.Name(lang, c)}
	}
	for _, m := range o.Edges.Media {
		out.Images = append(out.Images, "/media/"+m.Key)
	}
	out.Tags = make([]Tag, len(o.Tags))
	for i, t := range o.Tags {
		out.Tags[i] = Tag{Key: t, Name: l.TagName(t)}
	}
	return out
}

// Offers lists the offers the member may see, newest first, a page at a time, with the
// catalog's filters as query parameters: category, city, kind, bonus=1, available=1,
// q (words), limit (at most catalog.MaxLimit) and cursor (next of the previous page).
// A malformed parameter or cursor, or a query followed too deep, is 400.
func (h *Bookings) Offers(c *fiber.Ctx) error {
	f, err := ui.ReadCatalogForm(c).Filter()
	var page catalog.Page
	if err == nil {
		page, err = h.catalog.Search(c.UserContext(), ui.ViewerOf(c).ID(), f)
	}
	if e := ui.CatalogError(err); e != nil {
		return e
	}
	if err != nil {
		return err
	}
	var next *string
	if page.Next != "" {
		next = &page.Next
	}
	// {"items": [...], "next": ...}, each item's JSON made once per row and language.
	l := h.render.Locale(c)
	out := append(make([]byte, 0, 1024*len(page.Offers)+64), `{"items":[`...)
	for i, o := range page.Offers {
		if i > 0 {
			out = append(out, ',')
		}
		item, err := h.items.of(o, l)
		if err != nil {
			return err
		}
		out = append(out, item...)
	}
	tail, err := gojson.Marshal(next)
	if err != nil {
		return err
	}
	out = append(append(append(out, `],"next":`...), tail...), '}')
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(out)
}

// itemMemo keeps the JSON of offers by row and language. The rows come from the
// catalog's cache, shared and never modified (a changed offer is a new row), so an
// entry never goes stale; past maxItems the memo starts over.
type itemMemo struct {
	mu sync.Mutex
	m  map[itemKey][]byte
}

type itemKey struct {
	o    *ent.Offer
	lang string
}

const maxItems = 5000

func (m *itemMemo) of(o *ent.Offer, l ui.Locale) ([]byte, error) {
	k := itemKey{o, l.Lang}
	m.mu.Lock()
	b, ok := m.m[k]
	m.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := gojson.Marshal(offerJSON(o, l))
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.m == nil || len(m.m) >= maxItems {
		m.m = make(map[itemKey][]byte)
	}
	m.m[k] = b
	m.mu.Unlock()
	return b, nil
}

// Offer is one offer the member may see; any other is 404.
func (h *Bookings) Offer(c *fiber.Ctx) error {
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
	return c.JSON(offerJSON(o, h.render.Locale(c)))
}

// Booking is a booking as the API shows it.
type Booking struct {
	ID         int        `json:"id"`
	Code       string     `json:"code"`
	Status     string     `json:"status"`
	OfferID    int        `json:"offer_id"`
	OfferTitle string     `json:"offer_title,omitempty"`
	Comment    string     `json:"comment"`
	Date       *string    `json:"date"`        // the wished day, YYYY-MM-DD (Asia/Almaty)
	BonusPrice int64      `json:"bonus_price"` // whole bonuses reserved for it
	DealAmount int64      `json:"deal_amount"` // tiyn, once completed
	Reason     string     `json:"decline_reason,omitempty"`
	QR         string     `json:"qr"` // path of its QR image
	ExpiresAt  *time.Time `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

func bookingJSON(b *ent.Booking) Booking {
	out := Booking{ID: b.ID, Code: b.Code, Status: string(b.Status), OfferID: b.OfferID, Comment: b.Note, BonusPrice: b.BonusPrice,
		DealAmount: b.DealAmount, Reason: b.DeclineReason, QR: "/app/bookings/" + strconv.Itoa(b.ID) + "/qr.png",
		ExpiresAt: b.ExpiresAt, CreatedAt: b.CreatedAt}
	if b.VisitAt != nil {
		d := b.VisitAt.In(bookings.Almaty).Format("2006-01-02")
		out.Date = &d
	}
	if o := b.Edges.Offer; o != nil {
		out.OfferTitle = o.Title
	}
	return out
}

// bookRequest is the body of POST /api/v1/bookings.
type bookRequest struct {
	OfferID int    `json:"offer_id"`
	Comment string `json:"comment"`
	Date    string `json:"date"`
}

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 200

// Book requests an offer: 201 with the booking and its code. The same Idempotency-Key
// retried returns the same booking; reused for another offer it is 409.
func (h *Bookings) Book(c *fiber.Ctx) error {
	var in bookRequest
	if err := c.BodyParser(&in); err != nil || in.OfferID <= 0 {
		return ui.Fail(fiber.StatusBadRequest, "error.bad_request", err)
	}
	date, ok := bookings.ParseDate(in.Date, time.Now())
	if !ok {
		return ui.Fail(fiber.StatusUnprocessableEntity, "error.booking_date", nil)
	}
	key := strings.TrimSpace(c.Get("Idempotency-Key"))
	if len(key) > MaxIdempotencyKey {
		return ui.ErrBadRequest
	}
	v := ui.ViewerOf(c)
	channel := v.Channel
	if channel != "tg" {
		channel = "web"
	}
	b, err := h.bookings.Request(c.UserContext(), v.ID(), in.OfferID, channel, in.Comment, date, key)
	if err != nil {
		return bookingError(err)
	}
	// A retry gets the first answer again, 201 included, as a client expects of a key.
	return c.Status(fiber.StatusCreated).JSON(bookingJSON(b))
}

// Bookings lists the member's bookings, newest first.
func (h *Bookings) Bookings(c *fiber.Ctx) error {
	list, err := h.bookings.MemberList(c.UserContext(), ui.ViewerOf(c).ID(), 100)
	if err != nil {
		return err
	}
	items := make([]Booking, 0, len(list))
	for _, b := range list {
		items = append(items, bookingJSON(b))
	}
	return c.JSON(fiber.Map{"items": items})
}

// Cancel cancels one of the member's bookings while that is allowed.
func (h *Bookings) Cancel(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	b, err := h.bookings.CancelByMember(c.UserContext(), ui.ViewerOf(c).ID(), id)
	if err != nil {
		return bookingError(err)
	}
	return c.JSON(bookingJSON(b))
}

// bookingError maps the booking service's errors to API errors.
func bookingError(err error) error {
	switch {
	case errors.Is(err, bookings.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, ledger.ErrConflict):
		return ui.Fail(fiber.StatusConflict, "error.conflict", err)
	case errors.Is(err, bookings.ErrFull):
		return ui.Fail(fiber.StatusConflict, "error.booking_full", err)
	case errors.Is(err, bookings.ErrLimit):
		return ui.Fail(fiber.StatusConflict, "error.booking_limit", err)
	case errors.Is(err, bookings.ErrInsufficient):
		return ui.Fail(fiber.StatusUnprocessableEntity, "error.bonuses_insufficient", err)
	case errors.Is(err, bookings.ErrTransition):
		return ui.Fail(fiber.StatusConflict, "error.booking_transition", err)
	}
	return err
}
