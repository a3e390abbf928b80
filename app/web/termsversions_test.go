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
	"ikra/app/terms"
	"ikra/ent/auditlog"
	"ikra/ent/notification"
	"ikra/ent/termsacceptance"
	"ikra/ent/termsversion"
)

func init() {
	matrixSections = append(matrixSections, termsMatrix)
	auditSections = append(auditSections, termsAudit)
}

func termsMatrix(t *testing.T, f *fixture) map[string]matrixCase {
	return map[string]matrixCase{
		"GET /terms/v/:version":   {"/terms/v/2026-06-01", nil, expect(ok, nil)},
		"GET /privacy/v/:version": {"/privacy/v/2026-06-01", nil, expect(ok, nil)},
		"POST /app/terms/seen":    {"/app/terms/seen", url.Values{"next": {"/app"}}, expect(see, map[string]int{"anon": unauth})},
		"GET /admin/terms":        {"/admin/terms", nil, expect(forbid, map[string]int{"anon": see, "superadmin": ok})},
		"POST /admin/terms":       {"/admin/terms", url.Values{"kind": {"nonsense"}, "body": {"x"}}, expect(forbid, map[string]int{"anon": unauth, "superadmin": http.StatusUnprocessableEntity})},
	}
}

func termsAudit(t *testing.T, f *fixture) map[string]auditCase {
	return map[string]auditCase{
		"POST /admin/terms": {role: "superadmin", path: "/admin/terms", form: url.Values{"kind": {"privacy"}, "body": {"# Политика v3\n\nТекст."},
			"effective": {time.Now().Add(48 * time.Hour).In(terms.Almaty).Format("2006-01-02T15:04")}, "preview": {"0"}}},
	}
}

