package admin

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/members"
	"ikra/app/scraping"
	webmember "ikra/app/web/member"
	"ikra/app/web/ui"
	"ikra/ent"
	"ikra/ent/ledgerentry"
	"ikra/ent/member"
)

// Loyalty serves the back office's bonus screens: a member's ledger with annulment,
// and the bonus rules and status tiers.
type Loyalty struct {
	db      *ent.Client
	render  *ui.Renderer
	loyalty *loyalty.Service
	history *webmember.History
	// scraping keeps the anti-scraping thresholds shown on the settings page.
	scraping *scraping.Service
}

// SetScraping gives the settings page the anti-scraping thresholds.
func (h *Loyalty) SetScraping(s *scraping.Service) { h.scraping = s }

// NewLoyalty returns the back office's bonus handlers.
func NewLoyalty(db *ent.Client, r *ui.Renderer, l *loyalty.Service, h *webmember.History) *Loyalty {
	return &Loyalty{db: db, render: r, loyalty: l, history: h}
}

// LedgerLine is a ledger entry as staff see it, with what can still be done to it.
type LedgerLine struct {
	webmember.Line
	Annulled   bool // a reversing entry (annulment or reversal) already exists
	Annullable bool // a credit that can still be annulled by its ID
	Key        string
}

// Ledger shows a member's balance and every ledger entry, newest first, with an annul
// form per credit and one for a free amount.
func (h *Loyalty) Ledger(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	m, err := h.db.Member.Query().Where(member.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	before, err := webmember.Before(c)
	if err != nil {
		return err
	}
	bal, err := h.loyalty.Ledger().Balance(ctx, id)
	if err != nil {
		return err
	}
	q := h.db.LedgerEntry.Query().Where(ledgerentry.MemberID(id))
	if before > 0 {
		q.Where(ledgerentry.IDLT(before))
	}
	entries, err := q.WithReversals().Order(ent.Desc(ledgerentry.FieldID)).Limit(webmember.HistoryPage).All(ctx)
	if err != nil {
		return err
	}
	lines, err := h.history.Lines(ctx, ui.Lang(c), entries)
	if err != nil {
		return err
	}
	out := make([]LedgerLine, 0, len(lines))
	for _, l := range lines {
		ll := LedgerLine{Line: l, Annulled: len(l.Edges.Reversals) > 0}
		ll.Annullable = !ll.Annulled && loyalty.Annullable(l.LedgerEntry)
		if ll.Annullable {
			ll.Key = webmember.NewFormKey()
		}
		out = append(out, ll)
	}
	next := 0
	if len(entries) == webmember.HistoryPage {
		next = entries[len(entries)-1].ID
	}
	// The annul forms are shown only to staff who may annul for this member.
	v := ui.ViewerOf(c)
	targetRank, err := members.RankOf(ctx, h.db, id)
	if err != nil {
		return err
	}
	mayAnnul := v.CanPlatform("ledger:annul") && members.MayAct(v.Rank(), targetRank, members.ActAnnul)
	return h.render.Render(c, ui.LayoutAdmin, "admin/members/ledger", "admin.ledger.title", fiber.Map{
		"Member": m, "Balance": bal, "Lines": out, "Next": next, "Key": webmember.NewFormKey(), "MayAnnul": mayAnnul,
	})
}

// annulForm is a staff member's annulment: an entry or an amount, with a reason.
type annulForm struct {
	EntryID *int
	Amount  int64
	Reason  string
	Key     string
}

// parseAnnul reads the form; ok is false when it names neither a valid entry nor a
// positive amount, or carries no valid key.
func parseAnnul(c *fiber.Ctx) (f annulForm, ok bool) {
	f.Reason = strings.TrimSpace(strings.Clone(c.FormValue("reason")))
	f.Key = strings.Clone(c.FormValue("key"))
	if v := strings.TrimSpace(c.FormValue("entry_id")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return f, false
		}
		f.EntryID = &n
	} else {
		n, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("amount")), 10, 64)
		if err != nil || n <= 0 {
			return f, false
		}
		f.Amount = n
	}
	return f, webmember.ValidFormKey(f.Key)
}

// Annul takes a member's bonuses back for fraud (§5.6), with a mandatory reason. A
// refused annulment writes nothing and says why.
func (h *Loyalty) Annul(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	back := "/admin/members/" + strconv.Itoa(id) + "/ledger"
	exists, err := h.db.Member.Query().Where(member.ID(id)).Exist(ctx)
	if err != nil {
		return err
	}
	if !exists {
		return ui.ErrNotFound
	}
	f, ok := parseAnnul(c)
	if f.Reason == "" {
		return ui.Redirect(c, back, "error", "flash.reason_required")
	}
	if !ok {
		return ui.Redirect(c, back, "error", "flash.annul_amount")
	}
	// Scoped to the member: a key copied from another member's page cannot collide.
	_, err = h.loyalty.Annul(ctx, actor(c), id, f.EntryID, f.Amount, f.Reason, "m"+strconv.Itoa(id)+":"+f.Key)
	switch {
	case errors.Is(err, members.ErrOutranked):
		return ui.Redirect(c, back, "error", "flash.outranked")
	case errors.Is(err, loyalty.ErrReasonRequired):
		return ui.Redirect(c, back, "error", "flash.reason_required")
	case errors.Is(err, ledger.ErrInsufficient):
		return ui.Redirect(c, back, "error", "flash.annul_insufficient")
	case errors.Is(err, ledger.ErrClosed):
		return ui.Redirect(c, back, "error", "flash.annul_done")
	case errors.Is(err, ledger.ErrNotFound):
		return ui.Redirect(c, back, "error", "flash.annul_not_found")
	case errors.Is(err, ledger.ErrInvalid):
		return ui.Redirect(c, back, "error", "flash.annul_invalid")
	case errors.Is(err, ledger.ErrConflict):
		return ui.Conflict(c, back, err)
	case err != nil:
		return err
	}
	return ui.Redirect(c, back, "ok", "flash.annulled")
}
