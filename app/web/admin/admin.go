// Package admin serves the back office (/admin) for platform staff.
package admin

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/audit"
	"ikra/app/members"
	"ikra/app/offers"
	"ikra/app/partners"
	"ikra/app/web/ui"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/partner"
	"ikra/ent/staff"
)

// Handlers serve the back office.
type Handlers struct {
	db      *ent.Client
	render  *ui.Renderer
	members *members.Service
	staff   *partners.Staff
	offers  *offers.Service
}

// New returns the back office's handlers.
func New(db *ent.Client, r *ui.Renderer, m *members.Service, s *partners.Staff, o *offers.Service) *Handlers {
	return &Handlers{db: db, render: r, members: m, staff: s, offers: o}
}

// actor describes the signed-in staff member for the audit log.
func actor(c *fiber.Ctx) audit.Entry {
	v := ui.ViewerOf(c)
	id := v.ID()
	return audit.Entry{ActorID: &id, ActorRole: strings.Join(v.Platform, ","), IP: ui.IP(c), RequestID: ui.RequestID(c)}
}

// Members lists members, newest first, with a search by name, username or Telegram ID.
func (h *Handlers) Members(c *fiber.Ctx) error {
	search := strings.TrimSpace(c.Query("q"))
	if len(search) > 64 {
		return ui.ErrBadRequest
	}
	list, err := h.members.Search(c.UserContext(), search, 100)
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/members/index", "admin.members.title", fiber.Map{"Members": list, "Q": search})
}

// Member shows one member with their roles and sessions count.
func (h *Handlers) Member(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	m, err := h.db.Member.Query().Where(member.ID(id)).WithStaff(func(q *ent.StaffQuery) { q.WithPartner() }).Only(c.UserContext())
	if ent.IsNotFound(err) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	v := ui.ViewerOf(c)
	mayBlock := v.CanPlatform("members:block") && m.ID != v.ID() && members.MayAct(v.Rank(), platformRank(m.Edges.Staff), members.ActBlock)
	return h.render.Render(c, ui.LayoutAdmin, "admin/members/show", "", fiber.Map{"Member": m, "MayBlock": mayBlock})
}

// platformRank is the highest platform rank among a member's loaded roles.
func platformRank(roles []*ent.Staff) int {
	best := 0
	for _, r := range roles {
		if r.PartnerID == nil {
			best = max(best, members.Rank[string(r.Role)])
		}
	}
	return best
}

// Block blocks a member with a reason; all their sessions end at once.
func (h *Handlers) Block(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	if id == ui.ViewerOf(c).ID() {
		return ui.Redirect(c, "/admin/members/"+c.Params("id"), "error", "flash.cannot_block_self")
	}
	err = h.members.Block(c.UserContext(), actor(c), id, c.FormValue("reason"))
	if errors.Is(err, members.ErrReasonRequired) {
		return ui.Redirect(c, "/admin/members/"+c.Params("id"), "error", "flash.reason_required")
	}
	if errors.Is(err, members.ErrOutranked) {
		return ui.Redirect(c, "/admin/members/"+c.Params("id"), "error", "flash.outranked")
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, "/admin/members/"+c.Params("id"), "ok", "flash.member_blocked")
}

// Unblock lets a member in again.
func (h *Handlers) Unblock(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	err = h.members.Unblock(c.UserContext(), actor(c), id)
	if errors.Is(err, members.ErrOutranked) {
		return ui.Redirect(c, "/admin/members/"+c.Params("id"), "error", "flash.outranked")
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, "/admin/members/"+c.Params("id"), "ok", "flash.member_unblocked")
}

// Partners lists partners.
func (h *Handlers) Partners(c *fiber.Ctx) error {
	list, err := h.db.Partner.Query().WithCategory().WithCity().Order(ent.Asc(partner.FieldName)).Limit(200).All(c.UserContext())
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/partners", "admin.partners.title", fiber.Map{"Partners": list})
}

// Staff lists every role held, with a form to grant one.
func (h *Handlers) Staff(c *fiber.Ctx) error {
	ctx := c.UserContext()
	list, err := h.db.Staff.Query().WithMember().WithPartner().
		Order(ent.Asc(staff.FieldPartnerID), ent.Asc(staff.FieldRole)).Limit(500).All(ctx)
	if err != nil {
		return err
	}
	ps, err := h.db.Partner.Query().Order(ent.Asc(partner.FieldName)).All(ctx)
	if err != nil {
		return err
	}
	// Only what the viewer may do is offered: roles below their own, and revocation of
	// roles held by members they outrank.
	v := ui.ViewerOf(c)
	ranks := map[int]int{}
	for _, r := range list {
		if r.PartnerID == nil {
			ranks[r.MemberID] = max(ranks[r.MemberID], members.Rank[string(r.Role)])
		}
	}
	rows := make([]staffRow, len(list))
	for i, r := range list {
		rows[i] = staffRow{Staff: r, Revocable: members.MayAct(v.Rank(), ranks[r.MemberID], members.ActRoles)}
	}
	var grantable []string
	for _, role := range partners.PlatformRoles {
		if members.MayGrant(v.Rank(), role) {
			grantable = append(grantable, role)
		}
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/staff", "admin.staff.title", fiber.Map{
		"Staff": rows, "Partners": ps, "PartnerRoles": partners.PartnerRoles, "PlatformRoles": grantable,
	})
}

// staffRow is a role held, with whether the viewer may revoke it.
type staffRow struct {
	*ent.Staff
	Revocable bool
}

// Grant gives a role to the member with a Telegram ID, in a partner or on the platform.
func (h *Handlers) Grant(c *fiber.Ctx) error {
	ctx := c.UserContext()
	tgID, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("telegram_id")), 10, 64)
	if err != nil {
		return ui.Redirect(c, "/admin/staff", "error", "flash.telegram_id_invalid")
	}
	m, err := h.db.Member.Query().Where(member.TelegramID(tgID)).Only(ctx)
	if ent.IsNotFound(err) {
		return ui.Redirect(c, "/admin/staff", "error", "flash.member_unknown")
	}
	if err != nil {
		return err
	}
	var pid *int
	if v := c.FormValue("partner_id"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return ui.ErrBadRequest
		}
		pid = &n
	}
	_, err = h.staff.Grant(ctx, actor(c), m.ID, c.FormValue("role"), pid)
	switch {
	case errors.Is(err, partners.ErrBadRole):
		return ui.Redirect(c, "/admin/staff", "error", "flash.role_invalid")
	case errors.Is(err, partners.ErrAlreadyHeld):
		return ui.Redirect(c, "/admin/staff", "error", "flash.role_held")
	case errors.Is(err, members.ErrOutranked):
		return ui.Redirect(c, "/admin/staff", "error", "flash.outranked")
	case errors.Is(err, partners.ErrNotFound):
		return ui.ErrNotFound
	case err != nil:
		return err
	}
	return ui.Redirect(c, "/admin/staff", "ok", "flash.role_granted")
}

// Revoke takes a role away.
func (h *Handlers) Revoke(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	err = h.staff.Revoke(c.UserContext(), actor(c), id, nil)
	switch {
	case errors.Is(err, partners.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, partners.ErrLastOwner):
		return ui.Redirect(c, "/admin/staff", "error", "flash.last_owner")
	case errors.Is(err, members.ErrOutranked):
		return ui.Redirect(c, "/admin/staff", "error", "flash.outranked")
	case err != nil:
		return err
	}
	return ui.Redirect(c, "/admin/staff", "ok", "flash.role_revoked")
}
