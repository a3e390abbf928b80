package web_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/auth/telegram"
	"ikra/app/logtag"
)

// forwardedFor sends every request as if a trusted proxy had it from addr.
type forwardedFor struct{ addr string }

func (f forwardedFor) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Forwarded-For", f.addr)
	return http.DefaultTransport.RoundTrip(req)
}

// The log of a sign-in, pages, refused and rate-limited requests carries request IDs and
// member IDs, never the member's name or username nor the client's address: a refused
// or limited client appears as a keyed hash of its address.
func TestLogsCarryIDsNotPersonalData(t *testing.T) {
	const (
		secret    = "log-privacy-test-secret-0123456789abcdef"
		addr      = "203.0.113.77"
		firstName = "Зебулония"
		lastName  = "Quixotique"
		username  = "zebulon_unique_handle"
	)
	logs := &syncBuffer{}
	env := apptest.New(t, apptest.WithLog(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		apptest.WithEnv("IKRA_TRUSTED_PROXIES", "127.0.0.1"), apptest.WithEnv("IKRA_SESSION_SECRET", secret),
		apptest.WithEnv("IKRA_RATE_AUTH", "3"))
	c := env.Client()
	c.HTTP.Transport = forwardedFor{addr}
	var requestIDs []string
	expect := func(r *apptest.Response, status int, what string) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("%s: %d, want %d", what, r.Status, status)
		}
		id := r.Header.Get("X-Request-ID")
		if id == "" {
			t.Fatalf("%s: no X-Request-ID", what)
		}
		requestIDs = append(requestIDs, id)
	}

	const tgID = 970001
	q := telegram.SignWidget(map[string]string{"id": strconv.Itoa(tgID), "first_name": firstName, "last_name": lastName,
		"username": username, "auth_date": strconv.FormatInt(time.Now().Unix(), 10)}, apptest.BotToken)
	expect(c.Get("/auth/telegram?"+q.Encode()), http.StatusSeeOther, "sign-in")
	m := env.App.DB.Member.Query().OnlyX(t.Context())
	if m.Username != username || m.FirstName != firstName {
		t.Fatalf("signed in as %q %q", m.FirstName, m.Username)
	}
	expect(c.Get("/app/settings"), http.StatusOK, "settings page")
	expect(c.Get("/admin"), http.StatusForbidden, "back office")
	expect(c.Get("/no-such-page"), http.StatusNotFound, "missing page")

	// A visitor from the same address forges a sign-in: refused, and the next attempts
	// hit the address's sign-in limit (3 a minute: the sign-in above took one).
	v := env.Client()
	v.HTTP.Transport = forwardedFor{addr}
	forged := q.Encode() + "x"
	expect(v.Get("/auth/telegram?"+forged), http.StatusUnauthorized, "forged sign-in")
	expect(v.Get("/auth/telegram?"+forged), http.StatusUnauthorized, "forged sign-in")
	limited := v.Get("/auth/telegram?" + forged)
	expect(limited, http.StatusTooManyRequests, "sign-in over the limit")

	raw := logs.String()
	lines := logs.lines(t)
	for _, personal := range []string{firstName, lastName, username, addr} {
		if strings.Contains(raw, personal) {
			t.Errorf("the log holds %q:\n%s", personal, raw)
		}
		for _, l := range lines { // decoded too, in case the encoder escaped it
			if strings.Contains(fmt.Sprint(l), personal) {
				t.Errorf("a log line holds %q: %v", personal, l)
			}
		}
	}
	logged := map[string]bool{}
	var refused, rateLimited, signedIn bool
	tag := logtag.Addr([]byte(secret), addr)
	for _, l := range lines {
		id, _ := l["request_id"].(string)
		switch l["msg"] {
		case "request":
			if id == "" {
				t.Errorf("an access log line without a request ID: %v", l)
			}
			logged[id] = true
		case "widget sign-in refused":
			refused = l["ip_tag"] == tag && id != ""
		case "rate limited":
			rateLimited = l["ip_tag"] == tag && id == limited.Header.Get("X-Request-ID")
		case "signed in":
			signedIn = l["member_id"] == float64(m.ID)
		}
	}
	for _, id := range requestIDs {
		if !logged[id] {
			t.Errorf("request %s is not in the access log", id)
		}
	}
	if !refused || !rateLimited || !signedIn {
		t.Errorf("refused sign-in logged with the address's tag: %v; rate limit logged with tag and request ID: %v; sign-in logged with the member ID: %v\n%s",
			refused, rateLimited, signedIn, raw)
	}
	if len(tag) != 12 || logtag.Addr([]byte("another secret"), addr) == tag || logtag.Addr([]byte(secret), "203.0.113.78") == tag {
		t.Errorf("tag %q is not a 12-character keyed hash of the address", tag)
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
