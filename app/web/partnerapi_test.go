package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"ikra/app/apikeys"
	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/web"
	"ikra/app/web/partnerapi"
	"ikra/ent"
	"ikra/ent/auditlog"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
)

// apiWorld is two partners, an offer of partner A with 5% cashback, and keys.
type apiWorld struct {
	env    *apptest.Env
	ctx    context.Context
	place  apptest.Place
	pA, pB *ent.Partner
	offer  *ent.Offer
	tg     int64
}

func newAPIWorld(t *testing.T, opts ...apptest.Option) *apiWorld {
	env := apptest.New(t, opts...)
	w := &apiWorld{env: env, ctx: context.Background(), tg: 9600}
	w.place = env.Place()
	w.pA = env.Partner(w.place, "Partner A")
	w.pB = env.Partner(w.place, "Partner B")
	w.offer = env.Offer(w.place, w.pA.ID, "Ужин", func(c *ent.OfferCreate) { c.SetCashbackBp(500).SetPerMemberLimit(0) })
	return w
}

// key creates an API key of the partner with scopes, as its owner would.
func (w *apiWorld) key(t *testing.T, partnerID int, scopes ...string) string {
	t.Helper()
	_, secret, err := w.env.App.APIKeys.Create(w.ctx, audit.Entry{ActorRole: "test"}, partnerID, 1, "till", scopes)
	apptest.Must(t, err)
	return secret
}

// booking has a new member book the offer and returns the booking.
func (w *apiWorld) booking(t *testing.T) *ent.Booking {
	t.Helper()
	w.tg++
	_, m := w.env.Member(w.tg, "Айгерим")
	b, err := w.env.App.Bookings.Request(w.ctx, m.ID, w.offer.ID, "web", "", nil, "")
	apptest.Must(t, err)
	return b
}

// call sends a request to the POS/CRM API with a bearer key (none when key is empty),
// no cookie and no CSRF token, and decodes the JSON answer.
func (w *apiWorld) call(t *testing.T, method, path, key string, body any, headers ...string) (*apptest.Response, map[string]any) {
	t.Helper()
	var rd io.Reader = strings.NewReader("")
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, w.env.URL(partnerapi.Base+path), rd)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	r := w.env.Client().Do(req)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %q", method, path, r.Status, r.Body)
	}
	return r, out
}

func (w *apiWorld) status(t *testing.T, id int) booking.Status {
	t.Helper()
	b, err := w.env.App.DB.Booking.Get(w.ctx, id)
	apptest.Must(t, err)
	return b.Status
}

// cashback is the member's cashback entries of the booking.
func (w *apiWorld) cashback(t *testing.T, b *ent.Booking) []*ent.LedgerEntry {
	t.Helper()
	list, err := w.env.App.DB.LedgerEntry.Query().Where(ledgerentry.MemberID(b.MemberID), ledgerentry.KindEQ(ledgerentry.KindCashback)).All(w.ctx)
	apptest.Must(t, err)
	return list
}

