package admin

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/loyalty"
	"ikra/app/scraping"
	"ikra/app/web/ui"
	"ikra/ent"
	"ikra/ent/tier"
)

// bonusForm is the bonus rules as typed into the settings page; the referral share is
// a percentage there ("10", "7,5") and basis points in the settings.
type bonusForm struct {
	Welcome, ReferralPercent, ReversalDays string
}

// fields maps the rules' field names to the form's.
var bonusFields = map[string]string{"welcome": "welcome", "referral_bp": "referral_percent", "reversal_days": "reversal_days"}

// input parses the form into the rules; a field that is not a number is an error.
func (f bonusForm) input() (loyalty.RulesInput, ui.FieldErrors) {
	errs := ui.FieldErrors{}
	var in loyalty.RulesInput
	var err error
	if in.Welcome, err = strconv.ParseInt(strings.TrimSpace(f.Welcome), 10, 64); err != nil {
		errs.Add("welcome", "form.number")
	}
	bp, ok := ui.PercentToBP(f.ReferralPercent)
	if !ok {
		errs.Add("referral_percent", "form.percent")
	}
	in.ReferralShareBP = bp
	if in.ReversalDays, err = strconv.Atoi(strings.TrimSpace(f.ReversalDays)); err != nil {
		errs.Add("reversal_days", "form.number")
	}
	for field, key := range in.Validate() {
		errs.Add(bonusFields[field], key)
	}
	return in, errs
}

// tierForm is one tier's edit as typed into the settings page.
type tierForm map[string]string

var tierFields = []string{"name_ru", "name_en", "name_kk", "min_earned", "multiplier_bp", "price_bonus", "period_days"}

// input parses the form into a tier edit.
func (f tierForm) input() (loyalty.TierInput, ui.FieldErrors) {
	errs := ui.FieldErrors{}
	in := loyalty.TierInput{NameRu: strings.TrimSpace(f["name_ru"]), NameEn: strings.TrimSpace(f["name_en"]),
		NameKk: strings.TrimSpace(f["name_kk"])}
	num := func(field string) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(f[field]), 10, 64)
		if err != nil {
			errs.Add(field, "form.number")
		}
		return n
	}
	in.MinEarned = num("min_earned")
	in.MultiplierBP = int(num("multiplier_bp"))
	in.PriceBonus = num("price_bonus")
	in.PeriodDays = int(num("period_days"))
	for field, key := range in.Validate() {
		errs.Add(field, key)
	}
	return in, errs
}

// tierField is one input of a tier's form.
type tierField struct {
	Name, Label, Help string
	Optional          bool
}

var tierInputs = []tierField{
	{"name_ru", "tier.name_ru", "", false}, {"name_en", "tier.name_en", "", false},
	{"name_kk", "tier.name_kk", "admin.settings.name_kk_help", true},
	{"min_earned", "tier.threshold", "admin.settings.threshold_help", false},
	{"multiplier_bp", "tier.multiplier_bp", "admin.settings.multiplier_help", false},
	{"price_bonus", "tier.price_bonus", "admin.settings.price_help", false},
	{"period_days", "tier.period_days", "", false},
}

// tierRow is a tier's form: its saved values, or what was typed with its errors.
type tierRow struct {
	ID     int
	Slug   string
	Name   string
	Values map[string]string
	Errors ui.FieldErrors
}

// settingsPage is the data of the settings page. When a tier's edit was refused,
// that tier's form shows what was typed (form) with the errors.
func (h *Loyalty) settingsPage(c *fiber.Ctx, tierID int, form map[string]string, errs ui.FieldErrors) (fiber.Map, error) {
	r, err := h.loyalty.Rules(c.UserContext())
	if err != nil {
		return nil, err
	}
	rows := make([]tierRow, 0, len(r.Tiers))
	for _, t := range r.Tiers {
		row := tierRow{ID: t.ID, Slug: t.Slug, Name: ui.Name(ui.Lang(c), t), Values: map[string]string{
			"name_ru": t.NameRu, "name_en": t.NameEn, "name_kk": t.NameKk, "min_earned": strconv.FormatInt(t.MinEarned, 10),
			"multiplier_bp": strconv.Itoa(t.MultiplierBp), "price_bonus": strconv.FormatInt(t.PriceBonus, 10),
			"period_days": strconv.Itoa(t.PeriodDays),
		}}
		if t.ID == tierID {
			row.Values, row.Errors = form, errs
		}
		rows = append(rows, row)
	}
	lim, err := h.scraping.Limits(c.UserContext())
	if err != nil {
		return nil, err
	}
	return fiber.Map{
		"OffersPerHour": lim.OffersPerHour, "PagesPer10Min": lim.PagesPer10Min,
		"Welcome": r.Welcome, "ReferralPercent": ui.BPToPercent(r.ReferralShareBP), "ReversalDays": r.ReversalDays,
		"Tiers": rows, "TierInputs": tierInputs,
	}, nil
}

