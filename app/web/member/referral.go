package member

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/web/ui"
)

// ReferralCookie carries a referral code from /r/<code> to the Telegram sign-in that
// registers the visitor.
const ReferralCookie = "ikra_ref"

// referralCookieAge is how long a visit by a referral link counts.
const referralCookieAge = 30 * 24 * time.Hour

// ReferralCode normalises a code from a link: upper case, letters and digits only, at
// most 16 characters; anything else is not a code ("").
func ReferralCode(raw string) string {
	code := strings.ToUpper(raw)
	if code == "" || len(code) > 16 {
		return ""
	}
	for _, r := range code {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return ""
		}
	}
	return code
}

// Referral is the personal link /r/<code>: it remembers the code for the visitor's
// registration and sends them to sign in. A signed-in member is already registered,
// so for them the code means nothing.
func (h *Loyalty) Referral(c *fiber.Ctx) error {
	if ui.ViewerOf(c) != nil {
		return c.Redirect("/app", fiber.StatusSeeOther)
	}
	if code := ReferralCode(c.Params("code")); code != "" {
		c.Cookie(&fiber.Cookie{Name: ReferralCookie, Value: code, Path: "/", HTTPOnly: true, SameSite: "Lax",
			Secure: h.links.Secure, MaxAge: int(referralCookieAge / time.Second)})
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// RuleTier is one status tier in the published rules.
type RuleTier struct {
	Name       string
	MinEarned  int64
	Multiplier string
	Price      int64 // 0: not for sale
	PeriodDays int
}

// Rules publishes the bonus rules as they are set right now (§5.1).
func (h *Loyalty) Rules(c *fiber.Ctx) error {
	r, err := h.loyalty.Rules(c.UserContext())
	if err != nil {
		return err
	}
	lang := ui.Lang(c)
	tiers := make([]RuleTier, 0, len(r.Tiers))
	for _, t := range r.Tiers {
		rt := RuleTier{Name: ui.Name(lang, t), MinEarned: t.MinEarned, Multiplier: Multiplier(t.MultiplierBp)}
		if t.PriceBonus > 0 && t.PeriodDays > 0 {
			rt.Price, rt.PeriodDays = t.PriceBonus, t.PeriodDays
		}
		tiers = append(tiers, rt)
	}
	return h.render.Render(c, ui.LayoutPublic, "public/rules", "rules.title", fiber.Map{"Rules": r, "Tiers": tiers})
}