// TestPartnerAPIKeys: only a live bearer key of the right scope gets in; everything
// else is a JSON 401 or 403, and partner B's key finds none of partner A's codes.
func TestPartnerAPIKeys(t *testing.T) {
	w := newAPIWorld(t)
	b := w.booking(t)
	both := w.key(t, w.pA.ID, apikeys.ScopeRead, apikeys.ScopeRedeem)
	readOnly := w.key(t, w.pA.ID, apikeys.ScopeRead)
	redeemOnly := w.key(t, w.pA.ID, apikeys.ScopeRedeem)
	keyB := w.key(t, w.pB.ID, apikeys.ScopeRead, apikeys.ScopeRedeem)
	revoked := w.key(t, w.pA.ID, apikeys.ScopeRead, apikeys.ScopeRedeem)
	rows, err := w.env.App.APIKeys.List(w.ctx, w.pA.ID)
	apptest.Must(t, err)
	for _, r := range rows {
		if strings.HasPrefix(revoked, r.Prefix) && apikeys.Hash(revoked) == r.SecretHash {
			apptest.Must(t, w.env.App.APIKeys.Revoke(w.ctx, audit.Entry{ActorRole: "test"}, w.pA.ID, r.ID))
		}
	}
	code := "/bookings/" + b.Code

	cases := []struct {
		name          string
		method, path  string
		auth          string // the whole Authorization header; "" sends none
		body          any
		status        int
		code          string
		bookingStatus booking.Status // what the booking must still be (or have become)
	}{
		{"no key", "GET", "/bookings", "", nil, 401, "api_key", ""},
		{"no key on a write", "POST", code + "/confirm", "", nil, 401, "api_key", booking.StatusRequested},
		{"not bearer", "GET", "/bookings", "Basic " + both, nil, 401, "api_key", ""},
		{"malformed", "GET", "/bookings", "Bearer ikra_short", nil, 401, "api_key", ""},
		{"unknown", "GET", "/bookings", "Bearer " + apikeys.Prefix + strings.Repeat("A", 43), nil, 401, "api_key", ""},
		{"empty bearer", "GET", "/bookings", "Bearer ", nil, 401, "api_key", ""},
		{"revoked", "GET", "/bookings", "Bearer " + revoked, nil, 401, "api_key", ""},
		{"revoked on a write", "POST", code + "/confirm", "Bearer " + revoked, nil, 401, "api_key", booking.StatusRequested},
		{"read-only key on confirm", "POST", code + "/confirm", "Bearer " + readOnly, nil, 403, "api_scope", booking.StatusRequested},
		{"read-only key on complete", "POST", code + "/complete", "Bearer " + readOnly, map[string]any{"amount": 100}, 403, "api_scope", booking.StatusRequested},
		{"redeem-only key on a read", "GET", code, "Bearer " + redeemOnly, nil, 403, "api_scope", ""},
		{"read-only key reads", "GET", code, "Bearer " + readOnly, nil, 200, "", ""},
		{"scheme in lower case", "GET", code, "bearer " + readOnly, nil, 200, "", ""},
		{"partner B reads A's code", "GET", code, "Bearer " + keyB, nil, 404, "not_found", ""},
		{"partner B confirms A's code", "POST", code + "/confirm", "Bearer " + keyB, nil, 404, "not_found", booking.StatusRequested},
		{"partner B declines A's code", "POST", code + "/decline", "Bearer " + keyB, map[string]any{"reason": "x"}, 404, "not_found", booking.StatusRequested},
		{"partner B completes A's code", "POST", code + "/complete", "Bearer " + keyB, map[string]any{"amount": 100}, 404, "not_found", booking.StatusRequested},
		{"partner B reverses A's code", "POST", code + "/reverse", "Bearer " + keyB, nil, 404, "not_found", booking.StatusRequested},
		{"partner B's list", "GET", "/bookings", "Bearer " + keyB, nil, 200, "", ""},
		{"A's key confirms", "POST", code + "/confirm", "Bearer " + both, nil, 200, "", booking.StatusConfirmed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.auth != "" {
				headers = []string{"Authorization", tc.auth}
			}
			r, out := w.call(t, tc.method, tc.path, "", tc.body, headers...)
			if r.Status != tc.status || errorCode(out) != tc.code {
				t.Fatalf("%d %q, want %d %q: %s", r.Status, errorCode(out), tc.status, tc.code, r.Body)
			}
			if tc.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			if e, _ := out["error"].(map[string]any); tc.code != "" && (e["message"] == "" || e["message"] == nil) {
				t.Errorf("error without a message: %s", r.Body)
			}
			if tc.name == "partner B's list" && strings.Contains(r.Body, b.Code) {
				t.Errorf("partner B lists A's booking")
			}
			if r.Header.Get("Set-Cookie") != "" {
				t.Errorf("the API set a cookie: %s", r.Header.Get("Set-Cookie"))
			}
			if tc.bookingStatus != "" && w.status(t, b.ID) != tc.bookingStatus {
				t.Fatalf("booking is %s, want %s", w.status(t, b.ID), tc.bookingStatus)
			}
		})
	}

	// A signed-in owner's session cookie (with its CSRF token) is not a key.
	ownerClient, owner := w.env.Member(9690, "Owner")
	_, err = w.env.App.Staff.Grant(w.ctx, audit.Entry{ActorRole: "test"}, owner.ID, "owner", &w.pA.ID)
	apptest.Must(t, err)
	ownerClient.SignIn(9690, "Owner")
	if r, out := apiCall(t, w.env, ownerClient, "POST", partnerapi.Base+code+"/complete", map[string]any{"amount": 100}); r.Status != 401 || errorCode(out) != "api_key" {
		t.Fatalf("session cookie on the API: %d %s", r.Status, r.Body)
	}
	if w.status(t, b.ID) != booking.StatusConfirmed {
		t.Fatalf("a cookie changed the booking")
	}
	// A suspended partner's key is refused with a reason.
	apptest.Must(t, w.env.App.DB.Partner.UpdateOneID(w.pB.ID).SetStatus("suspended").Exec(w.ctx))
	if r, out := w.call(t, "GET", "/bookings", keyB, nil); r.Status != 403 || errorCode(out) != "partner_inactive" {
		t.Fatalf("suspended partner's key: %d %s", r.Status, r.Body)
	}
}

