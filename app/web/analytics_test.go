package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ikra/app/analytics"
	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/web/partner"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
	"ikra/ent/offerview"
)

// analyticsDatabases are the databases the analytics tests run on: SQLite always,
// PostgreSQL when IKRA_TEST_DATABASE_URL names one.
func analyticsDatabases() []string {
	if os.Getenv("IKRA_TEST_DATABASE_URL") != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

func analyticsEnv(t *testing.T, db string, opts ...apptest.Option) *apptest.Env {
	if db == "sqlite" {
		opts = append(opts, apptest.WithEnv("DATABASE_URL", ""))
	}
	return apptest.New(t, opts...)
}

// TestAnalyticsNumbers creates known views and bookings (repeated views, every booking
// status, some before the period, some of another partner) and checks the exact
// numbers in the domain report, on the page and in the CSV.
func TestAnalyticsNumbers(t *testing.T) {
	for _, db := range analyticsDatabases() {
		t.Run(db, func(t *testing.T) { testAnalyticsNumbers(t, analyticsEnv(t, db)) })
	}
}

func testAnalyticsNumbers(t *testing.T, env *apptest.Env) {
	ctx := context.Background()
	dbc := env.App.DB.Client
	place := env.Place()
	pa, pb := env.Partner(place, "Partner A"), env.Partner(place, "Partner B")
	a1 := env.Offer(place, pa.ID, "Ужин", func(c *ent.OfferCreate) { c.SetCashbackBp(500) })
	a2 := env.Offer(place, pa.ID, "=Обед", func(c *ent.OfferCreate) { c.SetCashbackBp(500) })
	b1 := env.Offer(place, pb.ID, "Чужое", func(c *ent.OfferCreate) { c.SetCashbackBp(500) })
	staff := func(p *ent.Partner, tg int64, role string) *apptest.Client {
		_, m := env.Member(tg, role)
		_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, m.ID, role, &p.ID)
		apptest.Must(t, err)
		c := env.Client()
		c.SignIn(tg, role)
		return c
	}
	owner, cashier, ownerB := staff(pa, 7101, "owner"), staff(pa, 7102, "cashier"), staff(pb, 7103, "owner")
	c1, m1 := env.Member(7201, "Айгерим")
	c2, m2 := env.Member(7202, "Бауыржан")
	c3, m3 := env.Member(7203, "Дана")

	// Views through the member's page and the API: m1 opens a1 twice, m2 a1 once (API)
	// and a2 once, m3 partner B's offer.
	for _, r := range []struct {
		c    *apptest.Client
		path string
	}{{c1, "/app/offers/" + apptest.Itoa(a1.ID)}, {c1, "/app/offers/" + apptest.Itoa(a1.ID)},
		{c2, "/api/v1/offers/" + apptest.Itoa(a1.ID)}, {c2, "/app/offers/" + apptest.Itoa(a2.ID)},
		{c3, "/app/offers/" + apptest.Itoa(b1.ID)}} {
		if resp := r.c.Get(r.path); resp.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", r.path, resp.Status)
		}
	}
	now := time.Now()
	// m3 opened a1 ten days ago (inside 30 days) and forty days ago (outside).
	env.App.Views.Record(analytics.View{OfferID: a1.ID, PartnerID: pa.ID, MemberID: m3.ID, At: now.AddDate(0, 0, -10)})
	env.App.Views.Record(analytics.View{OfferID: a1.ID, PartnerID: pa.ID, MemberID: m3.ID, At: now.AddDate(0, 0, -40)})
	if _, err := env.App.Views.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// Bookings with known outcomes, amounts and the cashback entries completion writes.
	seq := 0
	book := func(o *ent.Offer, m *ent.Member, st booking.Status, created time.Time, deal, cashback int64) *ent.Booking {
		seq++
		c := dbc.Booking.Create().SetCode(fmt.Sprintf("AN%06d", seq)).SetMemberID(m.ID).SetOfferID(o.ID).SetPartnerID(o.PartnerID).
			SetStatus(st).SetCreatedAt(created).SetDealAmount(deal)
		if st == booking.StatusCompleted || st == booking.StatusReversed {
			c.SetCompletedAt(created.Add(20 * time.Hour))
		}
		b, err := c.Save(ctx)
		apptest.Must(t, err)
		if cashback > 0 {
			apptest.Must(t, dbc.LedgerEntry.Create().SetMemberID(m.ID).SetKind(ledgerentry.KindCashback).SetAmount(cashback).
				SetBucket(ledgerentry.BucketPending).SetRefType("booking").SetRefID(strconv.Itoa(b.ID)).
				SetIdempotencyKey("cashback:booking:"+strconv.Itoa(b.ID)).Exec(ctx))
		}
		return b
	}
	in := now.AddDate(0, 0, -2)
	for _, st := range []booking.Status{booking.StatusRequested, booking.StatusConfirmed, booking.StatusDeclined,
		booking.StatusCancelled, booking.StatusExpired, booking.StatusNoShow} {
		book(a1, m1, st, in, 0, 0)
	}
	book(a1, m1, booking.StatusCompleted, in, 1_250_050, 62)
	book(a1, m2, booking.StatusCompleted, in, 300_000, 15)
	book(a1, m2, booking.StatusReversed, in, 500_000, 25) // deal undone: counted as confirmed only
	book(a1, m3, booking.StatusCompleted, now.AddDate(0, 0, -40), 777_700, 38)
	book(a2, m2, booking.StatusCompleted, in, 99_999, 4)
	book(a2, m3, booking.StatusRequested, in, 0, 0)
	book(b1, m1, booking.StatusCompleted, in, 1_000_000, 50)
	// One deal recorded at the counter: 10 000 ₸ at 5% is 500 bonuses of cashback.
	counter := book(a2, m1, booking.StatusConfirmed, now, 0, 0)
	if r := owner.Post("/partner/bookings/"+counter.Code+"/complete", map[string][]string{"amount": {"10000"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}

	want := []analytics.Row{
		{OfferID: a1.ID, Title: a1.Title, Views: 4, Viewers: 3, Requests: 9, Confirmed: 5, Completed: 2, NoShow: 1, DealTiyn: 1_550_050, Cashback: 77},
		{OfferID: a2.ID, Title: a2.Title, Views: 1, Viewers: 1, Requests: 3, Confirmed: 2, Completed: 2, NoShow: 0, DealTiyn: 1_099_999, Cashback: 504},
	}
	wantTotal := analytics.Row{Views: 5, Viewers: 3, Requests: 12, Confirmed: 7, Completed: 4, NoShow: 1, DealTiyn: 2_650_049, Cashback: 581}

	rep, err := env.App.Analytics.Report(ctx, pa.ID, analytics.Filter{Range: analytics.LastDays(now, 30)})
	apptest.Must(t, err)
	if len(rep.Rows) != len(want) {
		t.Fatalf("rows: %+v", rep.Rows)
	}
	for i := range want {
		if rep.Rows[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, rep.Rows[i], want[i])
		}
	}
	if rep.Total != wantTotal {
		t.Errorf("total:\n got %+v\nwant %+v", rep.Total, wantTotal)
	}
	if got := rep.Rows[0].ConfirmationRate().Percent() + " " + rep.Rows[0].CompletionRate().Percent() + " " + rep.Rows[0].NoShowRate().Percent(); got != "55.5 22.2 20.0" {
		t.Errorf("a1 rates: %s", got)
	}
	var views, requests, completions int
	for _, d := range rep.Days {
		views, requests, completions = views+d.Views, requests+d.Requests, completions+d.Completions
	}
	if len(rep.Days) != 30 || views != 5 || requests != 12 || completions != 4 {
		t.Errorf("days: %d days, %d views, %d requests, %d completions", len(rep.Days), views, requests, completions)
	}
	if d := rep.Days[len(rep.Days)-11]; d.Views != 1 {
		t.Errorf("ten days ago: %+v", d)
	}

	// The page shows the same numbers, the CSV has the same table.
	page := owner.Get("/partner/analytics?period=30")
	if page.Status != http.StatusOK {
		t.Fatalf("page: %d", page.Status)
	}
	table := htmlTable(t, page.Body)
	if strings.Count(page.Body, "<polyline") != 3 || strings.Contains(page.Body, "<script src=\"http") {
		t.Error("the chart is not three server-drawn lines")
	}
	resp := owner.Get("/partner/analytics.csv?period=30")
	if resp.Status != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	records, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	apptest.Must(t, err)
	if strings.Join(records[0], ",") != strings.Join(partner.CSVHeader, ",") {
		t.Errorf("header: %v", records[0])
	}
	if len(records) != 1+len(want)+1 || len(table) != len(records)-1 {
		t.Fatalf("csv %d records, html %d rows", len(records), len(table))
	}
	rows := append(append([]analytics.Row{}, want...), wantTotal)
	for i, r := range rows {
		rec, cells := records[i+1], table[i]
		id, title := strconv.Itoa(r.OfferID), r.Title
		if r.OfferID == 0 {
			id, title = "", "Итого"
		} else if strings.HasPrefix(title, "=") {
			title = "'" + title // a spreadsheet must not read it as a formula
		}
		wantRec := []string{id, title, strconv.Itoa(r.Views), strconv.Itoa(r.Viewers), strconv.Itoa(r.Requests),
			strconv.Itoa(r.Confirmed), strconv.Itoa(r.Completed), strconv.Itoa(r.NoShow), r.ConfirmationRate().Percent(),
			r.CompletionRate().Percent(), r.NoShowRate().Percent(), strconv.FormatInt(r.DealTiyn, 10), strconv.FormatInt(r.Cashback, 10)}
		if strings.Join(rec, "|") != strings.Join(wantRec, "|") {
			t.Errorf("csv row %d:\n got %q\nwant %q", i, rec, wantRec)
		}
		// The HTML row shows the CSV row's values.
		pct := func(s string) string {
			if s == "" {
				return "—"
			}
			return strings.Replace(s, ".", ",", 1) + "\u00a0%"
		}
		if id == "" {
			id = "total"
		}
		wantCells := map[string]string{"offer": id, "views": rec[2], "viewers": rec[3], "requests": rec[4],
			"confirmation": pct(rec[8]), "completion": pct(rec[9]), "no_show": pct(rec[10]),
			"deals": rec[11], "cashback": rec[12]}
		for k, v := range wantCells {
			if cells[k] != v {
				t.Errorf("html row %d %s: %q, want %q", i, k, cells[k], v)
			}
		}
	}

	// One offer: only its row; its totals are its own numbers.
	one, err := env.App.Analytics.Report(ctx, pa.ID, analytics.Filter{OfferID: a2.ID, Range: analytics.LastDays(now, 7)})
	apptest.Must(t, err)
	if len(one.Rows) != 1 || one.Total.Views != 1 || one.Total.Viewers != 1 || one.Total.DealTiyn != 1_099_999 {
		t.Errorf("one offer: %+v", one)
	}
	resp = owner.Get("/partner/analytics.csv?period=7&offer=" + apptest.Itoa(a2.ID))
	if records, _ := csv.NewReader(strings.NewReader(resp.Body)).ReadAll(); len(records) != 3 || records[1][0] != apptest.Itoa(a2.ID) || records[2][11] != "1099999" {
		t.Errorf("csv of one offer: %v", records)
	}
	// A custom period reaching 45 days back takes in the older view and deal.
	from := now.AddDate(0, 0, -45).In(analytics.Almaty).Format("2006-01-02")
	to := now.In(analytics.Almaty).Format("2006-01-02")
	resp = owner.Get("/partner/analytics.csv?period=custom&from=" + from + "&to=" + to)
	records, _ = csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	if len(records) != 4 || strings.Join(records[3][2:], ",") != "6,3,13,8,5,1,61.5,38.4,12.5,3427749,619" {
		t.Errorf("custom period: %v", records)
	}

	// Another partner's offer is 404; a cashier may not open analytics nor sees the link.
	if r := ownerB.Get("/partner/analytics?offer=" + apptest.Itoa(a1.ID)); r.Status != http.StatusNotFound {
		t.Errorf("owner B, offer of A: %d", r.Status)
	}
	if r := ownerB.Get("/partner/analytics.csv?offer=" + apptest.Itoa(a1.ID)); r.Status != http.StatusNotFound {
		t.Errorf("owner B, CSV of A's offer: %d", r.Status)
	}
	if r := cashier.Get("/partner/analytics"); r.Status != http.StatusForbidden {
		t.Errorf("cashier: %d", r.Status)
	}
	if r := cashier.Get("/partner"); strings.Contains(r.Body, `href="/partner/analytics"`) {
		t.Error("the cashier's nav links to analytics")
	}
	if r := owner.Get("/partner"); !strings.Contains(r.Body, `href="/partner/analytics"`) {
		t.Error("the owner's nav has no analytics link")
	}
	// Partner B sees only its own numbers.
	repB, err := env.App.Analytics.Report(ctx, pb.ID, analytics.Filter{Range: analytics.LastDays(now, 30)})
	apptest.Must(t, err)
	if repB.Total.Views != 1 || repB.Total.Requests != 1 || repB.Total.DealTiyn != 1_000_000 || repB.Total.Cashback != 50 {
		t.Errorf("partner B: %+v", repB.Total)
	}
}

