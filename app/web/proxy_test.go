package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/ent/member"
	"ikra/ent/session"
)

// A forged X-Forwarded-For from a peer that is not a trusted proxy changes neither the
// recorded client address nor the rate-limit key.
func TestForgedForwardedFor(t *testing.T) {
	env := apptest.New(t, apptest.WithEnv("IKRA_RATE_AUTH", "5"))
	c := env.Client()
	for i := 0; i < 5; i++ {
		req, _ := http.NewRequest("GET", env.URL("/auth/telegram"), nil)
		req.Header.Set("X-Forwarded-For", "203.0.113."+apptest.Itoa(i+1))
		if r := c.Do(req); r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.Status)
		}
	}
	req, _ := http.NewRequest("GET", env.URL("/auth/telegram?"+apptest.WidgetQuery(6001, "Eve", timeNow()).Encode()), nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.77")
	if r := c.Do(req); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("a new forged address escaped the limit: %d", r.Status)
	}

	// The address recorded with a session is the peer's, not the forged one.
	env2 := apptest.New(t)
	c2 := env2.Client()
	req, _ = http.NewRequest("GET", env2.URL("/auth/telegram?"+apptest.WidgetQuery(6002, "Eve", timeNow()).Encode()), nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.77")
	if r := c2.Do(req); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", r.Status)
	}
	s, err := env2.App.DB.Session.Query().Where(session.HasMemberWith(member.TelegramID(6002))).Only(context.Background())
	apptest.Must(t, err)
	if s.IP != "127.0.0.1" {
		t.Fatalf("recorded address %q, want the peer 127.0.0.1", s.IP)
	}
}

// Behind a trusted proxy, the client address comes from X-Forwarded-For.
func TestTrustedProxy(t *testing.T) {
	env := apptest.New(t, apptest.WithEnv("IKRA_TRUSTED_PROXIES", "127.0.0.1"), apptest.WithEnv("IKRA_RATE_AUTH", "2"))
	c := env.Client()
	for i := 0; i < 4; i++ {
		req, _ := http.NewRequest("GET", env.URL("/auth/telegram"), nil)
		req.Header.Set("X-Forwarded-For", "203.0.113."+apptest.Itoa(i+1))
		if r := c.Do(req); r.Status != http.StatusUnauthorized {
			t.Fatalf("client %d limited by another client's count: %d", i, r.Status)
		}
	}
	req, _ := http.NewRequest("GET", env.URL("/auth/telegram?"+apptest.WidgetQuery(6003, "Ann", timeNow()).Encode()), nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.9, 127.0.0.1")
	req.Header.Set("X-Forwarded-Proto", "https")
	r := c.Do(req)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", r.Status)
	}
	s, err := env.App.DB.Session.Query().Where(session.HasMemberWith(member.TelegramID(6003))).Only(context.Background())
	apptest.Must(t, err)
	if s.IP != "198.51.100.9" {
		t.Fatalf("recorded address %q", s.IP)
	}
	if sc := r.Header.Get("Set-Cookie"); sc == "" || !contains(strings.ToLower(sc), "secure") || !contains(sc, "HttpOnly") || !contains(sc, "SameSite=Lax") {
		t.Fatalf("session cookie behind an HTTPS proxy: %q", sc)
	}
}
