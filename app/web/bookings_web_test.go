package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/members"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/ent/offer"
)

// bookingWorld is a partner with a cashier and an offer, and members to book it.
type bookingWorld struct {
	env   *apptest.Env
	ctx   context.Context
	place apptest.Place
	p     *ent.Partner
}

func newBookingWorld(t *testing.T) *bookingWorld {
	env := apptest.New(t)
	w := &bookingWorld{env: env, ctx: context.Background()}
	w.place = env.Place()
	w.p = env.Partner(w.place, "Partner A")
	return w
}

// staff signs in a member who works for p in role.
func (w *bookingWorld) staff(t *testing.T, p *ent.Partner, tgID int64, role string) *apptest.Client {
	t.Helper()
	_, m := w.env.Member(tgID, role)
	_, err := w.env.App.Staff.Grant(w.ctx, audit.Entry{ActorRole: "test"}, m.ID, role, &p.ID)
	apptest.Must(t, err)
	c := w.env.Client()
	c.SignIn(tgID, role)
	return c
}

func (w *bookingWorld) t(key string, args ...any) string {
	return html.EscapeString(w.env.App.Catalog.T("ru", key, args...))
}

func (w *bookingWorld) notes(t *testing.T, memberID int, kind string) int {
	t.Helper()
	n, err := w.env.App.DB.Notification.Query().Where(notification.MemberID(memberID), notification.Kind(kind)).Count(w.ctx)
	apptest.Must(t, err)
	return n
}

func (w *bookingWorld) status(t *testing.T, id int) booking.Status {
	t.Helper()
	b, err := w.env.App.DB.Booking.Get(w.ctx, id)
	apptest.Must(t, err)
	return b.Status
}

// book books the offer through the offer page's form and returns the booking.
func (w *bookingWorld) book(t *testing.T, c *apptest.Client, memberID int, o *ent.Offer, form url.Values) *ent.Booking {
	t.Helper()
	page := c.Get("/app/offers/" + apptest.Itoa(o.ID))
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `action="/app/offers/`+apptest.Itoa(o.ID)+`/book"`) ||
		!strings.Contains(page.Body, w.t("booking.book")) {
		t.Fatalf("offer page %d lacks the booking form", page.Status)
	}
	before, err := w.env.App.DB.Booking.Query().Where(booking.MemberID(memberID)).Count(w.ctx)
	apptest.Must(t, err)
	body := flash(t, c, c.Post("/app/offers/"+apptest.Itoa(o.ID)+"/book", form))
	if !strings.Contains(body, w.t("flash.booked")) {
		t.Fatalf("no confirmation after booking")
	}
	list, err := w.env.App.DB.Booking.Query().Where(booking.MemberID(memberID)).Order(ent.Desc(booking.FieldID)).All(w.ctx)
	apptest.Must(t, err)
	if len(list) != before+1 {
		t.Fatalf("%d bookings after booking, had %d", len(list), before)
	}
	return list[0]
}