// TestPartnerAPI is a till's day: the owner creates a key in the portal and sees it
// once; the till lists offers and bookings page by page, confirms, completes with the
// amount in tiyn (the cashback equals the rate), retries with the same
// Idempotency-Key (the first answer again, nothing twice), reuses the key for another
// amount (409), reverses, and declines another request with a reason.
func TestPartnerAPI(t *testing.T) {
	w := newAPIWorld(t)
	bw := &bookingWorld{env: w.env, ctx: w.ctx, place: w.place, p: w.pA}
	owner := bw.staff(t, w.pA, 9650, "owner")
	manager := bw.staff(t, w.pA, 9651, "manager")
	cashier := bw.staff(t, w.pA, 9652, "cashier")
	tr := func(key string) string { return html.EscapeString(w.env.App.Catalog.T("ru", key)) }

	// Only the owner sees the screen and its link.
	for _, c := range []*apptest.Client{manager, cashier} {
		if r := c.Get("/partner/keys"); r.Status != http.StatusForbidden {
			t.Errorf("staff opens the keys screen: %d", r.Status)
		}
		if r := c.Post("/partner/keys", url.Values{"name": {"x"}, "scopes": {"read"}}); r.Status != http.StatusForbidden {
			t.Errorf("staff creates a key: %d", r.Status)
		}
		if strings.Contains(c.Get("/partner").Body, `href="/partner/keys"`) {
			t.Errorf("staff see the keys link")
		}
	}
	if !strings.Contains(owner.Get("/partner").Body, `href="/partner/keys"`) {
		t.Errorf("the owner does not see the keys link")
	}
	r := owner.Post("/partner/keys", url.Values{"name": {"Касса 1"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tr("keys.scopes_required")) {
		t.Fatalf("a key without scopes: %d", r.Status)
	}
	r = owner.Post("/partner/keys", url.Values{"name": {"Касса 1"}, "scopes": {"read", "redeem"}})
	m := regexp.MustCompile(`data-copy="(ikra_[A-Za-z0-9_-]{43})"`).FindStringSubmatch(r.Body)
	if r.Status != http.StatusCreated || m == nil || !strings.Contains(r.Body, tr("partner.keys.once")) || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("creating a key: %d, key shown: %v", r.Status, m != nil)
	}
	key := m[1]
	page := owner.Get("/partner/keys")
	if strings.Contains(page.Body, key) || !strings.Contains(page.Body, key[:13]+"…") || !strings.Contains(page.Body, "Касса 1") {
		t.Fatalf("the key list shows the whole key, or not its prefix")
	}
	if n, _ := w.env.App.DB.AuditLog.Query().Where(auditlog.Action("apikey.create"), auditlog.PartnerID(w.pA.ID)).Count(w.ctx); n != 1 {
		t.Errorf("%d audit entries for the creation", n)
	}

	// Offers and bookings, page by page, filtered by status.
	if r, out := w.call(t, "GET", "/offers", key, nil); r.Status != 200 || len(out["items"].([]any)) != 1 ||
		out["items"].([]any)[0].(map[string]any)["title"] != "Ужин" {
		t.Fatalf("offers: %d %s", r.Status, r.Body)
	}
	b1, b2, b3 := w.booking(t), w.booking(t), w.booking(t)
	var codes []string
	cursor := ""
	for page := 0; page < 3; page++ {
		r, out := w.call(t, "GET", "/bookings?limit=2&status=requested"+cursor, key, nil)
		if r.Status != 200 {
			t.Fatalf("bookings: %d %s", r.Status, r.Body)
		}
		for _, it := range out["items"].([]any) {
			codes = append(codes, it.(map[string]any)["code"].(string))
		}
		next, _ := out["next"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + next
	}
	if fmt.Sprint(codes) != fmt.Sprint([]string{b3.Code, b2.Code, b1.Code}) {
		t.Fatalf("pages: %v", codes)
	}
	for _, bad := range []string{"?status=nonsense", "?cursor=x", "?limit=0", "?limit=101"} {
		if r, _ := w.call(t, "GET", "/bookings"+bad, key, nil); r.Status != 400 {
			t.Errorf("bookings%s: %d", bad, r.Status)
		}
	}

	// Confirm, complete with an Idempotency-Key, retry, reuse.
	code := "/bookings/" + strings.ToLower(b1.Code) // typed in any case
	if r, out := w.call(t, "POST", code+"/confirm", key, nil); r.Status != 200 || out["status"] != "confirmed" {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	if r, out := w.call(t, "POST", code+"/complete", key, map[string]any{"amount": 0}, "Idempotency-Key", "sale-1"); r.Status != 422 || errorCode(out) != "amount_invalid" {
		t.Fatalf("amount 0: %d %s", r.Status, r.Body)
	}
	if r, _ := w.call(t, "POST", code+"/complete", key, `{"amount": 25000.5}`, "Idempotency-Key", "sale-1"); r.Status != 400 {
		t.Fatalf("a fractional amount: %d", r.Status)
	}
	first, out := w.call(t, "POST", code+"/complete", key, map[string]any{"amount": 2500000}, "Idempotency-Key", "sale-1")
	if first.Status != 200 || out["status"] != "completed" || out["deal_amount"] != float64(2500000) || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("complete: %d %s", first.Status, first.Body)
	}
	again, _ := w.call(t, "POST", code+"/complete", key, `{ "amount" : 2500000 }`, "Idempotency-Key", "sale-1")
	if again.Status != 200 || again.Body != first.Body || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s", again.Status, again.Body)
	}
	if r, out := w.call(t, "POST", code+"/complete", key, map[string]any{"amount": 2600000}, "Idempotency-Key", "sale-1"); r.Status != 409 || errorCode(out) != "idempotency_key_reused" {
		t.Fatalf("the key with another amount: %d %s", r.Status, r.Body)
	}
	if r, out := w.call(t, "POST", "/bookings/"+b2.Code+"/confirm", key, nil, "Idempotency-Key", "sale-1"); r.Status != 409 || errorCode(out) != "idempotency_key_reused" {
		t.Fatalf("the key on another booking: %d %s", r.Status, r.Body)
	}
	if w.status(t, b2.ID) != booking.StatusRequested {
		t.Fatalf("a refused request changed another booking")
	}
	cb := w.cashback(t, b1)
	if len(cb) != 1 || cb[0].Amount != 1250 {
		t.Fatalf("cashback entries %d (want one of 1250)", len(cb))
	}
	// Without a key, a second completion is refused by the booking's status.
	if r, out := w.call(t, "POST", code+"/complete", key, map[string]any{"amount": 2500000}); r.Status != 409 || errorCode(out) != "booking_transition" {
		t.Fatalf("completing twice: %d %s", r.Status, r.Body)
	}
	if r, out := w.call(t, "POST", code+"/reverse", key, nil, "Idempotency-Key", "undo-1"); r.Status != 200 || out["status"] != "reversed" {
		t.Fatalf("reverse: %d %s", r.Status, r.Body)
	}

	// Decline needs a reason, which the member sees.
	if r, out := w.call(t, "POST", "/bookings/"+b2.Code+"/decline", key, map[string]any{"reason": " "}); r.Status != 422 || errorCode(out) != "reason_required" {
		t.Fatalf("decline without a reason: %d %s", r.Status, r.Body)
	}
	if r, _ := w.call(t, "POST", "/bookings/"+b2.Code+"/decline", key, map[string]any{"reason": "x", "extra": 1}); r.Status != 400 {
		t.Fatalf("unknown field: %d", r.Status)
	}
	if r, out := w.call(t, "POST", "/bookings/"+b2.Code+"/decline", key, map[string]any{"reason": "Нет мест"}); r.Status != 200 || out["decline_reason"] != "Нет мест" {
		t.Fatalf("decline: %d %s", r.Status, r.Body)
	}
	if r, out := w.call(t, "GET", "/bookings/"+b2.Code, key, nil); r.Status != 200 || out["status"] != "declined" ||
		out["member"].(map[string]any)["first_name"] != "Айгерим" || out["offer"].(map[string]any)["title"] != "Ужин" {
		t.Fatalf("the declined booking: %d %s", r.Status, r.Body)
	}

	// The owner revokes the key: the till is refused at once, and the revocation is audited.
	rows, err := w.env.App.APIKeys.List(w.ctx, w.pA.ID)
	apptest.Must(t, err)
	if rows[0].LastUsedAt == nil {
		t.Errorf("no last-used time after use")
	}
	flash(t, owner, owner.Post("/partner/keys/"+apptest.Itoa(rows[0].ID)+"/revoke", nil))
	if r, _ := w.call(t, "GET", "/bookings", key, nil); r.Status != 401 {
		t.Fatalf("a revoked key: %d", r.Status)
	}
	if n, _ := w.env.App.DB.AuditLog.Query().Where(auditlog.Action("apikey.revoke"), auditlog.PartnerID(w.pA.ID)).Count(w.ctx); n != 1 {
		t.Errorf("%d audit entries for the revocation", n)
	}
}

// TestPartnerAPIConcurrentComplete: 20 concurrent duplicates of one completion, with
// one Idempotency-Key, on SQLite and on PostgreSQL: the deal is completed once, one
// cashback entry is credited, and every caller gets the same answer (none is told the
// booking is already completed).
func TestPartnerAPIConcurrentComplete(t *testing.T) {
	dbs := map[string][]apptest.Option{"sqlite": {apptest.WithEnv("DATABASE_URL", "")}}
	if db, _, _ := apptest.Real(); db {
		dbs["postgres"] = nil
	}
	for name, opts := range dbs {
		t.Run(name, func(t *testing.T) {
			w := newAPIWorld(t, opts...)
			key := w.key(t, w.pA.ID, apikeys.ScopeRead, apikeys.ScopeRedeem)
			b := w.booking(t)
			if r, _ := w.call(t, "POST", "/bookings/"+b.Code+"/confirm", key, nil); r.Status != 200 {
				t.Fatalf("confirm: %d", r.Status)
			}
			const n = 20
			var wg sync.WaitGroup
			got := make([]*apptest.Response, n)
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("POST", w.env.URL(partnerapi.Base+"/bookings/"+b.Code+"/complete"), strings.NewReader(`{"amount":2500000}`))
					req.Header.Set("Authorization", "Bearer "+key)
					req.Header.Set("Idempotency-Key", "pos-42")
					<-start
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					defer resp.Body.Close()
					body, _ := io.ReadAll(resp.Body)
					got[i] = &apptest.Response{Status: resp.StatusCode, Body: string(body)}
				}()
			}
			close(start)
			wg.Wait()
			var first string
			for i, r := range got {
				if r == nil {
					continue
				}
				if r.Status != 200 {
					t.Errorf("duplicate %d: %d %s", i, r.Status, r.Body)
					continue
				}
				if first == "" {
					first = r.Body
				} else if r.Body != first {
					t.Errorf("duplicate %d answered otherwise: %s", i, r.Body)
				}
			}
			if w.status(t, b.ID) != booking.StatusCompleted {
				t.Fatalf("booking is %s", w.status(t, b.ID))
			}
			if cb := w.cashback(t, b); len(cb) != 1 || cb[0].Amount != 1250 {
				t.Fatalf("%d cashback entries", len(cb))
			}
			if n, _ := w.env.App.DB.Notification.Query().Count(w.ctx); n == 0 {
				t.Fatalf("no notification")
			}
		})
	}
}