// TestAnalyticsFilterErrors: a wrong filter comes back with the field's error and 422.
func TestAnalyticsFilterErrors(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	place := env.Place()
	p := env.Partner(place, "Partner A")
	_, m := env.Member(7301, "Owner")
	_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, m.ID, "owner", &p.ID)
	apptest.Must(t, err)
	c := env.Client()
	c.SignIn(7301, "Owner")
	tomorrow := time.Now().In(analytics.Almaty).AddDate(0, 0, 1).Format("2006-01-02")
	t1 := func(key string) string { return html.EscapeString(env.App.Catalog.T("ru", key)) }
	for _, tc := range []struct{ query, field, key string }{
		{"period=365", "period", "analytics.error.period"},
		{"period=custom&from=2026-13-01&to=2026-01-10", "from", "form.date"},
		{"period=custom&from=2026-01-01", "to", "form.date"},
		{"period=custom&from=2026-01-10&to=2026-01-01", "to", "analytics.error.order"},
		{"period=custom&from=2024-01-01&to=2025-06-01", "from", "analytics.error.too_long"},
		{"period=custom&from=2026-01-01&to=" + tomorrow, "to", "analytics.error.future"},
		{"offer=abc", "offer", "analytics.error.offer"},
	} {
		r := c.Get("/partner/analytics?" + tc.query)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="`+tc.field+`-error"`) || !strings.Contains(r.Body, t1(tc.key)) {
			t.Errorf("%s: %d, want 422 with %s on %s", tc.query, r.Status, tc.key, tc.field)
		}
		if r := c.Get("/partner/analytics.csv?" + tc.query); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("csv %s: %d", tc.query, r.Status)
		}
	}
	if r := c.Get("/partner/analytics?offer=999999"); r.Status != http.StatusNotFound {
		t.Errorf("unknown offer: %d", r.Status)
	}
}

// TestOfferViewsRecordedInBackground: opening an offer answers before its view is
// written; a flush writes it; a full buffer drops views and never holds a request up.
func TestOfferViewsRecordedInBackground(t *testing.T) {
	env := apptest.New(t, apptest.WithEnv("IKRA_VIEW_BUFFER", "2"))
	ctx := context.Background()
	place := env.Place()
	p := env.Partner(place, "Partner A")
	o := env.Offer(place, p.ID, "Ужин")
	c, m := env.Member(7401, "Member")
	count := func() int {
		n, err := env.App.DB.OfferView.Query().Where(offerview.OfferID(o.ID)).Count(ctx)
		apptest.Must(t, err)
		return n
	}
	if r := c.Get("/app/offers/" + apptest.Itoa(o.ID)); r.Status != http.StatusOK {
		t.Fatalf("offer: %d", r.Status)
	}
	if n := count(); n != 0 || env.App.Views.Pending() != 1 {
		t.Fatalf("after the request: %d rows, %d pending; the view must wait for the flush", n, env.App.Views.Pending())
	}
	if n, err := env.App.Views.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("flush: %d, %v", n, err)
	}
	v, err := env.App.DB.OfferView.Query().Where(offerview.OfferID(o.ID)).Only(ctx)
	apptest.Must(t, err)
	if v.PartnerID != p.ID || v.MemberID != m.ID || v.Day != time.Now().In(analytics.Almaty).Format("2006-01-02") {
		t.Errorf("view: %+v", v)
	}

	// The buffer holds two: the other requests drop their views and still answer at once.
	start := time.Now()
	for i := 0; i < 6; i++ {
		path := "/app/offers/" + apptest.Itoa(o.ID)
		if i%2 == 1 {
			path = "/api/v1/offers/" + apptest.Itoa(o.ID)
		}
		if r := c.Get(path); r.Status != http.StatusOK {
			t.Fatalf("%s with a full buffer: %d", path, r.Status)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("six requests took %v", d)
	}
	if env.App.Views.Dropped() != 4 || env.App.Views.Pending() != 2 {
		t.Errorf("dropped %d, pending %d", env.App.Views.Dropped(), env.App.Views.Pending())
	}
	if n, _ := env.App.Views.Flush(ctx); n != 2 || count() != 3 {
		t.Errorf("second flush wrote %d, %d rows", n, count())
	}
}

var (
	htmlRowRe  = regexp.MustCompile(`(?s)<tr data-offer="([^"]+)">(.*?)</tr>`)
	htmlCellRe = regexp.MustCompile(`<td class="num" data-col="([a-z_]+)">([^<]*)</td>`)
)

// htmlTable reads the analytics table: per row, its offer and each column's text, the
// deal amount turned back into tiyn and grouped numbers ungrouped.
func htmlTable(t *testing.T, body string) []map[string]string {
	var out []map[string]string
	for _, m := range htmlRowRe.FindAllStringSubmatch(body, -1) {
		row := map[string]string{"offer": m[1]}
		for _, c := range htmlCellRe.FindAllStringSubmatch(m[2], -1) {
			v := html.UnescapeString(c[2])
			if c[1] == "deals" || c[1] == "cashback" {
				v = strings.NewReplacer("\u202f", "", " ₸", "").Replace(v)
			}
			if c[1] == "deals" {
				whole, frac, _ := strings.Cut(v, ",")
				tenge, err := strconv.ParseInt(whole, 10, 64)
				if err != nil {
					t.Fatalf("deal amount %q", c[2])
				}
				tiyn, _ := strconv.ParseInt(frac+strings.Repeat("0", 2-len(frac)), 10, 64)
				v = strconv.FormatInt(tenge*100+tiyn, 10)
			}
			row[c[1]] = v
		}
		out = append(out, row)
	}
	return out
}