// TestBookingJourney is the whole path through HTTP: the member books from the offer
// page, sees the code and QR; the cashier types the code, confirms and completes with
// 25 000 ₸; the pending cashback is exactly the rate, the referrer's share appears,
// both are told once; a retried completion changes nothing; after the window the
// reversal is refused and the job makes the bonuses available; a second deal is
// reversed within its window.
func TestBookingJourney(t *testing.T) {
	w := newBookingWorld(t)
	cashier := w.staff(t, w.p, 9301, "cashier")
	o := w.env.Offer(w.place, w.p.ID, "Ужин на двоих", func(c *ent.OfferCreate) { c.SetCashbackBp(500).SetPerMemberLimit(0) })
	_, referrer := w.env.Member(9302, "Referrer")
	_, _, err := w.env.App.Members.SignIn(w.ctx, members.Identity{TelegramID: 9303, FirstName: "Айгерим"}, "web", "ref_"+referrer.ReferralCode)
	apptest.Must(t, err)
	c, m := w.env.Member(9303, "Айгерим")

	day := time.Now().In(almatyZone()).AddDate(0, 0, 3).Format("2006-01-02")
	b := w.book(t, c, m.ID, o, url.Values{"comment": {"У окна"}, "date": {day}, "key": {"k-1"}})
	if b.Status != booking.StatusRequested || b.Note != "У окна" || b.VisitAt == nil {
		t.Fatalf("booking %+v", b)
	}
	list := c.Get("/app/bookings")
	for _, want := range []string{b.Code, "/app/bookings/" + apptest.Itoa(b.ID) + "/qr.png", w.t("booking.status.requested"), w.t("booking.cancel")} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("/app/bookings lacks %q", want)
		}
	}
	if qr := c.Get("/app/bookings/" + apptest.Itoa(b.ID) + "/qr.png"); qr.Status != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR: %d %s", qr.Status, qr.Header.Get("Content-Type"))
	}
	cashierID := memberIDOf(t, w.env, 9301)
	if w.notes(t, cashierID, "booking.new") != 1 {
		t.Fatalf("the cashier was not told about the request")
	}

	// A mistyped code keeps the cashier on the counter screen with a message.
	miss := cashier.Get("/partner/bookings?code=ZZZZ22")
	if miss.Status != http.StatusUnprocessableEntity || !strings.Contains(miss.Body, w.t("partner.bookings.not_found")) ||
		!strings.Contains(miss.Body, `name="code"`) || !strings.Contains(miss.Body, "ZZZZ22") {
		t.Fatalf("mistyped code: %d", miss.Status)
	}
	// The code as typed on a phone: lower case with a space.
	typed := strings.ToLower(b.Code[:3]) + " " + b.Code[3:]
	found := cashier.Get("/partner/bookings?code=" + url.QueryEscape(typed))
	if found.Status != http.StatusSeeOther || found.Header.Get("Location") != "/partner/bookings/"+b.Code {
		t.Fatalf("typed code: %d → %s", found.Status, found.Header.Get("Location"))
	}
	card := cashier.Get("/partner/bookings/" + b.Code)
	for _, want := range []string{"Айгерим", "Ужин на двоих", w.t("booking.status.requested"), w.t("booking.confirm")} {
		if !strings.Contains(card.Body, want) {
			t.Errorf("the card lacks %q", want)
		}
	}
	flash(t, cashier, cashier.Post("/partner/bookings/"+b.Code+"/confirm", nil))
	if w.status(t, b.ID) != booking.StatusConfirmed || w.notes(t, m.ID, "booking.confirmed") != 1 {
		t.Fatalf("after confirm: %s", w.status(t, b.ID))
	}
	// A malformed amount stays on the card with the field's error.
	if r := cashier.Post("/partner/bookings/"+b.Code+"/complete", url.Values{"amount": {"двадцать"}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, w.t("form.amount_invalid")) {
		t.Fatalf("malformed amount: %d", r.Status)
	}
	body := flash(t, cashier, cashier.Post("/partner/bookings/"+b.Code+"/complete", url.Values{"amount": {"25 000"}}))
	if !strings.Contains(body, w.t("flash.booking_completed")) || !strings.Contains(body, "25"+thin+"000 ₸") {
		t.Fatalf("completion page lacks the flash or the amount")
	}
	got, err := w.env.App.DB.Booking.Get(w.ctx, b.ID)
	apptest.Must(t, err)
	if got.Status != booking.StatusCompleted || got.DealAmount != 25_000_00 {
		t.Fatalf("completed booking %+v", got)
	}
	bal := func(id int) (int64, int64) {
		b, err := w.env.App.Ledger.Balance(w.ctx, id)
		apptest.Must(t, err)
		return b.Available, b.Pending
	}
	if _, p := bal(m.ID); p != 1250 {
		t.Fatalf("member pending %d, want 1250 (5%% of 25 000 ₸)", p)
	}
	if _, p := bal(referrer.ID); p != 125 {
		t.Fatalf("referrer pending %d, want 125", p)
	}
	// Retried, the completion changes nothing.
	body = flash(t, cashier, cashier.Post("/partner/bookings/"+b.Code+"/complete", url.Values{"amount": {"25 000"}}))
	if !strings.Contains(body, w.t("flash.booking_transition")) {
		t.Errorf("a second completion does not say it is not possible")
	}
	if _, p := bal(m.ID); p != 1250 {
		t.Fatalf("member pending %d after a retry", p)
	}
	if w.notes(t, m.ID, "booking.completed") != 1 || w.notes(t, referrer.ID, "referral.reward") != 1 {
		t.Fatalf("notifications: member %d, referrer %d; want one each",
			w.notes(t, m.ID, "booking.completed"), w.notes(t, referrer.ID, "referral.reward"))
	}
	n, err := w.env.App.DB.Notification.Query().Where(notification.MemberID(m.ID), notification.Kind("booking.completed"),
		notification.BodyContains("1"+thin+"250 бонусов")).Count(w.ctx)
	apptest.Must(t, err)
	if n != 1 {
		t.Errorf("the completion notification does not name 1 250 бонусов")
	}
	// The member cannot cancel a completed booking.
	body = flash(t, c, c.Post("/app/bookings/"+apptest.Itoa(b.ID)+"/cancel", nil))
	if !strings.Contains(body, w.t("flash.booking_transition")) || w.status(t, b.ID) != booking.StatusCompleted {
		t.Fatalf("cancelling a completed booking")
	}

	// A second deal, reversed within its window: its cashback goes, the referrer's share with it.
	b2 := w.book(t, c, m.ID, o, url.Values{"key": {"k-2"}})
	flash(t, cashier, cashier.Post("/partner/bookings/"+b2.Code+"/confirm", nil))
	flash(t, cashier, cashier.Post("/partner/bookings/"+b2.Code+"/complete", url.Values{"amount": {"10000,50"}}))
	if _, p := bal(m.ID); p != 1250+500 {
		t.Fatalf("member pending %d after the second deal", p)
	}
	body = flash(t, cashier, cashier.Post("/partner/bookings/"+b2.Code+"/reverse", nil))
	if !strings.Contains(body, w.t("flash.booking_reversed")) || w.status(t, b2.ID) != booking.StatusReversed {
		t.Fatalf("reversal: %s", w.status(t, b2.ID))
	}
	if _, p := bal(m.ID); p != 1250 {
		t.Fatalf("member pending %d after the reversal", p)
	}
	if _, p := bal(referrer.ID); p != 125 {
		t.Fatalf("referrer pending %d after the reversal", p)
	}
	if w.notes(t, m.ID, "booking.reversed") != 1 {
		t.Fatalf("no reversal notification")
	}

	// After the window: no reversal; the job makes the cashback available.
	w.env.App.Ledger.SetClock(func() time.Time { return time.Now().Add(15 * 24 * time.Hour) })
	defer w.env.App.Ledger.SetClock(time.Now)
	body = flash(t, cashier, cashier.Post("/partner/bookings/"+b.Code+"/reverse", nil))
	if !strings.Contains(body, w.t("flash.booking_window_closed")) || w.status(t, b.ID) != booking.StatusCompleted {
		t.Fatalf("reversal after the window: %s", w.status(t, b.ID))
	}
	availM, _ := bal(m.ID)
	availR, _ := bal(referrer.ID)
	if _, err := w.env.App.Ledger.MatureDue(w.ctx, 100); err != nil {
		t.Fatal(err)
	}
	if a, p := bal(m.ID); a != availM+1250 || p != 0 {
		t.Fatalf("member after maturing: %d available (was %d), %d pending", a, availM, p)
	}
	if a, p := bal(referrer.ID); a != availR+125 || p != 0 {
		t.Fatalf("referrer after maturing: %d available (was %d), %d pending", a, availR, p)
	}
}

