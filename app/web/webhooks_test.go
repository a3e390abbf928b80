package web_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/webhooks"
	"ikra/ent"
	"ikra/ent/webhookdelivery"
)

// receiver is a partner's system: it records every webhook request and answers with
// the statuses it is given, then 200.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []received
	plan []int
}

type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, plan ...int) *receiver {
	r := &receiver{plan: plan}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{at: time.Now(), header: req.Header.Clone(), body: b})
		status := http.StatusOK
		if len(r.plan) > 0 {
			status, r.plan = r.plan[0], r.plan[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the first n requests once they have arrived.
func (r *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		got := append([]received(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got[:n]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhook requests arrived, want %d", len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// event is a delivery's body as a receiver reads it.
type event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      struct {
		Booking webhooks.Booking `json:"booking"`
	} `json:"data"`
}

// verify checks a request the way the README tells receivers to: the signature with
// the endpoint's secret, a fresh timestamp, the headers matching the body.
func verify(t *testing.T, r received, secret string) event {
	t.Helper()
	if err := webhooks.Verify(secret, r.header.Get(webhooks.HeaderSignature), r.body, time.Now(), webhooks.Tolerance); err != nil {
		t.Fatalf("signature %q: %v", r.header.Get(webhooks.HeaderSignature), err)
	}
	var e event
	apptest.Must(t, json.Unmarshal(r.body, &e))
	if r.header.Get(webhooks.HeaderEventID) != e.ID || r.header.Get(webhooks.HeaderEvent) != e.Type || e.ID == "" ||
		r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v for event %s %s", r.header, e.Type, e.ID)
	}
	return e
}

// webhookWorld is a partner with an owner and a cashier, an offer, a member, and a
// worker delivering jobs.
type webhookWorld struct {
	*bookingWorld
	owner, cashier *apptest.Client
	member         *apptest.Client
	memberEnt      *ent.Member
	offer          *ent.Offer
}

func newWebhookWorld(t *testing.T, opts ...apptest.Option) *webhookWorld {
	api := newFakeBotAPI(t)
	env := apptest.New(t, append([]apptest.Option{apptest.WithEnv("TELEGRAM_API_URL", api.srv.URL)}, opts...)...)
	bw := &bookingWorld{env: env, ctx: context.Background()}
	bw.place = env.Place()
	bw.p = env.Partner(bw.place, "Partner A")
	w := &webhookWorld{bookingWorld: bw}
	w.owner = bw.staff(t, bw.p, 9601, "owner")
	w.cashier = bw.staff(t, bw.p, 9602, "cashier")
	w.offer = env.Offer(bw.place, bw.p.ID, "Ужин на двоих", func(c *ent.OfferCreate) { c.SetCashbackBp(500).SetPerMemberLimit(0) })
	w.member, w.memberEnt = env.Member(9603, "Айгерим")
	return w
}

func (w *webhookWorld) runWorker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.env.App.RunWorker(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

var secretOnPage = regexp.MustCompile(`whsec_[0-9a-f]{64}`)

// register adds an endpoint through the owner's form and returns its page's path and
// the secret the page shows.
func (w *webhookWorld) register(t *testing.T, u string, events ...string) (string, string) {
	t.Helper()
	r := w.owner.Post("/partner/webhooks", url.Values{"url": {u}, "events": events})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/partner/webhooks/") {
		t.Fatalf("register %s: %d %s", u, r.Status, r.Body)
	}
	path := r.Header.Get("Location")
	page := w.owner.Get(path)
	secret := secretOnPage.FindString(page.Body)
	if page.Status != http.StatusOK || secret == "" || !strings.Contains(page.Body, w.t("flash.webhook_created")) {
		t.Fatalf("endpoint page %d shows no secret", page.Status)
	}
	return path, secret
}

// Real booking transitions through the portal and the cabinet reach the partner's
// endpoint as signed events, in order, each with what the counter shows and nothing
// more about the member.
func TestWebhooksFollowBookings(t *testing.T) {
	w := newWebhookWorld(t, apptest.WithEnv("IKRA_WEBHOOK_ALLOW_PRIVATE", "1"))
	w.runWorker(t)
	rc := newReceiver(t)

	// Only the owner has the screen, and the link to it.
	if page := w.owner.Get("/partner"); !strings.Contains(page.Body, `href="/partner/webhooks"`) {
		t.Fatal("the owner has no link to the webhooks")
	}
	manager := w.staff(t, w.p, 9604, "manager")
	if page := manager.Get("/partner"); strings.Contains(page.Body, `href="/partner/webhooks"`) {
		t.Fatal("a manager sees the link to the webhooks")
	}
	if r := manager.Get("/partner/webhooks"); r.Status != http.StatusForbidden {
		t.Fatalf("a manager opens the webhooks: %d", r.Status)
	}
	path, secret := w.register(t, rc.srv.URL+"/ikra", webhooks.EventTypes...)

	b := w.book(t, w.member, w.memberEnt.ID, w.offer, url.Values{"key": {"wh-1"}})
	step := func(n int, typ, status string) webhooks.Booking {
		t.Helper()
		e := verify(t, rc.wait(t, n)[n-1], secret)
		if e.Type != typ || e.Data.Booking.Code != b.Code || e.Data.Booking.Status != status {
			t.Fatalf("event %d: %s for %s in %s, want %s in %s", n, e.Type, e.Data.Booking.Code, e.Data.Booking.Status, typ, status)
		}
		return e.Data.Booking
	}
	req := step(1, webhooks.BookingRequested, "requested")
	if req.OfferID != w.offer.ID || req.OfferTitle != "Ужин на двоих" || req.MemberFirstName != "Айгерим" {
		t.Fatalf("requested: %+v", req)
	}
	if body := string(rc.wait(t, 1)[0].body); strings.Contains(body, "9603") || strings.Contains(body, "telegram") || strings.Contains(body, "u9603") {
		t.Fatalf("the event carries the member's Telegram identity: %s", body)
	}
	flash(t, w.cashier, w.cashier.Post("/partner/bookings/"+b.Code+"/confirm", nil))
	step(2, webhooks.BookingConfirmed, "confirmed")
	flash(t, w.cashier, w.cashier.Post("/partner/bookings/"+b.Code+"/complete", url.Values{"amount": {"25 000"}}))
	done := step(3, webhooks.BookingCompleted, "completed")
	if done.DealAmountTiyn != 25_000_00 || done.Cashback != 1250 {
		t.Fatalf("completed: deal %d tiyn, cashback %d; want 2 500 000 and 1 250", done.DealAmountTiyn, done.Cashback)
	}
	flash(t, w.cashier, w.cashier.Post("/partner/bookings/"+b.Code+"/reverse", nil))
	if rev := step(4, webhooks.BookingReversed, "reversed"); rev.Cashback != 1250 {
		t.Fatalf("reversed: cashback %d", rev.Cashback)
	}

	// A member's cancellation is a booking.cancelled with its reason.
	b2 := w.book(t, w.member, w.memberEnt.ID, w.offer, url.Values{"key": {"wh-2"}})
	rc.wait(t, 5)
	flash(t, w.member, w.member.Post("/app/bookings/"+apptest.Itoa(b2.ID)+"/cancel", nil))
	e := verify(t, rc.wait(t, 6)[5], secret)
	if e.Type != webhooks.BookingCancelled || e.Data.Booking.Code != b2.Code || e.Data.Booking.Reason != "member" {
		t.Fatalf("cancellation: %s %+v", e.Type, e.Data.Booking)
	}
	// Every event had its own ID.
	ids := map[string]bool{}
	for _, r := range rc.wait(t, 6) {
		ids[r.header.Get(webhooks.HeaderEventID)] = true
	}
	if len(ids) != 6 {
		t.Fatalf("%d distinct event IDs in 6 events", len(ids))
	}
	// The log shows them, delivered.
	page := w.owner.Get(path)
	if page.Status != http.StatusOK || strings.Count(page.Body, html.EscapeString(w.env.App.Catalog.T("ru", "webhooks.delivery.delivered"))) != 6 {
		t.Fatalf("the delivery log does not show 6 delivered events")
	}
	// Disabled, the endpoint gets nothing more.
	flash(t, w.owner, w.owner.Post(path+"/disable", nil))
	w.book(t, w.member, w.memberEnt.ID, w.offer, url.Values{"key": {"wh-3"}})
	time.Sleep(500 * time.Millisecond)
	if n := rc.count(); n != 6 {
		t.Fatalf("a disabled endpoint got %d requests", n)
	}
}

// A receiver that fails gets the same event again, with backoff, until it answers 2xx;
// "send again" in the log delivers it once more with the same event ID and body.
func TestWebhookRetriesAndSendAgain(t *testing.T) {
	w := newWebhookWorld(t, apptest.WithEnv("IKRA_WEBHOOK_ALLOW_PRIVATE", "1"))
	w.env.App.Webhooks.Schedule = []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond}
	w.runWorker(t)
	rc := newReceiver(t, 500, 500, 503)
	path, secret := w.register(t, rc.srv.URL+"/ikra", webhooks.BookingRequested)

	b := w.book(t, w.member, w.memberEnt.ID, w.offer, nil)
	got := rc.wait(t, 4)
	first := verify(t, got[0], secret)
	for i, r := range got {
		e := verify(t, r, secret)
		if e.ID != first.ID || string(r.body) != string(got[0].body) || e.Data.Booking.Code != b.Code {
			t.Fatalf("attempt %d carries event %s, want the same event %s with the same body", i+1, e.ID, first.ID)
		}
		if i > 0 {
			if gap, want := r.at.Sub(got[i-1].at), w.env.App.Webhooks.Schedule[i-1]; gap < want {
				t.Errorf("attempt %d came %v after the last, before its backoff of %v", i+1, gap, want)
			}
		}
	}
	var d *ent.WebhookDelivery
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		d, err = w.env.App.DB.WebhookDelivery.Query().Only(w.ctx)
		apptest.Must(t, err)
		if d.Status == webhookdelivery.StatusDelivered || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d.Status != webhookdelivery.StatusDelivered || d.Attempts != 4 || d.LastStatus != 200 {
		t.Fatalf("delivery %+v, want delivered on the 4th attempt", d)
	}
	page := w.owner.Get(path)
	if !strings.Contains(page.Body, first.ID) || !strings.Contains(page.Body, "HTTP 200") {
		t.Fatal("the log does not show the event and its last answer")
	}

	// Send again: the same event ID, the same body, a fresh signature.
	r := w.owner.Post(path+"/deliveries/"+apptest.Itoa(d.ID)+"/resend", nil)
	if body := flash(t, w.owner, r); !strings.Contains(body, w.t("flash.webhook_resent")) {
		t.Fatal("no confirmation of the resend")
	}
	again := rc.wait(t, 5)[4]
	if e := verify(t, again, secret); e.ID != first.ID || string(again.body) != string(got[0].body) {
		t.Fatalf("the resend carries event %s, want %s", e.ID, first.ID)
	}
	if rc.count() != 5 {
		t.Fatalf("%d requests", rc.count())
	}
	// Partner B's owner cannot see the log or send A's deliveries again.
	pb := w.env.Partner(w.place, "Partner B")
	ownerB := w.staff(t, pb, 9609, "owner")
	if r := ownerB.Get(path); r.Status != http.StatusNotFound {
		t.Fatalf("partner B opens A's endpoint: %d", r.Status)
	}
	if r := ownerB.Post(path+"/deliveries/"+apptest.Itoa(d.ID)+"/resend", nil); r.Status != http.StatusNotFound {
		t.Fatalf("partner B resends A's delivery: %d", r.Status)
	}
}

// In production (private addresses not allowed) internal addresses are refused when
// registered, with the field's message; and a name that points at this machine when
// the event is sent is refused by the dialer, so the internal server is never reached.
func TestWebhookGuardInProduction(t *testing.T) {
	w := newWebhookWorld(t)
	for u, key := range map[string]string{
		"https://10.0.0.8/hook":                  "webhooks.url.private",
		"https://192.168.1.20/hook":              "webhooks.url.private",
		"https://169.254.169.254/latest/meta":    "webhooks.url.private",
		"https://[::1]:8443/hook":                "webhooks.url.private",
		"https://localhost/hook":                 "webhooks.url.private",
		"http://127.0.0.1:8080/hook":             "webhooks.url.https",
		"not a url":                              "webhooks.url.invalid",
		"https://shop.example/hook#fragment-too": "webhooks.url.invalid",
	} {
		r := w.owner.Post("/partner/webhooks", url.Values{"url": {u}, "events": {webhooks.BookingRequested}})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, w.t(key)) || !strings.Contains(r.Body, `aria-invalid="true"`) {
			t.Errorf("%s: %d, want 422 with %q", u, r.Status, key)
		}
	}
	if n, _ := w.env.App.DB.WebhookEndpoint.Query().Count(w.ctx); n != 0 {
		t.Fatalf("%d endpoints registered", n)
	}

	internal := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("the webhook reached the internal server")
	}))
	defer internal.Close()
	// As if the name had resolved to a public address at registration (DNS rebinding).
	port := internal.URL[strings.LastIndexByte(internal.URL, ':'):]
	_, err := w.env.App.DB.WebhookEndpoint.Create().SetPartnerID(w.p.ID).SetURL("https://localhost" + port + "/hook").
		SetSecret("whsec_x").SetEvents([]string{webhooks.BookingRequested}).Save(w.ctx)
	apptest.Must(t, err)
	w.runWorker(t)
	w.book(t, w.member, w.memberEnt.ID, w.offer, nil)
	deadline := time.Now().Add(15 * time.Second)
	for {
		d, err := w.env.App.DB.WebhookDelivery.Query().Only(w.ctx)
		if err == nil && d.Attempts == 1 && d.LastError != "" {
			if !strings.Contains(d.LastError, webhooks.ErrURLBlocked.Error()) || d.Status != webhookdelivery.StatusPending || d.NextAttemptAt == nil {
				t.Fatalf("delivery %+v, want refused by the guard and a retry scheduled", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempt recorded: %+v %v", d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
