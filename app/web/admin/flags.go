package admin

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/fraud"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/members"
	"ikra/app/partners"
	"ikra/app/scraping"
	"ikra/app/web/ui"
)

// Flags is the one review page of fraud signals: the detectors' flags (app/fraud) and
// the members and addresses flagged for harvesting the catalog (app/scraping).
type Flags struct {
	render   *ui.Renderer
	scraping *scraping.Service
	fraud    *fraud.Service
}

// NewFlags returns the flags' handlers.
func NewFlags(r *ui.Renderer, s *scraping.Service, f *fraud.Service) *Flags {
	return &Flags{render: r, scraping: s, fraud: f}
}

// List shows the open (or, with ?tab=reviewed, the reviewed) fraud flags, filtered by
// ?kind=, and the latest harvesting flags.
func (h *Flags) List(c *fiber.Ctx) error {
	ctx := c.UserContext()
	tab := c.Query("tab")
	if tab != "reviewed" {
		tab = "open"
	}
	kind := c.Query("kind")
	if !slices.Contains(fraud.Kinds, kind) {
		kind = ""
	}
	flags, err := h.fraud.List(ctx, fraud.Filter{Open: tab == "open", Kind: kind})
	if err != nil {
		return err
	}
	var harvest []*scraping.Flag
	if kind == "" {
		if harvest, err = h.scraping.List(ctx, 200); err != nil {
			return err
		}
	}
	v := ui.ViewerOf(c)
	return h.render.Render(c, ui.LayoutAdmin, "admin/flags", "admin.flags.title", fiber.Map{
		"Flags": flags, "Harvest": harvest, "Tab": tab, "Kind": kind, "Kinds": fraud.Kinds,
		"MayReview": v.CanPlatform("fraud:review"),
	})
}

// Show shows one flag with its evidence and the review forms the viewer may use.
func (h *Flags) Show(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	f, err := h.fraud.Get(c.UserContext(), id)
	if errors.Is(err, fraud.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	v := ui.ViewerOf(c)
	review := v.CanPlatform("fraud:review") && string(f.Status) == "open"
	return h.render.Render(c, ui.LayoutAdmin, "admin/flag", "admin.flags.flag", fiber.Map{
		"Flag": f, "MayReview": review,
		"MayAnnul":   review && f.MemberID != nil && v.CanPlatform("ledger:annul"),
		"MayBlock":   review && f.MemberID != nil && v.CanPlatform("members:block"),
		"MaySuspend": review && f.PartnerID != nil && v.CanPlatform("partners:suspend"),
	})
}

// Review marks a harvesting flag reviewed.
func (h *Flags) Review(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	err = h.scraping.Review(c.UserContext(), actor(c), id)
	if errors.Is(err, scraping.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, "/admin/flags", "ok", "flash.flag_reviewed")
}

// Dismiss closes a flag as a false alarm, with a note.
func (h *Flags) Dismiss(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	err = h.fraud.Dismiss(c.UserContext(), actor(c), id, strings.Clone(c.FormValue("note")))
	return h.done(c, id, err, "flash.flag_dismissed")
}

// Annul takes bonuses back from the flag's member, with a reason.
func (h *Flags) Annul(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	if !ui.ViewerOf(c).CanPlatform("ledger:annul") {
		return ui.ErrForbidden
	}
	amount, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("amount")), 10, 64)
	if err != nil || amount <= 0 {
		return ui.Redirect(c, "/admin/flags/"+strconv.Itoa(id), "error", "flash.annul_amount")
	}
	err = h.fraud.Annul(c.UserContext(), actor(c), id, amount, strings.Clone(c.FormValue("reason")))
	return h.done(c, id, err, "flash.annulled")
}

// Block blocks the flag's member, or with target=partner suspends its partner.
func (h *Flags) Block(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	target, perm := "member", "members:block"
	if c.FormValue("target") == "partner" {
		target, perm = "partner", "partners:suspend"
	}
	if !ui.ViewerOf(c).CanPlatform(perm) {
		return ui.ErrForbidden
	}
	err = h.fraud.Block(c.UserContext(), actor(c), id, target, strings.Clone(c.FormValue("reason")))
	ok := "flash.member_blocked"
	if target == "partner" {
		ok = "flash.partner_suspended"
	}
	return h.done(c, id, err, ok)
}

// done maps a review's outcome to a flash message on the flag's page.
func (h *Flags) done(c *fiber.Ctx, id int, err error, ok string) error {
	back := "/admin/flags/" + strconv.Itoa(id)
	key := ""
	switch {
	case err == nil:
		return ui.Redirect(c, back, "ok", ok)
	case errors.Is(err, fraud.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, fraud.ErrReviewed):
		key = "flash.flag_already_reviewed"
	case errors.Is(err, fraud.ErrNoMember), errors.Is(err, fraud.ErrNoPartner):
		key = "flash.flag_no_subject"
	case errors.Is(err, fraud.ErrNoteRequired), errors.Is(err, loyalty.ErrReasonRequired),
		errors.Is(err, members.ErrReasonRequired), errors.Is(err, partners.ErrReasonRequired):
		key = "flash.reason_required"
	case errors.Is(err, members.ErrOutranked):
		key = "flash.outranked"
	case errors.Is(err, members.ErrNotFound):
		key = "flash.flag_no_subject"
	case errors.Is(err, partners.ErrState):
		key = "flash.partner_not_active"
	case errors.Is(err, ledger.ErrInsufficient):
		key = "flash.annul_insufficient"
	case errors.Is(err, ledger.ErrConflict), errors.Is(err, loyalty.ErrKeyReused):
		return ui.Conflict(c, back, err)
	default:
		return err
	}
	return ui.Redirect(c, back, "error", key)
}