// TestPartnerAPIRateLimit: each key has its own bucket of IKRA_RATE_API calls a
// minute; past it, 429 with Retry-After. Failed keys count against the address's
// sign-in limit.
func TestPartnerAPIRateLimit(t *testing.T) {
	w := newAPIWorld(t, apptest.WithEnv("IKRA_RATE_API", "3"), apptest.WithEnv("IKRA_RATE_AUTH", "2"))
	k1 := w.key(t, w.pA.ID, apikeys.ScopeRead)
	k2 := w.key(t, w.pA.ID, apikeys.ScopeRead)
	for i := 0; i < 3; i++ {
		if r, _ := w.call(t, "GET", "/offers", k1, nil); r.Status != 200 {
			t.Fatalf("call %d: %d", i, r.Status)
		}
	}
	if r, out := w.call(t, "GET", "/offers", k1, nil); r.Status != 429 || r.Header.Get("Retry-After") == "" || errorCode(out) != "too_many" {
		t.Fatalf("past the limit: %d %s", r.Status, r.Body)
	}
	if r, _ := w.call(t, "GET", "/offers", k2, nil); r.Status != 200 {
		t.Fatalf("another key limited by the first: %d", r.Status)
	}
	bad := apikeys.Prefix + strings.Repeat("B", 43)
	for i := 0; i < 2; i++ {
		if r, _ := w.call(t, "GET", "/offers", bad, nil); r.Status != 401 {
			t.Fatalf("bad key %d: %d", i, r.Status)
		}
	}
	if r, _ := w.call(t, "GET", "/offers", bad, nil); r.Status != 429 {
		t.Fatalf("bad keys past the sign-in limit: %d", r.Status)
	}
}

