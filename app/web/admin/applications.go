package admin

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/audit"
	"ikra/app/partners"
	"ikra/app/web/ui"
	"ikra/ent"
	"ikra/ent/partner"
	"ikra/ent/staff"
)

// Onboarding serves partner applications (queue, review, approve, reject) and a
// partner's page with suspension and reactivation.
type Onboarding struct {
	db       *ent.Client
	render   *ui.Renderer
	partners *partners.Service
}

// NewOnboarding returns the handlers of partner applications and suspension.
func NewOnboarding(db *ent.Client, r *ui.Renderer, s *partners.Service) *Onboarding {
	return &Onboarding{db: db, render: r, partners: s}
}

func pathID(c *fiber.Ctx) (int, error) {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil || id <= 0 {
		return 0, ui.ErrNotFound
	}
	return id, nil
}

// Queue lists pending applications, oldest first.
func (h *Onboarding) Queue(c *fiber.Ctx) error {
	list, err := h.partners.Queue(c.UserContext())
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/applications/index", "admin.applications.title", fiber.Map{"Items": list})
}

// Show shows one application with the approve and reject forms while it is pending.
func (h *Onboarding) Show(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a, err := h.partners.Get(c.UserContext(), id)
	if errors.Is(err, partners.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/applications/show", "admin.applications.title", fiber.Map{"App": a})
}

// Approve creates the partner and its owner from the application.
func (h *Onboarding) Approve(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	back := "/admin/partners/applications/" + strconv.Itoa(id)
	p, err := h.partners.Approve(c.UserContext(), actor(c), id)
	var verr *partners.ValidationError
	switch {
	case errors.Is(err, partners.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, partners.ErrState):
		return ui.Redirect(c, back, "error", "flash.already_decided")
	case errors.As(err, &verr):
		return ui.Redirect(c, back, "error", "flash.apply_bin_taken")
	case err != nil:
		return err
	}
	return ui.Redirect(c, "/admin/partners/"+strconv.Itoa(p.ID), "ok", "flash.application_approved")
}

// Reject refuses the application with a reason (required).
func (h *Onboarding) Reject(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	back := "/admin/partners/applications/" + strconv.Itoa(id)
	err = h.partners.Reject(c.UserContext(), actor(c), id, strings.Clone(c.FormValue("reason")))
	switch {
	case errors.Is(err, partners.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, partners.ErrReasonRequired):
		return ui.Redirect(c, back, "error", "flash.reason_required")
	case errors.Is(err, partners.ErrState):
		return ui.Redirect(c, back, "error", "flash.already_decided")
	case err != nil:
		return err
	}
	return ui.Redirect(c, "/admin/partners/applications", "ok", "flash.application_rejected")
}

// Partner shows a partner: its details, staff, and the suspend or reactivate form.
func (h *Onboarding) Partner(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	p, err := h.db.Partner.Query().Where(partner.ID(id)).WithCategory().WithCity().
		WithStaff(func(q *ent.StaffQuery) { q.WithMember().Order(ent.Asc(staff.FieldRole), ent.Asc(staff.FieldID)) }).Only(ctx)
	if ent.IsNotFound(err) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/partner", "admin.partners.title", fiber.Map{"P": p})
}

// Suspend suspends an active partner with a reason (required).
func (h *Onboarding) Suspend(c *fiber.Ctx) error {
	return h.setStatus(c, h.partners.Suspend, "flash.partner_suspended")
}

// Reactivate makes a suspended partner active again, with a reason (required).
func (h *Onboarding) Reactivate(c *fiber.Ctx) error {
	return h.setStatus(c, h.partners.Reactivate, "flash.partner_reactivated")
}

func (h *Onboarding) setStatus(c *fiber.Ctx, change func(ctx context.Context, a audit.Entry, id int, reason string) error, done string) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	back := "/admin/partners/" + strconv.Itoa(id)
	err = change(c.UserContext(), actor(c), id, strings.Clone(c.FormValue("reason")))
	switch {
	case errors.Is(err, partners.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, partners.ErrReasonRequired):
		return ui.Redirect(c, back, "error", "flash.reason_required")
	case errors.Is(err, partners.ErrState):
		return ui.Redirect(c, back, "error", "flash.already_decided")
	case err != nil:
		return err
	}
	return ui.Redirect(c, back, "ok", done)
}
