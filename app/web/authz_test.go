package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/partners"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/staff"
)

// roles of the authorization matrix; "ownerB" is the owner of another partner.
var matrixRoles = []string{"anon", "member", "ownerA", "managerA", "cashierA", "ownerB", "superadmin", "moderator", "support", "concierge"}

type fixture struct {
	env       *apptest.Env
	tg        map[string]int64
	offerA    int
	bookingA  string
	bookingID int
	partnerA  int
	memberID  int
	keyA      int    // an API key of partner A
	keySecret string // its bearer token
}

// newFixture builds two partners with staff of every role, platform staff, a member,
// and an offer and a booking of partner A.
func newFixture(t *testing.T, opts ...apptest.Option) *fixture {
	env := apptest.New(t, opts...)
	ctx := context.Background()
	db := env.App.DB.Client
	f := &fixture{env: env, tg: map[string]int64{}}
	for i, r := range matrixRoles[1:] {
		f.tg[r] = int64(8100 + i)
		env.Client().SignIn(f.tg[r], r)
	}
	cat, err := db.Category.Create().SetSlug("restaurants").SetNameRu("Рестораны").SetNameEn("Restaurants").Save(ctx)
	apptest.Must(t, err)
	city, err := db.City.Create().SetSlug("almaty").SetNameRu("Алматы").SetNameEn("Almaty").Save(ctx)
	apptest.Must(t, err)
	pa, err := db.Partner.Create().SetName("Partner A").SetSlug("a").SetBin("000000000000").Save(ctx)
	apptest.Must(t, err)
	pb, err := db.Partner.Create().SetName("Partner B").SetSlug("b").SetBin("000000000001").Save(ctx)
	apptest.Must(t, err)
	f.partnerA = pa.ID
	id := func(role string) int {
		m, err := db.Member.Query().Where(member.TelegramID(f.tg[role])).Only(ctx)
		apptest.Must(t, err)
		return m.ID
	}
	grant := func(role, as string, partner *int) {
		_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, id(role), as, partner)
		apptest.Must(t, err)
	}
	grant("ownerA", "owner", &pa.ID)
	grant("managerA", "manager", &pa.ID)
	grant("cashierA", "cashier", &pa.ID)
	grant("ownerB", "owner", &pb.ID)
	for _, r := range []string{"superadmin", "moderator", "support", "concierge"} {
		grant(r, r, nil)
	}
	f.memberID = id("member")
	o, err := db.Offer.Create().SetPartnerID(pa.ID).SetCategoryID(cat.ID).SetCityID(city.ID).SetTitle("Ужин").
		SetKind(offer.KindDiscount).SetStatus(offer.StatusPublished).SetPublishedAt(time.Now()).Save(ctx)
	apptest.Must(t, err)
	f.offerA = o.ID
	b, err := db.Booking.Create().SetCode("K7M2Q9AB").SetMemberID(f.memberID).SetOfferID(o.ID).SetPartnerID(pa.ID).Save(ctx)
	apptest.Must(t, err)
	f.bookingA, f.bookingID = b.Code, b.ID
	k, secret, err := env.App.APIKeys.Create(ctx, audit.Entry{ActorRole: "test"}, pa.ID, id("ownerA"), "till", []string{"read", "redeem"})
	apptest.Must(t, err)
	f.keyA, f.keySecret = k.ID, secret
	return f
}

// webhookA registers an endpoint of partner A with one delivery, and returns their IDs.
func (f *fixture) webhookA(t *testing.T) (string, string) {
	ctx := context.Background()
	db := f.env.App.DB.Client
	ep, err := db.WebhookEndpoint.Create().SetPartnerID(f.partnerA).SetURL("https://example.com/hook").SetSecret("whsec_test").
		SetEvents([]string{"booking.completed"}).Save(ctx)
	apptest.Must(t, err)
	ev, err := db.WebhookEvent.Create().SetEventID("6f1c1a3e-0000-4000-8000-000000000001").SetPartnerID(f.partnerA).
		SetType("booking.completed").SetPayload("{}").Save(ctx)
	apptest.Must(t, err)
	d, err := db.WebhookDelivery.Create().SetPartnerID(f.partnerA).SetEndpointID(ep.ID).SetEventID(ev.ID).
		SetStatus("failed").Save(ctx)
	apptest.Must(t, err)
	return apptest.Itoa(ep.ID), apptest.Itoa(d.ID)
}

