package bot_test

import (
	"context"
	"encoding/json"
	"html"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/apptest/tgfake"
	"ikra/app/audit"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
	"ikra/ent/notification"
	"ikra/ent/offer"
	"ikra/ent/staff"
	"ikra/jobs"
)

// staffWorld is the whole app with a fake Bot API, two partners with an offer each,
// and people to book and to answer.
type staffWorld struct {
	t      *testing.T
	env    *apptest.Env
	fake   *tgfake.Server
	ctx    context.Context
	place  apptest.Place
	pA, pB *ent.Partner
	oA, oB *ent.Offer
	update atomic.Int64
}

func newStaffWorld(t *testing.T) *staffWorld {
	fake := tgfake.Start(t, apptest.BotToken)
	env := apptest.New(t, apptest.WithEnv("TELEGRAM_API_URL", fake.URL))
	if env.App.BotUI == nil {
		t.Fatal("the bot is off")
	}
	w := &staffWorld{t: t, env: env, fake: fake, ctx: context.Background()}
	w.place = env.Place()
	w.pA = env.Partner(w.place, "Кофейня «Арман»")
	w.pB = env.Partner(w.place, "Пекарня Б")
	w.oA = env.Offer(w.place, w.pA.ID, "Ужин на двоих", func(c *ent.OfferCreate) { c.SetCashbackBp(500).SetPerMemberLimit(0) })
	w.oB = env.Offer(w.place, w.pB.ID, "Круассаны", func(c *ent.OfferCreate) { c.SetCashbackBp(500).SetPerMemberLimit(0) })
	return w
}

// person is a member with a Telegram chat; with role set, they work for p.
func (w *staffWorld) person(tgID int64, name, lang, role string, p *ent.Partner) *ent.Member {
	w.t.Helper()
	_, m := w.env.Member(tgID, name)
	m, err := m.Update().SetLanguage(lang).Save(w.ctx)
	apptest.Must(w.t, err)
	if role != "" {
		_, err := w.env.App.Staff.Grant(w.ctx, audit.Entry{ActorRole: "test"}, m.ID, role, &p.ID)
		apptest.Must(w.t, err)
	}
	return m
}

// T is a bot text as it appears in a message (HTML-escaped).
func (w *staffWorld) T(m *ent.Member, key string, args ...any) string {
	return html.EscapeString(w.env.App.Catalog.T(m.Language, key, args...))
}

// handle posts one update to the bot as Telegram would.
func (w *staffWorld) handle(u map[string]any) {
	w.t.Helper()
	u["update_id"] = w.update.Add(1)
	raw, err := json.Marshal(u)
	apptest.Must(w.t, err)
	apptest.Must(w.t, w.env.App.BotUI.HandleUpdate(w.ctx, raw))
}

func from(m *ent.Member) map[string]any {
	return map[string]any{"id": *m.TelegramID, "first_name": m.FirstName, "language_code": "ru"}
}

// say sends text from the person's private chat and returns what the bot sent back.
func (w *staffWorld) say(m *ent.Member, text string) []tgfake.Call {
	w.t.Helper()
	w.fake.Reset()
	w.handle(map[string]any{"message": map[string]any{"message_id": 10, "date": time.Now().Unix(), "from": from(m),
		"chat": map[string]any{"id": *m.TelegramID, "type": "private"}, "text": text}})
	return w.fake.Calls("sendMessage", "editMessageText")
}

// tap presses a button with data on message msgID of the person's chat and returns the
// bot's calls.
func (w *staffWorld) tap(m *ent.Member, msgID int, data string) []tgfake.Call {
	w.t.Helper()
	w.fake.Reset()
	w.handle(map[string]any{"callback_query": map[string]any{"id": "cb" + apptest.Itoa64(w.update.Load()), "from": from(m),
		"chat_instance": "ci", "data": data,
		"message": map[string]any{"message_id": msgID, "date": time.Now().Unix(), "text": "…",
			"chat": map[string]any{"id": *m.TelegramID, "type": "private"}}}})
	return w.fake.Calls()
}

func texts(calls []tgfake.Call) string {
	var s []string
	for _, c := range calls {
		if t := c.Str("text"); t != "" {
			s = append(s, t)
		}
	}
	return strings.Join(s, "\n---\n")
}

