package partner

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/offers"
	"ikra/app/tags"
	"ikra/app/web/ui"
	"ikra/ent"
	"ikra/ent/offer"
)

// Offers serve the partner's offer screens: list, new, edit, submit for review, archive.
// Every call goes through app/offers with the current partner's ID.
type Offers struct {
	render *ui.Renderer
	offers *offers.Service
}

// NewOffers returns the offer screens' handlers.
func NewOffers(r *ui.Renderer, s *offers.Service) *Offers { return &Offers{render: r, offers: s} }

// offerFields are the form's inputs, in the order the form shows them.
var offerFields = []string{"title", "summary", "description", "terms", "kind", "category_id", "city_id", "addresses",
	"valid_from", "valid_until", "capacity", "per_member_limit", "min_tier_id", "cashback", "price_bonus", "visibility"}

// offerForm is an offer as typed into the form: every value a string, by field name;
// the ticked tags are joined by commas under "tags".
type offerForm map[string]string

func readOfferForm(c *fiber.Ctx) offerForm {
	f := offerForm{}
	for _, k := range offerFields {
		f[k] = strings.Clone(c.FormValue(k))
	}
	var picked []string
	for _, v := range c.Request().PostArgs().PeekMulti("tags") {
		picked = append(picked, string(v))
	}
	f["tags"] = strings.Join(picked, ",")
	return f
}

// dateLayout is how the form's date inputs send a day.
const dateLayout = "2006-01-02"

// input parses the form; what is not a number or a date is a field error here, the
// rest is the domain's Validate (its errors come back from Create and Update).
func (f offerForm) input() (offers.OfferInput, ui.FieldErrors) {
	errs := ui.FieldErrors{}
	in := offers.OfferInput{
		Title: f["title"], Summary: f["summary"], Description: f["description"], Terms: f["terms"],
		Kind: f["kind"], Visibility: f["visibility"],
		Addresses: strings.Split(strings.ReplaceAll(f["addresses"], "\r", ""), "\n"),
		Tags:      f.tags(),
	}
	num := func(field string, def int64) int64 {
		s := strings.TrimSpace(f[field])
		if s == "" {
			return def
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(s, " ", ""), 10, 64)
		if err != nil {
			errs.Add(field, "form.number")
		}
		return n
	}
	in.CategoryID = int(num("category_id", 0))
	in.CityID = int(num("city_id", 0))
	in.Capacity = int(num("capacity", 0))
	in.PerMemberLimit = int(num("per_member_limit", 1))
	in.PriceBonus = num("price_bonus", 0)
	if s := strings.TrimSpace(f["min_tier_id"]); s != "" {
		id := int(num("min_tier_id", 0))
		in.MinTierID = &id
	}
	if s := strings.TrimSpace(f["cashback"]); s != "" {
		bp, ok := ui.PercentToBP(s)
		if !ok {
			errs.Add("cashback", "form.percent")
		}
		in.CashbackBP = bp
	}
	day := func(field string, next bool) *time.Time {
		s := strings.TrimSpace(f[field])
		if s == "" {
			return nil
		}
		t, err := time.ParseInLocation(dateLayout, s, ui.Almaty)
		if err != nil {
			errs.Add(field, "form.date")
			return nil
		}
		if next { // valid through that day: until the next day begins
			t = t.AddDate(0, 0, 1)
		}
		return &t
	}
	in.ValidFrom = day("valid_from", false)
	in.ValidUntil = day("valid_until", true)
	return in, errs
}

// tags are the ticked tags.
func (f offerForm) tags() []string {
	if f["tags"] == "" {
		return nil
	}
	return strings.Split(f["tags"], ",")
}

// formOf shows an input in the form.
func formOf(in offers.OfferInput) offerForm {
	f := offerForm{
		"title": in.Title, "summary": in.Summary, "description": in.Description, "terms": in.Terms,
		"kind": in.Kind, "visibility": in.Visibility, "addresses": strings.Join(in.Addresses, "\n"),
		"capacity": strconv.Itoa(in.Capacity), "per_member_limit": strconv.Itoa(in.PerMemberLimit),
		"cashback": ui.BPToPercent(in.CashbackBP), "price_bonus": strconv.FormatInt(in.PriceBonus, 10),
		"tags": strings.Join(in.Tags, ","),
	}
	if in.CategoryID > 0 {
		f["category_id"] = strconv.Itoa(in.CategoryID)
	}
	if in.CityID > 0 {
		f["city_id"] = strconv.Itoa(in.CityID)
	}
	if in.MinTierID != nil {
		f["min_tier_id"] = strconv.Itoa(*in.MinTierID)
	}
	if in.ValidFrom != nil {
		f["valid_from"] = in.ValidFrom.In(ui.Almaty).Format(dateLayout)
	}
	if in.ValidUntil != nil {
		f["valid_until"] = in.ValidUntil.Add(-time.Nanosecond).In(ui.Almaty).Format(dateLayout)
	}
	return f
}

