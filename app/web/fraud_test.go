package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/fraud"
	"ikra/app/ledger"
	"ikra/ent"
	"ikra/ent/auditlog"
	"ikra/ent/fraudflag"
	"ikra/ent/member"
	"ikra/ent/partner"
)

var flagSeq atomic.Int64

// newFlag raises an open flag about a fresh member (with 500 bonuses available) and,
// when partnerID is set, that partner; it returns the flag and the member.
func newFlag(t *testing.T, env *apptest.Env, partnerID *int) (*ent.FraudFlag, *ent.Member) {
	t.Helper()
	ctx := context.Background()
	db := env.App.DB.Client
	n := flagSeq.Add(1)
	m, err := db.Member.Create().SetFirstName(fmt.Sprint("Suspect", n)).SetReferralCode(fmt.Sprint("SUSPECT", n)).Save(ctx)
	apptest.Must(t, err)
	_, err = env.App.Ledger.Credit(ctx, ledger.Op{MemberID: m.ID, Amount: 500, Kind: ledger.KindAdjustment, Reason: "test", Key: fmt.Sprint("test:flag", n)})
	apptest.Must(t, err)
	f, err := db.FraudFlag.Create().SetDedupKey(fmt.Sprint("test:", n)).SetKind(fraud.KindRepeatedCompletion).
		SetMemberID(m.ID).SetNillablePartnerID(partnerID).SetSummary("3 deals within 24 hours").SetScore(3).
		SetEvidence([]map[string]string{{"label": "booking K7M2Q9AB", "link": "/admin/members/" + apptest.Itoa(m.ID) + "/ledger"}}).
		Save(ctx)
	apptest.Must(t, err)
	return f, m
}

func init() {
	matrixSections = append(matrixSections, func(t *testing.T, f *fixture) map[string]matrixCase {
		reviewers := "superadmin,moderator"
		return map[string]matrixCase{
			"GET /admin/flags/:id":          {"/admin/flags/999999", nil, expect(forbid, map[string]int{"anon": see, reviewers: nf})},
			"POST /admin/flags/:id/dismiss": {"/admin/flags/999999/dismiss", url.Values{"note": {"x"}}, expect(forbid, map[string]int{"anon": unauth, reviewers: nf})},
			"POST /admin/flags/:id/annul": {"/admin/flags/999999/annul", url.Values{"amount": {"1"}, "reason": {"x"}},
				expect(forbid, map[string]int{"anon": unauth, reviewers: nf})},
			"POST /admin/flags/:id/block": {"/admin/flags/999999/block", url.Values{"reason": {"x"}}, expect(forbid, map[string]int{"anon": unauth, reviewers: nf})},
			"GET /admin/audit.csv":        {"/admin/audit.csv", nil, expect(forbid, map[string]int{"anon": see, "superadmin": ok})},
			"GET /admin/jobs":             {"/admin/jobs", nil, expect(forbid, map[string]int{"anon": see, "superadmin": ok})},
			"GET /admin/jobs/*":           {"/admin/jobs/", nil, expect(forbid, map[string]int{"anon": see, "superadmin": ok})},
		}
	})
	auditSections = append(auditSections, func(t *testing.T, f *fixture) map[string]auditCase {
		flagPath := func(action string, partnerID *int) func(t *testing.T) string {
			return func(t *testing.T) string {
				fl, _ := newFlag(t, f.env, partnerID)
				return "/admin/flags/" + apptest.Itoa(fl.ID) + "/" + action
			}
		}
		return map[string]auditCase{
			"POST /admin/flags/:id/dismiss": {role: "moderator", form: url.Values{"note": {"a regular"}}, prepare: flagPath("dismiss", nil)},
			"POST /admin/flags/:id/annul": {role: "moderator", form: url.Values{"amount": {"100"}, "reason": {"farm"}},
				prepare: flagPath("annul", nil)},
			"POST /admin/flags/:id/block": {role: "superadmin", form: url.Values{"reason": {"farm"}}, prepare: flagPath("block", nil)},
			"POST /admin/flags/:id/review": {role: "moderator", prepare: func(t *testing.T) string {
				sf, err := f.env.App.DB.ScrapeFlag.Create().SetDedupKey(fmt.Sprint("audit-walk:", flagSeq.Add(1))).SetIP("10.0.0.1").
					SetKind("offers").SetCount(6).SetThreshold(5).SetWindowSeconds(3600).SetWindowStart(time.Now()).SetFirstSeen(time.Now()).SetLastSeen(time.Now()).Save(context.Background())
				apptest.Must(t, err)
				return "/admin/flags/" + apptest.Itoa(sf.ID) + "/review"
			}},
		}
	})
}

