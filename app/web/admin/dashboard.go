package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/dashboard"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Dashboard serves the back office's overview and the lists its figures open.
type Dashboard struct {
	render *ui.Renderer
	dash   *dashboard.Service
}

// NewDashboard returns the overview's handlers.
func NewDashboard(r *ui.Renderer, d *dashboard.Service) *Dashboard {
	return &Dashboard{render: r, dash: d}
}

// Overview shows the club's figures over the chosen period (?period=7d|30d|90d|365d).
func (h *Dashboard) Overview(c *fiber.Ctx) error {
	p, err := dashboard.PeriodOf(c.Query("period"))
	if errors.Is(err, dashboard.ErrPeriod) {
		return ui.ErrBadRequest
	}
	o, err := h.dash.Overview(c.UserContext(), p)
	if err != nil {
		return err
	}
	v := ui.ViewerOf(c)
	b := o.Bonuses
	var work []workItem
	for _, w := range workItems {
		n, ok := o.Work[w.Key]
		if !ok {
			continue
		}
		w.N, w.Allowed = n, v.CanPlatform(w.Perm)
		w.Text = strconv.FormatInt(n, 10)
		if w.Duration {
			w.Text = "—"
			if n > 0 {
				w.Text = Span(h.render.Locale(c), time.Duration(n)*time.Second)
			}
		}
		work = append(work, w)
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/dashboard", "admin.dashboard.title", fiber.Map{
		"O": o, "Periods": dashboard.Periods, "Chart": drawChart(o.Chart), "Since": o.From.In(dashboard.Almaty).Format("2006-01-02"),
		"Statuses": []string{"requested", "confirmed", "completed", "declined", "cancelled", "expired", "no_show", "reversed"},
		"Bonuses":  []bonusItem{{"issued", "cashback", b.Issued}, {"spent", "spend", b.Spent}, {"annulled", "annulment", b.Annulled}, {"reversed", "reversal", b.Reversed}},
		"Work":     work,
	})
}

// bonusItem is a figure of the period's bonus movements and the ledger kind it opens.
type bonusItem struct {
	Key, Kind string
	N         int64
}

// workItem is a figure another package counts (dashboard.Counter), with where it
// leads and who may follow it.
type workItem struct {
	Key, Link, Perm string
	Duration        bool // N is seconds
	Alert           bool // shown in red when above zero
	N               int64
	Text            string
	Allowed         bool
}

// workItems are the open-work figures in the order shown; a figure no counter gave is
// left out.
var workItems = []workItem{
	{Key: "support_open", Link: "/admin/support?tab=open", Perm: "support:read"},
	{Key: "support_unassigned", Link: "/admin/support?tab=unassigned", Perm: "support:read", Alert: true},
	{Key: "support_first_response", Link: "/admin/support?tab=resolved", Perm: "support:read", Duration: true},
	{Key: "support_resolution", Link: "/admin/support?tab=resolved", Perm: "support:read", Duration: true},
	{Key: "claims_open", Link: "/admin/claims?view=open", Perm: "claims:read"},
	{Key: "claims_due_soon", Link: "/admin/claims?view=open", Perm: "claims:read", Alert: true},
	{Key: "claims_overdue", Link: "/admin/claims?view=overdue", Perm: "claims:read", Alert: true},
	{Key: "fraud_open", Link: "/admin/flags", Perm: "fraud:read", Alert: true},
}

// Span writes a duration the way staff read it: "3 h 20 min", "2 d 4 h", "45 s".
func Span(l ui.Locale, d time.Duration) string {
	switch {
	case d < time.Minute:
		return l.T("duration.s", int(d.Seconds()))
	case d < time.Hour:
		return l.T("duration.min", int(d.Minutes()))
	case d < 48*time.Hour:
		return l.T("duration.h_min", int(d.Hours()), int(d.Minutes())%60)
	}
	return l.T("duration.d_h", int(d.Hours())/24, int(d.Hours())%24)
}

// chart is the liability line and the issued/spent bars, drawn in a 600×200 box.
type chart struct {
	Line   string // polyline points
	Bars   []bar
	Max    int64
	Labels []label
}

