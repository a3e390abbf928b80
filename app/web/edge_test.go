package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/ledger"
)

var authURLAttr = regexp.MustCompile(`data-auth-url="([^"]*)"`)

// The Login Widget is sent back to /auth/telegram with Telegram's fields added to the
// auth URL of the /login page; a deep link's next survives sign-in, a hostile one does not.
func TestSignInDeepLink(t *testing.T) {
	env := apptest.New(t)
	// widgetRedirect is what Telegram does: the page's auth URL plus its signed fields.
	widgetRedirect := func(t *testing.T, c *apptest.Client, loginPath string, tgID int64) *apptest.Response {
		t.Helper()
		page := c.Get(loginPath)
		m := authURLAttr.FindStringSubmatch(page.Body)
		if page.Status != http.StatusOK || m == nil {
			t.Fatalf("%s: %d, no widget", loginPath, page.Status)
		}
		u, err := url.Parse(html.UnescapeString(m[1]))
		apptest.Must(t, err)
		if u.Path != "/auth/telegram" {
			t.Fatalf("auth URL %q", u)
		}
		q := u.Query()
		for k, v := range apptest.WidgetQuery(tgID, "Дина", time.Now()) {
			q[k] = v
		}
		return c.Get(u.Path + "?" + q.Encode())
	}

	r := widgetRedirect(t, env.Client(), "/login?next="+url.QueryEscape("/app/bonuses"), 9101)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app/bonuses" {
		t.Fatalf("deep-link sign-in: %d to %q: %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	// A deep link with its own query keeps it.
	r = widgetRedirect(t, env.Client(), "/login?next="+url.QueryEscape("/app/bonuses?before=5&x=%2F"), 9102)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app/bonuses?before=5&x=%2F" {
		t.Fatalf("deep link with a query: %d to %q", r.Status, r.Header.Get("Location"))
	}
	// The sign-in page a signed-out visitor is sent to carries the page they wanted.
	if r := env.Client().Get("/app/bonuses?before=5"); r.Header.Get("Location") != "/login?next=/app/bonuses?before=5" {
		t.Fatalf("signed-out deep link goes to %q", r.Header.Get("Location"))
	}

	hostile := []string{"//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example",
		"/%2F/evil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%09/evil.example", "/%252F%252Fevil.example"}
	for i, next := range hostile {
		tg := int64(9110 + i)
		// Through the sign-in page: the hostile next does not even reach the auth URL.
		r := widgetRedirect(t, env.Client(), "/login?next="+url.QueryEscape(next), tg)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app" {
			t.Errorf("next=%q via /login: %d to %q", next, r.Status, r.Header.Get("Location"))
		}
		// Straight to the callback, as an attacker's link would.
		q := apptest.WidgetQuery(tg, "Дина", time.Now())
		r = env.Client().Get("/auth/telegram?next=" + url.QueryEscape(next) + "&" + q.Encode())
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app" {
			t.Errorf("next=%q on the callback: %d to %q", next, r.Status, r.Header.Get("Location"))
		}
	}

	// Only Telegram's fields are signed: an added field other than next still counts.
	q := apptest.WidgetQuery(9130, "Дина", time.Now())
	q.Set("first_name", "Мошенник")
	if r := env.Client().Get("/auth/telegram?next=%2Fapp&" + q.Encode()); r.Status != http.StatusUnauthorized {
		t.Fatalf("tampered name with next: %d", r.Status)
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the JSON log records written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		apptest.Must(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	return out
}

func capturedLog() (*syncBuffer, apptest.Option) {
	b := &syncBuffer{}
	return b, apptest.WithLog(slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo})))
}

