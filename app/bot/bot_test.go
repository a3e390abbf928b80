package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/apptest/tgfake"
	"ikra/app/zone"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/member"
	"ikra/ent/referral"
)

const secret = "bot-test-secret"

// chat drives the bot as one Telegram user would: it posts updates to the webhook,
// the path Telegram takes, and reads what the bot sent to the fake Bot API.
type chat struct {
	t    *testing.T
	env  *apptest.Env
	api  *tgfake.Server
	id   int64
	name string
	lang string
}

var updateSeq atomic.Int64

func newWorld(t testing.TB, opts ...apptest.Option) (*apptest.Env, *tgfake.Server) {
	api := tgfake.Start(t, apptest.BotToken)
	opts = append([]apptest.Option{apptest.WithEnv("TELEGRAM_API_URL", api.URL), apptest.WithEnv("TELEGRAM_WEBHOOK_SECRET", secret)}, opts...)
	return apptest.New(t, opts...), api
}

func (c *chat) post(env *apptest.Env, u map[string]any) int {
	c.t.Helper()
	body, _ := json.Marshal(u)
	req, _ := http.NewRequest("POST", env.URL("/telegram/webhook/"+env.Config.WebhookSecret), strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", env.Config.WebhookSecret)
	resp, err := http.DefaultClient.Do(req)
	apptest.Must(c.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (c *chat) from() map[string]any {
	return map[string]any{"id": c.id, "is_bot": false, "first_name": c.name, "language_code": c.lang}
}

// say sends a text message and returns the bot's calls it caused.
func (c *chat) say(text string) []tgfake.Call {
	c.t.Helper()
	c.api.Reset()
	u := map[string]any{"update_id": updateSeq.Add(1), "message": map[string]any{
		"message_id": updateSeq.Load(), "date": time.Now().Unix(), "from": c.from(),
		"chat": map[string]any{"id": c.id, "type": "private"}, "text": text}}
	if s := c.post(c.env, u); s != http.StatusOK {
		c.t.Fatalf("%q: webhook answered %d", text, s)
	}
	return c.api.Calls()
}

// tap presses a callback button on message msgID.
func (c *chat) tap(data string, msgID int64) []tgfake.Call {
	c.t.Helper()
	c.api.Reset()
	u := map[string]any{"update_id": updateSeq.Add(1), "callback_query": map[string]any{
		"id": "cq" + strconv.FormatInt(updateSeq.Load(), 10), "from": c.from(), "chat_instance": "1", "data": data,
		"message": map[string]any{"message_id": msgID, "date": time.Now().Unix(), "chat": map[string]any{"id": c.id, "type": "private"}, "text": "…"}}}
	if s := c.post(c.env, u); s != http.StatusOK {
		c.t.Fatalf("tap %q: webhook answered %d", data, s)
	}
	return c.api.Calls()
}

// shown is the message a step showed (sent, edited or a photo), failing without one.
func shown(t *testing.T, calls []tgfake.Call) tgfake.Call {
	t.Helper()
	for _, c := range calls {
		switch c.Method {
		case "sendMessage", "editMessageText", "sendPhoto":
			return c
		}
	}
	t.Fatalf("nothing shown; calls %+v", calls)
	return tgfake.Call{}
}

func text(c tgfake.Call) string { return c.Str("text") + c.Str("caption") }

func button(t *testing.T, c tgfake.Call, prefix string) string {
	t.Helper()
	b, ok := c.Button(prefix)
	if !ok {
		t.Fatalf("no %q button in %s: %v", prefix, text(c), c.Buttons())
	}
	return b["callback_data"]
}

func TestJoinByFriendsLinkBrowseAndBook(t *testing.T) {
	env, api := newWorld(t)
	ctx := context.Background()
	var err error
	place := env.Place()
	p := env.Partner(place, "Кофейня «Зерно»")
	o := env.Offer(place, p.ID, "Капучино в подарок", func(c *ent.OfferCreate) { c.SetSummary("Второй кофе — от нас").SetCashbackBp(550) })

	// The offer's cover image goes out as the card's photo.
	img := []byte("\x89PNG\r\n\x1a\n-offer-cover-bytes-for-the-test")
	key := fmt.Sprintf("offers/%d/cover.png", o.ID)
	apptest.Must(t, env.App.Media.Put(ctx, key, bytes.NewReader(img), int64(len(img)), "image/png"))
	_, err = env.App.DB.OfferMedia.Create().SetOfferID(o.ID).SetKey(key).SetContentType("image/png").SetSize(int64(len(img))).Save(ctx)
	apptest.Must(t, err)

	friend := &chat{t: t, env: env, api: api, id: 5100001, name: "Айгерим", lang: "ru"}
	friend.say("/start")
	inviter, err := env.App.DB.Member.Query().Where(member.TelegramID(friend.id)).Only(ctx)
	apptest.Must(t, err)

	me := &chat{t: t, env: env, api: api, id: 5100002, name: "Дана", lang: "ru"}
	welcome := shown(t, me.say("/start ref_"+inviter.ReferralCode))
	if !strings.Contains(text(welcome), "Дана") || !strings.Contains(text(welcome), env.Config.BaseURL+"/terms") {
		t.Fatalf("welcome without the name or the terms link: %s", text(welcome))
	}
	m, err := env.App.DB.Member.Query().Where(member.TelegramID(me.id)).Only(ctx)
	apptest.Must(t, err)
	if n, _ := env.App.DB.Referral.Query().Where(referral.InviteeID(m.ID), referral.ReferrerID(inviter.ID)).Count(ctx); n != 1 {
		t.Fatalf("referral not attributed: %d rows", n)
	}
	if bal, _ := env.App.Loyalty.Ledger().Balance(ctx, m.ID); bal.Available+bal.Pending > 0 &&
		!strings.Contains(text(welcome), strconv.FormatInt(bal.Available+bal.Pending, 10)) {
		t.Errorf("welcome bonus %d not in the welcome: %s", bal.Available+bal.Pending, text(welcome))
	}
	menu := button(t, welcome, "cat:")

	// Browse: the personal selection lists the offer; its card has the Book button.
	list := shown(t, me.tap(menu, 200))
	if list.Method != "editMessageText" || list.Int("message_id") != 200 {
		t.Errorf("the catalog should replace the menu message, got %s on %d", list.Method, list.Int("message_id"))
	}
	card := shown(t, me.tap(button(t, list, "of:"+strconv.Itoa(o.ID)), 200))
	if !strings.Contains(text(card), "Капучино в подарок") || !strings.Contains(text(card), "5,5") {
		t.Fatalf("offer card: %s", text(card))
	}
	if card.Method != "sendPhoto" || !bytes.Equal(card.Files["photo"], img) {
		t.Fatalf("offer card sent by %s with a %d-byte photo", card.Method, len(card.Files["photo"]))
	}
	ask := shown(t, me.tap(button(t, card, "bn:"), 201))
	confirm := button(t, ask, "bo:")
	// A comment with a date, typed after "Comment or date".
	shown(t, me.tap(button(t, ask, "bc:"), 202))
	day := time.Now().AddDate(0, 0, 3).In(loyaltyZone())
	again := shown(t, me.say(day.Format("02.01.2006")+" столик у окна"))
	if !strings.Contains(text(again), "столик у окна") || !strings.Contains(text(again), day.Format("02.01.2006")) {
		t.Fatalf("the confirmation does not repeat the note: %s", text(again))
	}
	done := me.tap(confirm, 203)
	b, err := env.App.DB.Booking.Query().Where(booking.MemberID(m.ID)).Only(ctx)
	apptest.Must(t, err)
	if b.OfferID != o.ID || b.Channel != booking.ChannelBot || b.Note != "столик у окна" || b.VisitAt == nil || b.VisitAt.In(loyaltyZone()).Format("02.01") != day.Format("02.01") {
		t.Fatalf("booking %+v", b)
	}
	if !strings.Contains(text(shown(t, done)), b.Code) {
		t.Errorf("the code is not shown after booking: %s", text(shown(t, done)))
	}
	// The same confirmation tapped again books nothing more.
	me.tap(confirm, 203)
	if n, _ := env.App.DB.Booking.Query().Where(booking.MemberID(m.ID)).Count(ctx); n != 1 {
		t.Fatalf("a second tap made %d bookings", n)
	}
	// /bookings lists the code; the QR comes as a photo.
	mine := shown(t, me.say("/bookings"))
	if !strings.Contains(text(mine), b.Code) {
		t.Fatalf("/bookings without the code: %s", text(mine))
	}
	qr := shown(t, me.tap(button(t, mine, "qr:"), 300))
	if qr.Method != "sendPhoto" || len(qr.Files["photo"]) < 100 || !strings.Contains(text(qr), b.Code) {
		t.Fatalf("QR: %s with %d bytes", qr.Method, len(qr.Files["photo"]))
	}
	// The partner's staff were told through the outbox, not by the bot directly.
	if n, _ := env.App.DB.Notification.Query().Count(ctx); n == 0 {
		t.Error("no notification written for the booking")
	}
}

func loyaltyZone() *time.Location { return zone.Almaty }

func TestBalanceInviteLanguageAndOfferLink(t *testing.T) {
	env, api := newWorld(t)
	place := env.Place()
	p := env.Partner(place, "Спа")
	o := env.Offer(place, p.ID, "Массаж", func(c *ent.OfferCreate) { c.SetPriceBonus(100) })
	me := &chat{t: t, env: env, api: api, id: 5200001, name: "Ержан", lang: "kk"}

	// offer_ID opens the offer after the welcome.
	calls := me.say("/start offer_" + strconv.Itoa(o.ID))
	var card tgfake.Call
	for _, c := range calls {
		if strings.Contains(text(c), "Массаж") {
			card = c
		}
	}
	if card.Method == "" || !strings.Contains(text(card), "100") {
		t.Fatalf("/start offer_ did not open the offer: %+v", calls)
	}
	bal := shown(t, me.say("/balance"))
	if !strings.Contains(text(bal), "Қолжетімді") {
		t.Fatalf("/balance in Kazakh: %s", text(bal))
	}
	inv := shown(t, me.say("/invite"))
	m, _ := env.App.DB.Member.Query().Where(member.TelegramID(me.id)).Only(context.Background())
	if !strings.Contains(text(inv), "https://t.me/ikra_test_bot?start=ref_"+m.ReferralCode) {
		t.Fatalf("/invite link: %s", text(inv))
	}
	if b, ok := inv.Button("https://t.me/share"); ok || b != nil {
		t.Log("share button found by text") // share is a URL button
	}
	found := false
	for _, row := range inv.Buttons() {
		for _, b := range row {
			found = found || strings.HasPrefix(b["url"], "https://t.me/share/url?url=")
		}
	}
	if !found {
		t.Fatalf("no share button: %v", inv.Buttons())
	}
	// /lang → English: the bot answers in English from then on.
	shown(t, me.tap("lg:en", 400))
	if got, _ := env.App.DB.Member.Get(context.Background(), m.ID); got.Language != "en" {
		t.Fatalf("language %q", got.Language)
	}
	if bal := shown(t, me.say("/balance")); !strings.Contains(text(bal), "Available") {
		t.Fatalf("/balance after switching to English: %s", text(bal))
	}
}

func TestSameUpdateTwiceOnTwoNodesIsHandledOnce(t *testing.T) {
	env, api := newWorld(t)
	other := apptest.New(t, apptest.Join(env))
	me := &chat{t: t, env: env, api: api, id: 5300001, name: "Асель", lang: "ru"}
	u := map[string]any{"update_id": updateSeq.Add(1), "message": map[string]any{
		"message_id": 1, "date": time.Now().Unix(), "from": me.from(),
		"chat": map[string]any{"id": me.id, "type": "private"}, "text": "/balance"}}
	shown(t, me.say("/start"))
	api.Reset()
	var wg sync.WaitGroup
	for _, e := range []*apptest.Env{env, other, env, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s := me.post(e, u); s != http.StatusOK {
				t.Errorf("webhook %d", s)
			}
		}()
	}
	wg.Wait()
	if n := len(api.Calls("sendMessage")); n != 1 {
		t.Fatalf("one update delivered 4 times over 2 nodes answered %d times", n)
	}
}

func TestBlockedMemberGetsTheBlockMessage(t *testing.T) {
	env, api := newWorld(t)
	me := &chat{t: t, env: env, api: api, id: 5400001, name: "Тимур", lang: "ru"}
	shown(t, me.say("/start"))
	_, err := env.App.DB.Member.Update().Where(member.TelegramID(me.id)).SetStatus(member.StatusBlocked).Save(context.Background())
	apptest.Must(t, err)
	for _, cmd := range []string{"/balance", "/start", "/catalog", "привет"} {
		if got := shown(t, me.say(cmd)); !strings.Contains(text(got), "заблокирован") || len(got.Buttons()) != 0 {
			t.Fatalf("%s from a blocked member: %s %v", cmd, text(got), got.Buttons())
		}
	}
	calls := me.tap("cat:0:0", 10)
	if len(calls) != 1 || calls[0].Method != "answerCallbackQuery" || !strings.Contains(calls[0].Str("text"), "заблокирован") {
		t.Fatalf("a blocked member's button: %+v", calls)
	}
}

func TestWrongWebhookSecretIsRefused(t *testing.T) {
	env, api := newWorld(t)
	for _, tc := range []struct{ path, header string }{
		{"/telegram/webhook/" + secret, "wrong"},
		{"/telegram/webhook/" + secret, ""},
		{"/telegram/webhook/wrong", secret},
	} {
		req, _ := http.NewRequest("POST", env.URL(tc.path), strings.NewReader(`{"update_id":1,"message":{"message_id":1,"from":{"id":1,"first_name":"X"},"chat":{"id":1,"type":"private"},"text":"/start"}}`))
		if tc.header != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		apptest.Must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s with header %q: %d", tc.path, tc.header, resp.StatusCode)
		}
	}
	if n := len(api.Calls()); n != 0 {
		t.Fatalf("a refused update was answered: %d calls", n)
	}
	if n, _ := env.App.DB.Member.Query().Count(context.Background()); n != 0 {
		t.Fatalf("a refused update registered %d members", n)
	}
}

// TestPolling runs the bot on long polling against the fake: it drops any webhook,
// sets its commands and answers what getUpdates brings.
func TestPolling(t *testing.T) {
	env, api := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.App.BotUI.Poll(ctx) }()
	api.Feed(map[string]any{"update_id": int64(900001), "message": map[string]any{"message_id": 1, "date": time.Now().Unix(),
		"from": map[string]any{"id": 5500001, "first_name": "Polly", "language_code": "en"},
		"chat": map[string]any{"id": 5500001, "type": "private"}, "text": "/start"}})
	got := api.Wait(t, 10*time.Second, func(c tgfake.Call) bool { return c.Str("chat_id") == "5500001" }, "sendMessage")
	if !strings.Contains(text(got), "Polly") {
		t.Fatalf("polled /start answered %q", text(got))
	}
	cancel()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("Poll did not stop")
	}
	if len(api.Calls("deleteWebhook")) != 1 || len(api.Calls("setMyCommands")) == 0 {
		t.Errorf("setup calls: %d deleteWebhook, %d setMyCommands", len(api.Calls("deleteWebhook")), len(api.Calls("setMyCommands")))
	}
	_ = fmt.Sprint
}

