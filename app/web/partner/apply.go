package partner

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/offers"
	"ikra/app/partners"
	"ikra/app/web/ui"
)

// Apply serves the partner application (/partner/apply) to any signed-in member: the
// form, and the member's applications with their status.
type Apply struct {
	render  *ui.Renderer
	service *partners.Service
	offers  *offers.Service // the categories and cities to choose from
}

// NewApply returns the application screen's handlers.
func NewApply(r *ui.Renderer, s *partners.Service, o *offers.Service) *Apply {
	return &Apply{render: r, service: s, offers: o}
}

// applyFields are the form's inputs, in the order it shows them. There is no phone
// field (PRODUCT.md, Identity).
var applyFields = []string{"brand", "legal_name", "bin", "category_id", "city_id", "address", "email", "website", "description"}

type applyForm map[string]string

func readApplyForm(c *fiber.Ctx) applyForm {
	f := applyForm{}
	for _, k := range applyFields {
		f[k] = strings.Clone(c.FormValue(k))
	}
	return f
}

// validate parses the numbers; the domain checks the rest.
func (f applyForm) validate() (partners.ApplicationInput, ui.FieldErrors) {
	errs := ui.FieldErrors{}
	id := func(field string) int {
		s := strings.TrimSpace(f[field])
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			errs.Add(field, "apply.required")
		}
		return n
	}
	in := partners.ApplicationInput{
		Brand: f["brand"], LegalName: f["legal_name"], BIN: f["bin"], Address: f["address"],
		Email: f["email"], Website: f["website"], Description: f["description"],
	}
	in.CategoryID, in.CityID = id("category_id"), id("city_id")
	return in, errs
}

func (h *Apply) page(c *fiber.Ctx, errs ui.FieldErrors, form applyForm) error {
	ctx := c.UserContext()
	mine, err := h.service.Mine(ctx, ui.ViewerOf(c).ID())
	if err != nil {
		return err
	}
	ch, err := h.offers.Choices(ctx)
	if err != nil {
		return err
	}
	pending := false
	for _, a := range mine {
		pending = pending || a.Status == "pending"
	}
	data := fiber.Map{"Applications": mine, "Pending": pending, "Choices": ch,
		"Fields": []string{"brand", "legal_name", "bin", "address", "email", "website"}}
	if errs != nil {
		return h.render.Invalid(c, ui.LayoutMember, "partner/apply", "apply.title", data, errs, form)
	}
	return h.render.Render(c, ui.LayoutMember, "partner/apply", "apply.title", data)
}

// Form shows the member's applications and, unless one is pending, the form.
func (h *Apply) Form(c *fiber.Ctx) error { return h.page(c, nil, nil) }

// Submit files an application; field errors come back with the form (422).
func (h *Apply) Submit(c *fiber.Ctx) error {
	form := readApplyForm(c)
	in, errs := form.validate()
	if len(errs) > 0 {
		// Show every field's problem at once: the domain's checks fill in the rest.
		for k, v := range in.Validate() {
			errs.Add(k, v)
		}
		return h.page(c, errs, form)
	}
	_, err := h.service.Apply(c.UserContext(), ui.ViewerOf(c).ID(), in)
	var verr *partners.ValidationError
	switch {
	case errors.As(err, &verr):
		return h.page(c, ui.FieldErrors(verr.Fields), form)
	case errors.Is(err, partners.ErrPendingExists):
		return ui.Redirect(c, "/partner/apply", "error", "flash.apply_pending")
	case err != nil:
		return err
	}
	return ui.Redirect(c, "/partner/apply", "ok", "flash.apply_sent")
}

// Invite serves an invite link (/partner/invite/:token) to any signed-in member: who
// invites and in which role, and the button to accept. Someone signed out is sent
// through sign-in and back here.
type Invite struct {
	render *ui.Renderer
	staff  *partners.Staff
}

// NewInvite returns the invite link's handlers.
func NewInvite(r *ui.Renderer, s *partners.Staff) *Invite { return &Invite{render: r, staff: s} }

// inviteProblems name the page shown for a link that cannot be used.
var inviteProblems = map[error]string{
	partners.ErrInviteUsed:    "invite.used",
	partners.ErrInviteExpired: "invite.expired",
	partners.ErrInviteRevoked: "invite.revoked",
	partners.ErrSuspended:     "invite.suspended",
	partners.ErrAlreadyHeld:   "invite.already",
}

// invitePage shows the invite, or why it cannot be used (410 Gone, 409 when the member
// already works there).
func (h *Invite) invitePage(c *fiber.Ctx, v partners.InviteView, problem error) error {
	data := fiber.Map{"Invite": v.Invite, "Partner": v.Partner, "Token": strings.Clone(c.Params("token"))}
	if problem != nil {
		data["Problem"] = inviteProblems[problem]
		status := fiber.StatusGone
		if errors.Is(problem, partners.ErrAlreadyHeld) {
			status = fiber.StatusConflict
		}
		c.Status(status)
		return c.Render("partner/invite", h.render.Page(c, "invite.title", data), ui.LayoutMember)
	}
	return h.render.Render(c, ui.LayoutMember, "partner/invite", "invite.title", data)
}

// Show shows who invites and in which role.
func (h *Invite) Show(c *fiber.Ctx) error {
	v, err := h.staff.InviteByToken(c.UserContext(), c.Params("token"))
	if errors.Is(err, partners.ErrNotFound) {
		return ui.ErrNotFound
	}
	if _, known := inviteProblems[err]; err != nil && !known {
		return err
	}
	if err == nil {
		for _, p := range ui.ViewerOf(c).Partners {
			if p.PartnerID == v.Partner.ID {
				err = partners.ErrAlreadyHeld
			}
		}
	}
	return h.invitePage(c, v, err)
}

// Accept makes the signed-in member staff of the partner, once.
func (h *Invite) Accept(c *fiber.Ctx) error {
	ctx := c.UserContext()
	token := strings.Clone(c.Params("token"))
	viewer := ui.ViewerOf(c)
	id := viewer.ID()
	actor := actorOf(c)
	row, err := h.staff.AcceptInvite(ctx, actor, id, token)
	if errors.Is(err, partners.ErrNotFound) {
		return ui.ErrNotFound
	}
	if _, known := inviteProblems[err]; known {
		v, verr := h.staff.InviteByToken(ctx, token)
		if verr != nil && v.Invite == nil {
			return ui.ErrNotFound
		}
		return h.invitePage(c, v, err)
	}
	if err != nil {
		return err
	}
	// Act for the partner just joined.
	c.Cookie(&fiber.Cookie{Name: "ikra_partner", Value: strconv.Itoa(*row.PartnerID), Path: "/partner", HTTPOnly: true, SameSite: "Lax"})
	return ui.Redirect(c, "/partner", "ok", "flash.invite_accepted")
}
