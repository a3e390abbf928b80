package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ikra/app/apptest"
	"ikra/ent/member"
	"ikra/ent/notification"
)

// With Redis down, a signed-in member keeps using the site: pages, the API and forms
// work from the database, a newcomer can even sign up; /readyz says Redis is down.
// Once Redis is back, the notification written during the outage reaches Telegram.
// quietRedis drops go-redis's own dial-failure lines, which the outage makes by the
// hundred; the application logs what matters itself.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func TestRedisOutageKeepsSignedInPagesUp(t *testing.T) {
	redis.SetLogger(quietRedis{})
	srv := apptest.PrivateRedis(t, false)
	api := newFakeBotAPI(t)
	env := apptest.New(t, apptest.WithEnv("REDIS_URL", srv.URL), apptest.WithEnv("TELEGRAM_API_URL", api.srv.URL),
		apptest.WithEnv("IKRA_SUPERADMINS", "9800"))
	ctx := context.Background()
	admin, _ := env.Member(9800, "Админ")
	c, m := env.Member(9801, "Айдана")
	if r := c.Get("/app"); r.Status != http.StatusOK { // the session is now in the Redis cache
		t.Fatalf("/app before the outage: %d", r.Status)
	}
	if r := env.Client().Get("/readyz"); r.Status != http.StatusOK {
		t.Fatalf("/readyz before the outage: %d %s", r.Status, r.Body)
	}

	srv.Kill()
	for _, path := range []string{"/app", "/app/notifications", "/app/status", "/api/v1/me"} {
		if r := c.Get(path); r.Status != http.StatusOK {
			t.Errorf("GET %s with Redis down: %d", path, r.Status)
		}
	}
	if r := c.Get("/app/settings"); r.Status != http.StatusOK {
		t.Fatalf("GET /app/settings with Redis down: %d", r.Status)
	}
	if r := c.Post("/app/settings/language", url.Values{"lang": {"en"}}); r.Status != http.StatusSeeOther {
		t.Errorf("POST /app/settings/language with Redis down: %d", r.Status)
	}
	if got, _ := env.App.DB.Member.Get(ctx, m.ID); got.Language != "en" {
		t.Errorf("language %q after the POST, want en", got.Language)
	}
	if r := c.Post("/app/notifications/read", nil); r.Status != http.StatusSeeOther {
		t.Errorf("POST /app/notifications/read with Redis down: %d", r.Status)
	}
	// Granting a role works: this node reloads at once, others on their timer.
	if r := admin.Post("/admin/staff", url.Values{"telegram_id": {"9801"}, "role": {"support"}}); r.Status != http.StatusSeeOther {
		t.Errorf("POST /admin/staff with Redis down: %d", r.Status)
	}
	if r := c.Get("/admin/members"); r.Status != http.StatusOK {
		t.Errorf("the new support agent's /admin/members with Redis down: %d", r.Status)
	}
	// A newcomer signs up during the outage; the welcome cannot be queued yet.
	newcomer := env.Client()
	newcomer.SignIn(9802, "Новичок")
	if r := newcomer.Get("/app/notifications"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Добро пожаловать") {
		t.Errorf("newcomer's cabinet with Redis down: %d", r.Status)
	}
	r := env.Client().Get("/readyz")
	var ready map[string]string
	_ = json.Unmarshal([]byte(r.Body), &ready)
	if r.Status != http.StatusServiceUnavailable || !strings.HasPrefix(ready["redis"], "fail") || ready["database"] != "ok" {
		t.Errorf("/readyz with Redis down: %d %s", r.Status, r.Body)
	}
	// Signing out still ends the session: the database says so, whatever the cache holds.
	if r := c.Post("/logout", nil); r.Status != http.StatusSeeOther {
		t.Errorf("POST /logout with Redis down: %d", r.Status)
	}
	if r := c.Get("/app"); r.Status != http.StatusSeeOther {
		t.Errorf("/app after signing out during the outage: %d", r.Status)
	}

	srv.Start()
	for deadline := time.Now().Add(10 * time.Second); env.Client().Get("/readyz").Status != http.StatusOK; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not recover with Redis")
		}
	}
	// The redelivery sweep queues what the outage held back, and the worker sends it.
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = env.App.RunWorker(wctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	n, err := env.App.Notify.Redeliver(ctx, 0, 100)
	apptest.Must(t, err)
	if n < 1 {
		t.Fatalf("the sweep found %d notifications to deliver", n)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		sent, err := env.App.DB.Notification.Query().
			Where(notification.HasMemberWith(member.TelegramID(9802)), notification.TelegramSentAtNotNil()).Count(ctx)
		apptest.Must(t, err)
		if sent == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the welcome written during the outage was not delivered")
		}
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	found := false
	for _, call := range api.calls {
		found = found || (call["chat_id"] == "9802" && strings.Contains(fmt.Sprint(call["text"]), "Добро пожаловать"))
	}
	if !found {
		t.Errorf("Telegram never got the newcomer's welcome: %v", api.calls)
	}
}
