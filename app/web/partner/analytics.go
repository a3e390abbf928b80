package partner

import (
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/analytics"
	"ikra/app/web/ui"
)

// Analytics serve the partner's analytics page and its CSV export. Every number comes
// from app/analytics with the current partner's ID.
type Analytics struct {
	render    *ui.Renderer
	analytics *analytics.Service
	now       func() time.Time
}

// NewAnalytics returns the analytics handlers.
func NewAnalytics(r *ui.Renderer, s *analytics.Service) *Analytics {
	return &Analytics{render: r, analytics: s, now: time.Now}
}

// Periods a partner can pick besides "custom", in days.
var analyticsPeriods = []string{"7", "30", "90"}

// analyticsForm is the filter as sent in the query string.
type analyticsForm struct {
	Offer, Period, From, To string
}

func readAnalyticsForm(c *fiber.Ctx) analyticsForm {
	f := analyticsForm{
		Offer:  strings.TrimSpace(c.Query("offer")),
		Period: strings.TrimSpace(c.Query("period")),
		From:   strings.TrimSpace(c.Query("from")),
		To:     strings.TrimSpace(c.Query("to")),
	}
	if f.Period == "" {
		f.Period = "30"
	}
	return f.clone()
}

func (f analyticsForm) clone() analyticsForm {
	return analyticsForm{strings.Clone(f.Offer), strings.Clone(f.Period), strings.Clone(f.From), strings.Clone(f.To)}
}

// validate turns the form into a filter; a custom period needs both days, in order,
// not after today and at most analytics.MaxDays long.
func (f analyticsForm) validate(now time.Time) (analytics.Filter, ui.FieldErrors) {
	errs := ui.FieldErrors{}
	var flt analytics.Filter
	if f.Offer != "" && f.Offer != "all" {
		id, err := strconv.Atoi(f.Offer)
		if err != nil || id <= 0 {
			errs.Add("offer", "analytics.error.offer")
		}
		flt.OfferID = id
	}
	switch f.Period {
	case "7", "30", "90":
		n, _ := strconv.Atoi(f.Period)
		flt.Range = analytics.LastDays(now, n)
	case "custom":
		today := analytics.LastDays(now, 1).Last
		rg, err := analytics.Days(f.From, f.To)
		switch {
		case err != nil && f.From == "":
			errs.Add("from", "form.date")
		case err != nil && f.To == "":
			errs.Add("to", "form.date")
		case err != nil:
			if _, e := analytics.Days(f.From, f.From); e != nil {
				errs.Add("from", "form.date")
			} else {
				errs.Add("to", "form.date")
			}
		case rg.Last.Before(rg.First):
			errs.Add("to", "analytics.error.order")
		case rg.First.After(today):
			errs.Add("from", "analytics.error.future")
		case rg.Last.After(today):
			errs.Add("to", "analytics.error.future")
		case rg.Len() > analytics.MaxDays:
			errs.Add("from", "analytics.error.too_long")
		}
		flt.Range = rg
	default:
		errs.Add("period", "analytics.error.period")
	}
	return flt, errs
}

// Page shows the table per offer, the totals and the chart by day.
func (h *Analytics) Page(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := readAnalyticsForm(c)
	offers, err := h.analytics.Offers(ctx, current(c))
	if err != nil {
		return err
	}
	data := fiber.Map{"Offers": offers, "Periods": analyticsPeriods, "Query": ""}
	flt, errs := f.validate(h.now())
	if len(errs) > 0 {
		return h.render.Invalid(c, ui.LayoutPartner, "partner/analytics", "partner.analytics.title", data, errs, f.values())
	}
	rep, err := h.analytics.Report(ctx, current(c), flt)
	if errors.Is(err, analytics.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	l := h.render.Locale(c)
	data["Report"] = rep
	data["Rows"] = make([]analyticsRow, len(rep.Rows))
	for i, r := range rep.Rows {
		data["Rows"].([]analyticsRow)[i] = rowView(r, l.Lang)
	}
	data["Total"] = rowView(rep.Total, l.Lang)
	data["Chart"], data["Legend"] = chartSVG(rep.Days, l), chartLegend()
	data["Query"] = f.query(rep.Filter)
	p := h.render.Page(c, "partner.analytics.title", data)
	p.Form = f.values()
	return c.Render("partner/analytics", p, ui.LayoutPartner)
}

func (f analyticsForm) values() map[string]string {
	return map[string]string{"offer": f.Offer, "period": f.Period, "from": f.From, "to": f.To}
}

// query is the filter as a query string, for the CSV link.
func (f analyticsForm) query(flt analytics.Filter) string {
	q := "?period=" + f.Period
	if flt.OfferID != 0 {
		q += "&offer=" + strconv.Itoa(flt.OfferID)
	}
	if f.Period == "custom" {
		q += "&from=" + flt.Range.First.Format("2006-01-02") + "&to=" + flt.Range.Last.Format("2006-01-02")
	}
	return q
}

// CSVHeader is the CSV export's header row: amounts are plain integers, the deal
// amount in tiyn (1/100 tenge), cashback in whole bonuses; rates in percent with one
// decimal, empty when there is nothing to divide by.
var CSVHeader = []string{"offer_id", "offer", "views", "unique_viewers", "requests", "confirmed", "completed", "no_show",
	"confirmation_rate_pct", "completion_rate_pct", "no_show_rate_pct", "deal_amount_tiyn", "cashback_bonuses"}

// CSV exports the page's table with the same filter: one row per offer, then the totals.
func (h *Analytics) CSV(c *fiber.Ctx) error {
	flt, errs := readAnalyticsForm(c).validate(h.now())
	if len(errs) > 0 {
		return ui.Fail(fiber.StatusUnprocessableEntity, "analytics.error.filter", nil)
	}
	rep, err := h.analytics.Report(c.UserContext(), current(c), flt)
	if errors.Is(err, analytics.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	name := "analytics-" + flt.Range.First.Format("2006-01-02") + "-" + flt.Range.Last.Format("2006-01-02") + ".csv"
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	w := csv.NewWriter(c)
	_ = w.Write(CSVHeader)
	for _, r := range rep.Rows {
		_ = w.Write(csvRow(strconv.Itoa(r.OfferID), r.Title, r))
	}
	_ = w.Write(csvRow("", h.render.Locale(c).T("analytics.total"), rep.Total))
	w.Flush()
	return w.Error()
}

func csvRow(id, title string, r analytics.Row) []string {
	n := strconv.Itoa
	return []string{id, csvText(title), n(r.Views), n(r.Viewers), n(r.Requests), n(r.Confirmed), n(r.Completed), n(r.NoShow),
		r.ConfirmationRate().Percent(), r.CompletionRate().Percent(), r.NoShowRate().Percent(),
		strconv.FormatInt(r.DealTiyn, 10), strconv.FormatInt(r.Cashback, 10)}
}

// csvText keeps a title from being read as a formula by a spreadsheet.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// analyticsRow is a table row with its rates written out for the page.
type analyticsRow struct {
	analytics.Row
	Confirmation, Completion, NoShowShare string
}

func rowView(r analytics.Row, lang string) analyticsRow {
	pct := func(rt analytics.Rate) string {
		p := rt.Percent()
		if p == "" {
			return "—"
		}
		if lang != "en" {
			p = strings.Replace(p, ".", ",", 1)
		}
		return p + "\u00a0%"
	}
	return analyticsRow{Row: r, Confirmation: pct(r.ConfirmationRate()), Completion: pct(r.CompletionRate()), NoShowShare: pct(r.NoShowRate())}
}
