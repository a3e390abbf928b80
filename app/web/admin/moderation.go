package admin

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/images"
	"ikra/app/offers"
	"ikra/app/tags"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Moderation serves the moderation queue: new offers and revisions of published ones.
type Moderation struct {
	render *ui.Renderer
	offers *offers.Service
	images *images.Service
}

// NewModeration returns the moderation screens' handlers.
func NewModeration(r *ui.Renderer, s *offers.Service, im *images.Service) *Moderation {
	return &Moderation{render: r, offers: s, images: im}
}

// reviewImage is one image of the offer under review, with its thumbnail's key.
type reviewImage struct {
	*ent.OfferMedia
	ThumbKey string
}

// Queue lists what awaits a decision, oldest first.
func (h *Moderation) Queue(c *fiber.Ctx) error {
	items, err := h.offers.Queue(c.UserContext())
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/moderation/index", "admin.moderation.title", fiber.Map{"Items": items})
}

// reviewRow is one field of the offer: the live value and, for a revision, the
// proposed one, marked when they differ.
type reviewRow struct {
	Label          string
	Live, Proposed string
	Changed        bool
}

// item reads :kind and :id.
func (h *Moderation) item(c *fiber.Ctx) (offers.Item, error) {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil || id <= 0 {
		return offers.Item{}, ui.ErrNotFound
	}
	it, err := h.offers.Review(c.UserContext(), c.Params("kind"), id)
	if errors.Is(err, offers.ErrNotFound) {
		return it, ui.ErrNotFound
	}
	return it, err
}

// Review shows one item: the offer, or for a revision the live version and the
// proposed one side by side with the changed fields marked.
func (h *Moderation) Review(c *fiber.Ctx) error {
	it, err := h.item(c)
	if err != nil {
		return err
	}
	ch, err := h.offers.Choices(c.UserContext())
	if err != nil {
		return err
	}
	loc := h.render.Locale(c)
	live := describe(offers.InputOf(it.Offer), ch, loc)
	var proposed []string
	if it.Revision != nil {
		in, err := offers.RevisionInput(it.Revision)
		if err != nil {
			return err
		}
		proposed = describe(in, ch, loc)
	}
	rows := make([]reviewRow, len(reviewLabels))
	for i, label := range reviewLabels {
		rows[i] = reviewRow{Label: label, Live: live[i]}
		if proposed != nil {
			rows[i].Proposed, rows[i].Changed = proposed[i], proposed[i] != live[i]
		}
	}
	pics := make([]reviewImage, len(it.Offer.Edges.Media))
	for i, m := range it.Offer.Edges.Media {
		pics[i] = reviewImage{OfferMedia: m, ThumbKey: images.ThumbKey(m.Key)}
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/moderation/show", "admin.moderation.title", fiber.Map{
		"Item": it, "Rows": rows, "Pending": it.Pending(), "Images": pics,
		"Action": "/admin/moderation/" + it.Kind + "/" + strconv.Itoa(it.ID),
	})
}

// Media serves an image or thumbnail of an offer under review, whatever its status.
func (h *Moderation) Media(c *fiber.Ctx) error {
	r, obj, stale, err := h.images.OpenForReview(c.UserContext(), c.Params("*"))
	if errors.Is(err, images.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return ui.SendImage(c, r, obj.ContentType, stale)
}

// reviewLabels name the rows of the review, in the order describe returns them.
var reviewLabels = []string{"offer.title", "offer.summary", "offer.description", "offer.terms", "offer.kind",
	"offer.category", "offer.tags", "offer.city", "offer.addresses", "offer.valid_from", "offer.valid_until", "offer.capacity",
	"offer.per_member", "offer.min_tier", "offer.cashback_rate", "offer.price", "offer.visibility"}

// describe shows every field of an offer as text, for comparing two versions.
func describe(in offers.OfferInput, ch offers.Choices, l ui.Locale) []string {
	category, city, tierName := "—", "—", "—"
	for _, c := range ch.Categories {
		if c.ID == in.CategoryID {
			category = l.Name(c)
		}
	}
	for _, c := range ch.Cities {
		if c.ID == in.CityID {
			city = l.Name(c)
		}
	}
	for _, t := range ch.Tiers {
		if in.MinTierID != nil && t.ID == *in.MinTierID {
			tierName = l.Name(t)
		}
	}
	day := func(t *time.Time, until bool) string {
		if t == nil {
			return "—"
		}
		if until {
			return t.Add(-time.Nanosecond).In(ui.Almaty).Format("02.01.2006")
		}
		return t.In(ui.Almaty).Format("02.01.2006")
	}
	tagNames := "—"
	if len(in.Tags) > 0 {
		names := make([]string, len(in.Tags))
		for i, t := range in.Tags {
			names[i] = l.Name(tags.Tag(t))
		}
		tagNames = strings.Join(names, ", ")
	}
	capacity := "∞"
	if in.Capacity > 0 {
		capacity = strconv.Itoa(in.Capacity)
	}
	return []string{in.Title, in.Summary, in.Description, in.Terms, l.T("kind." + in.Kind),
		category, tagNames, city, strings.Join(in.Addresses, "\n"), day(in.ValidFrom, false), day(in.ValidUntil, true), capacity,
		strconv.Itoa(in.PerMemberLimit), tierName, ui.BPToPercent(in.CashbackBP) + "%",
		strconv.FormatInt(in.PriceBonus, 10), l.T("offer.visibility." + in.Visibility)}
}

// Approve publishes the offer or applies the revision.
func (h *Moderation) Approve(c *fiber.Ctx) error {
	it, err := h.item(c)
	if err != nil {
		return err
	}
	back := "/admin/moderation/" + it.Kind + "/" + strconv.Itoa(it.ID)
	err = h.offers.Approve(c.UserContext(), actor(c), it.Kind, it.ID)
	if errors.Is(err, offers.ErrState) {
		return ui.Redirect(c, back, "error", "flash.already_decided")
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, "/admin/moderation", "ok", "flash.moderation_approved")
}

// Reject sends the offer back, or refuses the revision, with a reason (required).
func (h *Moderation) Reject(c *fiber.Ctx) error {
	it, err := h.item(c)
	if err != nil {
		return err
	}
	back := "/admin/moderation/" + it.Kind + "/" + strconv.Itoa(it.ID)
	err = h.offers.Reject(c.UserContext(), actor(c), it.Kind, it.ID, strings.Clone(c.FormValue("reason")))
	switch {
	case errors.Is(err, offers.ErrReasonRequired):
		return ui.Redirect(c, back, "error", "flash.reason_required")
	case errors.Is(err, offers.ErrState):
		return ui.Redirect(c, back, "error", "flash.already_decided")
	case err != nil:
		return err
	}
	return ui.Redirect(c, "/admin/moderation", "ok", "flash.moderation_rejected")
}
