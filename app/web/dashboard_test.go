package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/claims"
	"ikra/app/dashboard"
	"ikra/app/ledger"
	"ikra/app/support"
)

func init() {
	matrixSections = append(matrixSections, func(t *testing.T, f *fixture) map[string]matrixCase {
		return map[string]matrixCase{
			"GET /admin/bookings": {"/admin/bookings?status=requested", nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator,support,concierge": ok})},
			"GET /admin/ledger":   {"/admin/ledger?kind=welcome", nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator,support": ok})},
		}
	})
}

// The overview shows the period's figures, each linking to the list it counts, and
// the bonus liability; the lists it opens show the rows.
func TestDashboardFiguresLeadToTheirLists(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	_, admin := env.Member(7_960_001, "Admin")
	_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, admin.ID, "superadmin", nil)
	apptest.Must(t, err)
	_, m := env.Member(7_960_002, "Aigerim")
	_, err = env.App.Ledger.Credit(ctx, ledger.Op{MemberID: m.ID, Amount: 1234, Kind: ledger.KindCashback, Reason: "test", Key: "dash-1"})
	apptest.Must(t, err)
	env.App.Dashboard.Forget()

	c := env.Client()
	c.SignIn(7_960_001, "Admin")
	r := c.Get("/admin?period=7d")
	if r.Status != http.StatusOK {
		t.Fatalf("/admin: %d", r.Status)
	}
	for _, want := range []string{`href="/admin/bookings?status=requested&amp;since=`, `href="/admin/ledger?kind=cashback&amp;since=`, "<svg", "polyline"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the overview lacks %s", want)
		}
	}
	// The liability counts every bonus held: the welcome bonuses and the 1 234 credited.
	o, err := env.App.Dashboard.Overview(ctx, mustPeriod(t, "7d"))
	apptest.Must(t, err)
	if o.Bonuses.Outstanding() < 1234 || !strings.Contains(r.Body, formatNum(o.Bonuses.Outstanding())) {
		t.Errorf("liability %d not shown", o.Bonuses.Outstanding())
	}
	// An overdue claim and a thread nobody has taken show as open work, in red, linking
	// to their queues; support staff see them, a moderator does not get the links.
	cl, err := env.App.Claims.File(ctx, claims.Filing{MemberID: m.ID, Subject: "Не начислили кэшбэк", Body: "Сделка 12.11"})
	apptest.Must(t, err)
	apptest.Must(t, env.App.DB.Claim.UpdateOneID(cl.ID).SetDueAt(time.Now().Add(-time.Hour)).Exec(ctx))
	_, _, err = env.App.Support.Open(ctx, support.OpenInput{MemberID: m.ID, Body: "Где мой бонус?"})
	apptest.Must(t, err)
	env.App.Dashboard.Forget()
	r = c.Get("/admin")
	for _, want := range []string{`<a class="stat stat-alert" href="/admin/claims?view=overdue"><span class="stat-value">1</span>`,
		`<a class="stat stat-alert" href="/admin/support?tab=unassigned"><span class="stat-value">1</span>`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the overview lacks %s", want)
		}
	}
	if r := c.Get("/admin?period=2y"); r.Status != http.StatusBadRequest {
		t.Errorf("an unknown period: %d", r.Status)
	}
	list := c.Get("/admin/ledger?kind=cashback")
	if list.Status != http.StatusOK || !strings.Contains(list.Body, "Aigerim") || !strings.Contains(list.Body, "1") {
		t.Errorf("the ledger list: %d", list.Status)
	}
	if r := c.Get("/admin/ledger?kind=nonsense"); r.Status != http.StatusBadRequest {
		t.Errorf("an unknown kind: %d", r.Status)
	}
	if r := c.Get("/admin/bookings?since=yesterday"); r.Status != http.StatusBadRequest {
		t.Errorf("a bad date: %d", r.Status)
	}
}

func mustPeriod(t *testing.T, key string) dashboard.Period {
	p, err := dashboard.PeriodOf(key)
	apptest.Must(t, err)
	return p
}

// formatNum groups digits the way the pages do (a narrow no-break space per thousand).
func formatNum(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	return b.String()
}
