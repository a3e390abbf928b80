package partner

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/audit"
	"ikra/app/partners"
	"ikra/app/web/ui"
)

// Staff serves the partner's staff screen: who works here, pending invite links, and
// for the owner inviting, changing roles and removing. Every call goes through
// app/partners with the current partner's ID.
type Staff struct {
	render  *ui.Renderer
	staff   *partners.Staff
	baseURL string
}

// NewStaff returns the staff screen's handlers; baseURL makes invite links absolute.
func NewStaff(r *ui.Renderer, s *partners.Staff, baseURL string) *Staff {
	return &Staff{render: r, staff: s, baseURL: strings.TrimRight(baseURL, "/")}
}

// actorOf describes the signed-in member for the audit log, acting for the current
// partner when there is one.
func actorOf(c *fiber.Ctx) audit.Entry {
	v := ui.ViewerOf(c)
	id := v.ID()
	e := audit.Entry{ActorID: &id, ActorRole: "member", IP: ui.IP(c), RequestID: ui.RequestID(c)}
	if p, ok := ui.PartnerOf(c); ok {
		e.ActorRole, e.PartnerID = p.Role, &p.PartnerID
	}
	return e
}

// page renders the staff screen; link is a just-created invite link, shown once.
func (h *Staff) page(c *fiber.Ctx, link string) error {
	ctx := c.UserContext()
	pid := current(c)
	list, err := h.staff.List(ctx, pid)
	if err != nil {
		return err
	}
	data := fiber.Map{"Staff": list, "Roles": partners.PartnerRoles, "InviteRoles": partners.InviteRoles, "Link": link}
	v := ui.ViewerOf(c)
	if v.Can("partner:"+strconv.Itoa(pid), "staff:write") {
		data["CanWrite"] = true
		if data["Invites"], err = h.staff.Invites(ctx, pid); err != nil {
			return err
		}
	}
	return h.render.Render(c, ui.LayoutPartner, "partner/staff", "partner.staff.title", data)
}

// List shows the staff (owner and manager; only the owner gets the forms).
func (h *Staff) List(c *fiber.Ctx) error { return h.page(c, "") }

// staffError maps the domain's refusals to a flash on the staff page.
func staffError(c *fiber.Ctx, err error) error {
	switch {
	case errors.Is(err, partners.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, partners.ErrLastOwner):
		return ui.Redirect(c, "/partner/staff", "error", "flash.staff_last_owner")
	case errors.Is(err, partners.ErrBadRole):
		return ui.Redirect(c, "/partner/staff", "error", "flash.staff_bad_role")
	case errors.Is(err, partners.ErrSuspended):
		return ui.ErrPartnerSuspended
	}
	return err
}

// CreateInvite makes a one-time link for a role and shows it once, on the page itself:
// only its hash is kept, so it cannot be shown again.
func (h *Staff) CreateInvite(c *fiber.Ctx) error {
	token, _, err := h.staff.Invite(c.UserContext(), actorOf(c), current(c), strings.Clone(c.FormValue("role")))
	if err != nil {
		return staffError(c, err)
	}
	return h.page(c, h.baseURL+"/partner/invite/"+token)
}

func idParam(c *fiber.Ctx) (int, error) {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil || id <= 0 {
		return 0, ui.ErrNotFound
	}
	return id, nil
}

// RevokeInvite makes a pending link unusable.
func (h *Staff) RevokeInvite(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := h.staff.RevokeInvite(c.UserContext(), actorOf(c), current(c), id); err != nil {
		return staffError(c, err)
	}
	return ui.Redirect(c, "/partner/staff", "ok", "flash.invite_revoked")
}

// ChangeRole gives a staff member another role; the last owner stays an owner.
func (h *Staff) ChangeRole(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := h.staff.ChangeRole(c.UserContext(), actorOf(c), current(c), id, strings.Clone(c.FormValue("role"))); err != nil {
		return staffError(c, err)
	}
	return ui.Redirect(c, "/partner/staff", "ok", "flash.staff_role_changed")
}

// Remove takes a staff member off the partner; the last owner stays.
func (h *Staff) Remove(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := h.staff.Remove(c.UserContext(), actorOf(c), current(c), id); err != nil {
		return staffError(c, err)
	}
	return ui.Redirect(c, "/partner/staff", "ok", "flash.staff_removed")
}