// domainFields maps the domain's field names to the form's where they differ.
var domainFields = map[string]string{"cashback_bp": "cashback"}

// offerID reads the :id parameter; anything but a number is 404.
func offerID(c *fiber.Ctx) (int, error) {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil || id <= 0 {
		return 0, ui.ErrNotFound
	}
	return id, nil
}

// notFound turns the domain's ErrNotFound into a 404.
func notFound(err error) error {
	if errors.Is(err, offers.ErrNotFound) {
		return ui.ErrNotFound
	}
	return err
}

// List shows the partner's offers with their status and the moderator's reason.
func (h *Offers) List(c *fiber.Ctx) error {
	list, err := h.offers.List(c.UserContext(), current(c))
	if err != nil {
		return err
	}
	rows := make([]offerRow, len(list))
	for i, o := range list {
		rows[i] = offerRow{Offer: o, Revision: offers.OpenRevision(o)}
	}
	return h.render.Render(c, ui.LayoutPartner, "partner/offers/index", "partner.offers.title", fiber.Map{"Offers": rows})
}

// offerRow is an offer with its open revision, if any.
type offerRow struct {
	*ent.Offer
	Revision *ent.OfferRevision
}

// Show shows one of the partner's offers and what can be done with it.
func (h *Offers) Show(c *fiber.Ctx) error {
	id, err := offerID(c)
	if err != nil {
		return err
	}
	o, err := h.offers.Get(c.UserContext(), current(c), id)
	if err != nil {
		return notFound(err)
	}
	data := fiber.Map{"Offer": o, "Revision": offers.OpenRevision(o), "Addresses": o.Addresses}
	// The invite list is shown while the offer, or the edit awaiting review, is invite-only.
	if in, err := offers.Editing(o); o.Visibility == offer.VisibilityInvite || (err == nil && in.Visibility == string(offer.VisibilityInvite)) {
		data["ShowInvited"] = true
		if data["Invited"], err = h.offers.Invited(c.UserContext(), current(c), o.ID); err != nil {
			return notFound(err)
		}
	}
	return h.render.Render(c, ui.LayoutPartner, "partner/offers/show", "", data)
}

// Invite adds a member, by Telegram ID or @username, to the offer's invite list.
func (h *Offers) Invite(c *fiber.Ctx) error {
	id, err := offerID(c)
	if err != nil {
		return err
	}
	back := "/partner/offers/" + strconv.Itoa(id) + "#invited"
	err = h.offers.Invite(c.UserContext(), current(c), id, c.FormValue("member"))
	switch {
	case errors.Is(err, offers.ErrNoSuchMember):
		return ui.Redirect(c, back, "error", "flash.invite_unknown")
	case errors.Is(err, offers.ErrInviteListFull):
		return ui.Redirect(c, back, "error", "flash.invite_full")
	case errors.Is(err, offers.ErrState):
		return ui.Redirect(c, back, "error", "flash.offer_locked")
	case err != nil:
		return notFound(err)
	}
	return ui.Redirect(c, back, "ok", "flash.invited")
}

// Uninvite takes a member off the offer's invite list.
func (h *Offers) Uninvite(c *fiber.Ctx) error {
	id, err := offerID(c)
	if err != nil {
		return err
	}
	mid, err := strconv.Atoi(c.Params("mid"))
	if err != nil || mid <= 0 {
		return ui.ErrNotFound
	}
	back := "/partner/offers/" + strconv.Itoa(id) + "#invited"
	err = h.offers.Uninvite(c.UserContext(), current(c), id, mid)
	if errors.Is(err, offers.ErrState) {
		return ui.Redirect(c, back, "error", "flash.offer_locked")
	}
	if err != nil {
		return notFound(err)
	}
	return ui.Redirect(c, back, "ok", "flash.uninvited")
}

// formPage renders the new or edit page with the form's values and errors.
func (h *Offers) formPage(c *fiber.Ctx, name string, status int, data fiber.Map, form offerForm, errs ui.FieldErrors) error {
	ch, err := h.offers.Choices(c.UserContext())
	if err != nil {
		return err
	}
	data["Choices"], data["Kinds"], data["Visibilities"] = ch, offers.Kinds, offers.Visibilities
	// Each category with its tags; the domain refuses tags of another category.
	type tagGroup struct {
		Category *ent.Category
		Tags     []tags.Tag
	}
	var groups []tagGroup
	for _, cat := range ch.Categories {
		if list := tags.Of(cat.Slug); len(list) > 0 {
			groups = append(groups, tagGroup{cat, list})
		}
	}
	ticked := map[tags.Tag]bool{}
	for _, t := range form.tags() {
		ticked[tags.Tag(t)] = true
	}
	data["TagGroups"], data["TagTicked"] = groups, ticked
	p := h.render.Page(c, "", data)
	p.Form, p.Errors = form, errs
	if o, ok := data["Offer"].(*ent.Offer); ok {
		p.Title = o.Title
	} else {
		p.Title = p.L.T("partner.offers.new")
	}
	return c.Status(status).Render(name, p, ui.LayoutPartner)
}

