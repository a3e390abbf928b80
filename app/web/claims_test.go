package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/claims"
	"ikra/ent/auditlog"
	"ikra/ent/claim"
	"ikra/ent/notification"
)

func init() {
	matrixSections = append(matrixSections, claimsMatrix)
	auditSections = append(auditSections, claimsAudit)
}

// fileClaim files a claim of the fixture's member directly through the service.
func fileClaim(t *testing.T, f *fixture) int {
	c, err := f.env.App.Claims.File(context.Background(), claims.Filing{MemberID: f.memberID, Subject: "Отказ в обслуживании",
		Body: "Мне отказали по брони.", BookingID: f.bookingID, Channel: "web"})
	apptest.Must(t, err)
	return c.ID
}

func claimsMatrix(t *testing.T, f *fixture) map[string]matrixCase {
	id := apptest.Itoa(fileClaim(t, f))
	claimsStaff := "superadmin,support"
	return map[string]matrixCase{
		"GET /app/claims":     {"/app/claims", nil, expect(ok, map[string]int{"anon": see})},
		"GET /app/claims/new": {"/app/claims/new", nil, expect(ok, map[string]int{"anon": see})},
		// An empty subject is refused with the form again: nothing is filed.
		"POST /app/claims":                  {"/app/claims", url.Values{"subject": {""}, "body": {"x"}}, expect(http.StatusUnprocessableEntity, map[string]int{"anon": unauth})},
		"GET /app/claims/:id":               {"/app/claims/" + id, nil, expect(nf, map[string]int{"anon": see, "member": ok})},
		"GET /app/claims/:id/files/:name":   {"/app/claims/" + id + "/files/none.jpg", nil, expect(nf, map[string]int{"anon": see})},
		"GET /admin/claims/:id/files/:name": {"/admin/claims/" + id + "/files/none.jpg", nil, expect(forbid, map[string]int{"anon": see, claimsStaff: nf})},
		"GET /admin/claims":                 {"/admin/claims", nil, expect(forbid, map[string]int{"anon": see, claimsStaff: ok})},
		"GET /admin/claims/:id":             {"/admin/claims/" + id, nil, expect(forbid, map[string]int{"anon": see, claimsStaff: ok})},
		"POST /admin/claims/:id/assign":     {"/admin/claims/999999/assign", url.Values{}, expect(forbid, map[string]int{"anon": unauth, claimsStaff: nf})},
		"POST /admin/claims/:id/start":      {"/admin/claims/999999/start", url.Values{}, expect(forbid, map[string]int{"anon": unauth, claimsStaff: nf})},
		"POST /admin/claims/:id/answer":     {"/admin/claims/999999/answer", url.Values{"answer": {"x"}}, expect(forbid, map[string]int{"anon": unauth, claimsStaff: nf})},
		"GET /admin/maintenance":            {"/admin/maintenance", nil, expect(forbid, map[string]int{"anon": see, "superadmin": ok})},
		"POST /admin/maintenance":           {"/admin/maintenance", url.Values{"on": {"1"}, "until": {"not a date"}}, expect(forbid, map[string]int{"anon": unauth, "superadmin": http.StatusUnprocessableEntity})},
	}
}

func claimsAudit(t *testing.T, f *fixture) map[string]auditCase {
	fresh := func(path string) func(t *testing.T) string {
		return func(t *testing.T) string { return "/admin/claims/" + apptest.Itoa(fileClaim(t, f)) + path }
	}
	return map[string]auditCase{
		"POST /admin/claims/:id/assign": {role: "support", form: url.Values{"assignee": {"me"}}, prepare: fresh("/assign")},
		"POST /admin/claims/:id/start":  {role: "support", prepare: fresh("/start")},
		"POST /admin/claims/:id/answer": {role: "support", form: url.Values{"answer": {"Ответ по существу."}}, prepare: fresh("/answer")},
		// Switching off (already off) is still a recorded decision, and leaves the
		// platform open for the other cases.
		"POST /admin/maintenance": {role: "superadmin", path: "/admin/maintenance", form: url.Values{"on": {"0"}}},
	}
}

