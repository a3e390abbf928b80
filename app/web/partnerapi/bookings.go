package partnerapi

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/apikeys"
	"ikra/app/bookings"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Booking is one of the partner's bookings as the API shows it. Amounts of money are
// in tiyn (1/100 tenge), bonuses in whole bonuses.
type Booking struct {
	ID            int        `json:"id"`
	Code          string     `json:"code"`
	Status        string     `json:"status"`
	Offer         OfferRef   `json:"offer"`
	Member        MemberRef  `json:"member"`
	Comment       string     `json:"comment"`
	Date          *string    `json:"date"` // the wished day, YYYY-MM-DD (Asia/Almaty)
	BonusPrice    int64      `json:"bonus_price"`
	DealAmount    int64      `json:"deal_amount"`
	DeclineReason string     `json:"decline_reason"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     *time.Time `json:"expires_at"`
	ConfirmedAt   *time.Time `json:"confirmed_at"`
	CompletedAt   *time.Time `json:"completed_at"`
	CancelledAt   *time.Time `json:"cancelled_at"`
	ReversedAt    *time.Time `json:"reversed_at"`
}

// OfferRef names a booking's offer.
type OfferRef struct {
	ID    int    `json:"id"`
	Title string `json:"title"`
}

// MemberRef is what the counter sees of the member: the first name.
type MemberRef struct {
	FirstName string `json:"first_name"`
}

func bookingJSON(b *ent.Booking) Booking {
	out := Booking{ID: b.ID, Code: b.Code, Status: string(b.Status), Offer: OfferRef{ID: b.OfferID}, Comment: b.Note,
		BonusPrice: b.BonusPrice, DealAmount: b.DealAmount, DeclineReason: b.DeclineReason, CreatedAt: b.CreatedAt,
		ExpiresAt: b.ExpiresAt, ConfirmedAt: b.ConfirmedAt, CompletedAt: b.CompletedAt, CancelledAt: b.CancelledAt, ReversedAt: b.ReversedAt}
	if b.VisitAt != nil {
		d := b.VisitAt.In(bookings.Almaty).Format("2006-01-02")
		out.Date = &d
	}
	if o := b.Edges.Offer; o != nil {
		out.Offer.Title = o.Title
	}
	if m := b.Edges.Member; m != nil {
		out.Member.FirstName = m.FirstName
	}
	return out
}

// Page sizes of GET /bookings.
const (
	defaultPage = 50
	maxPage     = 100
)

// Bookings lists the partner's bookings, newest first, a page at a time: ?status=
// filters, ?cursor=<next of the previous page> continues, ?limit= sets the page size.
func (h *Handlers) Bookings(c *fiber.Ctx) error {
	before, limit := 0, defaultPage
	if cur := c.Query("cursor"); cur != "" {
		n, err := strconv.Atoi(cur)
		if err != nil || n <= 0 {
			return ui.ErrBadRequest
		}
		before = n
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxPage {
			return ui.ErrBadRequest
		}
		limit = n
	}
	list, err := h.bookings.PartnerPage(c.UserContext(), key(c).PartnerID, c.Query("status"), before, limit+1)
	if errors.Is(err, bookings.ErrNotFound) {
		return ui.ErrBadRequest // an unknown status
	}
	if err != nil {
		return err
	}
	var next *string
	if len(list) > limit {
		list = list[:limit]
		s := strconv.Itoa(list[len(list)-1].ID)
		next = &s
	}
	items := make([]Booking, 0, len(list))
	for _, b := range list {
		items = append(items, bookingJSON(b))
	}
	return c.JSON(fiber.Map{"items": items, "next": next})
}

// Booking is one of the partner's bookings by its code; any other code is 404.
func (h *Handlers) Booking(c *fiber.Ctx) error {
	b, err := h.bookings.ByCode(c.UserContext(), key(c).PartnerID, c.Params("code"))
	if err != nil {
		return bookingError(err)
	}
	return c.JSON(bookingJSON(b))
}

// Confirm accepts a request.
func (h *Handlers) Confirm(c *fiber.Ctx) error {
	if _, err := body[struct{}](c); err != nil {
		return err
	}
	return h.write(c, "confirm", func(ctx context.Context, pid, id, actor int) (*ent.Booking, error) {
		return h.bookings.Confirm(ctx, pid, id, actor)
	})
}

// declineRequest is the body of POST /bookings/{code}/decline.
type declineRequest struct {
	Reason string `json:"reason"`
}

// Decline refuses a request with a reason, which the member sees.
func (h *Handlers) Decline(c *fiber.Ctx) error {
	in, err := body[declineRequest](c)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		return ui.Fail(fiber.StatusUnprocessableEntity, "error.reason_required", nil)
	}
	return h.write(c, "decline\n"+reason, func(ctx context.Context, pid, id, actor int) (*ent.Booking, error) {
		return h.bookings.Decline(ctx, pid, id, actor, reason)
	})
}

// completeRequest is the body of POST /bookings/{code}/complete.
type completeRequest struct {
	Amount int64 `json:"amount"` // the deal, in tiyn
}

// Complete records the deal with its amount in tiyn: the cashback is credited.
func (h *Handlers) Complete(c *fiber.Ctx) error {
	in, err := body[completeRequest](c)
	if err != nil {
		return err
	}
	if in.Amount <= 0 {
		return ui.Fail(fiber.StatusUnprocessableEntity, "error.amount_invalid", nil)
	}
	return h.write(c, "complete\n"+strconv.FormatInt(in.Amount, 10), func(ctx context.Context, pid, id, actor int) (*ent.Booking, error) {
		return h.bookings.Complete(ctx, pid, id, actor, in.Amount)
	})
}

// Reverse undoes a completed deal within the reversal window.
func (h *Handlers) Reverse(c *fiber.Ctx) error {
	if _, err := body[struct{}](c); err != nil {
		return err
	}
	return h.write(c, "reverse", func(ctx context.Context, pid, id, actor int) (*ent.Booking, error) {
		return h.bookings.Reverse(ctx, pid, id, actor)
	})
}

// body reads a JSON body into T; an empty body is T's zero value. Unknown fields and
// anything but one JSON object are 400.
func body[T any](c *fiber.Ctx) (T, error) {
	var v T
	raw := c.Body()
	if len(strings.TrimSpace(string(raw))) == 0 {
		return v, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil || dec.More() {
		return v, ui.Fail(fiber.StatusBadRequest, "error.bad_request", err)
	}
	return v, nil
}

// write runs one action on the booking named by the path's code, on behalf of the
// owner who created the key. With an Idempotency-Key the action runs at most once per
// key and request (apikeys.Idempotent): a retry gets the first answer again, marked by
// the Idempotent-Replayed header; the key reused for another request is 409. Answers
// below 500, errors included, are what is stored and replayed.
func (h *Handlers) write(c *fiber.Ctx, request string, effect func(ctx context.Context, pid, id, actor int) (*ent.Booking, error)) error {
	ctx := c.UserContext()
	k := key(c)
	b, err := h.bookings.ByCode(ctx, k.PartnerID, c.Params("code"))
	if err != nil {
		return bookingError(err)
	}
	run := func() (apikeys.Answer, error) {
		done, err := effect(ctx, k.PartnerID, b.ID, k.CreatedBy)
		if err != nil {
			e, ok := ui.AsError(bookingError(err))
			if !ok || e.Status >= 500 {
				return apikeys.Answer{}, err
			}
			return apikeys.Answer{Status: e.Status, Body: h.errorBody(c, e.Key)}, nil
		}
		// The member and offer are those read with the booking above (a transition
		// changes neither): no second read of the three rows.
		full := *done
		full.Edges.Member, full.Edges.Offer = b.Edges.Member, b.Edges.Offer
		out, err := json.Marshal(bookingJSON(&full))
		return apikeys.Answer{Status: fiber.StatusOK, Body: out}, err
	}
	var ans apikeys.Answer
	idem := c.Get("Idempotency-Key")
	if idem == "" {
		ans, err = run()
	} else {
		var replayed bool
		ans, replayed, err = h.keys.Idempotent(ctx, k.ID, strings.Clone(idem), b.Code+"\n"+request, run)
		switch {
		case errors.Is(err, apikeys.ErrKeyReused):
			return ui.Fail(fiber.StatusConflict, "error.idempotency_key_reused", err)
		case errors.Is(err, apikeys.ErrInProgress):
			return ui.Fail(fiber.StatusConflict, "error.idempotency_in_progress", err)
		case errors.Is(err, apikeys.ErrBadIdempotencyKey):
			return ui.Fail(fiber.StatusBadRequest, "error.bad_request", err)
		}
		if replayed {
			c.Set("Idempotent-Replayed", "true")
		}
	}
	if err != nil {
		return err
	}
	return c.Status(ans.Status).Type("json").Send(ans.Body)
}