// New shows an empty offer form.
func (h *Offers) New(c *fiber.Ctx) error {
	return h.formPage(c, "partner/offers/new", fiber.StatusOK, fiber.Map{"Action": "/partner/offers"},
		formOf(offers.OfferInput{Kind: "discount", Visibility: "all", PerMemberLimit: 1}), nil)
}

// Create saves a new draft; a refused form comes back with its errors (422).
func (h *Offers) Create(c *fiber.Ctx) error {
	f := readOfferForm(c)
	data := fiber.Map{"Action": "/partner/offers"}
	in, errs := f.input()
	if len(errs) > 0 {
		return h.formPage(c, "partner/offers/new", fiber.StatusUnprocessableEntity, data, f, errs)
	}
	o, err := h.offers.Create(c.UserContext(), current(c), in)
	if ve, ok := asInvalid(err); ok {
		return h.formPage(c, "partner/offers/new", fiber.StatusUnprocessableEntity, data, f, ve)
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, "/partner/offers/"+strconv.Itoa(o.ID), "ok", "flash.offer_created")
}

// asInvalid reads the domain's field errors, in the form's field names.
func asInvalid(err error) (ui.FieldErrors, bool) {
	var ve *offers.ValidationError
	if !errors.As(err, &ve) {
		return nil, false
	}
	errs := ui.FieldErrors{}
	for k, v := range ve.Fields {
		if f, ok := domainFields[k]; ok {
			k = f
		}
		errs.Add(k, v)
	}
	return errs, true
}

// Edit shows the offer's form: the proposal under review, if any, else the offer.
func (h *Offers) Edit(c *fiber.Ctx) error {
	id, err := offerID(c)
	if err != nil {
		return err
	}
	o, err := h.offers.Get(c.UserContext(), current(c), id)
	if err != nil {
		return notFound(err)
	}
	in, err := offers.Editing(o)
	if err != nil {
		return err
	}
	return h.formPage(c, "partner/offers/edit", fiber.StatusOK, h.editData(o), formOf(in), nil)
}

func (h *Offers) editData(o *ent.Offer) fiber.Map {
	return fiber.Map{"Action": "/partner/offers/" + strconv.Itoa(o.ID), "Offer": o, "Revision": offers.OpenRevision(o)}
}

// Update saves an edit: in place for a draft or rejected offer, as a revision under
// review for a published one.
func (h *Offers) Update(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, err := offerID(c)
	if err != nil {
		return err
	}
	o, err := h.offers.Get(ctx, current(c), id)
	if err != nil {
		return notFound(err)
	}
	back := "/partner/offers/" + strconv.Itoa(o.ID)
	f := readOfferForm(c)
	in, errs := f.input()
	if len(errs) > 0 {
		return h.formPage(c, "partner/offers/edit", fiber.StatusUnprocessableEntity, h.editData(o), f, errs)
	}
	revised, err := h.offers.Update(ctx, current(c), id, ui.ViewerOf(c).ID(), in)
	if ve, ok := asInvalid(err); ok {
		return h.formPage(c, "partner/offers/edit", fiber.StatusUnprocessableEntity, h.editData(o), f, ve)
	}
	switch {
	case errors.Is(err, offers.ErrState):
		return ui.Redirect(c, back, "error", "flash.offer_locked")
	case err != nil:
		return notFound(err)
	case revised:
		return ui.Redirect(c, back, "ok", "flash.revision_sent")
	}
	return ui.Redirect(c, back, "ok", "flash.saved")
}

// Submit sends a draft or rejected offer for review.
func (h *Offers) Submit(c *fiber.Ctx) error {
	return h.act(c, h.offers.Submit, "flash.offer_submitted")
}

// Archive takes an offer out of the catalog.
func (h *Offers) Archive(c *fiber.Ctx) error {
	return h.act(c, h.offers.Archive, "flash.offer_archived")
}

// act runs a state change on one of the partner's offers and returns to the offer's
// page with what came of it.
func (h *Offers) act(c *fiber.Ctx, change func(ctx context.Context, partnerID, id int) error, done string) error {
	id, err := offerID(c)
	if err != nil {
		return err
	}
	back := "/partner/offers/" + strconv.Itoa(id)
	err = change(c.UserContext(), current(c), id)
	if errors.Is(err, offers.ErrState) {
		return ui.Redirect(c, back, "error", "flash.offer_locked")
	}
	if err != nil {
		return notFound(err)
	}
	return ui.Redirect(c, back, "ok", done)
}
