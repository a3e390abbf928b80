package member

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Loyalty serves the member's bonus screens (balance and history, invitations,
// status), the referral link and the published rules.
type Loyalty struct {
	render  *ui.Renderer
	loyalty *loyalty.Service
	history *History
	links   Links
}

// Links are what the invite page needs to build a member's links.
type Links struct {
	BaseURL     string // public URL of the site, without a trailing slash
	BotUsername string // the Telegram bot, for a t.me deep link; empty when not configured
	Secure      bool   // the site is served over HTTPS (cookies are marked Secure)
}

// NewLoyalty returns the member's bonus handlers.
func NewLoyalty(r *ui.Renderer, l *loyalty.Service, h *History, links Links) *Loyalty {
	return &Loyalty{render: r, loyalty: l, history: h, links: links}
}

// HistoryPage is how many ledger entries one page of history shows.
const HistoryPage = loyalty.HistoryPage

// Before reads the ?before=<entry id> cursor of a history page (0: the newest).
func Before(c *fiber.Ctx) (int, error) {
	v := c.Query("before")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, ui.ErrBadRequest
	}
	return n, nil
}

// Bonuses shows the balance by bucket and the history, newest first, with a reason
// for every line.
func (h *Loyalty) Bonuses(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id := ui.ViewerOf(c).ID()
	before, err := Before(c)
	if err != nil {
		return err
	}
	bal, err := h.loyalty.Ledger().Balance(ctx, id)
	if err != nil {
		return err
	}
	lines, next, err := h.history.Page(ctx, h.loyalty.Ledger(), id, ui.Lang(c), before)
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutMember, "app/bonuses", "app.bonuses.title", fiber.Map{
		"Balance": bal, "Lines": lines, "Next": next, "Paged": before > 0,
	})
}

// Invite shows the member's referral link and its QR, their invitees (first names
// only) and what the invitations have earned.
func (h *Loyalty) Invite(c *fiber.Ctx) error {
	ctx := c.UserContext()
	info, err := h.loyalty.Referrals(ctx, ui.ViewerOf(c).ID())
	if err != nil {
		return err
	}
	rules, err := h.loyalty.Rules(ctx)
	if err != nil {
		return err
	}
	tg, share := "", ""
	if h.links.BotUsername != "" {
		tg = "https://t.me/" + h.links.BotUsername + "?start=ref_" + info.Code
		// Telegram's share sheet: the friend gets the bot link with a line of text.
		share = "https://t.me/share/url?url=" + url.QueryEscape(tg) + "&text=" + url.QueryEscape(h.render.Locale(c).T("app.invite.share_text"))
	}
	return h.render.Render(c, ui.LayoutMember, "app/invite", "app.invite.title", fiber.Map{
		"Info": info, "Link": h.links.BaseURL + "/r/" + info.Code, "TelegramLink": tg, "ShareLink": share, "ShareBP": rules.ReferralShareBP,
	})
}

// InviteQR is the member's referral link as a QR code, for a friend to scan.
func (h *Loyalty) InviteQR(c *fiber.Ctx) error {
	info, err := h.loyalty.Referrals(c.UserContext(), ui.ViewerOf(c).ID())
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(h.links.BaseURL+"/r/"+info.Code, qrcode.Medium, 320)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	return c.Send(png)
}

// TierRow is one status tier as a member sees it.
type TierRow struct {
	*ent.Tier
	Name       string
	Multiplier string
	Buyable    bool
	Current    bool
	Short      int64  // bonuses the member lacks to buy it; the buy button waits while > 0
	Key        string // idempotency key of this row's buy form
}

// Status shows the member's tier, the earnings that count towards the next one, and
// every tier with a buy form where it is for sale.
func (h *Loyalty) Status(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id := ui.ViewerOf(c).ID()
	st, err := h.loyalty.Status(ctx, id)
	if err != nil {
		return err
	}
	bal, err := h.loyalty.Ledger().Balance(ctx, id)
	if err != nil {
		return err
	}
	lang := ui.Lang(c)
	rows := make([]TierRow, 0, len(st.Tiers))
	for _, t := range st.Tiers {
		rows = append(rows, TierRow{Tier: t, Name: ui.Name(lang, t), Multiplier: Multiplier(t.MultiplierBp),
			Buyable: t.PriceBonus > 0 && t.PeriodDays > 0, Current: st.Tier != nil && st.Tier.ID == t.ID,
			Short: loyalty.Shortfall(t, bal.Available), Key: NewFormKey()})
	}
	data := fiber.Map{"Status": st, "Tiers": rows, "Available": bal.Available, "Multiplier": Multiplier(st.Multiplier())}
	if st.Tier != nil {
		data["TierName"] = ui.Name(lang, st.Tier)
	}
	if st.Next != nil {
		data["NextName"] = ui.Name(lang, st.Next)
		data["Remaining"] = st.Next.MinEarned - st.Earned
		progress := int64(100)
		if st.Next.MinEarned > 0 {
			progress = st.Earned * 100 / st.Next.MinEarned
		}
		data["Progress"] = progress
	}
	return h.render.Render(c, ui.LayoutMember, "app/status", "app.status.title", data)
}

// buyForm is a status purchase: the tier and the form's idempotency key.
type buyForm struct {
	Slug, Key string
}

func (f buyForm) valid() bool {
	return f.Slug != "" && len(f.Slug) <= 64 && ValidFormKey(f.Key)
}

// BuyTier buys a status with bonuses. The same form submitted twice charges once.
func (h *Loyalty) BuyTier(c *fiber.Ctx) error {
	f := buyForm{Slug: strings.Clone(c.FormValue("slug")), Key: strings.Clone(c.FormValue("key"))}
	if !f.valid() {
		return ui.ErrBadRequest
	}
	id := ui.ViewerOf(c).ID()
	// The key is the member's own: another member's form cannot take it.
	err := h.loyalty.BuyTier(c.UserContext(), id, f.Slug, "m"+strconv.Itoa(id)+":"+f.Key)
	switch {
	case errors.Is(err, loyalty.ErrNotForSale):
		return ui.Redirect(c, "/app/status", "error", "flash.tier_not_for_sale")
	case errors.Is(err, ledger.ErrInsufficient):
		return ui.Redirect(c, "/app/status", "error", "flash.bonuses_insufficient")
	case errors.Is(err, ledger.ErrConflict):
		return ui.Conflict(c, "/app/status", err)
	case err != nil:
		return err
	}
	return ui.Redirect(c, "/app/status", "ok", "flash.tier_bought")
}