func (w *staffWorld) wantText(calls []tgfake.Call, parts ...string) {
	w.t.Helper()
	got := texts(calls)
	for _, p := range parts {
		if !strings.Contains(got, p) {
			w.t.Fatalf("the bot's answer lacks %q; it said:\n%s", p, got)
		}
	}
}

func (w *staffWorld) book(m *ent.Member, o *ent.Offer) *ent.Booking {
	w.t.Helper()
	bk, err := w.env.App.Bookings.Request(w.ctx, m.ID, o.ID, "bot", "", nil, "")
	apptest.Must(w.t, err)
	return bk
}

func (w *staffWorld) status(id int) booking.Status {
	w.t.Helper()
	bk, err := w.env.App.DB.Booking.Get(w.ctx, id)
	apptest.Must(w.t, err)
	return bk.Status
}

// A cashier redeems a confirmed booking from the bot: /redeem, the code (typed in
// lower case), a wrong amount, then the amount. The booking is completed with the
// deal, and the member's cashback appears in the ledger and the balance. Another
// partner's code is not found, and the same code again shows it completed.
func TestCashierRedeemsFromBot(t *testing.T) {
	w := newStaffWorld(t)
	cashier := w.person(8101, "Айгерим", "ru", "cashier", w.pA)
	cashierB := w.person(8102, "Борис", "ru", "cashier", w.pB)
	client := w.person(8201, "Мадина", "ru", "", nil)
	bk := w.book(client, w.oA)
	_, err := w.env.App.Bookings.Confirm(w.ctx, w.pA.ID, bk.ID, cashier.ID)
	apptest.Must(t, err)
	other := w.book(client, w.oB)
	before, err := w.env.App.Ledger.Balance(w.ctx, client.ID)
	apptest.Must(t, err)

	w.wantText(w.say(cashier, "/redeem"), w.T(cashier, "bot.staff.ask_code"))
	// Partner B's code is not partner A's: the cashier is told, and may try again.
	w.wantText(w.say(cashier, other.Code), w.T(cashier, "bot.staff.code_not_found", other.Code))
	if w.status(other.ID) != booking.StatusRequested {
		t.Fatal("partner B's booking changed")
	}
	w.wantText(w.say(cashier, strings.ToLower(bk.Code)),
		"Ужин на двоих", w.T(cashier, "bot.staff.card", bk.Code, "Мадина", w.T(cashier, "booking.status.confirmed")),
		w.T(cashier, "bot.staff.ask_amount"))
	w.wantText(w.say(cashier, "сто тенге"), w.T(cashier, "bot.staff.bad_amount"))
	if w.status(bk.ID) != booking.StatusConfirmed {
		t.Fatal("a wrong amount completed the booking")
	}
	w.wantText(w.say(cashier, "10 000"), w.T(cashier, "bot.staff.completed", "10\u202f000 ₸"))

	done, err := w.env.App.DB.Booking.Get(w.ctx, bk.ID)
	apptest.Must(t, err)
	if done.Status != booking.StatusCompleted || done.DealAmount != 1_000_000 {
		t.Fatalf("booking after redeem: %s, deal %d tiyn", done.Status, done.DealAmount)
	}
	cb, err := w.env.App.DB.LedgerEntry.Query().Where(ledgerentry.MemberID(client.ID), ledgerentry.RefType("booking"),
		ledgerentry.RefID(apptest.Itoa(bk.ID)), ledgerentry.KindEQ("cashback")).Only(w.ctx)
	apptest.Must(t, err)
	after, err := w.env.App.Ledger.Balance(w.ctx, client.ID)
	apptest.Must(t, err)
	if cb.Amount <= 0 || after.Pending-before.Pending != cb.Amount {
		t.Fatalf("cashback %d; pending %d → %d", cb.Amount, before.Pending, after.Pending)
	}

	// The conversation is over: the same code again shows the booking completed.
	w.wantText(w.say(cashier, "/redeem "+bk.Code), w.T(cashier, "bot.staff.not_redeemable", w.T(cashier, "booking.status.completed")))
	// In one line, as offered while Redis is down.
	bk2 := w.book(client, w.oA)
	_, err = w.env.App.Bookings.Confirm(w.ctx, w.pA.ID, bk2.ID, cashier.ID)
	apptest.Must(t, err)
	w.wantText(w.say(cashier, "/redeem "+bk2.Code+" 2 500,50"), w.T(cashier, "bot.staff.completed", "2\u202f500,50 ₸"))
	if got, _ := w.env.App.DB.Booking.Get(w.ctx, bk2.ID); got.Status != booking.StatusCompleted || got.DealAmount != 250_050 {
		t.Fatalf("one-line redeem: %s, %d tiyn", got.Status, got.DealAmount)
	}
	// Partner B's cashier cannot reach partner A's booking.
	w.say(cashierB, "/redeem")
	w.wantText(w.say(cashierB, bk.Code), w.T(cashierB, "bot.staff.code_not_found", bk.Code))
	if n, _ := w.env.App.DB.LedgerEntry.Query().Where(ledgerentry.MemberID(client.ID), ledgerentry.RefID(apptest.Itoa(bk.ID)), ledgerentry.KindEQ("cashback")).Count(w.ctx); n != 1 {
		t.Fatalf("%d cashback entries", n)
	}
}

