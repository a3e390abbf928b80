package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/maintenance"
	"ikra/ent/auditlog"
)

// Maintenance mode switched on from the back office of one node: members get the
// maintenance page on every node (503, the message, the expected end in Almaty time,
// Retry-After), the API a JSON 503 with Retry-After, while staff keep their pages and
// sign-in, health and readiness stay open; switching off opens everything again.
func TestMaintenanceMode(t *testing.T) {
	node1 := apptest.New(t)
	node2 := apptest.New(t, apptest.Join(node1))
	ctx := context.Background()
	admin := node1.Client()
	admin.SignIn(8901, "Admin")
	id := memberIDOf(t, node1, 8901)
	_, err := node1.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, id, "superadmin", nil)
	apptest.Must(t, err)
	apptest.Must(t, node1.App.Authz.Reload(ctx))
	apptest.Must(t, node2.App.Authz.Reload(ctx))
	member := node2.Client()
	member.SignIn(8902, "Member")
	staff := node2.Client()
	staff.SignIn(8901, "Admin")
	if r := member.Get("/app"); r.Status != ok {
		t.Fatalf("before: %d", r.Status)
	}
	// An expected end in the past is refused.
	past := time.Now().Add(-time.Hour).In(maintenance.Almaty).Format("2006-01-02T15:04")
	if r := admin.Post("/admin/maintenance", url.Values{"on": {"1"}, "until": {past}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("until in the past: %d", r.Status)
	}
	until := time.Now().Add(2 * time.Hour).Truncate(time.Minute)
	r := admin.Post("/admin/maintenance", url.Values{"on": {"1"}, "message": {"Обновляем базу данных"},
		"until": {until.In(maintenance.Almaty).Format("2006-01-02T15:04")}})
	if r.Status != see {
		t.Fatalf("switch on: %d %.300s", r.Status, r.Body)
	}
	if n := node1.App.DB.AuditLog.Query().Where(auditlog.Action("settings.maintenance")).CountX(ctx); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
	// The other node sees it at once (the settings cache is forgotten on every node).
	waitStatus(t, member, "/app", http.StatusServiceUnavailable)
	r = member.Get("/app")
	rendered(t, "/app in maintenance", r)
	wantUntil := until.In(maintenance.Almaty).Format("02.01.2006 15:04")
	if !strings.Contains(r.Body, "Обновляем базу данных") || !strings.Contains(r.Body, wantUntil) {
		t.Fatalf("maintenance page lacks the message or the end %s: %.500s", wantUntil, r.Body)
	}
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry < 7000 || retry > 7200 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// The API: JSON 503 with Retry-After.
	r = member.Get("/api/v1/me")
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" || json.Unmarshal([]byte(r.Body), &body) != nil || body.Error.Code != "maintenance" {
		t.Fatalf("API: %d %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	// Anonymous visitors get the page too; sign-in, health and readiness stay open.
	anon := node2.Client()
	if r := anon.Get("/"); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("anonymous home: %d", r.Status)
	}
	for _, p := range []string{"/login", "/healthz", "/readyz"} {
		if r := anon.Get(p); r.Status != ok {
			t.Fatalf("%s in maintenance: %d", p, r.Status)
		}
	}
	// Staff keep working, in the back office and in the cabinet.
	for _, p := range []string{"/admin", "/admin/maintenance", "/app"} {
		if r := staff.Get(p); r.Status != ok {
			t.Fatalf("staff %s: %d", p, r.Status)
		}
	}
	// A member reaching the back office is refused by its guard, not served.
	if r := member.Get("/admin"); r.Status != http.StatusForbidden {
		t.Fatalf("member in the back office: %d", r.Status)
	}
	// Off again: every node serves members.
	if r := admin.Post("/admin/maintenance", url.Values{"on": {"0"}}); r.Status != see {
		t.Fatalf("switch off: %d", r.Status)
	}
	waitStatus(t, member, "/app", ok)
}

// Retry-After is the time left until the expected end, at least a minute.
func TestMaintenanceRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		until time.Time
		want  time.Duration
	}{
		{time.Time{}, time.Minute},
		{now.Add(10 * time.Second), time.Minute},
		{now.Add(-time.Hour), time.Minute},
		{now.Add(90 * time.Minute), 90 * time.Minute},
	} {
		if got := (maintenance.State{On: true, Until: tc.until}).RetryAfter(now); got != tc.want {
			t.Errorf("until %s: %s, want %s", tc.until, got, tc.want)
		}
	}
}

// In maintenance the bot answers a short notice instead of its normal reply.
func TestMaintenanceBotAnswers(t *testing.T) {
	api := newFakeBotAPI(t)
	const secret = "hook-secret-456"
	env := apptest.New(t, apptest.WithEnv("TELEGRAM_API_URL", api.srv.URL), apptest.WithEnv("TELEGRAM_WEBHOOK_SECRET", secret))
	apptest.Must(t, env.App.Maintenance.Switch(context.Background(), audit.Entry{ActorRole: "test"}, maintenance.State{On: true}))
	req, _ := http.NewRequest("POST", env.URL("/telegram/webhook/"+secret), strings.NewReader(
		`{"update_id":1,"message":{"message_id":5,"from":{"id":4402,"first_name":"Мадина","language_code":"ru"},"chat":{"id":4402,"type":"private"},"text":"/start"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, err := http.DefaultClient.Do(req)
	apptest.Must(t, err)
	resp.Body.Close()
	call := api.last()
	if resp.StatusCode != ok || call == nil || !strings.Contains(call["text"].(string), "технические работы") {
		t.Fatalf("bot in maintenance: %d %v", resp.StatusCode, call)
	}
}
