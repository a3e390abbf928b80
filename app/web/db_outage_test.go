package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
)

// With the database gone (its pool closed under the running server), pages answer
// 503 with Retry-After and a page that says to try again in a minute, in the
// visitor's language; the API answers a JSON error; /readyz names the database.
func TestDatabaseDownAnswers503(t *testing.T) {
	env := apptest.New(t)
	member, _ := env.Member(9850, "Айдана")
	if r := member.Get("/app"); r.Status != http.StatusOK {
		t.Fatalf("/app before the outage: %d", r.Status)
	}
	apptest.Must(t, env.App.DB.SQL.Close())

	page := func(c *apptest.Client, path, lang, want string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, env.URL(path), nil)
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		r := c.Do(req)
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" ||
			!strings.Contains(r.Body, want) || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s (%s) with the database down: %d, Retry-After %q, %s: %.300s", path, lang, r.Status,
				r.Header.Get("Retry-After"), r.Header.Get("Content-Type"), r.Body)
		}
	}
	page(member, "/app/bookings", "en", "Сервис временно недоступен") // the member's own language
	page(member, "/app/notifications", "", "Попробуйте ещё раз через минуту")
	// Signing in needs the database: the newcomer is told to come back, in their language.
	signIn := "/auth/telegram?" + apptest.WidgetQuery(9851, "Ерлан", time.Now()).Encode()
	page(env.Client(), signIn, "kk", "Қызмет уақытша қолжетімсіз")
	page(env.Client(), signIn, "en-US,en;q=0.9", "try again in a minute")

	r := member.Get("/api/v1/me")
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || r.Status != http.StatusServiceUnavailable ||
		body.Error.Code != "unavailable" || r.Header.Get("Retry-After") == "" {
		t.Errorf("GET /api/v1/me with the database down: %d %s", r.Status, r.Body)
	}
	r = env.Client().Get("/readyz")
	var ready map[string]string
	_ = json.Unmarshal([]byte(r.Body), &ready)
	if r.Status != http.StatusServiceUnavailable || !strings.HasPrefix(ready["database"], "fail") {
		t.Errorf("/readyz with the database down: %d %s", r.Status, r.Body)
	}
}