// A member files a claim with their booking and gets a receipt with the number and the
// deadline in Almaty time; support assigns, starts and answers it; the member reads the
// answer on the receipt and gets it as a notification; every staff step is audited.
func TestClaimJourney(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db := f.env.App.DB.Client
	m := f.client(t, "member")
	if r := m.Get("/app/claims/new"); r.Status != ok || !strings.Contains(r.Body, f.bookingA) || !strings.Contains(r.Body, "Partner A") {
		t.Fatalf("form: %d, booking or partner missing", r.Status)
	}
	// Someone else's booking is refused, the text kept.
	other, err := db.Booking.Create().SetCode("ZZZZ9999").SetMemberID(memberIDOf(t, f.env, f.tg["support"])).
		SetOfferID(f.offerA).SetPartnerID(f.partnerA).Save(ctx)
	apptest.Must(t, err)
	r := m.Post("/app/claims", url.Values{"subject": {"Отказ"}, "body": {"Мой текст претензии"}, "booking": {apptest.Itoa(other.ID)}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Мой текст претензии") {
		t.Fatalf("another member's booking: %d", r.Status)
	}
	before := time.Now()
	r = m.Post("/app/claims", url.Values{"subject": {"Отказ в обслуживании"}, "body": {"Мне отказали."}, "booking": {apptest.Itoa(f.bookingID)}})
	if r.Status != see || !strings.HasPrefix(r.Header.Get("Location"), "/app/claims/") {
		t.Fatalf("file: %d %s", r.Status, r.Header.Get("Location"))
	}
	cl, err := db.Claim.Query().Where(claim.MemberID(f.memberID)).Only(ctx)
	apptest.Must(t, err)
	if cl.BookingID == nil || *cl.BookingID != f.bookingID || cl.PartnerID == nil || *cl.PartnerID != f.partnerA {
		t.Fatalf("claim about %v / %v", cl.BookingID, cl.PartnerID)
	}
	if !cl.DueAt.Equal(claims.DueAt(before)) && !cl.DueAt.Equal(claims.DueAt(time.Now())) {
		t.Fatalf("due %s", cl.DueAt)
	}
	number := claims.Number(cl.ID)
	receipt := m.Get(r.Header.Get("Location"))
	due := cl.DueAt.In(claims.Almaty).Format("02.01.2006 15:04")
	if receipt.Status != ok || !strings.Contains(receipt.Body, number) || !strings.Contains(receipt.Body, due) || !strings.HasSuffix(due, "23:59") {
		t.Fatalf("receipt: %d, want %s and %s", receipt.Status, number, due)
	}
	if n := db.Notification.Query().Where(notification.MemberID(f.memberID), notification.Kind("claim.received")).CountX(ctx); n != 1 {
		t.Fatalf("%d receipt notifications", n)
	}
	if r := f.client(t, "ownerA").Get("/app/claims/" + apptest.Itoa(cl.ID)); r.Status != nf {
		t.Fatalf("another member opens the receipt: %d", r.Status)
	}

	s := f.client(t, "support")
	path := "/admin/claims/" + apptest.Itoa(cl.ID)
	if r := s.Get("/admin/claims"); r.Status != ok || !strings.Contains(r.Body, number) {
		t.Fatalf("staff list: %d", r.Status)
	}
	for _, step := range []struct{ path, answer string }{{"/assign", ""}, {"/start", ""}, {"/answer", "Мы разобрались: партнёр извинился."}} {
		form := url.Values{}
		if step.answer != "" {
			form.Set("answer", step.answer)
		}
		if r := s.Post(path+step.path, form); r.Status != see || strings.Contains(r.Header.Get("Set-Cookie"), "error%7C") {
			t.Fatalf("%s: %d", step.path, r.Status)
		}
	}
	if r := s.Get("/admin/claims?view=mine"); strings.Contains(r.Body, number) {
		t.Fatal("an answered claim is still in the assignee's open list")
	}
	if r := s.Get("/admin/claims?view=answered"); !strings.Contains(r.Body, number) {
		t.Fatal("the answered claim is not in the answered list")
	}
	if r := m.Get("/app/claims/" + apptest.Itoa(cl.ID)); !strings.Contains(r.Body, "Мы разобрались: партнёр извинился.") {
		t.Fatal("the member does not see the answer")
	}
	n, err := db.Notification.Query().Where(notification.MemberID(f.memberID), notification.Kind("claim.answered")).Only(ctx)
	apptest.Must(t, err)
	if n.Body != "Мы разобрались: партнёр извинился." {
		t.Fatalf("answer notification %q", n.Body)
	}
	actions, err := db.AuditLog.Query().Where(auditlog.TargetType("claim"), auditlog.TargetID(apptest.Itoa(cl.ID))).
		Select(auditlog.FieldAction).Strings(ctx)
	apptest.Must(t, err)
	if strings.Join(actions, ",") != "claim.assign,claim.start,claim.answer" {
		t.Fatalf("audit %v", actions)
	}
	// A second answer is refused with a flash; the first stays.
	r = s.Post(path+"/answer", url.Values{"answer": {"другое"}})
	if r.Status != see || !strings.Contains(r.Header.Get("Set-Cookie"), "error%7C") {
		t.Fatalf("second answer: %d", r.Status)
	}
}

// An overdue claim is counted for the dashboard, flagged red on the list and in the
// overdue view; a claim still in time is not.
func TestOverdueClaimFlagged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db := f.env.App.DB.Client
	late, inTime := fileClaim(t, f), fileClaim(t, f)
	apptest.Must(t, db.Claim.UpdateOneID(late).SetDueAt(time.Now().Add(-time.Hour)).Exec(ctx))
	n, err := f.env.App.Claims.Overdue(ctx, time.Now())
	apptest.Must(t, err)
	if n != 1 {
		t.Fatalf("overdue count %d, want 1", n)
	}
	st, err := f.env.App.Claims.Stats(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	apptest.Must(t, err)
	if st.Overdue != 1 || st.Received != 2 || st.OpenTotal != 2 {
		t.Fatalf("stats %+v", st)
	}
	s := f.client(t, "support")
	r := s.Get("/admin/claims?view=overdue")
	if !strings.Contains(r.Body, `id="claim-`+apptest.Itoa(late)+`" class="overdue"`) || strings.Contains(r.Body, claims.Number(inTime)) {
		t.Fatalf("overdue view: %d", r.Status)
	}
	// The job reminds once at the 1-day stage; run twice, still once.
	for range 2 {
		_, err := f.env.App.Claims.Remind(ctx, time.Now())
		apptest.Must(t, err)
	}
	supportID := memberIDOf(t, f.env, f.tg["support"])
	if n := db.Notification.Query().Where(notification.MemberID(supportID), notification.Kind("claim.reminder")).CountX(ctx); n != 1 {
		t.Fatalf("support got %d reminders, want 1", n)
	}
}

// rendered fails when a page stopped half-way through its template (the status is
// already 200 then).
func rendered(t *testing.T, path string, r *apptest.Response) {
	t.Helper()
	if strings.Contains(r.Body, "template: ") || !strings.Contains(r.Body, "</html>") {
		t.Fatalf("%s did not render: %.2000s", path, r.Body)
	}
}

// Every page of claims, terms and maintenance renders whole, for the member and staff,
// with data in every column (an open, an assigned, an answered and an overdue claim).
func TestClaimsTermsPagesRender(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db := f.env.App.DB.Client
	open, answered, late := fileClaim(t, f), fileClaim(t, f), fileClaim(t, f)
	supportID := memberIDOf(t, f.env, f.tg["support"])
	actor := auditEntryOf(supportID)
	apptest.Must(t, f.env.App.Claims.Assign(ctx, actor, open, supportID))
	apptest.Must(t, f.env.App.Claims.Answer(ctx, actor, answered, "Ответ"))
	apptest.Must(t, db.Claim.UpdateOneID(late).SetDueAt(time.Now().Add(-time.Hour)).Exec(ctx))
	m := f.client(t, "member")
	for _, p := range []string{"/app/claims", "/app/claims/new", "/app/claims/" + apptest.Itoa(open), "/app/claims/" + apptest.Itoa(answered)} {
		rendered(t, p, m.Get(p))
	}
	s := f.client(t, "superadmin")
	for _, p := range []string{"/admin/claims", "/admin/claims?view=mine", "/admin/claims?view=overdue", "/admin/claims?view=answered",
		"/admin/claims/" + apptest.Itoa(open), "/admin/claims/" + apptest.Itoa(answered), "/admin/claims/" + apptest.Itoa(late),
		"/admin/terms", "/admin/maintenance", "/terms", "/privacy", "/terms/v/2026-06-01"} {
		rendered(t, p, s.Get(p))
	}
}

func auditEntryOf(id int) audit.Entry { return audit.Entry{ActorID: &id, ActorRole: "support"} }