// TestBookingLifecycleHTTP: decline needs a reason; the member cancels a request and
// gets the reserved bonuses back; a declined booking cannot be completed.
func TestBookingLifecycleHTTP(t *testing.T) {
	w := newBookingWorld(t)
	manager := w.staff(t, w.p, 9311, "manager")
	o := w.env.Offer(w.place, w.p.ID, "Спа", func(c *ent.OfferCreate) { c.SetPriceBonus(1000).SetPerMemberLimit(0) })
	c, m := w.env.Member(9312, "Данияр")
	page := c.Get("/app/offers/" + apptest.Itoa(o.ID))
	if !strings.Contains(page.Body, "1"+thin+"000 бонус") {
		t.Errorf("the offer page does not say the price is reserved")
	}
	if r := c.Post("/app/offers/"+apptest.Itoa(o.ID)+"/book", url.Values{"date": {"2001-01-01"}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, w.t("form.date_invalid")) {
		t.Fatalf("a date in the past: %d", r.Status)
	}
	b := w.book(t, c, m.ID, o, url.Values{})
	if r := manager.Post("/partner/bookings/"+b.Code+"/decline", url.Values{"reason": {" "}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, w.t("form.reason_required")) {
		t.Fatalf("decline without a reason: %d", r.Status)
	}
	flash(t, manager, manager.Post("/partner/bookings/"+b.Code+"/decline", url.Values{"reason": {"Нет мест"}}))
	if w.status(t, b.ID) != booking.StatusDeclined || w.notes(t, m.ID, "booking.declined") != 1 {
		t.Fatalf("decline: %s", w.status(t, b.ID))
	}
	if !strings.Contains(c.Get("/app/bookings").Body, "Нет мест") {
		t.Errorf("the member does not see the reason")
	}
	body := flash(t, manager, manager.Post("/partner/bookings/"+b.Code+"/complete", url.Values{"amount": {"5000"}}))
	if !strings.Contains(body, w.t("flash.booking_transition")) || w.status(t, b.ID) != booking.StatusDeclined {
		t.Fatalf("completing a declined booking")
	}
	b2 := w.book(t, c, m.ID, o, url.Values{})
	if bal, _ := w.env.App.Ledger.Balance(w.ctx, m.ID); bal.Reserved != 1000 || bal.Available != 2000 {
		t.Fatalf("balance with one request: %+v", bal)
	}
	flash(t, c, c.Post("/app/bookings/"+apptest.Itoa(b2.ID)+"/cancel", nil))
	if bal, _ := w.env.App.Ledger.Balance(w.ctx, m.ID); bal.Reserved != 0 || bal.Available != 3000 || w.status(t, b2.ID) != booking.StatusCancelled {
		t.Fatalf("after cancelling: %+v, %s", bal, w.status(t, b2.ID))
	}

	// From the inbox: decline in place with a reason, confirm, and stay in the inbox.
	b3 := w.book(t, c, m.ID, o, url.Values{})
	inbox := manager.Get("/partner/bookings")
	if !strings.Contains(inbox.Body, `action="/partner/bookings/`+b3.Code+`/decline"`) {
		t.Fatal("the inbox has no decline form for the request")
	}
	r := manager.Post("/partner/bookings/"+b3.Code+"/decline", url.Values{"reason": {"Закрыто на ремонт"}, "from": {"inbox"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/partner/bookings" || w.status(t, b3.ID) != booking.StatusDeclined {
		t.Fatalf("decline from the inbox: %d %s, %s", r.Status, r.Header.Get("Location"), w.status(t, b3.ID))
	}
	b4 := w.book(t, c, m.ID, o, url.Values{})
	r = manager.Post("/partner/bookings/"+b4.Code+"/confirm", url.Values{"from": {"inbox"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/partner/bookings" || w.status(t, b4.ID) != booking.StatusConfirmed {
		t.Fatalf("confirm from the inbox: %d %s", r.Status, r.Header.Get("Location"))
	}

	// A reversed deal gives back the bonuses spent on it, with the cashback taken back.
	flash(t, manager, manager.Post("/partner/bookings/"+b4.Code+"/complete", url.Values{"amount": {"5000"}}))
	if bal, _ := w.env.App.Ledger.Balance(w.ctx, m.ID); bal.Available != 2000 || bal.Reserved != 0 {
		t.Fatalf("after completing a bonus-priced deal: %+v", bal)
	}
	flash(t, manager, manager.Post("/partner/bookings/"+b4.Code+"/reverse", nil))
	if bal, _ := w.env.App.Ledger.Balance(w.ctx, m.ID); bal.Available != 3000 || bal.Pending != 0 || w.status(t, b4.ID) != booking.StatusReversed {
		t.Fatalf("after reversing: %+v, %s", bal, w.status(t, b4.ID))
	}
	if page := c.Get("/app/bonuses"); !strings.Contains(page.Body, w.t("bonus.reason.refund")) {
		t.Error("the member's history does not show the refund")
	}
}

// TestBookingTenantIsolation: staff of partner B get 404 for partner A's bookings by
// code, typed or in the path, and for every action; a member gets 404 for another's.
func TestBookingTenantIsolation(t *testing.T) {
	w := newBookingWorld(t)
	pB := w.env.Partner(w.place, "Partner B")
	o := w.env.Offer(w.place, w.p.ID, "Ужин")
	c, m := w.env.Member(9321, "Owner of the booking")
	b := w.book(t, c, m.ID, o, url.Values{})
	for _, role := range []string{"owner", "cashier"} {
		other := w.staff(t, pB, int64(9330+len(role)), role)
		if r := other.Get("/partner/bookings/" + b.Code); r.Status != http.StatusNotFound || strings.Contains(r.Body, "Owner of the booking") ||
			!strings.Contains(r.Body, w.t("partner.bookings.not_found")) {
			t.Errorf("%s of B opens A's card: %d", role, r.Status)
		}
		if r := other.Get("/partner/bookings?code=" + b.Code); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s of B finds A's code: %d", role, r.Status)
		}
		for _, action := range []string{"confirm", "decline", "complete", "no-show", "reverse"} {
			if r := other.Post("/partner/bookings/"+b.Code+"/"+action, url.Values{"reason": {"x"}, "amount": {"100"}}); r.Status != http.StatusNotFound {
				t.Errorf("%s of B: %s on A's booking: %d", role, action, r.Status)
			}
		}
		if strings.Contains(other.Get("/partner/bookings").Body, b.Code) {
			t.Errorf("%s of B sees A's booking in the list", role)
		}
	}
	if w.status(t, b.ID) != booking.StatusRequested {
		t.Fatalf("status changed to %s", w.status(t, b.ID))
	}
	stranger, _ := w.env.Member(9340, "Stranger")
	id := apptest.Itoa(b.ID)
	for _, r := range []*apptest.Response{
		stranger.Get("/app/bookings/" + id + "/qr.png"),
		stranger.Post("/app/bookings/"+id+"/cancel", nil),
		stranger.Send("POST", "/api/v1/bookings/"+id+"/cancel", "", nil),
	} {
		if r.Status != http.StatusNotFound {
			t.Errorf("a stranger reaches another's booking: %d", r.Status)
		}
	}
}

// apiCall sends a JSON request with the client's CSRF token and optional headers.
func apiCall(t *testing.T, env *apptest.Env, c *apptest.Client, method, path string, body any, headers ...string) (*apptest.Response, map[string]any) {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, env.URL(path), rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.CSRF())
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	r := c.Do(req)
	var out map[string]any
	_ = json.Unmarshal([]byte(r.Body), &out)
	return r, out
}

func errorCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// TestBookingAPI: offers with cursor pages, booking with an Idempotency-Key, listing,
// cancelling, and JSON errors with the right statuses.
func TestBookingAPI(t *testing.T) {
	w := newBookingWorld(t)
	var offers []*ent.Offer
	for i := range 23 {
		offers = append(offers, w.env.Offer(w.place, w.p.ID, fmt.Sprint("Offer ", i)))
	}
	hidden := w.env.Offer(w.place, w.p.ID, "Draft", func(c *ent.OfferCreate) { c.SetStatus(offer.StatusDraft) })
	c, _ := w.env.Member(9351, "Api")

	seen := map[float64]bool{}
	next := ""
	for page := 0; page < 3; page++ {
		path := "/api/v1/offers"
		if next != "" {
			path += "?cursor=" + url.QueryEscape(next)
		}
		r, out := apiCall(t, w.env, c, "GET", path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
		items, _ := out["items"].([]any)
		for _, it := range items {
			id := it.(map[string]any)["id"].(float64)
			if seen[id] {
				t.Fatalf("offer %v on two pages", id)
			}
			seen[id] = true
		}
		n, _ := out["next"].(string)
		if n == "" {
			if out["next"] != nil {
				t.Fatalf("next is %v", out["next"])
			}
			break
		}
		next = n
	}
	if len(seen) != 23 || seen[float64(hidden.ID)] {
		t.Fatalf("%d offers listed (draft listed: %v)", len(seen), seen[float64(hidden.ID)])
	}
	if r, out := apiCall(t, w.env, c, "GET", "/api/v1/offers/"+apptest.Itoa(hidden.ID), nil); r.Status != http.StatusNotFound || errorCode(out) != "not_found" {
		t.Fatalf("a draft by ID: %d %v", r.Status, out)
	}
	if r, out := apiCall(t, w.env, c, "GET", "/api/v1/offers/"+apptest.Itoa(offers[0].ID), nil); r.Status != http.StatusOK || out["title"] != "Offer 0" {
		t.Fatalf("an offer by ID: %d %v", r.Status, out)
	}

	body := map[string]any{"offer_id": offers[0].ID, "comment": "hi", "date": time.Now().In(almatyZone()).Format("2006-01-02")}
	r, first := apiCall(t, w.env, c, "POST", "/api/v1/bookings", body, "Idempotency-Key", "abc-1")
	if r.Status != http.StatusCreated || first["code"] == "" || first["status"] != "requested" {
		t.Fatalf("booking: %d %v", r.Status, first)
	}
	r, again := apiCall(t, w.env, c, "POST", "/api/v1/bookings", body, "Idempotency-Key", "abc-1")
	if r.Status != http.StatusCreated || again["id"] != first["id"] || again["code"] != first["code"] {
		t.Fatalf("retry: %d %v, first %v", r.Status, again, first)
	}
	other := map[string]any{"offer_id": offers[1].ID}
	if r, out := apiCall(t, w.env, c, "POST", "/api/v1/bookings", other, "Idempotency-Key", "abc-1"); r.Status != http.StatusConflict || errorCode(out) != "conflict" {
		t.Fatalf("key reused: %d %v", r.Status, out)
	}
	if r, out := apiCall(t, w.env, c, "POST", "/api/v1/bookings", body); r.Status != http.StatusConflict || errorCode(out) != "booking_limit" {
		t.Fatalf("over the per-member limit: %d %v", r.Status, out)
	}
	if r, out := apiCall(t, w.env, c, "POST", "/api/v1/bookings", map[string]any{"offer_id": offers[1].ID, "date": "31.12.2030"}); r.Status != http.StatusUnprocessableEntity || errorCode(out) != "booking_date" {
		t.Fatalf("bad date: %d %v", r.Status, out)
	}
	if r, out := apiCall(t, w.env, c, "POST", "/api/v1/bookings", map[string]any{"offer_id": hidden.ID}); r.Status != http.StatusNotFound || errorCode(out) != "not_found" {
		t.Fatalf("booking a draft: %d %v", r.Status, out)
	}
	if r, _ := apiCall(t, w.env, c, "POST", "/api/v1/bookings", "not an object"); r.Status != http.StatusBadRequest {
		t.Fatalf("malformed body: %d", r.Status)
	}
	if n, _ := w.env.App.DB.Booking.Query().Count(w.ctx); n != 1 {
		t.Fatalf("%d bookings stored, want 1", n)
	}
	r, out := apiCall(t, w.env, c, "GET", "/api/v1/bookings", nil)
	items, _ := out["items"].([]any)
	if r.Status != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["code"] != first["code"] {
		t.Fatalf("list: %d %v", r.Status, out)
	}
	id := fmt.Sprint(first["id"])
	if r, out := apiCall(t, w.env, c, "POST", "/api/v1/bookings/"+id+"/cancel", nil); r.Status != http.StatusOK || out["status"] != "cancelled" {
		t.Fatalf("cancel: %d %v", r.Status, out)
	}
	if r, out := apiCall(t, w.env, c, "POST", "/api/v1/bookings/"+id+"/cancel", nil); r.Status != http.StatusConflict || errorCode(out) != "booking_transition" {
		t.Fatalf("cancel twice: %d %v", r.Status, out)
	}
	full := w.env.Offer(w.place, w.p.ID, "Full", func(c *ent.OfferCreate) { c.SetCapacity(1) })
	c2, _ := w.env.Member(9352, "Second")
	if r, _ := apiCall(t, w.env, c2, "POST", "/api/v1/bookings", map[string]any{"offer_id": full.ID}); r.Status != http.StatusCreated {
		t.Fatalf("first of capacity 1: %d", r.Status)
	}
	if r, out := apiCall(t, w.env, c, "POST", "/api/v1/bookings", map[string]any{"offer_id": full.ID}); r.Status != http.StatusConflict || errorCode(out) != "booking_full" {
		t.Fatalf("no places left: %d %v", r.Status, out)
	}
}

func almatyZone() *time.Location {
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		return time.FixedZone("ALMT", 5*3600)
	}
	return loc
}

func memberIDOf(t *testing.T, env *apptest.Env, tgID int64) int {
	t.Helper()
	m, err := env.App.DB.Member.Query().Where(member.TelegramID(tgID)).Only(context.Background())
	apptest.Must(t, err)
	return m.ID
}

// TestBookingPagesRunFixedQueries: the booking lists run as many statements with many
// bookings as with few (members, offers and partners are eager-loaded).
func TestBookingPagesRunFixedQueries(t *testing.T) {
	w := newBookingWorld(t)
	cashier := w.staff(t, w.p, 9361, "cashier")
	c, m := w.env.Member(9362, "Many")
	addBookings := func(n int) {
		for i := range n {
			o := w.env.Offer(w.place, w.p.ID, fmt.Sprint("O", i))
			_, err := w.env.App.Bookings.Request(w.ctx, m.ID, o.ID, "web", "", nil, "")
			apptest.Must(t, err)
		}
	}
	count := func(c *apptest.Client, path string) int64 {
		c.Get(path)
		before := w.env.App.DB.Statements()
		if r := c.Get(path); r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
		return w.env.App.DB.Statements() - before
	}
	addBookings(2)
	few := map[string]int64{}
	for _, p := range []string{"/app/bookings", "/api/v1/bookings"} {
		few[p] = count(c, p)
	}
	few["/partner/bookings"] = count(cashier, "/partner/bookings")
	addBookings(12)
	for p, n := range few {
		cl := c
		if strings.HasPrefix(p, "/partner") {
			cl = cashier
		}
		if got := count(cl, p); got != n {
			t.Errorf("%s ran %d statements with more rows, %d with few", p, got, n)
		}
	}
}
