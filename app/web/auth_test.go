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
	"ikra/app/auth/telegram"
	"ikra/ent/consent"
	"ikra/ent/member"
	"ikra/ent/session"
	"ikra/ent/termsacceptance"
)

func TestWidgetSignIn(t *testing.T) {
	env := apptest.New(t)
	now := time.Now()
	valid := apptest.WidgetQuery(5001, "Айгерим", now)
	tampered := apptest.WidgetQuery(5001, "Айгерим", now)
	tampered.Set("id", "5002")
	stale := apptest.WidgetQuery(5001, "Айгерим", now.Add(-25*time.Hour))
	wrongToken := telegram.SignWidget(map[string]string{"id": "5001", "first_name": "A", "auth_date": strconv.FormatInt(now.Unix(), 10)}, "999:other-bot")
	noHash := apptest.WidgetQuery(5001, "Айгерим", now)
	noHash.Del("hash")

	tests := []struct {
		name     string
		query    url.Values
		status   int
		wantText string
	}{
		{"valid", valid, http.StatusSeeOther, ""},
		{"tampered id", tampered, http.StatusUnauthorized, "Не удалось подтвердить вход"},
		{"stale", stale, http.StatusUnauthorized, "Данные входа устарели"},
		{"wrong token", wrongToken, http.StatusUnauthorized, "Не удалось подтвердить вход"},
		{"missing hash", noHash, http.StatusUnauthorized, "Не удалось подтвердить вход"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := env.Client()
			r := c.Get("/auth/telegram?" + tt.query.Encode())
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if tt.wantText != "" {
				if !strings.Contains(r.Body, tt.wantText) || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("want a readable page saying %q, got %s", tt.wantText, r.Body)
				}
				if c.Cookie("ikra_session") != "" {
					t.Fatal("a refused sign-in set a session cookie")
				}
				return
			}
			if loc := r.Header.Get("Location"); loc != "/app" {
				t.Fatalf("member lands on %q, want /app", loc)
			}
			me := c.Get("/api/v1/me")
			var got struct {
				ID         int      `json:"id"`
				TelegramID int64    `json:"telegram_id"`
				FirstName  string   `json:"first_name"`
				Username   string   `json:"username"`
				Language   string   `json:"language"`
				Roles      []string `json:"roles"`
			}
			if err := json.Unmarshal([]byte(me.Body), &got); err != nil || me.Status != 200 {
				t.Fatalf("me: %d %s", me.Status, me.Body)
			}
			if got.TelegramID != 5001 || got.FirstName != "Айгерим" || got.Username != "u5001" || got.Language != "ru" || len(got.Roles) != 1 || got.Roles[0] != "member" {
				t.Fatalf("me = %+v", got)
			}
		})
	}

	// Registration recorded terms acceptance and consent with the channel.
	ctx := context.Background()
	m, err := env.App.DB.Member.Query().Where(member.TelegramID(5001)).Only(ctx)
	apptest.Must(t, err)
	acc, err := env.App.DB.TermsAcceptance.Query().Where(termsacceptance.MemberID(m.ID)).All(ctx)
	apptest.Must(t, err)
	if len(acc) != 2 || acc[0].Channel != termsacceptance.ChannelWeb {
		t.Fatalf("terms acceptances %v", acc)
	}
	n, err := env.App.DB.Consent.Query().Where(consent.MemberID(m.ID), consent.Kind("personal_data")).Count(ctx)
	apptest.Must(t, err)
	if n != 1 {
		t.Fatalf("consents %d", n)
	}
}