// Settings shows the bonus rules and the status tiers, each in a form.
func (h *Loyalty) Settings(c *fiber.Ctx) error {
	data, err := h.settingsPage(c, 0, nil, nil)
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/settings", "admin.settings.title", data)
}

// SaveBonus changes the welcome amount, the referral share and the reversal window.
func (h *Loyalty) SaveBonus(c *fiber.Ctx) error {
	f := bonusForm{Welcome: strings.Clone(c.FormValue("welcome")), ReferralPercent: strings.Clone(c.FormValue("referral_percent")),
		ReversalDays: strings.Clone(c.FormValue("reversal_days"))}
	in, errs := f.input()
	if len(errs) > 0 {
		data, err := h.settingsPage(c, 0, nil, nil)
		if err != nil {
			return err
		}
		return h.render.Invalid(c, ui.LayoutAdmin, "admin/settings", "admin.settings.title", data, errs,
			map[string]string{"welcome": f.Welcome, "referral_percent": f.ReferralPercent, "reversal_days": f.ReversalDays})
	}
	if err := h.loyalty.SaveRules(c.UserContext(), actor(c), in); err != nil {
		return err
	}
	return ui.Redirect(c, "/admin/settings", "ok", "flash.rules_saved")
}

// SaveTier changes one status tier; the domain audits it.
func (h *Loyalty) SaveTier(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	exists, err := h.db.Tier.Query().Where(tier.ID(id)).Exist(ctx)
	if err != nil {
		return err
	}
	if !exists {
		return ui.ErrNotFound
	}
	f := tierForm{}
	for _, k := range tierFields {
		f[k] = strings.Clone(c.FormValue(k))
	}
	in, errs := f.input()
	if len(errs) > 0 {
		data, err := h.settingsPage(c, id, f, errs)
		if err != nil {
			return err
		}
		return h.render.Invalid(c, ui.LayoutAdmin, "admin/settings", "admin.settings.title", data, nil, nil)
	}
	_, err = h.loyalty.UpdateTier(ctx, actor(c), id, in)
	if ent.IsNotFound(err) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, "/admin/settings", "ok", "flash.tier_saved")
}

// SaveScraping changes the anti-scraping thresholds: distinct offers a member or an
// address may open per hour, and catalog pages per 10 minutes, before being flagged
// and slowed. The domain audits it.
func (h *Loyalty) SaveScraping(c *fiber.Ctx) error {
	form := map[string]string{"offers_per_hour": strings.TrimSpace(c.FormValue("offers_per_hour")),
		"pages_per_10min": strings.TrimSpace(c.FormValue("pages_per_10min"))}
	errs := ui.FieldErrors{}
	num := func(field string) int {
		n, err := strconv.Atoi(form[field])
		if err != nil {
			errs.Add(field, "form.number")
		}
		return n
	}
	l := scraping.Limits{OffersPerHour: num("offers_per_hour"), PagesPer10Min: num("pages_per_10min")}
	if len(errs) == 0 {
		for field, key := range l.Validate() {
			errs.Add(field, key)
		}
	}
	if len(errs) > 0 {
		data, err := h.settingsPage(c, 0, nil, nil)
		if err != nil {
			return err
		}
		return h.render.Invalid(c, ui.LayoutAdmin, "admin/settings", "admin.settings.title", data, errs, form)
	}
	if err := h.scraping.SaveLimits(c.UserContext(), actor(c), l); err != nil {
		return err
	}
	return ui.Redirect(c, "/admin/settings", "ok", "flash.scrape_saved")
}