// The list shows open flags with names, links and evidence; the detail page shows only
// the forms the viewer may use; each review works through HTTP, is audited, and a
// reviewed flag moves to the reviewed tab.
func TestFraudFlagsReview(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db := f.env.App.DB.Client
	pa := f.partnerA
	fl, m := newFlag(t, f.env, &pa)
	mod := f.client(t, "moderator")

	list := mod.Get("/admin/flags")
	for _, want := range []string{`href="/admin/flags/` + apptest.Itoa(fl.ID) + `"`, `href="/admin/members/` + apptest.Itoa(m.ID) + `"`, m.FirstName,
		`href="/admin/partners/` + apptest.Itoa(pa) + `"`, "Partner A", "3 deals within 24 hours", "booking K7M2Q9AB", "Повторные завершения"} {
		if !strings.Contains(list.Body, want) {
			t.Fatalf("the flags list lacks %q", want)
		}
	}
	if r := mod.Get("/admin/flags?kind=" + fraud.KindSignupBurst); strings.Contains(r.Body, "3 deals within 24 hours") {
		t.Fatal("the kind filter shows another kind")
	}
	page := mod.Get("/admin/flags/" + apptest.Itoa(fl.ID))
	for _, action := range []string{"dismiss", "annul", "block"} {
		if !strings.Contains(page.Body, `/admin/flags/`+apptest.Itoa(fl.ID)+`/`+action) {
			t.Fatalf("the moderator's flag page lacks the %s form", action)
		}
	}
	if !strings.Contains(page.Body, `value="partner"`) {
		t.Fatal("the moderator may suspend the partner but is not offered to")
	}

	// Annul: the bonuses go through the ledger's annulment, the flag is actioned.
	if body := flash(t, mod, mod.Post("/admin/flags/"+apptest.Itoa(fl.ID)+"/annul", url.Values{"amount": {"5000"}, "reason": {"farm"}})); !strings.Contains(body, "Нельзя аннулировать больше") {
		t.Fatalf("annulling more than the balance: %.400s", body)
	}
	r := mod.Post("/admin/flags/"+apptest.Itoa(fl.ID)+"/annul", url.Values{"amount": {"200"}, "reason": {"farm"}})
	flash(t, mod, r)
	bal, err := f.env.App.Ledger.Balance(ctx, m.ID)
	apptest.Must(t, err)
	got, err := db.FraudFlag.Get(ctx, fl.ID)
	apptest.Must(t, err)
	if bal.Available != 300 || got.Status != fraudflag.StatusActioned || got.Action != fraud.ActionAnnul || got.ReviewedByID == nil {
		t.Fatalf("after annul: balance %+v, flag %+v", bal, got)
	}
	for _, action := range []string{"ledger.annul", "fraud_flag.annul"} {
		if n := db.AuditLog.Query().Where(auditlog.Action(action)).CountX(ctx); n != 1 {
			t.Fatalf("%d %s entries", n, action)
		}
	}
	// Reviewed: no second action, and the forms are gone.
	if body := flash(t, mod, mod.Post("/admin/flags/"+apptest.Itoa(fl.ID)+"/dismiss", url.Values{"note": {"x"}})); !strings.Contains(body, "уже рассмотрен") {
		t.Fatalf("dismissing a reviewed flag: %.400s", body)
	}
	if strings.Contains(mod.Get("/admin/flags/"+apptest.Itoa(fl.ID)).Body, "/dismiss") {
		t.Fatal("a reviewed flag still offers the forms")
	}
	if r := mod.Get("/admin/flags?tab=reviewed"); !strings.Contains(r.Body, "3 deals within 24 hours") {
		t.Fatal("the reviewed tab lacks the actioned flag")
	}
	if strings.Contains(mod.Get("/admin/flags").Body, "3 deals within 24 hours") {
		t.Fatal("the open tab still shows the actioned flag")
	}

	// Block the member; suspend the partner.
	fb, mb := newFlag(t, f.env, nil)
	flash(t, mod, mod.Post("/admin/flags/"+apptest.Itoa(fb.ID)+"/block", url.Values{"reason": {""}}))
	if db.Member.GetX(ctx, mb.ID).Status != member.StatusActive {
		t.Fatal("blocked without a reason")
	}
	flash(t, mod, mod.Post("/admin/flags/"+apptest.Itoa(fb.ID)+"/block", url.Values{"reason": {"farm"}}))
	if db.Member.GetX(ctx, mb.ID).Status != member.StatusBlocked || db.FraudFlag.GetX(ctx, fb.ID).Action != fraud.ActionBlock {
		t.Fatal("the block did not block the member")
	}
	fs, _ := newFlag(t, f.env, &pa)
	flash(t, mod, mod.Post("/admin/flags/"+apptest.Itoa(fs.ID)+"/block", url.Values{"reason": {"fake deals"}, "target": {"partner"}}))
	if db.Partner.GetX(ctx, pa).Status != partner.StatusSuspended || db.FraudFlag.GetX(ctx, fs.ID).Action != fraud.ActionSuspend {
		t.Fatal("the partner was not suspended")
	}
	for _, action := range []string{"member.block", "fraud_flag.block", "partner.suspend", "fraud_flag.suspend"} {
		if n := db.AuditLog.Query().Where(auditlog.Action(action)).CountX(ctx); n != 1 {
			t.Fatalf("%d %s entries", n, action)
		}
	}

	// A staff member is outranked: the moderator cannot block the superadmin.
	fsa, err := db.FraudFlag.Create().SetDedupKey("test:staff").SetKind(fraud.KindSignupBurst).SetMemberID(memberByTG(t, f, "superadmin")).Save(ctx)
	apptest.Must(t, err)
	if body := flash(t, mod, mod.Post("/admin/flags/"+apptest.Itoa(fsa.ID)+"/block", url.Values{"reason": {"x"}})); !strings.Contains(body, "Недостаточно прав") && !strings.Contains(body, "равна вашей или выше") {
		t.Fatalf("blocking the superadmin: %.600s", body)
	}
	if db.FraudFlag.GetX(ctx, fsa.ID).Status != fraudflag.StatusOpen {
		t.Fatal("a refused block closed the flag")
	}

	// Dismiss with a note.
	fd, _ := newFlag(t, f.env, nil)
	flash(t, mod, mod.Post("/admin/flags/"+apptest.Itoa(fd.ID)+"/dismiss", url.Values{"note": {"a known regular"}}))
	if got := db.FraudFlag.GetX(ctx, fd.ID); got.Status != fraudflag.StatusDismissed || got.ReviewNote != "a known regular" {
		t.Fatalf("after dismissal: %+v", got)
	}
}

