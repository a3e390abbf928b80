package admin

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/claims"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Claims serve the back office's formal claims: the list with the 30-day clock, one
// claim with its assignee and the written answer.
type Claims struct {
	render *ui.Renderer
	claims *claims.Service
}

// NewClaims returns the back office's claim handlers.
func NewClaims(r *ui.Renderer, s *claims.Service) *Claims {
	return &Claims{render: r, claims: s}
}

// ClaimRow is a claim with its clock as staff see it.
type ClaimRow struct {
	*ent.Claim
	Number   string
	DaysLeft int
	Overdue  bool
	Assignee string // the assignee's name, "" when unassigned
}

// staffNames maps the claims staff's IDs to their names.
func staffNames(list []*ent.Member) map[int]string {
	m := make(map[int]string, len(list))
	for _, s := range list {
		m[s.ID] = strings.TrimSpace(s.FirstName + " " + s.LastName)
	}
	return m
}

func (r *ClaimRow) name(names map[int]string) {
	if r.AssigneeID != nil {
		if r.Assignee = names[*r.AssigneeID]; r.Assignee == "" {
			r.Assignee = "#" + strconv.Itoa(*r.AssigneeID)
		}
	}
}

func claimRow(c *ent.Claim, now time.Time) ClaimRow {
	return ClaimRow{Claim: c, Number: claims.Number(c.ID), DaysLeft: claims.DaysLeft(c.DueAt, now),
		Overdue: c.Status != "answered" && now.After(c.DueAt)}
}

// claimViews are the list's filters, in the order of its tabs.
var claimViews = []string{claims.ViewOpen, claims.ViewMine, claims.ViewOverdue, claims.ViewAnswered}

// List shows the claims in one view (?view=open|mine|overdue|answered).
func (h *Claims) List(c *fiber.Ctx) error {
	view := c.Query("view", claims.ViewOpen)
	known := false
	for _, v := range claimViews {
		known = known || v == view
	}
	if !known {
		view = claims.ViewOpen
	}
	list, err := h.claims.List(c.UserContext(), view, ui.ViewerOf(c).ID())
	if err != nil {
		return err
	}
	staff, err := h.claims.Handlers(c.UserContext())
	if err != nil {
		return err
	}
	names := staffNames(staff)
	now := time.Now()
	rows := make([]ClaimRow, len(list))
	for i, cl := range list {
		rows[i] = claimRow(cl, now)
		rows[i].name(names)
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/claims/list", "admin.claims.title",
		fiber.Map{"Claims": rows, "View": view, "Views": claimViews})
}

func (h *Claims) claim(c *fiber.Ctx) (*ent.Claim, error) {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return nil, ui.ErrNotFound
	}
	cl, err := h.claims.Get(c.UserContext(), id)
	if errors.Is(err, claims.ErrNotFound) {
		return nil, ui.ErrNotFound
	}
	return cl, err
}

func (h *Claims) showData(c *fiber.Ctx, cl *ent.Claim) (fiber.Map, error) {
	ctx := c.UserContext()
	code, partner, err := h.claims.About(ctx, cl)
	if err != nil {
		return nil, err
	}
	staff, err := h.claims.Handlers(ctx)
	if err != nil {
		return nil, err
	}
	v := ui.ViewerOf(c)
	row := claimRow(cl, time.Now())
	row.name(staffNames(staff))
	return fiber.Map{"Claim": row, "Files": claims.Files(cl), "BookingCode": code, "PartnerName": partner,
		"Staff": staff, "Me": v.ID(), "MayWrite": v.CanPlatform("claims:write")}, nil
}

// Show is one claim with its clock, assignee, and the answer form (GET /admin/claims/:id).
func (h *Claims) Show(c *fiber.Ctx) error {
	cl, err := h.claim(c)
	if err != nil {
		return err
	}
	data, err := h.showData(c, cl)
	if err != nil {
		return err
	}
	p := h.render.Page(c, "", data)
	p.Title = p.L.T("admin.claims.one", claims.Number(cl.ID))
	return c.Render("admin/claims/show", p, ui.LayoutAdmin)
}

// File is an image attached to a claim (GET /admin/claims/:id/files/:name).
func (h *Claims) File(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	r, obj, err := h.claims.Attachment(c.UserContext(), 0, id, c.Params("name"))
	if errors.Is(err, claims.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return ui.SendImage(c, r, obj.ContentType, false)
}

// done maps the claims' errors of a staff action to a flash on the claim's page.
func (h *Claims) done(c *fiber.Ctx, id int, err error, okKey string) error {
	back := "/admin/claims/" + strconv.Itoa(id)
	switch {
	case errors.Is(err, claims.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, claims.ErrAnswered):
		return ui.Redirect(c, back, "error", "flash.claim_answered_already")
	case errors.Is(err, claims.ErrNotStaff):
		return ui.Fail(fiber.StatusUnprocessableEntity, "claims.error.assignee", err)
	case err != nil:
		return err
	}
	return ui.Redirect(c, back, "ok", okKey)
}

// Assign gives the claim to a staff member; "me" or an empty value is the viewer
// (POST /admin/claims/:id/assign).
func (h *Claims) Assign(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	who := ui.ViewerOf(c).ID()
	if s := c.FormValue("assignee"); s != "" && s != "me" {
		if who, err = strconv.Atoi(s); err != nil {
			return ui.Fail(fiber.StatusUnprocessableEntity, "claims.error.assignee", err)
		}
	}
	return h.done(c, id, h.claims.Assign(c.UserContext(), actor(c), id, who), "flash.claim_assigned")
}

// Start marks the claim in progress (POST /admin/claims/:id/start).
func (h *Claims) Start(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	return h.done(c, id, h.claims.Start(c.UserContext(), actor(c), id), "flash.claim_started")
}

// Answer keeps the written answer and sends it to the member (POST /admin/claims/:id/answer).
func (h *Claims) Answer(c *fiber.Ctx) error {
	cl, err := h.claim(c)
	if err != nil {
		return err
	}
	text := c.FormValue("answer")
	err = h.claims.Answer(c.UserContext(), actor(c), cl.ID, text)
	var bad claims.Invalid
	if errors.As(err, &bad) {
		data, derr := h.showData(c, cl)
		if derr != nil {
			return derr
		}
		errs := ui.FieldErrors{}
		for f, k := range bad {
			errs.Add(f, k)
		}
		p := h.render.Page(c, "", data)
		p.Title = p.L.T("admin.claims.one", claims.Number(cl.ID))
		p.Errors, p.Form = errs, map[string]string{"answer": text}
		return c.Status(fiber.StatusUnprocessableEntity).Render("admin/claims/show", p, ui.LayoutAdmin)
	}
	return h.done(c, cl.ID, err, "flash.claim_answer_sent")
}
