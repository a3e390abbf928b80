// Package partnerapi serves the POS/CRM API (/api/partner/v1): a partner's till or
// CRM lists its offers and bookings and confirms, declines, completes and reverses
// bookings with an API key. The route guard has already authenticated the key
// ("Authorization: Bearer"), checked its scope and put it in the context; every call
// goes through the same domain services as the portal's counter, scoped by the key's
// partner, so another partner's code is 404. Writes are idempotent by the
// Idempotency-Key header (apikeys.Idempotent).
package partnerapi

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/apikeys"
	"ikra/app/bookings"
	"ikra/app/i18n"
	"ikra/app/ledger"
	"ikra/app/offers"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Base is where the API lives.
const Base = "/api/partner/v1"

// Handlers serve the POS/CRM API.
type Handlers struct {
	texts    *i18n.Catalog
	keys     *apikeys.Service
	bookings *bookings.Service
	offers   *offers.Service
	openapi  []byte
}

// New returns the API's handlers.
func New(texts *i18n.Catalog, keys *apikeys.Service, b *bookings.Service, o *offers.Service) *Handlers {
	doc, err := json.Marshal(Document())
	if err != nil {
		panic(err)
	}
	return &Handlers{texts: texts, keys: keys, bookings: b, offers: o, openapi: doc}
}

// key is the API key the guard authenticated.
func key(c *fiber.Ctx) *apikeys.Key {
	k := ui.APIKeyOf(c)
	if k == nil {
		panic("partnerapi: handler reached without the API key guard")
	}
	return k
}

// OpenAPI serves the OpenAPI 3.1 description of the API; it needs no key.
func (h *Handlers) OpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Type("json").Send(h.openapi)
}

// Offer is one of the partner's offers as the API shows it.
type Offer struct {
	ID             int        `json:"id"`
	Title          string     `json:"title"`
	Summary        string     `json:"summary"`
	Kind           string     `json:"kind"`
	Status         string     `json:"status"`
	CashbackBP     int        `json:"cashback_bp"`
	PriceBonus     int64      `json:"price_bonus"`
	Capacity       int        `json:"capacity"`
	PerMemberLimit int        `json:"per_member_limit"`
	ValidFrom      *time.Time `json:"valid_from"`
	ValidUntil     *time.Time `json:"valid_until"`
	PublishedAt    *time.Time `json:"published_at"`
}

func offerJSON(o *ent.Offer) Offer {
	return Offer{ID: o.ID, Title: o.Title, Summary: o.Summary, Kind: string(o.Kind), Status: string(o.Status),
		CashbackBP: o.CashbackBp, PriceBonus: o.PriceBonus, Capacity: o.Capacity, PerMemberLimit: o.PerMemberLimit,
		ValidFrom: o.ValidFrom, ValidUntil: o.ValidUntil, PublishedAt: o.PublishedAt}
}

// Offers lists the partner's offers, last changed first.
func (h *Handlers) Offers(c *fiber.Ctx) error {
	list, err := h.offers.List(c.UserContext(), key(c).PartnerID)
	if err != nil {
		return err
	}
	items := make([]Offer, 0, len(list))
	for _, o := range list {
		items = append(items, offerJSON(o))
	}
	return c.JSON(fiber.Map{"items": items})
}

// errorBody is the JSON error the web layer's error handler writes, for answers that
// are stored and replayed.
func (h *Handlers) errorBody(c *fiber.Ctx, key string) []byte {
	code := key[len("error."):]
	b, _ := json.Marshal(fiber.Map{"error": fiber.Map{"code": code, "message": h.texts.T(ui.Lang(c), key), "request_id": ui.RequestID(c)}})
	return b
}

// bookingError maps the booking service's errors to API errors.
func bookingError(err error) error {
	switch {
	case errors.Is(err, bookings.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, bookings.ErrWindowClosed):
		return ui.Fail(fiber.StatusConflict, "error.booking_window_closed", err)
	case errors.Is(err, bookings.ErrTransition):
		return ui.Fail(fiber.StatusConflict, "error.booking_transition", err)
	case errors.Is(err, bookings.ErrAmount):
		return ui.Fail(fiber.StatusUnprocessableEntity, "error.amount_invalid", err)
	case errors.Is(err, bookings.ErrReasonRequired):
		return ui.Fail(fiber.StatusUnprocessableEntity, "error.reason_required", err)
	case errors.Is(err, ledger.ErrConflict):
		return ui.Fail(fiber.StatusConflict, "error.conflict", err)
	}
	return err
}