// Without fraud:review the detail page shows no forms and the actions are refused.
func TestFraudFlagFormsFollowPermissions(t *testing.T) {
	f := newFixture(t)
	fl, _ := newFlag(t, f.env, nil)
	path := "/admin/flags/" + apptest.Itoa(fl.ID)
	sup := f.client(t, "support")
	if r := sup.Get(path); r.Status != http.StatusForbidden {
		t.Fatalf("support sees a flag: %d", r.Status)
	}
	if r := sup.Post(path+"/dismiss", url.Values{"note": {"x"}}); r.Status != http.StatusForbidden {
		t.Fatalf("support dismisses a flag: %d", r.Status)
	}
	page := f.client(t, "superadmin").Get(path)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, path+"/annul") {
		t.Fatalf("the superadmin's page: %d", page.Status)
	}
	// A flag without a partner offers no suspension.
	if strings.Contains(page.Body, `value="partner"`) {
		t.Fatal("a member flag offers to suspend a partner")
	}
}

// The periodic job's detection run raises a flag the list then shows.
func TestFraudDetectionShowsOnList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db := f.env.App.DB.Client
	referrer := f.memberID
	for i := range fraud.BurstMin {
		m, err := db.Member.Create().SetFirstName(fmt.Sprint("Bot", i)).SetReferralCode(fmt.Sprint("BOT", i)).Save(ctx)
		apptest.Must(t, err)
		_, err = db.Referral.Create().SetReferrerID(referrer).SetInviteeID(m.ID).SetCode("FARMCODE").Save(ctx)
		apptest.Must(t, err)
	}
	for range 2 {
		_, err := f.env.App.Fraud.Detect(ctx)
		apptest.Must(t, err)
	}
	if n := db.FraudFlag.Query().Where(fraudflag.Kind(fraud.KindSignupBurst)).CountX(ctx); n != 1 {
		t.Fatalf("%d burst flags after two runs", n)
	}
	if body := f.client(t, "moderator").Get("/admin/flags").Body; !strings.Contains(body, "FARMCODE") {
		t.Fatal("the list lacks the burst")
	}
	n, err := f.env.App.Fraud.OpenCount(ctx)
	apptest.Must(t, err)
	if n != 1 {
		t.Fatalf("open count %d", n)
	}
}

// The jobs monitor: superadmins only, read-only.
func TestJobsMonitor(t *testing.T) {
	f := newFixture(t)
	r := f.client(t, "superadmin").Get("/admin/jobs/")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "/admin/jobs/static/") {
		t.Fatalf("superadmin: %d %.300s", r.Status, r.Body)
	}
	if r := f.client(t, "moderator").Get("/admin/jobs/"); r.Status != http.StatusForbidden {
		t.Fatalf("moderator: %d", r.Status)
	}
	if r := f.client(t, "anon").Get("/admin/jobs/"); r.Status != http.StatusSeeOther {
		t.Fatalf("anon: %d", r.Status)
	}
	// Its API's changes are refused, with or without the CSRF token.
	sa := f.client(t, "superadmin")
	if r := sa.Send(http.MethodDelete, "/admin/jobs/api/queues/default", "", nil); r.Status < 400 {
		t.Fatalf("DELETE through the monitor: %d", r.Status)
	}
	if r := sa.Post("/admin/jobs/api/queues/default:pause", url.Values{}); r.Status < 400 {
		t.Fatalf("POST through the monitor: %d", r.Status)
	}
}

func memberByTG(t *testing.T, f *fixture, role string) int {
	t.Helper()
	m, err := f.env.App.DB.Member.Query().Where(member.TelegramID(f.tg[role])).Only(context.Background())
	apptest.Must(t, err)
	return m.ID
}