// The access log records the status the client got, errors included, and keeps client
// addresses out of its info lines; a refused request names its address's keyed hash
// at warn level, never the address.
func TestAccessLogStatus(t *testing.T) {
	logs, opt := capturedLog()
	env := apptest.New(t, opt, apptest.WithEnv("IKRA_RATE_AUTH", "1"))
	c, _ := env.Member(9201, "Лог")
	want := map[string]int{}
	check := func(path string, status int, r *apptest.Response) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("%s: %d, want %d", path, r.Status, status)
		}
		want[path] = status
	}
	check("/no-such-page", http.StatusNotFound, c.Get("/no-such-page"))
	check("/admin", http.StatusForbidden, c.Get("/admin"))
	check("/api/v1/me", http.StatusUnauthorized, env.Client().Get("/api/v1/me"))
	check("/auth/telegram", http.StatusTooManyRequests, env.Client().Get("/auth/telegram")) // the member's sign-in took the one attempt
	check("/app", http.StatusOK, c.Get("/app"))

	got := map[string]int{}
	limited := false
	for _, l := range logs.lines(t) {
		switch l["msg"] {
		case "request":
			if _, ok := l["ip"]; ok {
				t.Errorf("an access log line names the client address: %v", l)
			}
			if p, ok := l["path"].(string); ok {
				got[p] = int(l["status"].(float64))
			}
		case "rate limited":
			_, named := l["ip"]
			tag, _ := l["ip_tag"].(string)
			limited = !named && len(tag) == 12 && l["level"] == "WARN"
		}
	}
	for path, status := range want {
		if got[path] != status {
			t.Errorf("%s logged with status %d, want %d", path, got[path], status)
		}
	}
	if !limited {
		t.Error("the refused request was not logged at warn with its address's tag")
	}
}