// A new request reaches a manager through the notification's delivery with Confirm and
// Decline buttons, in the manager's language; Confirm confirms it and edits the message
// to say who did; a second tap shows it already answered. Decline asks for a reason,
// and the typed reason declines the next request.
func TestManagerAnswersRequestFromNotification(t *testing.T) {
	w := newStaffWorld(t)
	manager := w.person(8301, "Ерлан", "kk", "manager", w.pA)
	client := w.person(8302, "Дана", "ru", "", nil)
	bk := w.book(client, w.oA)

	n, err := w.env.App.DB.Notification.Query().
		Where(notification.MemberID(manager.ID), notification.Kind("booking.new")).Only(w.ctx)
	apptest.Must(t, err)
	mux := jobs.NewMux(jobs.Deps{Notify: w.env.App.Notify, Bot: w.env.App.Bot, BaseURL: w.env.Config.BaseURL,
		Buttons: w.env.App.BotUI.NotificationButtons, Catalog: w.env.App.Catalog})
	w.fake.Reset()
	apptest.Must(t, mux.ProcessTask(w.ctx, jobs.NewDeliverNotification(n.ID)))
	sent := w.fake.Wait(t, 5*time.Second, func(c tgfake.Call) bool { return c.Str("chat_id") == "8301" }, "sendMessage")
	confirm, ok := sent.Button("st:bk:")
	if !ok || confirm["callback_data"] != "st:bk:"+apptest.Itoa(bk.ID)+":ok" || confirm["text"] != w.T(manager, "bot.staff.button_confirm") {
		t.Fatalf("the notification's buttons: %v", sent.Buttons())
	}

	calls := w.tap(manager, 555, confirm["callback_data"])
	if w.status(bk.ID) != booking.StatusConfirmed {
		t.Fatalf("booking after Confirm: %s", w.status(bk.ID))
	}
	var edited *tgfake.Call
	for i, c := range calls {
		if c.Method == "editMessageText" {
			edited = &calls[i]
		}
	}
	if edited == nil || edited.Int("message_id") != 555 || !strings.Contains(edited.Str("text"), w.T(manager, "bot.staff.confirmed_by", "Ерлан")) ||
		len(edited.Buttons()) != 0 {
		t.Fatalf("the message after Confirm: %v", calls)
	}
	// The same button again (another staff member's copy, an old message).
	w.wantText(w.tap(manager, 555, confirm["callback_data"]), w.T(manager, "bot.staff.already", w.T(manager, "booking.status.confirmed")))

	next := w.book(client, w.oA)
	w.wantText(w.tap(manager, 556, "st:bk:"+apptest.Itoa(next.ID)+":no"), w.T(manager, "bot.staff.ask_reason"))
	if w.status(next.ID) != booking.StatusRequested {
		t.Fatal("Decline declined before the reason")
	}
	w.wantText(w.say(manager, "Бүгін орын жоқ"), w.T(manager, "bot.staff.declined_by", "Ерлан", "Бүгін орын жоқ"))
	got, err := w.env.App.DB.Booking.Get(w.ctx, next.ID)
	apptest.Must(t, err)
	if got.Status != booking.StatusDeclined || got.DeclineReason != "Бүгін орын жоқ" {
		t.Fatalf("declined booking: %s %q", got.Status, got.DeclineReason)
	}
}