// TestWebhookSetup: behind https the bot registers its webhook with the secret, the
// command menu in every language and the menu button that opens the Mini App.
func TestWebhookSetup(t *testing.T) {
	env, api := newWorld(t, apptest.WithEnv("IKRA_BASE_URL", "https://ikra.example"), apptest.WithEnv("TELEGRAM_WEBHOOK_SECRET", ""))
	if !env.Config.BotWebhook() {
		t.Fatal("https base URL without webhook mode")
	}
	apptest.Must(t, env.App.BotUI.Setup(context.Background(), env.Config.WebhookSecret))
	hook := api.Calls("setWebhook")
	if len(hook) != 1 || hook[0].Str("url") != "https://ikra.example/telegram/webhook/"+env.Config.WebhookSecret ||
		hook[0].Str("secret_token") != env.Config.WebhookSecret || !strings.Contains(hook[0].Str("allowed_updates"), "callback_query") {
		t.Fatalf("setWebhook %+v", hook)
	}
	langs := map[string]bool{}
	for _, c := range api.Calls("setMyCommands") {
		langs[c.Str("language_code")] = strings.Contains(c.Str("commands"), "catalog")
	}
	if !langs[""] || !langs["ru"] || !langs["en"] || !langs["kk"] {
		t.Errorf("command menus: %v", langs)
	}
	menu := api.Calls("setChatMenuButton")
	if len(menu) != 1 || !strings.Contains(menu[0].Str("menu_button"), `"url":"https://ikra.example/tg"`) {
		t.Fatalf("menu button %+v", menu)
	}
	// A member's Mini App buttons are web_app buttons on https.
	me := &chat{t: t, env: env, api: api, id: 5600001, name: "Web", lang: "en"}
	welcome := shown(t, me.say("/start"))
	found := false
	for _, row := range welcome.Buttons() {
		for _, b := range row {
			found = found || b["web_app.url"] == "https://ikra.example/tg"
		}
	}
	if !found {
		t.Fatalf("no Mini App (web_app) button on https: %v", welcome.Buttons())
	}
}