// client signs a fresh client in as role (a fresh session per request keeps routes
// that end sessions from disturbing the others).
func (f *fixture) client(t *testing.T, role string) *apptest.Client {
	c := f.env.Client()
	if role != "anon" {
		c.SignIn(f.tg[role], role)
	}
	return c
}

// expect builds a role → status map from a default and overrides.
func expect(def int, over map[string]int) map[string]int {
	m := map[string]int{}
	for _, r := range matrixRoles {
		m[r] = def
	}
	for k, v := range over {
		for _, r := range strings.Split(k, ",") {
			m[r] = v
		}
	}
	return m
}

// matrixCase is one row of the authorization matrix: the path to call, the form to
// post, and the status each role must get.
type matrixCase = struct {
	path string
	form url.Values
	want map[string]int
}

// matrixSections are the rows of back-office sections kept beside their own tests:
// each file appends a function from its init.
var matrixSections []func(t *testing.T, f *fixture) map[string]matrixCase

const (
	ok     = http.StatusOK
	see    = http.StatusSeeOther
	unauth = http.StatusUnauthorized
	forbid = http.StatusForbidden
	nf     = http.StatusNotFound
)

// TestAuthorizationMatrix walks every registered route and checks, for each role and
// for staff of another partner, the status it must get. A route missing from the
// table fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	f := newFixture(t)
	table := matrixTable(t, f)

	// Every route Fiber serves must be in the table.
	registered := map[string]bool{}
	for _, r := range f.env.App.Web.App.GetRoutes(true) {
		if r.Method == http.MethodHead {
			continue
		}
		key := r.Method + " " + r.Path
		registered[key] = true
		if _, ok := table[key]; !ok {
			t.Errorf("route %s is missing from the authorization matrix", key)
		}
	}
	var keys []string
	for k := range table {
		if !registered[k] {
			t.Errorf("matrix names %s, which is not registered", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)

	for _, key := range keys {
		r := table[key]
		method := strings.SplitN(key, " ", 2)[0]
		for _, role := range matrixRoles {
			c := f.client(t, role)
			var resp *apptest.Response
			switch {
			case method == http.MethodGet:
				resp = c.Get(r.path)
			case method == http.MethodPost:
				resp = c.Post(r.path, r.form)
			default:
				resp = c.Send(method, r.path, "", nil)
			}
			if resp.Status != r.want[role] {
				t.Errorf("%s as %s: status %d, want %d", key, role, resp.Status, r.want[role])
			}
		}
	}
}

// matrixTable is the authorization matrix over f, keyed "METHOD /route/:pattern": a
// path to call with the fixture's IDs, a form and the status each role must get. The
// hostile sweep reads it too, for a valid path and the roles that may call each route.
func matrixTable(t *testing.T, f *fixture) map[string]matrixCase {
	offerA := apptest.Itoa(f.offerA)
	memberID := apptest.Itoa(f.memberID)
	bookingID := apptest.Itoa(f.bookingID)
	counter := "ownerA,managerA,cashierA"
	partnerStaff := "ownerA,managerA,cashierA,ownerB"
	platform := "superadmin,moderator,support,concierge"
	signedIn := "member," + partnerStaff + "," + platform
	cssPath := f.env.App.Web.AssetPath("css/app.css")
	hookA, deliveryA := f.webhookA(t)

	// Partner onboarding: a pending application, two invite links of partner A (one to
	// open, one to revoke) and partner A's owner's staff row (the last owner: removing
	// it is refused, so the matrix changes nothing).
	ctx := context.Background()
	ownerAID := memberIDOf(t, f.env, f.tg["ownerA"])
	actorA := audit.Entry{ActorID: &ownerAID, ActorRole: "owner"}
	openToken, _, err := f.env.App.Staff.Invite(ctx, actorA, f.partnerA, "cashier")
	apptest.Must(t, err)
	_, toRevoke, err := f.env.App.Staff.Invite(ctx, actorA, f.partnerA, "manager")
	apptest.Must(t, err)
	inviteA := apptest.Itoa(toRevoke.ID)
	ownerRow, err := f.env.App.DB.Staff.Query().Where(staff.MemberID(ownerAID), staff.PartnerID(f.partnerA)).Only(ctx)
	apptest.Must(t, err)
	staffA := apptest.Itoa(ownerRow.ID)
	cat, err := f.env.App.DB.Category.Query().First(ctx)
	apptest.Must(t, err)
	cityRow, err := f.env.App.DB.City.Query().First(ctx)
	apptest.Must(t, err)
	application, err := f.env.App.Partners.Apply(ctx, f.memberID, partners.ApplicationInput{Brand: "Cafe", LegalName: "TOO Cafe",
		BIN: partners.MakeBIN("10000000007"), CategoryID: cat.ID, CityID: cityRow.ID, Address: "Abay 1", Email: "a@cafe.kz", Description: "Coffee"})
	apptest.Must(t, err)
	applicationID := apptest.Itoa(application.ID)
	partnerA := apptest.Itoa(f.partnerA)

	type row = matrixCase
	table := map[string]row{
		"GET /healthz":                     {"/healthz", nil, expect(ok, nil)},
		"GET /readyz":                      {"/readyz", nil, expect(ok, nil)},
		"GET /assets/*":                    {cssPath, nil, expect(ok, nil)},
		"GET /":                            {"/", nil, expect(see, map[string]int{"anon": ok})},
		"GET /login":                       {"/login", nil, expect(see, map[string]int{"anon": ok})},
		"GET /auth/telegram":               {"/auth/telegram", nil, expect(unauth, nil)},
		"POST /tg/auth":                    {"/tg/auth", url.Values{}, expect(http.StatusBadRequest, nil)},
		"GET /tg":                          {"/tg", nil, expect(ok, nil)},
		"GET /auth/demo":                   {"/auth/demo", nil, expect(nf, nil)},
		"POST /auth/demo":                  {"/auth/demo", url.Values{}, expect(nf, nil)},
		"POST /logout":                     {"/logout", url.Values{}, expect(see, nil)},
		"POST /telegram/webhook/:secret":   {"/telegram/webhook/wrong", url.Values{}, expect(nf, nil)},
		"POST /lang":                       {"/lang", url.Values{"lang": {"en"}}, expect(see, nil)},
		"GET /app":                         {"/app", nil, expect(ok, map[string]int{"anon": see})},
		"GET /app/offers/:id":              {"/app/offers/" + offerA, nil, expect(ok, map[string]int{"anon": see})},
		"GET /app/welcome":                 {"/app/welcome", nil, expect(ok, map[string]int{"anon": see})},
		"POST /app/welcome":                {"/app/welcome", url.Values{"lang": {"xx"}}, expect(http.StatusUnprocessableEntity, map[string]int{"anon": unauth})},
		"GET /app/notifications":           {"/app/notifications", nil, expect(ok, map[string]int{"anon": see})},
		"POST /app/notifications/read":     {"/app/notifications/read", url.Values{}, expect(see, map[string]int{"anon": unauth})},
		"GET /app/settings":                {"/app/settings", nil, expect(ok, map[string]int{"anon": see})},
		"POST /app/settings/language":      {"/app/settings/language", url.Values{"lang": {"xx"}}, expect(http.StatusUnprocessableEntity, map[string]int{"anon": unauth})},
		"GET /app/settings/export":         {"/app/settings/export", nil, expect(ok, map[string]int{"anon": see})},
		"GET /app/settings/delete":         {"/app/settings/delete", nil, expect(ok, map[string]int{"anon": see})},
		"POST /app/settings/delete":        {"/app/settings/delete", url.Values{"confirm": {"no"}}, expect(http.StatusUnprocessableEntity, map[string]int{"anon": unauth})},
		"POST /app/sessions/:id/revoke":    {"/app/sessions/nope/revoke", url.Values{}, expect(nf, map[string]int{"anon": unauth})},
		"POST /app/sessions/revoke-others": {"/app/sessions/revoke-others", url.Values{}, expect(see, map[string]int{"anon": unauth})},
		"GET /media/*":                     {"/media/offers/1/none.png", nil, expect(nf, map[string]int{"anon": see})},
		"GET /r/:code":                     {"/r/NOSUCHCODE", nil, expect(see, nil)},
		"GET /rules":                       {"/rules", nil, expect(ok, nil)},
		"GET /terms":                       {"/terms", nil, expect(ok, nil)},
		"GET /privacy":                     {"/privacy", nil, expect(ok, nil)},
		"GET /app/bonuses":                 {"/app/bonuses", nil, expect(ok, map[string]int{"anon": see})},
		"GET /app/invite":                  {"/app/invite", nil, expect(ok, map[string]int{"anon": see})},

		"POST /app/offers/:id/book":             {"/app/offers/" + offerA + "/book", url.Values{"date": {"someday"}}, expect(http.StatusUnprocessableEntity, map[string]int{"anon": unauth})},
		"GET /app/bookings":                     {"/app/bookings", nil, expect(ok, map[string]int{"anon": see})},
		"GET /app/bookings/:id/qr.png":          {"/app/bookings/" + bookingID + "/qr.png", nil, expect(nf, map[string]int{"anon": see, "member": ok})},
		"POST /app/bookings/:id/cancel":         {"/app/bookings/" + bookingID + "/cancel", url.Values{}, expect(nf, map[string]int{"anon": unauth, "member": see})},
		"POST /partner/bookings/:code/confirm":  {"/partner/bookings/" + f.bookingA + "/confirm", url.Values{}, expect(forbid, map[string]int{"anon": unauth, counter: see, "ownerB": nf})},
		"POST /partner/bookings/:code/decline":  {"/partner/bookings/" + f.bookingA + "/decline", url.Values{"reason": {""}}, expect(forbid, map[string]int{"anon": unauth, counter: http.StatusUnprocessableEntity, "ownerB": nf})},
		"POST /partner/bookings/:code/complete": {"/partner/bookings/" + f.bookingA + "/complete", url.Values{"amount": {"x"}}, expect(forbid, map[string]int{"anon": unauth, counter: http.StatusUnprocessableEntity, "ownerB": nf})},
		"POST /partner/bookings/:code/no-show":  {"/partner/bookings/" + f.bookingA + "/no-show", url.Values{}, expect(forbid, map[string]int{"anon": unauth, counter: see, "ownerB": nf})},
		"POST /partner/bookings/:code/reverse":  {"/partner/bookings/" + f.bookingA + "/reverse", url.Values{}, expect(forbid, map[string]int{"anon": unauth, counter: see, "ownerB": nf})},
		"GET /api/v1/offers":                    {"/api/v1/offers", nil, expect(ok, map[string]int{"anon": unauth})},
		"GET /api/v1/offers/:id":                {"/api/v1/offers/" + offerA, nil, expect(ok, map[string]int{"anon": unauth})},
		"POST /api/v1/bookings":                 {"/api/v1/bookings", url.Values{}, expect(http.StatusBadRequest, map[string]int{"anon": unauth})},
		"GET /api/v1/bookings":                  {"/api/v1/bookings", nil, expect(ok, map[string]int{"anon": unauth})},
		"POST /api/v1/bookings/:id/cancel":      {"/api/v1/bookings/" + bookingID + "/cancel", url.Values{}, expect(nf, map[string]int{"anon": unauth, "member": ok})},
		"GET /app/invite/qr.png":                {"/app/invite/qr.png", nil, expect(ok, map[string]int{"anon": see})},
		"GET /app/status":                       {"/app/status", nil, expect(ok, map[string]int{"anon": see})},
		"POST /app/status/buy":                  {"/app/status/buy", url.Values{"slug": {"nosuchtier"}, "key": {"00112233445566778899aabbccddeeff"}}, expect(see, map[string]int{"anon": unauth})},
		"GET /partner":                          {"/partner", nil, expect(forbid, map[string]int{"anon": see, partnerStaff: ok})},
		"POST /partner/switch":                  {"/partner/switch", url.Values{"partner_id": {apptest.Itoa(f.partnerA)}}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA,cashierA": see, "ownerB": nf})},
		"GET /partner/offers":                   {"/partner/offers", nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA,ownerB": ok})},
		"GET /partner/offers/:id":               {"/partner/offers/" + offerA, nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA": ok, "ownerB": nf})},
		"GET /partner/bookings":                 {"/partner/bookings", nil, expect(forbid, map[string]int{"anon": see, partnerStaff: ok})},
		"GET /partner/bookings/:code":           {"/partner/bookings/" + f.bookingA, nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA,cashierA": ok, "ownerB": nf})},
		"GET /partner/staff":                    {"/partner/staff", nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA,ownerB": ok})}, // cashiers do not see staff
		"GET /admin":                            {"/admin", nil, expect(forbid, map[string]int{"anon": see, platform: ok})},
		"GET /admin/members":                    {"/admin/members", nil, expect(forbid, map[string]int{"anon": see, platform: ok})},
		"GET /admin/members/:id":                {"/admin/members/" + memberID, nil, expect(forbid, map[string]int{"anon": see, platform: ok})},
		"POST /admin/members/:id/block":         {"/admin/members/" + memberID + "/block", url.Values{"reason": {""}}, expect(forbid, map[string]int{"anon": unauth, "superadmin,moderator": see})},
		"POST /admin/members/:id/unblock":       {"/admin/members/" + memberID + "/unblock", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "superadmin,moderator": see})},
		"GET /admin/partners":                   {"/admin/partners", nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator": ok})},
		"GET /admin/staff":                      {"/admin/staff", nil, expect(forbid, map[string]int{"anon": see, "superadmin": ok})},
		"POST /admin/staff":                     {"/admin/staff", url.Values{"telegram_id": {"x"}}, expect(forbid, map[string]int{"anon": unauth, "superadmin": see})},
		"POST /admin/staff/:id/revoke":          {"/admin/staff/999999/revoke", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "superadmin": nf})},
		"GET /admin/audit":                      {"/admin/audit", nil, expect(forbid, map[string]int{"anon": see, "superadmin": ok})},
		"GET /admin/members/:id/ledger":         {"/admin/members/" + memberID + "/ledger", nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator,support": ok})},
		"POST /admin/members/:id/annul":         {"/admin/members/" + memberID + "/annul", url.Values{"reason": {""}, "amount": {"1"}}, expect(forbid, map[string]int{"anon": unauth, "superadmin,moderator": see})},
		"GET /admin/settings":                   {"/admin/settings", nil, expect(forbid, map[string]int{"anon": see, "superadmin": ok})},
		"POST /admin/settings/bonus":            {"/admin/settings/bonus", url.Values{"welcome": {"x"}}, expect(forbid, map[string]int{"anon": unauth, "superadmin": http.StatusUnprocessableEntity})},
		"POST /admin/tiers/:id":                 {"/admin/tiers/999999", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "superadmin": nf})},
		"POST /admin/settings/scraping":         {"/admin/settings/scraping", url.Values{"offers_per_hour": {"x"}}, expect(forbid, map[string]int{"anon": unauth, "superadmin": http.StatusUnprocessableEntity})},
		"GET /admin/flags":                      {"/admin/flags", nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator": ok})},
		"POST /admin/flags/:id/review":          {"/admin/flags/999999/review", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "superadmin,moderator": nf})},
		"GET /api/v1/me":                        {"/api/v1/me", nil, expect(ok, map[string]int{"anon": unauth})},
		"GET /api/v1/sessions":                  {"/api/v1/sessions", nil, expect(ok, map[string]int{"anon": unauth})},
		"DELETE /api/v1/sessions/:id":           {"/api/v1/sessions/nope", nil, expect(nf, map[string]int{"anon": unauth})},
		"GET /api/v1/notifications":             {"/api/v1/notifications", nil, expect(ok, map[string]int{"anon": unauth})},
		"GET /api/v1/bonuses":                   {"/api/v1/bonuses", nil, expect(ok, map[string]int{"anon": unauth})},

		// Offer images (owners and managers; another partner's are 404).
		"GET /partner/offers/:id/media":              {"/partner/offers/" + offerA + "/media", nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA": ok, "ownerB": nf})},
		"POST /partner/offers/:id/media":             {"/partner/offers/" + offerA + "/media", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA": http.StatusUnprocessableEntity, "ownerB": nf})},
		"POST /partner/offers/:id/media/:mid/cover":  {"/partner/offers/" + offerA + "/media/999999/cover", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA,ownerB": nf})},
		"POST /partner/offers/:id/media/:mid/move":   {"/partner/offers/" + offerA + "/media/999999/move", url.Values{"dir": {"up"}}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA,ownerB": nf})},
		"POST /partner/offers/:id/media/:mid/delete": {"/partner/offers/" + offerA + "/media/999999/delete", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA,ownerB": nf})},
		"GET /partner/offers/:id/cover":              {"/partner/offers/" + offerA + "/cover", nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA,ownerB": nf})},
		"GET /partner/media/*":                       {"/partner/media/offers/" + offerA + "/none.jpg", nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA,ownerB": nf})},

		// The partner's offer screens and the moderation queue.
		"GET /partner/offers/new":         {"/partner/offers/new", nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA,ownerB": ok})},
		"POST /partner/offers":            {"/partner/offers", url.Values{"title": {""}}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA,ownerB": http.StatusUnprocessableEntity})},
		"GET /partner/offers/:id/edit":    {"/partner/offers/" + offerA + "/edit", nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA": ok, "ownerB": nf})},
		"POST /partner/offers/:id":        {"/partner/offers/" + offerA, url.Values{"title": {""}}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA": http.StatusUnprocessableEntity, "ownerB": nf})},
		"POST /partner/offers/:id/submit": {"/partner/offers/" + offerA + "/submit", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA": see, "ownerB": nf})},
		// A guessed ID: archiving offer A would change the fixture for the routes after it.
		"POST /partner/offers/:id/archive":         {"/partner/offers/999999/archive", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA,ownerB": nf})},
		"GET /admin/moderation":                    {"/admin/moderation", nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator": ok})},
		"GET /admin/moderation/:kind/:id":          {"/admin/moderation/offer/" + offerA, nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator": ok})},
		"POST /admin/moderation/:kind/:id/approve": {"/admin/moderation/offer/" + offerA + "/approve", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "superadmin,moderator": see})},
		"GET /admin/media/*":                       {"/admin/media/offers/1/none.png", nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator": nf})},
		"POST /admin/moderation/:kind/:id/reject":  {"/admin/moderation/offer/" + offerA + "/reject", url.Values{"reason": {""}}, expect(forbid, map[string]int{"anon": unauth, "superadmin,moderator": see})},

		// An invite-only offer's invite list: an unknown name (or a member not on the list)
		// returns to the offer page; partner B's owner gets 404.
		"POST /partner/offers/:id/invited":             {"/partner/offers/" + offerA + "/invited", url.Values{"member": {"@nobody_here"}}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA": see, "ownerB": nf})},
		"POST /partner/offers/:id/invited/:mid/remove": {"/partner/offers/" + offerA + "/invited/" + memberID + "/remove", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA,managerA": see, "ownerB": nf})},

		// Webhooks: the owner only; partner B's owner gets 404 for partner A's endpoint.
		"GET /partner/webhooks":                             {"/partner/webhooks", nil, expect(forbid, map[string]int{"anon": see, "ownerA,ownerB": ok})},
		"POST /partner/webhooks":                            {"/partner/webhooks", url.Values{"url": {""}}, expect(forbid, map[string]int{"anon": unauth, "ownerA,ownerB": http.StatusUnprocessableEntity})},
		"GET /partner/webhooks/:id":                         {"/partner/webhooks/" + hookA, nil, expect(forbid, map[string]int{"anon": see, "ownerA": ok, "ownerB": nf})},
		"POST /partner/webhooks/:id/disable":                {"/partner/webhooks/" + hookA + "/disable", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA": see, "ownerB": nf})},
		"POST /partner/webhooks/:id/enable":                 {"/partner/webhooks/" + hookA + "/enable", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA": see, "ownerB": nf})},
		"POST /partner/webhooks/:id/deliveries/:did/resend": {"/partner/webhooks/" + hookA + "/deliveries/" + deliveryA + "/resend", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA": see, "ownerB": nf})},
		// A guessed ID: deleting the endpoint would change the fixture for the routes after it.
		"POST /partner/webhooks/:id/delete": {"/partner/webhooks/999999/delete", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA,ownerB": nf})},
		// Analytics: owners and managers; partner A's offer in partner B's filter is 404.
		"GET /partner/analytics":     {"/partner/analytics?offer=" + offerA, nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA": ok, "ownerB": nf})},
		"GET /partner/analytics.csv": {"/partner/analytics.csv?offer=" + offerA, nil, expect(forbid, map[string]int{"anon": see, "ownerA,managerA": ok, "ownerB": nf})},
		// The owner's API keys screen; partner B's owner gets 404 for A's key.
		"GET /partner/keys":             {"/partner/keys", nil, expect(forbid, map[string]int{"anon": see, "ownerA,ownerB": ok})},
		"POST /partner/keys":            {"/partner/keys", url.Values{"name": {""}}, expect(forbid, map[string]int{"anon": unauth, "ownerA,ownerB": http.StatusUnprocessableEntity})},
		"POST /partner/keys/:id/revoke": {"/partner/keys/" + apptest.Itoa(f.keyA) + "/revoke", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA": see, "ownerB": nf})},

		// The POS/CRM API takes a bearer key and nothing else: every session is 401
		// (keys are checked in TestPartnerAPIKeys); its description is public.
		"GET /api/partner/v1/openapi.json":             {"/api/partner/v1/openapi.json", nil, expect(ok, nil)},
		"GET /api/partner/v1/offers":                   {"/api/partner/v1/offers", nil, expect(unauth, nil)},
		"GET /api/partner/v1/bookings":                 {"/api/partner/v1/bookings", nil, expect(unauth, nil)},
		"GET /api/partner/v1/bookings/:code":           {"/api/partner/v1/bookings/" + f.bookingA, nil, expect(unauth, nil)},
		"POST /api/partner/v1/bookings/:code/confirm":  {"/api/partner/v1/bookings/" + f.bookingA + "/confirm", url.Values{}, expect(unauth, nil)},
		"POST /api/partner/v1/bookings/:code/decline":  {"/api/partner/v1/bookings/" + f.bookingA + "/decline", url.Values{"reason": {"x"}}, expect(unauth, nil)},
		"POST /api/partner/v1/bookings/:code/complete": {"/api/partner/v1/bookings/" + f.bookingA + "/complete", url.Values{"amount": {"100"}}, expect(unauth, nil)},
		"POST /api/partner/v1/bookings/:code/reverse":  {"/api/partner/v1/bookings/" + f.bookingA + "/reverse", url.Values{}, expect(unauth, nil)},
		// Partner onboarding: applying and invite links (any member), staff management
		// (owner; a manager only reads), applications and suspension in the back office.
		"GET /partner/apply":                            {"/partner/apply", nil, expect(ok, map[string]int{"anon": see})},
		"POST /partner/apply":                           {"/partner/apply", url.Values{"brand": {""}}, expect(http.StatusUnprocessableEntity, map[string]int{"anon": unauth, "member": see})}, // member: one pending already
		"GET /partner/invite/:token":                    {"/partner/invite/" + openToken, nil, expect(ok, map[string]int{"anon": see, counter: http.StatusConflict})},                         // A's staff already work there
		"POST /partner/invite/:token":                   {"/partner/invite/nosuchtoken", url.Values{}, expect(nf, map[string]int{"anon": unauth})},
		"POST /partner/staff/invites":                   {"/partner/staff/invites", url.Values{"role": {"owner"}}, expect(forbid, map[string]int{"anon": unauth, "ownerA,ownerB": see})},
		"POST /partner/staff/invites/:id/revoke":        {"/partner/staff/invites/" + inviteA + "/revoke", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA": see, "ownerB": nf})},
		"POST /partner/staff/:id/role":                  {"/partner/staff/" + staffA + "/role", url.Values{"role": {"cashier"}}, expect(forbid, map[string]int{"anon": unauth, "ownerA": see, "ownerB": nf})},
		"POST /partner/staff/:id/remove":                {"/partner/staff/" + staffA + "/remove", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "ownerA": see, "ownerB": nf})},
		"GET /admin/partners/applications":              {"/admin/partners/applications", nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator": ok})},
		"GET /admin/partners/applications/:id":          {"/admin/partners/applications/" + applicationID, nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator": ok})},
		"POST /admin/partners/applications/:id/approve": {"/admin/partners/applications/999999/approve", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "superadmin,moderator": nf})},
		"POST /admin/partners/applications/:id/reject":  {"/admin/partners/applications/" + applicationID + "/reject", url.Values{"reason": {""}}, expect(forbid, map[string]int{"anon": unauth, "superadmin,moderator": see})},
		"GET /admin/partners/:id":                       {"/admin/partners/" + partnerA, nil, expect(forbid, map[string]int{"anon": see, "superadmin,moderator": ok})},
		"POST /admin/partners/:id/suspend":              {"/admin/partners/" + partnerA + "/suspend", url.Values{"reason": {""}}, expect(forbid, map[string]int{"anon": unauth, "superadmin,moderator": see})},
		"POST /admin/partners/:id/reactivate":           {"/admin/partners/" + partnerA + "/reactivate", url.Values{"reason": {""}}, expect(forbid, map[string]int{"anon": unauth, "superadmin,moderator": see})},
	}
	_ = signedIn
	// Sections registered in other files (matrixSections) add their own rows.
	for _, section := range matrixSections {
		for k, v := range section(t, f) {
			if _, dup := table[k]; dup {
				t.Fatalf("matrix names %s twice", k)
			}
			table[k] = v
		}
	}

	return table
}

// TestMemberForbiddenInPartnerAndAdmin is the plain statement of the rule.
func TestMemberForbiddenInPartnerAndAdmin(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	c.SignIn(9001, "Member")
	for _, p := range []string{"/partner", "/partner/offers", "/admin", "/admin/members"} {
		r := c.Get(p)
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "Нет доступа") {
			t.Errorf("%s: %d", p, r.Status)
		}
	}
	_ = ent.IsNotFound
}
