package web_test

import (
	"context"
	"encoding/json"
	"ikra/app/apptest/tgfake"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/auth/telegram"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/ent/termsacceptance"
)

// fakeBotAPI records the Bot API calls the platform makes.
type fakeBotAPI struct {
	mu    sync.Mutex
	calls []map[string]any
	srv   *httptest.Server
}

func newFakeBotAPI(t *testing.T) *fakeBotAPI {
	f := &fakeBotAPI{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call, _ := tgfake.ReadCall(r)
		m := call.Params
		m["_path"] = r.URL.Path
		f.mu.Lock()
		f.calls = append(f.calls, m)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true,"result":{}}`)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBotAPI) last() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return nil
	}
	return f.calls[len(f.calls)-1]
}

func TestBotWebhook(t *testing.T) {
	api := newFakeBotAPI(t)
	const secret = "hook-secret-123"
	env := apptest.New(t, apptest.WithEnv("TELEGRAM_API_URL", api.srv.URL), apptest.WithEnv("TELEGRAM_WEBHOOK_SECRET", secret))
	post := func(path, header, body string) int {
		req, _ := http.NewRequest("POST", env.URL(path), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", header)
		}
		resp, err := http.DefaultClient.Do(req)
		apptest.Must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	start := `{"update_id":1,"message":{"message_id":5,"from":{"id":4401,"first_name":"Мадина","username":"madina","language_code":"ru"},"chat":{"id":4401,"type":"private"},"text":"/start ref_ABCD2345"}}`
	if s := post("/telegram/webhook/"+secret, "wrong", start); s != http.StatusNotFound {
		t.Fatalf("wrong header secret: %d", s)
	}
	if s := post("/telegram/webhook/wrong", secret, start); s != http.StatusNotFound {
		t.Fatalf("wrong path secret: %d", s)
	}
	if s := post("/telegram/webhook/"+secret, secret, start); s != http.StatusOK {
		t.Fatalf("start: %d", s)
	}
	ctx := context.Background()
	m, err := env.App.DB.Member.Query().Where(member.TelegramID(4401)).Only(ctx)
	apptest.Must(t, err)
	if m.FirstName != "Мадина" {
		t.Fatalf("member %+v", m)
	}
	n, err := env.App.DB.TermsAcceptance.Query().Where(termsacceptance.MemberID(m.ID), termsacceptance.ChannelEQ(termsacceptance.ChannelBot)).Count(ctx)
	apptest.Must(t, err)
	if n != 2 {
		t.Fatalf("terms accepted through the bot: %d", n)
	}
	call := api.last()
	if call == nil || !strings.HasSuffix(call["_path"].(string), "/sendMessage") || call["chat_id"] != "4401" ||
		!strings.Contains(call["text"].(string), "Добро пожаловать") {
		t.Fatalf("welcome message: %v", call)
	}
	markup, _ := json.Marshal(call["reply_markup"])
	if !strings.Contains(string(markup), env.Config.BaseURL+"/tg") {
		t.Fatalf("no Mini App button: %s", markup)
	}
	// The same update delivered again registers nobody twice.
	if s := post("/telegram/webhook/"+secret, secret, start); s != http.StatusOK {
		t.Fatalf("repeat: %d", s)
	}
	if c, _ := env.App.DB.Member.Query().Where(member.TelegramID(4401)).Count(ctx); c != 1 {
		t.Fatalf("%d members", c)
	}
	// A shared contact is answered and discarded: no phone number is kept anywhere.
	contact := `{"update_id":2,"message":{"message_id":6,"from":{"id":4401,"first_name":"Мадина"},"chat":{"id":4401,"type":"private"},"contact":{"phone_number":"+77010000000","first_name":"Мадина","user_id":4401}}}`
	if s := post("/telegram/webhook/"+secret, secret, contact); s != http.StatusOK {
		t.Fatalf("contact: %d", s)
	}
	if call := api.last(); !strings.Contains(call["text"].(string), "не храним") {
		t.Fatalf("contact reply: %v", call)
	}
	var dump strings.Builder
	rows, err := env.App.DB.SQL.QueryContext(ctx, "SELECT first_name, last_name, username, photo_url FROM members")
	apptest.Must(t, err)
	for rows.Next() {
		var a, b, c, d string
		apptest.Must(t, rows.Scan(&a, &b, &c, &d))
		dump.WriteString(a + b + c + d)
	}
	rows.Close()
	if strings.Contains(dump.String(), "7701") {
		t.Fatal("a phone number was stored")
	}
}

// Registering through the bot's /start greets the member with the same welcome
// notification as the web, once, in their language; signing in on the web later adds
// no second one.
func TestBotStartCreatesWelcomeNotification(t *testing.T) {
	api := newFakeBotAPI(t)
	const secret = "hook-secret-456"
	env := apptest.New(t, apptest.WithEnv("TELEGRAM_API_URL", api.srv.URL), apptest.WithEnv("TELEGRAM_WEBHOOK_SECRET", secret))
	start := `{"update_id":9,"message":{"message_id":5,"from":{"id":4402,"first_name":"Dana","language_code":"en"},"chat":{"id":4402,"type":"private"},"text":"/start"}}`
	for range 2 {
		req, _ := http.NewRequest("POST", env.URL("/telegram/webhook/"+secret), strings.NewReader(start))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		apptest.Must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("start: %d", resp.StatusCode)
		}
	}
	env.Client().SignIn(4402, "Dana")
	ctx := context.Background()
	m, err := env.App.DB.Member.Query().Where(member.TelegramID(4402)).Only(ctx)
	apptest.Must(t, err)
	ns, err := env.App.DB.Notification.Query().Where(notification.MemberID(m.ID)).All(ctx)
	apptest.Must(t, err)
	if len(ns) != 1 || ns[0].Kind != "welcome" || ns[0].Title != "Welcome to IKRA" || !strings.Contains(ns[0].Body, "Dana") {
		t.Fatalf("notifications after /start: %+v", ns)
	}
}

// A member the bot registers (or one never onboarded) is offered the interests
// screen: the welcome message's button opens the Mini App at the welcome screen and
// the text says it can be skipped; once onboarded, /start opens the app as before.
func TestBotStartOffersWelcomeScreen(t *testing.T) {
	api := newFakeBotAPI(t)
	const secret = "hook-secret-456"
	env := apptest.New(t, apptest.WithEnv("TELEGRAM_API_URL", api.srv.URL), apptest.WithEnv("TELEGRAM_WEBHOOK_SECRET", secret))
	start := func(update int) map[string]any {
		t.Helper()
		body := `{"update_id":` + apptest.Itoa(update) + `,"message":{"message_id":5,"from":{"id":4471,"first_name":"Dana","language_code":"en"},"chat":{"id":4471,"type":"private"},"text":"/start"}}`
		req, _ := http.NewRequest("POST", env.URL("/telegram/webhook/"+secret), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		apptest.Must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("start: %d", resp.StatusCode)
		}
		return api.last()
	}
	buttons := func(call map[string]any) string {
		markup, _ := json.Marshal(call["reply_markup"])
		return string(markup)
	}
	welcomeURL := env.Config.BaseURL + "/tg?next=/app/welcome"
	call := start(1)
	if text, _ := call["text"].(string); !strings.Contains(text, "Welcome to IKRA, Dana") || !strings.Contains(text, "later in settings") {
		t.Fatalf("new member's welcome text: %v", call)
	}
	if b := buttons(call); !strings.Contains(b, `"url":"`+welcomeURL+`"`) || !strings.Contains(b, "Choose my interests") {
		t.Fatalf("new member's welcome button: %s", b)
	}
	// Not onboarded yet: /start again still offers the screen.
	if b := buttons(start(2)); !strings.Contains(b, welcomeURL) {
		t.Fatalf("a member not onboarded: %s", b)
	}
	// The button's page: the Mini App's sign-in goes on to the welcome screen, and so
	// does /tg once signed in.
	c := env.Client()
	initData := telegram.SignInitData(map[string]string{"user": `{"id":4471,"first_name":"Dana","language_code":"en"}`,
		"auth_date": strconv.FormatInt(time.Now().Unix(), 10), "chat_type": "private"}, apptest.BotToken)
	r := c.Send("POST", "/tg/auth?next=/app/welcome", "application/json", strings.NewReader(`{"initData":`+strconv.Quote(initData)+`}`))
	if r.Status != 200 || !strings.Contains(r.Body, `"redirect":"/app/welcome"`) {
		t.Fatalf("Mini App sign-in with next: %d %s", r.Status, r.Body)
	}
	if r := c.Get("/tg?next=/app/welcome"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app/welcome" {
		t.Fatalf("/tg with next: %d to %q", r.Status, r.Header.Get("Location"))
	}
	if r := c.Get("/tg?next=//evil.example"); r.Header.Get("Location") != "/app" {
		t.Fatalf("/tg with a foreign next: to %q", r.Header.Get("Location"))
	}
	if w := c.Get("/app/welcome"); w.Status != 200 || !strings.Contains(w.Body, "Skip") {
		t.Fatalf("welcome screen in the Mini App: %d", w.Status)
	}
	if r := c.Post("/app/welcome", url.Values{"skip": {"1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("skip: %d", r.Status)
	}
	call = start(3)
	if b := buttons(call); strings.Contains(b, "next=") || !strings.Contains(b, env.Config.BaseURL+"/tg") || !strings.Contains(call["text"].(string), "Welcome back") {
		t.Fatalf("an onboarded member's /start: %v %s", call["text"], b)
	}
}