// TestPartnerAPIOpenAPI: the document is OpenAPI 3.1 with the bearer scheme; every
// operation in it is a registered route, and every route under /api/partner/v1 is in
// it with the scope the route table names; every $ref resolves.
func TestPartnerAPIOpenAPI(t *testing.T) {
	env := apptest.New(t)
	r := env.Client().Get(partnerapi.Base + "/openapi.json")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d", r.Status)
	}
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Servers    []struct{ URL string }               `json:"servers"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
			Schemas         map[string]any            `json:"schemas"`
		} `json:"components"`
	}
	apptest.Must(t, json.Unmarshal([]byte(r.Body), &doc))
	if doc.OpenAPI != "3.1.0" || len(doc.Servers) != 1 || doc.Servers[0].URL != partnerapi.Base {
		t.Fatalf("openapi %q, servers %v", doc.OpenAPI, doc.Servers)
	}
	if s := doc.Components.SecuritySchemes["bearer"]; s["type"] != "http" || s["scheme"] != "bearer" {
		t.Fatalf("security scheme %v", s)
	}
	for _, name := range []string{"Error", "Booking", "Offer", "CompleteRequest", "DeclineRequest"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
	for _, ref := range regexp.MustCompile(`"\$ref":"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(r.Body, -1) {
		if doc.Components.Schemas[ref[1]] == nil {
			t.Errorf("$ref to a missing schema %s", ref[1])
		}
	}

	routes := map[string]web.Route{}
	for _, rt := range env.App.Web.Routes {
		if strings.HasPrefix(rt.Path, partnerapi.Base+"/") {
			routes[rt.Method+" "+rt.Path] = rt
		}
	}
	documented := map[string]bool{}
	param := regexp.MustCompile(`\{([a-z_]+)\}`)
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + partnerapi.Base + param.ReplaceAllString(path, ":$1")
			documented[key] = true
			rt, ok := routes[key]
			if !ok {
				t.Errorf("the document describes %s, which is not a route", key)
				continue
			}
			if op["responses"] == nil || op["operationId"] == nil {
				t.Errorf("%s: no responses or operationId", key)
			}
			// The scope the document names is the one the route checks.
			sec, _ := json.Marshal(op["security"])
			want := `[]`
			if rt.Workspace == web.PartnerAPI {
				want = `[{"bearer":["` + rt.Perm + `"]}]`
			}
			if string(sec) != want {
				t.Errorf("%s: security %s, the route needs %s", key, sec, want)
			}
		}
	}
	for key := range routes {
		if !documented[key] {
			t.Errorf("route %s is missing from the OpenAPI document", key)
		}
	}
	if len(routes) != 8 {
		t.Errorf("%d API routes", len(routes))
	}
}