type bar struct {
	X, Y, W, H float64
	Spent      bool
	Title      string
}

type label struct {
	X    float64
	Text string
}

// drawChart scales the points into the SVG's box: the line on the liability's scale,
// the bars on the movements' scale (both start at zero).
func drawChart(points []dashboard.Point) chart {
	const w, h = 600.0, 200.0
	if len(points) == 0 {
		return chart{}
	}
	var top, moved int64 = 1, 1
	for _, p := range points {
		top = max(top, p.Liability)
		moved = max(moved, p.Issued, p.Spent)
	}
	step := w / float64(len(points))
	var line []string
	var out chart
	out.Max = top
	for i, p := range points {
		x := step*float64(i) + step/2
		y := h - float64(p.Liability)/float64(top)*h
		line = append(line, strconv.FormatFloat(x, 'f', 1, 64)+","+strconv.FormatFloat(y, 'f', 1, 64))
		bw := step / 3
		ih := float64(p.Issued) / float64(moved) * h / 2
		sh := float64(p.Spent) / float64(moved) * h / 2
		day := p.End.Add(-time.Second).In(dashboard.Almaty).Format("02.01")
		out.Bars = append(out.Bars,
			bar{X: x - bw, Y: h - ih, W: bw, H: ih, Title: fmt.Sprintf("%s +%d", day, p.Issued)},
			bar{X: x, Y: h - sh, W: bw, H: sh, Spent: true, Title: fmt.Sprintf("%s −%d", day, p.Spent)})
		if i == 0 || i == len(points)-1 || i == len(points)/2 {
			out.Labels = append(out.Labels, label{X: x, Text: day})
		}
	}
	out.Line = strings.Join(line, " ")
	return out
}

// listFilter reads ?status, ?kind, ?since (YYYY-MM-DD, an Almaty day) and ?before.
func listFilter(c *fiber.Ctx) (dashboard.ListFilter, error) {
	f := dashboard.ListFilter{Status: strings.TrimSpace(c.Query("status")), Kind: strings.TrimSpace(c.Query("kind"))}
	if v := c.Query("since"); v != "" {
		t, err := time.ParseInLocation("2006-01-02", v, dashboard.Almaty)
		if err != nil {
			return f, ui.ErrBadRequest
		}
		f.Since = t
	}
	if v := c.Query("before"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return f, ui.ErrBadRequest
		}
		f.Before = n
	}
	return f, nil
}

// Bookings lists every partner's bookings, filtered by status and period.
func (h *Dashboard) Bookings(c *fiber.Ctx) error {
	return listPage(h, c, h.dash.Bookings, func(b *ent.Booking) int { return b.ID }, "admin/bookings", "admin.bookings.title", fiber.Map{
		"Statuses": []string{"requested", "confirmed", "declined", "cancelled", "expired", "completed", "no_show", "reversed"},
	})
}

// Ledger lists every member's ledger entries, filtered by kind and period.
func (h *Dashboard) Ledger(c *fiber.Ctx) error {
	return listPage(h, c, h.dash.Entries, func(e *ent.LedgerEntry) int { return e.ID }, "admin/ledger", "admin.platform_ledger.title", fiber.Map{
		"Kinds": []string{"welcome", "cashback", "referral", "spend", "capture", "tier_purchase", "annulment", "reversal", "adjustment", "refund"},
	})
}

// listPage shows a page of rows load finds for the request's filter, with the link to
// the next (older) page; data adds to the page's data.
func listPage[T any](h *Dashboard, c *fiber.Ctx, load func(context.Context, dashboard.ListFilter) ([]T, error), id func(T) int,
	view, title string, data fiber.Map) error {
	f, err := listFilter(c)
	if err != nil {
		return err
	}
	rows, err := load(c.UserContext(), f)
	if errors.Is(err, dashboard.ErrFilter) {
		return ui.ErrBadRequest
	}
	if err != nil {
		return err
	}
	next := 0
	if len(rows) == dashboard.PageSize {
		next = id(rows[len(rows)-1])
	}
	data["Rows"], data["F"], data["Since"], data["Next"] = rows, f, c.Query("since"), next
	return h.render.Render(c, ui.LayoutAdmin, view, title, data)
}
