package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/ent"
)

// auditWorld records a few entries by two actors on different targets and dates.
func auditWorld(t *testing.T) (*fixture, *apptest.Client, map[string]int) {
	f := newFixture(t)
	ctx := context.Background()
	db := f.env.App.DB.Client
	sa, mod := memberByTG(t, f, "superadmin"), memberByTG(t, f, "moderator")
	if _, err := db.AuditLog.Delete().Exec(ctx); err != nil {
		t.Fatal(err)
	} // the fixture's grants
	ids := map[string]int{}
	add := func(name string, actor int, action, typ, id string, before, after map[string]any, at time.Time) {
		e, err := db.AuditLog.Create().SetActorID(actor).SetActorRole("superadmin").SetAction(action).SetTargetType(typ).
			SetTargetID(id).SetBefore(before).SetAfter(after).SetCreatedAt(at).Save(ctx)
		apptest.Must(t, err)
		ids[name] = e.ID
	}
	member := apptest.Itoa(f.memberID)
	add("block", sa, "member.block", "member", member, map[string]any{"status": "active"},
		map[string]any{"status": "blocked", "reason": "=HYPERLINK(\"x\")"}, time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC))
	add("suspend", mod, "partner.suspend", "partner", apptest.Itoa(f.partnerA), map[string]any{"status": "active", "suspended_reason": ""},
		map[string]any{"status": "suspended", "suspended_reason": ""}, time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC))
	add("custom", mod, "something.new", "gadget", "7", nil, map[string]any{"n": 1}, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	return f, f.client(t, "superadmin"), ids
}

func rowsOf(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `<tr id="audit-`)[1:] {
		out = append(out, part[:strings.Index(part, `"`)])
	}
	return out
}

func TestAuditLogReadable(t *testing.T) {
	f, c, ids := auditWorld(t)
	page := c.Get("/admin/audit")
	if page.Status != http.StatusOK {
		t.Fatalf("status %d", page.Status)
	}
	for _, want := range []string{
		"заблокировал участника", "приостановил партнёра", "something.new", // words, and the raw name of an unknown action
		`href="/admin/members/` + apptest.Itoa(memberByTG(t, f, "moderator")) + `"`, // actor by link
		`href="/admin/members/` + apptest.Itoa(f.memberID) + `">member<`,            // target by name (the fixture member's first name is its role)
		`href="/admin/partners/` + apptest.Itoa(f.partnerA) + `">Partner A<`,
		"<b>status</b>: <del>active</del> → blocked", "<b>reason</b>: =HYPERLINK",
	} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	// Only changed fields: suspended_reason stayed "".
	if strings.Contains(page.Body, "<b>suspended_reason</b>") {
		t.Error("an unchanged field is shown as a change")
	}

	one := func(q string) []string { return rowsOf(c.Get("/admin/audit?" + q).Body) }
	for q, want := range map[string][]int{
		"action=member.block": {ids["block"]},
		"actor=" + apptest.Itoa(memberByTG(t, f, "moderator")): {ids["custom"], ids["suspend"]},
		"actor=moder":               {ids["custom"], ids["suspend"]}, // by name
		"actor=nobody-by-that-name": nil,
		"target_type=partner&target_id=" + apptest.Itoa(f.partnerA): {ids["suspend"]},
		"from=2026-02-01&to=2026-02-10":                             {ids["suspend"]}, // the last day is included
		"from=2026-02-11":                                           {ids["custom"]},
	} {
		got := one(q)
		var w []string
		for _, id := range want {
			w = append(w, apptest.Itoa(id))
		}
		if strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("%s: rows %v, want %v", q, got, w)
		}
	}
	if r := c.Get("/admin/audit?from=yesterday"); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a bad date: %d", r.Status)
	}
}

func TestAuditLogPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db := f.env.App.DB.Client
	if _, err := db.AuditLog.Delete().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	bulk := make([]*ent.AuditLogCreate, audit.PageSize+5)
	for i := range bulk {
		bulk[i] = db.AuditLog.Create().SetAction("member.block").SetTargetType("member").SetTargetID("1")
	}
	apptest.Must(t, db.AuditLog.CreateBulk(bulk...).Exec(ctx))
	c := f.client(t, "superadmin")
	first := c.Get("/admin/audit?action=member.block")
	if n := len(rowsOf(first.Body)); n != audit.PageSize {
		t.Fatalf("first page: %d rows", n)
	}
	i := strings.Index(first.Body, `href="/admin/audit?action=member.block&amp;before=`)
	if i < 0 {
		t.Fatal("no link to the next page keeping the filter")
	}
	next := first.Body[i+len(`href="`):]
	next = strings.ReplaceAll(next[:strings.Index(next, `"`)], "&amp;", "&")
	if n := len(rowsOf(c.Get(next).Body)); n != 5 {
		t.Fatalf("second page: %d rows", n)
	}
}

func TestAuditCSV(t *testing.T) {
	f, c, ids := auditWorld(t)
	r := c.Get("/admin/audit.csv?action=member.block")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d, type %q", r.Status, r.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	apptest.Must(t, err)
	if len(rows) != 2 || rows[0][0] != "id" || rows[1][0] != apptest.Itoa(ids["block"]) {
		t.Fatalf("rows %v", rows)
	}
	row := strings.Join(rows[1], "|")
	for _, want := range []string{"заблокировал участника", "|member|" + apptest.Itoa(f.memberID) + "|member|", "status: active → blocked", "reason:  → =HYPERLINK"} {
		if !strings.Contains(row, want) {
			t.Errorf("the CSV row lacks %q: %s", want, row)
		}
	}
	// A cell that starts like a formula is quoted.
	r = c.Get("/admin/audit.csv?action=something.new")
	rows, err = csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	apptest.Must(t, err)
	if len(rows) != 2 || rows[1][6] != "something.new" {
		t.Fatalf("unknown action rows %v", rows)
	}
	_, err = f.env.App.DB.AuditLog.Create().SetAction("something.else").SetTargetType("gadget").SetTargetID("=cmd|' /C calc'!A0").
		SetActorRole("-system").Save(context.Background())
	apptest.Must(t, err)
	rows, err = csv.NewReader(strings.NewReader(c.Get("/admin/audit.csv?action=something.else").Body)).ReadAll()
	apptest.Must(t, err)
	if len(rows) != 2 || rows[1][8] != "'=cmd|' /C calc'!A0" || rows[1][4] != "'-system" {
		t.Errorf("formula cells not quoted: %v", rows)
	}
	if r := f.client(t, "moderator").Get("/admin/audit.csv"); r.Status != http.StatusForbidden {
		t.Errorf("moderator export: %d", r.Status)
	}
}