func TestMiniAppSignIn(t *testing.T) {
	env := apptest.New(t)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	fields := map[string]string{
		"query_id":      "AAHdF6IQAAAAAN0XohDhrOrc",
		"user":          `{"id":7001,"first_name":"Daniyar","last_name":"S","username":"dan","language_code":"en"}`,
		"auth_date":     now,
		"chat_instance": "-123",
		"chat_type":     "private",
		"signature":     "c2lnbmF0dXJl",
		"start_param":   "ref_ABC",
	}
	initData := telegram.SignInitData(fields, apptest.BotToken)

	t.Run("json", func(t *testing.T) {
		c := env.Client()
		r := c.Send("POST", "/tg/auth", "application/json", strings.NewReader(`{"initData":`+strconv.Quote(initData)+`}`))
		if r.Status != 200 || !strings.Contains(r.Body, `"redirect":"/app"`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		me := c.Get("/api/v1/me")
		if !strings.Contains(me.Body, `"telegram_id":7001`) || !strings.Contains(me.Body, `"language":"en"`) {
			t.Fatalf("me: %s", me.Body)
		}
		s, err := env.App.DB.Session.Query().Where(session.HasMemberWith(member.TelegramID(7001))).Only(context.Background())
		apptest.Must(t, err)
		if s.Channel != session.ChannelTg {
			t.Fatalf("channel %s", s.Channel)
		}
	})
	t.Run("form", func(t *testing.T) {
		c := env.Client()
		r := c.Post("/tg/auth", url.Values{"initData": {initData}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		c := env.Client()
		bad := strings.Replace(initData, "Daniyar", "Mallory", 1)
		r := c.Send("POST", "/tg/auth", "application/json", strings.NewReader(`{"initData":`+strconv.Quote(bad)+`}`))
		if r.Status != http.StatusUnauthorized || c.Cookie("ikra_session") != "" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("without csrf", func(t *testing.T) {
		c := env.Client()
		req, _ := http.NewRequest("POST", env.URL("/tg/auth"), strings.NewReader(url.Values{"initData": {initData}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := c.Do(req); r.Status != http.StatusForbidden {
			t.Fatalf("status %d without a CSRF token", r.Status)
		}
	})
}

func TestSessionFixation(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	const planted = "attacker-chosen-session-id-0123456789abcdef"
	c.SetCookie("ikra_session", planted)
	if r := c.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
		t.Fatalf("a planted session ID was accepted: %d", r.Status)
	}
	c.SetCookie("ikra_session", planted)
	c.SignIn(5101, "Ерлан")
	first := c.Cookie("ikra_session")
	if first == "" || first == planted {
		t.Fatalf("sign-in kept the planted ID %q", first)
	}
	c.SignIn(5101, "Ерлан")
	second := c.Cookie("ikra_session")
	if second == first {
		t.Fatal("a second sign-in reused the session ID")
	}
	// The replaced session is dead: someone holding the old cookie is signed out.
	old := env.Client()
	old.SetCookie("ikra_session", first)
	if r := old.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
		t.Fatalf("old session still works: %d", r.Status)
	}
	if r := c.Get("/api/v1/me"); r.Status != 200 {
		t.Fatalf("new session: %d", r.Status)
	}
}

func TestSessionsListedAndRevocable(t *testing.T) {
	env := apptest.New(t)
	phone, laptop := env.Client(), env.Client()
	phone.SignIn(5201, "Асель")
	laptop.SignIn(5201, "Асель")
	var list struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	r := phone.Get("/api/v1/sessions")
	apptest.Must(t, json.Unmarshal([]byte(r.Body), &list))
	if len(list.Sessions) != 2 {
		t.Fatalf("sessions: %s", r.Body)
	}
	var other string
	for _, s := range list.Sessions {
		if !s.Current {
			other = s.ID
		}
	}
	// Another member cannot revoke it.
	stranger := env.Client()
	stranger.SignIn(5202, "Bob")
	if r := stranger.Send("DELETE", "/api/v1/sessions/"+other, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("stranger revoked a session: %d", r.Status)
	}
	page := phone.Get("/app/settings")
	if !strings.Contains(page.Body, "/app/sessions/"+other+"/revoke") {
		t.Fatal("settings page does not offer to end the other session")
	}
	if r := phone.Post("/app/sessions/"+other+"/revoke", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := laptop.Get("/app"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("revoked device still in: %d", r.Status)
	}
	if r := phone.Get("/app"); r.Status != 200 {
		t.Fatalf("current device signed out: %d", r.Status)
	}
	// Logout ends this device's session.
	if r := phone.Post("/logout", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("logout %d", r.Status)
	}
	if r := phone.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", r.Status)
	}
}

func TestUnauthenticatedPagesRedirectToLogin(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	for _, p := range []string{"/app", "/partner", "/admin", "/app/settings"} {
		r := c.Get(p)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next="+p {
			t.Errorf("%s: %d → %q", p, r.Status, r.Header.Get("Location"))
		}
	}
	r := c.Get("/api/v1/me")
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, `"code":"unauthorized"`) {
		t.Errorf("api: %d %s", r.Status, r.Body)
	}
	login := c.Get("/login")
	if !strings.Contains(login.Body, `data-telegram-login="ikra_test_bot"`) || !strings.Contains(login.Body, "/auth/telegram") {
		t.Errorf("login page has no Login Widget: %s", login.Body)
	}
	if r := c.Get("/auth/demo"); r.Status != http.StatusNotFound {
		t.Errorf("/auth/demo without demo mode: %d", r.Status)
	}
}