// A version scheduled from the back office takes effect on its date: before it, the
// public page shows the earlier version, members see the notice and accept nothing;
// after it, the page shows the new version (the earlier one stays readable) and a
// member's next request records acceptance by continued use once, with the channel.
func TestTermsVersionTakesEffect(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	db := env.App.DB.Client
	admin := env.Client()
	admin.SignIn(9701, "Admin")
	_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, memberIDOf(t, env, 9701), "superadmin", nil)
	apptest.Must(t, err)
	apptest.Must(t, env.App.Authz.Reload(ctx))
	m, _ := env.Member(9702, "Участник")
	memberID := memberIDOf(t, env, 9702)

	effective := time.Now().Add(24 * time.Hour).Truncate(time.Minute)
	body := "# Соглашение, редакция 2\n\nНовый **пункт** о бонусах."
	form := url.Values{"kind": {"offer"}, "body": {body}, "effective": {effective.In(terms.Almaty).Format("2006-01-02T15:04")}}
	// The preview renders the Markdown and saves nothing.
	preview := url.Values{"preview": {"1"}}
	for k, v := range form {
		preview[k] = v
	}
	r := admin.Post("/admin/terms", preview)
	if r.Status != ok || !strings.Contains(r.Body, "<strong>пункт</strong>") {
		t.Fatalf("preview: %d", r.Status)
	}
	if n := db.TermsVersion.Query().Where(termsversion.KindEQ(termsversion.KindOffer)).CountX(ctx); n != 1 {
		t.Fatalf("the preview saved a version: %d", n)
	}
	// A date in the past is refused.
	past := url.Values{"kind": {"offer"}, "body": {body}, "effective": {time.Now().Add(-48 * time.Hour).In(terms.Almaty).Format("2006-01-02T15:04")}}
	if r := admin.Post("/admin/terms", past); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("past date: %d", r.Status)
	}
	form.Set("preview", "0")
	if r := admin.Post("/admin/terms", form); r.Status != see {
		t.Fatalf("publish: %d %.300s", r.Status, r.Body)
	}
	v, err := db.TermsVersion.Query().Where(termsversion.KindEQ(termsversion.KindOffer)).Order(termsversion.ByID()).All(ctx)
	apptest.Must(t, err)
	if len(v) != 2 || !v[1].PublishedAt.Equal(effective) || v[1].Version != effective.In(terms.Almaty).Format("2006-01-02") {
		t.Fatalf("versions %+v", v)
	}
	newV := v[1]
	if n := db.AuditLog.Query().Where(auditlog.Action("terms.publish")).CountX(ctx); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
	// Before the date: the earlier version is in force, the member is told, accepts nothing.
	anon := env.Client()
	if r := anon.Get("/terms"); strings.Contains(r.Body, "редакция 2") {
		t.Fatal("the scheduled version is shown before its date")
	}
	if r := anon.Get("/terms/v/" + newV.Version); r.Status != nf {
		t.Fatalf("a scheduled version is readable before its date: %d", r.Status)
	}
	home := m.Get("/app").Body
	if !strings.Contains(home, "terms-notice") || !strings.Contains(home, "Новая редакция пользовательского соглашения") {
		t.Fatal("no notice of the scheduled version")
	}
	accepted := func() int {
		return db.TermsAcceptance.Query().Where(termsacceptance.MemberID(memberID), termsacceptance.TermsVersionID(newV.ID)).CountX(ctx)
	}
	if accepted() != 0 {
		t.Fatal("accepted before the date")
	}
	// The notice can be dismissed.
	if r := m.Post("/app/terms/seen", url.Values{"next": {"/app"}}); r.Status != see || r.Header.Get("Location") != "/app" {
		t.Fatalf("dismiss: %d %s", r.Status, r.Header.Get("Location"))
	}
	if strings.Contains(m.Get("/app").Body, "terms-notice") {
		t.Fatal("the notice is back after dismissing")
	}
	// The date arrives.
	apptest.Must(t, db.TermsVersion.UpdateOneID(newV.ID).SetPublishedAt(time.Now().Add(-time.Minute)).Exec(ctx))
	for range 3 {
		if r := m.Get("/app"); r.Status != ok {
			t.Fatalf("/app: %d", r.Status)
		}
	}
	a, err := db.TermsAcceptance.Query().Where(termsacceptance.MemberID(memberID), termsacceptance.TermsVersionID(newV.ID)).All(ctx)
	apptest.Must(t, err)
	if len(a) != 1 || a[0].Explicit || a[0].Channel != termsacceptance.ChannelWeb {
		t.Fatalf("acceptance by continued use: %+v", a)
	}
	cur := anon.Get("/terms")
	if !strings.Contains(cur.Body, "Соглашение, редакция 2") || !strings.Contains(cur.Body, `href="/terms/v/2026-06-01"`) {
		t.Fatal("the new version is not current, or the earlier one is not listed")
	}
	if r := anon.Get("/terms/v/2026-06-01"); r.Status != ok || !strings.Contains(r.Body, "прежних редакций") {
		t.Fatalf("earlier version: %d", r.Status)
	}
	if r := admin.Get("/admin/terms"); r.Status != ok || !strings.Contains(r.Body, newV.Version) {
		t.Fatalf("admin list: %d", r.Status)
	}
}

// The announce job tells every active member once about a new version, however often
// it runs, and marks the version announced; the first versions are not announced.
func TestTermsAnnounced(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	db := env.App.DB.Client
	env.Member(9711, "Первый")
	env.Member(9712, "Второй")
	v, err := env.App.Terms.Publish(ctx, audit.Entry{ActorRole: "test"}, terms.Draft{Kind: terms.Privacy, Body: "# Политика 2\n\nТекст."}, time.Now())
	apptest.Must(t, err)
	for range 2 {
		_, err := env.App.Terms.Announce(ctx, time.Now())
		apptest.Must(t, err)
	}
	n, err := db.Notification.Query().Where(notification.Kind("terms.changed")).All(ctx)
	apptest.Must(t, err)
	if len(n) != 2 {
		t.Fatalf("%d notices, want one per member", len(n))
	}
	for _, x := range n {
		if !strings.HasPrefix(x.DedupKey, "terms:"+apptest.Itoa(v.ID)+":") || x.Link != "/privacy/v/"+v.Version {
			t.Fatalf("notice %+v", x)
		}
	}
	got, err := db.TermsVersion.Get(ctx, v.ID)
	apptest.Must(t, err)
	if got.AnnouncedAt == nil {
		t.Fatal("not marked announced")
	}
	if db.TermsVersion.Query().Where(termsversion.AnnouncedAtIsNil()).CountX(ctx) != 0 {
		t.Fatal("the initial versions are left unannounced")
	}
}