// Someone without a partner role is told so; a role Casbin gives no booking
// permission in the partner is refused both /redeem and the request's buttons, and the
// booking stays as it was; /partner lists a cashier's roles.
func TestStaffFlowsRefused(t *testing.T) {
	w := newStaffWorld(t)
	client := w.person(8401, "Дана", "ru", "", nil)
	for _, cmd := range []string{"/redeem", "/partner"} {
		w.wantText(w.say(client, cmd), w.T(client, "bot.staff.none"))
	}
	// A stranger who is not even a member.
	stranger := &ent.Member{FirstName: "Гость", Language: "ru"}
	stranger.TelegramID = new(int64)
	*stranger.TelegramID = 8499
	w.wantText(w.say(stranger, "/partner"), w.T(stranger, "bot.staff.none"))

	// A staff row whose role holds no permission in a partner's domain (a platform
	// role put at a partner): Casbin refuses.
	odd := w.person(8402, "Олжас", "ru", "", nil)
	_, err := w.env.App.DB.Staff.Create().SetMemberID(odd.ID).SetPartnerID(w.pA.ID).SetRole(staff.RoleSupport).Save(w.ctx)
	apptest.Must(t, err)
	apptest.Must(t, w.env.App.Authz.Reload(w.ctx))
	bk := w.book(client, w.oA)
	w.wantText(w.say(odd, "/redeem "+bk.Code), w.T(odd, "bot.staff.no_permission"))
	calls := w.tap(odd, 700, "st:bk:"+apptest.Itoa(bk.ID)+":ok")
	var alert bool
	for _, c := range calls {
		if c.Method == "answerCallbackQuery" && c.Str("show_alert") == "true" &&
			c.Str("text") == w.env.App.Catalog.T("ru", "bot.staff.no_permission") {
			alert = true
		}
	}
	if !alert || w.status(bk.ID) != booking.StatusRequested {
		t.Fatalf("a role without the permission tapped Confirm: %v, booking %s", calls, w.status(bk.ID))
	}

	cashier := w.person(8403, "Айгерим", "ru", "cashier", w.pA)
	w.wantText(w.say(cashier, "/partner"), w.T(cashier, "bot.staff.role_line", "Кофейня «Арман»", w.T(cashier, "role.cashier")),
		w.T(cashier, "bot.staff.roles_hint"))
}

// A moderation decision reaches the partner's owner and manager in Telegram (not the
// cashier), as a plain notification without booking buttons.
func TestModerationResultReachesOwnersAndManagers(t *testing.T) {
	w := newStaffWorld(t)
	owner := w.person(8501, "Сауле", "ru", "owner", w.pA)
	manager := w.person(8502, "Ерлан", "kk", "manager", w.pA)
	cashier := w.person(8503, "Айгерим", "ru", "cashier", w.pA)
	o := w.env.Offer(w.place, w.pA.ID, "Завтрак", func(c *ent.OfferCreate) { c.SetStatus(offer.StatusPending) })
	apptest.Must(t, w.env.App.PartnerOffers.Approve(w.ctx, audit.Entry{ActorRole: "test"}, "offer", o.ID))

	mux := jobs.NewMux(jobs.Deps{Notify: w.env.App.Notify, Bot: w.env.App.Bot, BaseURL: w.env.Config.BaseURL,
		Buttons: w.env.App.BotUI.NotificationButtons, Catalog: w.env.App.Catalog})
	ns, err := w.env.App.DB.Notification.Query().Where(notification.Kind("offer_moderated")).All(w.ctx)
	apptest.Must(t, err)
	w.fake.Reset()
	for _, n := range ns {
		apptest.Must(t, mux.ProcessTask(w.ctx, jobs.NewDeliverNotification(n.ID)))
	}
	chats := map[string]tgfake.Call{}
	for _, c := range w.fake.Calls("sendMessage") {
		chats[c.Str("chat_id")] = c
	}
	if len(chats) != 2 || chats[apptest.Itoa64(*cashier.TelegramID)].Method != "" {
		t.Fatalf("moderation result sent to chats %v", chats)
	}
	for _, m := range []*ent.Member{owner, manager} {
		c, ok := chats[apptest.Itoa64(*m.TelegramID)]
		if !ok || !strings.Contains(c.Str("text"), "Завтрак") {
			t.Fatalf("member %d got %v", m.ID, c.Params)
		}
		if _, ok := c.Button("st:"); ok {
			t.Fatalf("booking buttons under a moderation result: %v", c.Buttons())
		}
	}
}