// Every unsafe route and every back office and partner page is limited, per member,
// with a Retry-After; the route table names a limit on every such route.
func TestRateLimits(t *testing.T) {
	env := apptest.New(t, apptest.WithEnv("IKRA_RATE_WRITE", "3"), apptest.WithEnv("IKRA_RATE_MEMBER", "4"))
	for _, r := range env.App.Web.Routes {
		if (r.Method != "GET" || r.Workspace != "public") && r.Limit == "" {
			t.Errorf("%s %s has no rate limit", r.Method, r.Path)
		}
		if r.Method != "GET" && r.Limit == "read" {
			t.Errorf("%s %s has only a read limit", r.Method, r.Path)
		}
	}

	c, _ := env.Member(9301, "Спешка")
	c.CSRF() // fetched now, so that only the posts below count
	for i := 0; i < 3; i++ {
		if r := c.Post("/app/notifications/read", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("post %d: %d", i, r.Status)
		}
	}
	r := c.Post("/app/notifications/read", nil)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("post past the limit: %d, Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	// Another member has a bucket of their own.
	other, _ := env.Member(9302, "Другой")
	if r := other.Post("/app/notifications/read", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("another member limited by the first: %d", r.Status)
	}

	_, m := env.Member(9303, "Модератор")
	_, err := env.App.Staff.Grant(context.Background(), audit.Entry{ActorRole: "test"}, m.ID, "moderator", nil)
	apptest.Must(t, err)
	mod := env.Client()
	mod.SignIn(9303, "Модератор")
	for i := 0; i < 4; i++ {
		if r := mod.Get("/admin/members"); r.Status != http.StatusOK {
			t.Fatalf("admin page %d: %d", i, r.Status)
		}
	}
	if r := mod.Get("/admin"); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("admin page past the limit: %d, Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	// Signed out, the address is the key, and refused attempts count.
	anon := env.Client()
	for i := 0; i < 4; i++ {
		anon.Get("/partner")
	}
	if r := anon.Get("/admin/audit"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("anonymous hammering of the back office: %d", r.Status)
	}
}

// A burst just before a minute boundary and another just after it get the limit once,
// not twice: the bucket refills steadily instead of resetting with the clock.
func TestRateLimitAcrossMinuteBoundary(t *testing.T) {
	const limit = 10
	env := apptest.New(t, apptest.WithEnv("IKRA_RATE_WRITE", apptest.Itoa(limit)))
	c := env.Client()
	c.CSRF()
	burst := func() (allowed int) {
		for i := 0; i < limit; i++ {
			r := c.Post("/lang", url.Values{"lang": {"ru"}})
			switch r.Status {
			case http.StatusSeeOther:
				allowed++
			case http.StatusTooManyRequests:
			default:
				t.Fatalf("POST /lang: %d", r.Status)
			}
		}
		return allowed
	}
	// Start 1.5 s before a minute boundary (a fixed window resets there).
	now := time.Now()
	boundary := now.Truncate(time.Minute).Add(time.Minute)
	if boundary.Sub(now) < 1500*time.Millisecond {
		boundary = boundary.Add(time.Minute)
	}
	time.Sleep(time.Until(boundary.Add(-1500 * time.Millisecond)))
	start := time.Now()
	first := burst()
	time.Sleep(time.Until(boundary.Add(300 * time.Millisecond)))
	second := burst()
	elapsed := time.Since(start)
	refill := int(elapsed.Seconds()*limit/60) + 1
	if first != limit || second > refill {
		t.Fatalf("allowed %d then %d across the boundary in %v; want %d then at most %d", first, second, elapsed, limit, refill)
	}
}

// Without Redis the shared limiter lets requests through (and says so in the log). A
// process that runs its own Redis keeps the buckets in memory instead, so without a
// configured Redis the test gives the node a Redis of its own to lose.
func TestRateLimitFailsOpen(t *testing.T) {
	logs, opt := capturedLog()
	opts := []apptest.Option{opt, apptest.WithEnv("IKRA_RATE_WRITE", "1")}
	if _, redis, _ := apptest.Real(); !redis {
		mr := miniredis.RunT(t)
		opts = append(opts, apptest.WithEnv("REDIS_URL", "redis://"+mr.Addr()))
	}
	env := apptest.New(t, opts...)
	if env.App.Redis.Embedded() {
		t.Fatal("the node runs its own Redis; the shared limiter is not in use")
	}
	c := env.Client()
	c.CSRF()
	apptest.Must(t, env.App.Redis.Client.Close())
	for i := 0; i < 3; i++ {
		if r := c.Post("/lang", url.Values{"lang": {"en"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("post %d with Redis gone: %d", i, r.Status)
		}
	}
	found := false
	for _, l := range logs.lines(t) {
		found = found || l["msg"] == "rate limit unavailable"
	}
	if !found {
		t.Error("the failing limiter was not logged")
	}
}

// The CSRF token is taken from the form body or the header, never from the URL.
func TestCSRFNotFromQuery(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.Member(9401, "Токен")
	token := c.CSRF()
	req, _ := http.NewRequest("POST", env.URL("/app/settings/language?_csrf="+url.QueryEscape(token)), strings.NewReader("lang=en"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := c.Do(req); r.Status != http.StatusForbidden {
		t.Fatalf("token in the query string: %d", r.Status)
	}
	if r := c.Post("/app/settings/language", url.Values{"lang": {"en"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("token in the form: %d", r.Status)
	}
	req, _ = http.NewRequest("POST", env.URL("/app/settings/language"), strings.NewReader("lang=ru"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", token)
	if r := c.Do(req); r.Status != http.StatusSeeOther {
		t.Fatalf("token in the header: %d", r.Status)
	}
}

// On HTTPS the language cookie and the cookies a response clears are Secure and HttpOnly.
func TestCookiesSecureOnHTTPS(t *testing.T) {
	env := apptest.New(t, apptest.WithEnv("IKRA_BASE_URL", "https://ikra.example"))
	c := env.Client()
	r := c.Post("/lang", url.Values{"lang": {"en"}})
	lang := setCookie(r, "ikra_lang")
	if r.Status != http.StatusSeeOther || !strings.Contains(lang, "; secure") || !strings.Contains(lang, "; HttpOnly") ||
		!strings.Contains(strings.ToLower(lang), "samesite=lax") {
		t.Fatalf("language cookie on HTTPS: %d %q", r.Status, lang)
	}
	// A dead session cookie is cleared, Secure.
	c.SetCookie("ikra_session", "not-a-session")
	r = c.Get("/login")
	cleared := setCookie(r, "ikra_session")
	if !strings.Contains(cleared, "ikra_session=;") || !strings.Contains(cleared, "; secure") || !strings.Contains(cleared, "; HttpOnly") {
		t.Fatalf("cleared session cookie on HTTPS: %q", cleared)
	}
}

func setCookie(r *apptest.Response, name string) string {
	for _, v := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			return v
		}
	}
	return ""
}

// The back office finds members by any part of a Cyrillic name in any letter case.
func TestAdminSearchCyrillicNames(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	env.Member(9501, "Айгерим")
	_, m := env.Member(9502, "ЕРЛАН")
	apptest.Must(t, env.App.DB.Member.UpdateOneID(m.ID).SetLastName("Сүлейменов").Exec(ctx))
	env.Member(9503, "Qwerty")
	_, st := env.Member(9504, "Сотрудник")
	_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, st.ID, "support", nil)
	apptest.Must(t, err)
	admin := env.Client()
	admin.SignIn(9504, "Сотрудник")
	tests := []struct {
		q          string
		want, miss []string
	}{
		{"айгерим", []string{"Айгерим"}, []string{"ЕРЛАН", "Qwerty"}},
		{"АЙГЕР", []string{"Айгерим"}, []string{"ЕРЛАН"}},
		{"гЕр", []string{"Айгерим"}, []string{"ЕРЛАН"}},
		{"ерлан", []string{"ЕРЛАН"}, []string{"Айгерим"}},
		{"СҮЛЕЙ", []string{"ЕРЛАН"}, []string{"Айгерим"}},
		{"qWeR", []string{"Qwerty"}, []string{"Айгерим"}},
		{"@u9503", []string{"Qwerty"}, []string{"Айгерим"}},
		{"9501", []string{"Айгерим"}, []string{"ЕРЛАН"}},
		{"й*", nil, []string{"Айгерим"}},
		{"[а]", nil, []string{"Айгерим"}},
		{".*", nil, []string{"Айгерим", "Qwerty"}},
	}
	for _, tt := range tests {
		r := admin.Get("/admin/members?q=" + url.QueryEscape(tt.q))
		if r.Status != http.StatusOK {
			t.Fatalf("q=%q: %d", tt.q, r.Status)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.Body, w) {
				t.Errorf("q=%q does not find %s", tt.q, w)
			}
		}
		for _, w := range tt.miss {
			if strings.Contains(r.Body, w) {
				t.Errorf("q=%q finds %s", tt.q, w)
			}
		}
	}
}

// The API's history is the cabinet's: a reservation is one line, not its two halves.
func TestAPIBonusesHideMirrors(t *testing.T) {
	env := apptest.New(t)
	c, m := env.Member(9601, "Зеркало")
	_, err := env.App.Ledger.Reserve(context.Background(), ledger.Op{MemberID: m.ID, Amount: 500, Kind: ledger.KindReserve, Key: "edge-reserve"})
	apptest.Must(t, err)
	var list struct {
		Entries []struct {
			Kind   string `json:"kind"`
			Amount int64  `json:"amount"`
			Bucket string `json:"bucket"`
		} `json:"entries"`
	}
	r := c.Get("/api/v1/bonuses")
	apptest.Must(t, json.Unmarshal([]byte(r.Body), &list))
	if len(list.Entries) != 2 || list.Entries[0].Kind != "reserve" || list.Entries[0].Bucket != "available" ||
		list.Entries[0].Amount != -500 || list.Entries[1].Kind != "welcome" {
		t.Fatalf("/api/v1/bonuses: %s", r.Body)
	}
	page := c.Get("/app/bonuses").Body
	if n := strings.Count(page, "Резерв под бронирование"); n != 1 {
		t.Errorf("the cabinet shows the reservation %d times, the API once", n)
	}
}
