package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/ent"
	"ikra/ent/auditlog"
	"ikra/ent/booking"
	"ikra/ent/notification"
	"ikra/ent/partner"
	"ikra/ent/partnerapplication"
	"ikra/ent/staff"
	"ikra/ent/staffinvite"
)

// operatorBIN is the platform operator's own BIN, from the user agreement (§10).
const operatorBIN = "251050011210"

// onboarding is an app with a category and a city, and a moderator.
type onboarding struct {
	env       *apptest.Env
	ctx       context.Context
	place     apptest.Place
	moderator *apptest.Client
}

func newOnboarding(t *testing.T) *onboarding {
	env := apptest.New(t)
	o := &onboarding{env: env, ctx: context.Background(), place: env.Place()}
	_, m := env.Member(9400, "Модератор")
	_, err := env.App.Staff.Grant(o.ctx, audit.Entry{ActorRole: "test"}, m.ID, "moderator", nil)
	apptest.Must(t, err)
	o.moderator = env.Client()
	o.moderator.SignIn(9400, "Модератор")
	return o
}

func (o *onboarding) t(key string, args ...any) string {
	return html.EscapeString(o.env.App.Catalog.T("ru", key, args...))
}

func (o *onboarding) form(bin string) url.Values {
	return url.Values{
		"brand": {"Кофейня Ромашка"}, "legal_name": {"ТОО «Ромашка»"}, "bin": {bin},
		"category_id": {apptest.Itoa(o.place.CategoryID)}, "city_id": {apptest.Itoa(o.place.CityID)},
		"address": {"Алматы, Абая 1"}, "email": {"hello@romashka.kz"}, "website": {"https://romashka.kz"},
		"description": {"Кофе и выпечка"},
	}
}

// apply files an application as c through the form and returns it.
func (o *onboarding) apply(t *testing.T, c *apptest.Client, memberID int, bin string) *ent.PartnerApplication {
	t.Helper()
	body := flash(t, c, c.Post("/partner/apply", o.form(bin)))
	if !strings.Contains(body, o.t("flash.apply_sent")) || !strings.Contains(body, o.t("apply.status.pending")) {
		t.Fatalf("after applying: %s", body)
	}
	a, err := o.env.App.DB.PartnerApplication.Query().
		Where(partnerapplication.MemberID(memberID), partnerapplication.StatusEQ(partnerapplication.StatusPending)).Only(o.ctx)
	apptest.Must(t, err)
	return a
}

// approve approves the application as the moderator and returns the partner made.
func (o *onboarding) approve(t *testing.T, a *ent.PartnerApplication) *ent.Partner {
	t.Helper()
	q := o.moderator.Get("/admin/partners/applications")
	if q.Status != http.StatusOK || !strings.Contains(q.Body, "/admin/partners/applications/"+apptest.Itoa(a.ID)) {
		t.Fatalf("queue %d lacks application %d", q.Status, a.ID)
	}
	if r := o.moderator.Get("/admin/partners/applications/" + apptest.Itoa(a.ID)); r.Status != http.StatusOK || !strings.Contains(r.Body, a.Bin) {
		t.Fatalf("application page %d", r.Status)
	}
	body := flash(t, o.moderator, o.moderator.Post("/admin/partners/applications/"+apptest.Itoa(a.ID)+"/approve", nil))
	if !strings.Contains(body, o.t("flash.application_approved")) {
		t.Fatalf("after approving: %s", body)
	}
	p, err := o.env.App.DB.Partner.Query().Where(partner.Bin(a.Bin)).Only(o.ctx)
	apptest.Must(t, err)
	return p
}

var inviteLink = regexp.MustCompile(`/partner/invite/([A-Za-z0-9_-]{20,})`)

// invite creates an invite link for role as the owner and returns its token.
func (o *onboarding) invite(t *testing.T, owner *apptest.Client, role string) string {
	t.Helper()
	r := owner.Post("/partner/staff/invites", url.Values{"role": {role}})
	m := inviteLink.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil || !strings.Contains(r.Body, o.t("staff.link_once")) {
		t.Fatalf("invite %s: %d", role, r.Status)
	}
	return m[1]
}

func (o *onboarding) audits(t *testing.T, action string) int {
	t.Helper()
	n, err := o.env.App.DB.AuditLog.Query().Where(auditlog.Action(action)).Count(o.ctx)
	apptest.Must(t, err)
	return n
}

func (o *onboarding) staffRows(t *testing.T, partnerID int) []*ent.Staff {
	t.Helper()
	rows, err := o.env.App.DB.Staff.Query().Where(staff.PartnerID(partnerID)).All(o.ctx)
	apptest.Must(t, err)
	return rows
}

// The journey: apply → approve → invite a cashier → the cashier accepts (signing
// in on the way) → the cashier confirms and completes a booking.
func TestPartnerOnboardingJourney(t *testing.T) {
	o := newOnboarding(t)
	applicant, am := o.env.Member(9401, "Айдана")

	page := applicant.Get("/partner/apply")
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `action="/partner/apply"`) {
		t.Fatalf("apply page %d", page.Status)
	}
	if strings.Contains(page.Body, `type="tel"`) || strings.Contains(strings.ToLower(page.Body), `name="phone"`) {
		t.Fatal("the application form asks for a phone number")
	}
	if s := applicant.Get("/app/settings"); !strings.Contains(s.Body, `href="/partner/apply"`) {
		t.Fatal("the cabinet settings do not link to the application")
	}

	// Each BIN problem is named; the operator's own BIN is valid.
	for bin, key := range map[string]string{
		"25105001121":  "apply.bin.length",
		"25105001121O": "apply.bin.digits",
		"251050011211": "apply.bin.check",
		"":             "apply.required",
	} {
		r := applicant.Post("/partner/apply", o.form(bin))
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, o.t(key)) {
			t.Errorf("BIN %q: status %d, want 422 with %q", bin, r.Status, key)
		}
	}
	bad := o.form(operatorBIN)
	bad.Set("website", "javascript:alert(1)")
	bad.Set("email", "not an address")
	if r := applicant.Post("/partner/apply", bad); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, o.t("apply.website.invalid")) || !strings.Contains(r.Body, o.t("apply.email.invalid")) {
		t.Errorf("bad website and e-mail: %d", r.Status)
	}
	a := o.apply(t, applicant, am.ID, operatorBIN)

	// One pending application per member; a BIN under review is refused to anyone else.
	if body := flash(t, applicant, applicant.Post("/partner/apply", o.form(operatorBIN))); !strings.Contains(body, o.t("flash.apply_pending")) {
		t.Error("a second pending application was not refused")
	}
	other, _ := o.env.Member(9402, "Бауыржан")
	if r := other.Post("/partner/apply", o.form(operatorBIN)); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, o.t("apply.bin.pending")) {
		t.Errorf("a BIN under review: %d", r.Status)
	}
	if r := applicant.Get("/partner"); r.Status != http.StatusForbidden {
		t.Fatalf("before approval /partner is %d", r.Status)
	}

	p := o.approve(t, a)
	if p.Name != "Кофейня Ромашка" || p.Slug != "kofeinya-romashka" || p.Status != partner.StatusActive {
		t.Errorf("partner %+v", p)
	}
	rows := o.staffRows(t, p.ID)
	if len(rows) != 1 || rows[0].MemberID != am.ID || rows[0].Role != staff.RoleOwner {
		t.Fatalf("staff after approval: %+v", rows)
	}
	if n, _ := o.env.App.DB.Notification.Query().Where(notification.MemberID(am.ID), notification.Kind("partner.application.approved")).Count(o.ctx); n != 1 {
		t.Errorf("approval notifications: %d", n)
	}
	if o.audits(t, "partner_application.approve") != 1 {
		t.Error("approval not audited")
	}
	// A partner now holds the BIN: nobody can apply with it.
	if r := other.Post("/partner/apply", o.form(operatorBIN)); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, o.t("apply.bin.partner")) {
		t.Errorf("a partner's BIN: %d", r.Status)
	}
	if r := applicant.Get("/partner/apply"); !strings.Contains(r.Body, o.t("apply.status.approved")) {
		t.Error("the applicant does not see the approval")
	}
	// The applicant's very next request is the owner's.
	owner := applicant
	if r := owner.Get("/partner"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Кофейня Ромашка") {
		t.Fatalf("owner's portal %d", r.Status)
	}

	// The owner invites a cashier; only the token's hash is stored.
	token := o.invite(t, owner, "cashier")
	if n, _ := o.env.App.DB.StaffInvite.Query().Where(staffinvite.TokenHash(token)).Count(o.ctx); n != 0 {
		t.Fatal("the invite token is stored in clear")
	}

	// The cashier opens the link signed out, signs in and comes back to it.
	cashier := o.env.Client()
	r := cashier.Get("/partner/invite/" + token)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
		t.Fatalf("signed out: %d %s", r.Status, r.Header.Get("Location"))
	}
	next, _ := url.Parse(r.Header.Get("Location"))
	q := apptest.WidgetQuery(9403, "Касым", time.Now())
	q.Set("next", next.Query().Get("next"))
	if r := cashier.Get("/auth/telegram?" + q.Encode()); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/partner/invite/"+token {
		t.Fatalf("after sign-in: %d %s", r.Status, r.Header.Get("Location"))
	}
	r = cashier.Get("/partner/invite/" + token)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Кофейня Ромашка") || !strings.Contains(r.Body, o.t("role.cashier")) {
		t.Fatalf("invite page %d", r.Status)
	}
	if body := flash(t, cashier, cashier.Post("/partner/invite/"+token, nil)); !strings.Contains(body, o.t("flash.invite_accepted")) {
		t.Fatalf("after accepting: %s", body)
	}
	if len(o.staffRows(t, p.ID)) != 2 || o.audits(t, "staff.join") != 1 {
		t.Fatal("accepting made no staff row or no audit row")
	}
	// Used once, never again: not by the cashier, not by anyone else.
	for _, c := range []*apptest.Client{cashier, other} {
		if r := c.Post("/partner/invite/"+token, nil); r.Status != http.StatusGone || !strings.Contains(r.Body, o.t("invite.used")) {
			t.Errorf("second use: %d", r.Status)
		}
	}
	if r := other.Get("/partner/invite/" + token); r.Status != http.StatusGone || !strings.Contains(r.Body, o.t("invite.used")) {
		t.Errorf("used link page: %d", r.Status)
	}
	if len(o.staffRows(t, p.ID)) != 2 {
		t.Fatal("a used link made another staff row")
	}
	if r := cashier.Get("/partner/staff"); r.Status != http.StatusForbidden {
		t.Errorf("cashier sees staff: %d", r.Status)
	}

	// A member books the partner's offer; the cashier confirms and completes it at the counter.
	off := o.env.Offer(o.place, p.ID, "Капучино", func(c *ent.OfferCreate) { c.SetCashbackBp(1000) })
	buyerClient, buyer := o.env.Member(9404, "Покупатель")
	flash(t, buyerClient, buyerClient.Post("/app/offers/"+apptest.Itoa(off.ID)+"/book", url.Values{"key": {"onboarding-1"}}))
	b, err := o.env.App.DB.Booking.Query().Where(booking.MemberID(buyer.ID)).Only(o.ctx)
	apptest.Must(t, err)
	if r := cashier.Get("/partner/bookings/" + b.Code); r.Status != http.StatusOK {
		t.Fatalf("cashier's booking card %d", r.Status)
	}
	flash(t, cashier, cashier.Post("/partner/bookings/"+b.Code+"/confirm", nil))
	flash(t, cashier, cashier.Post("/partner/bookings/"+b.Code+"/complete", url.Values{"amount": {"5 000"}}))
	got, err := o.env.App.DB.Booking.Get(o.ctx, b.ID)
	apptest.Must(t, err)
	if got.Status != booking.StatusCompleted || got.DealAmount != 500000 {
		t.Fatalf("booking after the counter: %s", got.Status)
	}
}

// A rejected application shows its reason to the applicant, who may apply again.
func TestPartnerApplicationRejected(t *testing.T) {
	o := newOnboarding(t)
	c, m := o.env.Member(9411, "Ерлан")
	a := o.apply(t, c, m.ID, operatorBIN)
	path := "/admin/partners/applications/" + apptest.Itoa(a.ID)
	if body := flash(t, o.moderator, o.moderator.Post(path+"/reject", url.Values{"reason": {"  "}})); !strings.Contains(body, o.t("flash.reason_required")) {
		t.Fatal("a rejection without a reason was not refused")
	}
	flash(t, o.moderator, o.moderator.Post(path+"/reject", url.Values{"reason": {"Нет лицензии"}}))
	if r := c.Get("/partner/apply"); !strings.Contains(r.Body, o.t("apply.status.rejected")) || !strings.Contains(r.Body, "Нет лицензии") {
		t.Fatal("the applicant does not see the reason")
	}
	if n, _ := o.env.App.DB.Notification.Query().Where(notification.MemberID(m.ID), notification.Kind("partner.application.rejected")).Count(o.ctx); n != 1 {
		t.Errorf("rejection notifications: %d", n)
	}
	if o.audits(t, "partner_application.reject") != 1 {
		t.Error("rejection not audited")
	}
	// Decided: approving it now changes nothing.
	flash(t, o.moderator, o.moderator.Post(path+"/approve", nil))
	if n, _ := o.env.App.DB.Partner.Query().Where(partner.Bin(operatorBIN)).Count(o.ctx); n != 0 {
		t.Fatal("a rejected application was approved")
	}
	o.apply(t, c, m.ID, operatorBIN) // the BIN is free again
}

// ownerWorld is a partner approved through the back office with its owner signed in.
func (o *onboarding) ownerWorld(t *testing.T, tgID int64, bin string) (*ent.Partner, *apptest.Client) {
	t.Helper()
	c, m := o.env.Member(tgID, "Владелец")
	p := o.approve(t, o.apply(t, c, m.ID, bin))
	return p, c
}

// join makes a new member accept an invite for role and returns them signed in.
func (o *onboarding) join(t *testing.T, owner *apptest.Client, tgID int64, role string) (*apptest.Client, int) {
	t.Helper()
	token := o.invite(t, owner, role)
	c, m := o.env.Member(tgID, role)
	flash(t, c, c.Post("/partner/invite/"+token, nil))
	return c, m.ID
}

// An expired or revoked link gives a clear page and no staff row.
func TestInviteExpiredOrRevoked(t *testing.T) {
	o := newOnboarding(t)
	p, owner := o.ownerWorld(t, 9421, operatorBIN)
	guest, _ := o.env.Member(9422, "Гость")

	expired := o.invite(t, owner, "manager")
	_, err := o.env.App.DB.StaffInvite.Update().Where(staffinvite.PartnerID(p.ID)).SetExpiresAt(time.Now().Add(-time.Minute)).Save(o.ctx)
	apptest.Must(t, err)
	if r := guest.Get("/partner/invite/" + expired); r.Status != http.StatusGone || !strings.Contains(r.Body, o.t("invite.expired")) {
		t.Errorf("expired link page: %d", r.Status)
	}
	if r := guest.Post("/partner/invite/"+expired, nil); r.Status != http.StatusGone || !strings.Contains(r.Body, o.t("invite.expired")) {
		t.Errorf("expired link accepted: %d", r.Status)
	}

	revoked := o.invite(t, owner, "cashier")
	page := owner.Get("/partner/staff")
	inv, err := o.env.App.DB.StaffInvite.Query().Where(staffinvite.PartnerID(p.ID), staffinvite.RoleEQ(staffinvite.RoleCashier)).Only(o.ctx)
	apptest.Must(t, err)
	action := "/partner/staff/invites/" + apptest.Itoa(inv.ID) + "/revoke"
	if !strings.Contains(page.Body, action) || strings.Contains(page.Body, revoked) {
		t.Fatal("the staff page does not list the open link (or shows its token again)")
	}
	flash(t, owner, owner.Post(action, nil))
	if r := guest.Post("/partner/invite/"+revoked, nil); r.Status != http.StatusGone || !strings.Contains(r.Body, o.t("invite.revoked")) {
		t.Errorf("revoked link accepted: %d", r.Status)
	}
	if r := guest.Get("/partner/invite/nosuchtoken"); r.Status != http.StatusNotFound {
		t.Errorf("unknown link: %d", r.Status)
	}
	if len(o.staffRows(t, p.ID)) != 1 || o.audits(t, "staff.invite") != 2 || o.audits(t, "staff.invite_revoke") != 1 {
		t.Fatal("staff or audit rows after expired and revoked links")
	}
}

// Two accepts of one link at once make one staff row: by two people, or by one person
// in two tabs.
func TestInviteAcceptedOnceUnderConcurrency(t *testing.T) {
	o := newOnboarding(t)
	p, owner := o.ownerWorld(t, 9431, operatorBIN)
	for round, ids := range [][2]int64{{9432, 9433}, {9434, 9434}} {
		token := o.invite(t, owner, "cashier")
		clients := []*apptest.Client{o.env.Client(), o.env.Client()}
		clients[0].SignIn(ids[0], "A")
		clients[1].SignIn(ids[1], "B")
		clients[0].CSRF()
		clients[1].CSRF()
		var wg sync.WaitGroup
		status := make([]int, 2)
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status[i] = c.Post("/partner/invite/"+token, nil).Status
			}()
		}
		wg.Wait()
		won := 0
		for _, s := range status {
			if s == http.StatusSeeOther {
				won++
			} else if s != http.StatusGone && s != http.StatusConflict {
				t.Errorf("round %d: status %d", round, s)
			}
		}
		if won != 1 || len(o.staffRows(t, p.ID)) != 2+round {
			t.Fatalf("round %d: %v, %d staff rows", round, status, len(o.staffRows(t, p.ID)))
		}
	}
}

// Role limits and the last-owner rule; a removed member loses the partner at once.
func TestStaffRolesAndLastOwner(t *testing.T) {
	o := newOnboarding(t)
	p, owner := o.ownerWorld(t, 9441, operatorBIN)
	manager, _ := o.join(t, owner, 9442, "manager")
	cashier, _ := o.join(t, owner, 9443, "cashier")

	// A manager sees the staff but has no forms and is refused every change.
	page := manager.Get("/partner/staff")
	if page.Status != http.StatusOK || strings.Contains(page.Body, `action="/partner/staff/invites"`) || strings.Contains(page.Body, "/remove") {
		t.Fatalf("manager's staff page %d shows the owner's forms", page.Status)
	}
	rows := o.staffRows(t, p.ID)
	var ownerRow, cashierRow *ent.Staff
	for _, r := range rows {
		switch r.Role {
		case staff.RoleOwner:
			ownerRow = r
		case staff.RoleCashier:
			cashierRow = r
		}
	}
	for path, form := range map[string]url.Values{
		"/partner/staff/invites":                                    {"role": {"cashier"}},
		"/partner/staff/" + apptest.Itoa(cashierRow.ID) + "/role":   {"role": {"manager"}},
		"/partner/staff/" + apptest.Itoa(cashierRow.ID) + "/remove": nil,
	} {
		if r := manager.Post(path, form); r.Status != http.StatusForbidden {
			t.Errorf("manager POST %s: %d", path, r.Status)
		}
		if r := cashier.Post(path, form); r.Status != http.StatusForbidden {
			t.Errorf("cashier POST %s: %d", path, r.Status)
		}
	}
	if !strings.Contains(owner.Get("/partner/staff").Body, `action="/partner/staff/invites"`) {
		t.Error("the owner has no invite form")
	}

	// The last owner can be neither demoted nor removed.
	ownerPath := "/partner/staff/" + apptest.Itoa(ownerRow.ID)
	for _, action := range []string{"/role", "/remove"} {
		if body := flash(t, owner, owner.Post(ownerPath+action, url.Values{"role": {"manager"}})); !strings.Contains(body, o.t("flash.staff_last_owner")) {
			t.Errorf("%s: the last owner was not kept", action)
		}
	}
	if got, _ := o.env.App.DB.Staff.Get(o.ctx, ownerRow.ID); got == nil || got.Role != staff.RoleOwner {
		t.Fatal("the last owner changed")
	}

	// The owner promotes the cashier: their next request may open the offers.
	if r := cashier.Get("/partner/offers"); r.Status != http.StatusForbidden {
		t.Fatalf("cashier opens offers: %d", r.Status)
	}
	flash(t, owner, owner.Post("/partner/staff/"+apptest.Itoa(cashierRow.ID)+"/role", url.Values{"role": {"manager"}}))
	if r := cashier.Get("/partner/offers"); r.Status != http.StatusOK {
		t.Fatalf("promoted cashier opens offers: %d", r.Status)
	}
	// With a second owner, the first may step down.
	flash(t, owner, owner.Post("/partner/staff/"+apptest.Itoa(cashierRow.ID)+"/role", url.Values{"role": {"owner"}}))
	flash(t, owner, owner.Post(ownerPath+"/role", url.Values{"role": {"manager"}}))
	if got, _ := o.env.App.DB.Staff.Get(o.ctx, ownerRow.ID); got.Role != staff.RoleManager {
		t.Fatal("an owner could not step down beside another owner")
	}

	// Removed: the member's sessions lose the partner at their next request.
	newOwner := cashier
	flash(t, newOwner, newOwner.Post(ownerPath+"/remove", nil))
	if r := owner.Get("/partner"); r.Status != http.StatusForbidden {
		t.Errorf("a removed member still opens the portal: %d", r.Status)
	}
	if o.audits(t, "staff.role") != 3 || o.audits(t, "staff.remove") != 1 {
		t.Errorf("audit: %d role changes, %d removals", o.audits(t, "staff.role"), o.audits(t, "staff.remove"))
	}
}

// A person working for two partners sees the switcher and acts for the one chosen.
func TestStaffOfTwoPartnersSwitch(t *testing.T) {
	o := newOnboarding(t)
	pa, ownerA := o.ownerWorld(t, 9451, operatorBIN)
	pb, ownerB := o.ownerWorld(t, 9452, "100000000001")
	token := o.invite(t, ownerB, "cashier")
	flash(t, ownerA, ownerA.Post("/partner/invite/"+token, nil))
	r := ownerA.Get("/partner")
	if !strings.Contains(r.Body, `action="/partner/switch"`) {
		t.Fatal("no partner switcher for someone working for two partners")
	}
	flash(t, ownerA, ownerA.Post("/partner/switch", url.Values{"partner_id": {apptest.Itoa(pb.ID)}}))
	if r := ownerA.Get("/partner/staff"); r.Status != http.StatusForbidden {
		t.Errorf("as partner B's cashier, staff page: %d", r.Status)
	}
	// With partner A suspended, a fresh sign-in acts for the active partner B first.
	flash(t, o.moderator, o.moderator.Post("/admin/partners/"+apptest.Itoa(pa.ID)+"/suspend", url.Values{"reason": {"Проверка"}}))
	fresh := o.env.Client()
	fresh.SignIn(9451, "Владелец")
	if r := fresh.Get("/partner"); r.Status != http.StatusOK || strings.Contains(r.Body, o.t("partner.suspended_banner")) ||
		!strings.Contains(r.Body, o.t("role.cashier")) {
		t.Errorf("default partner with one suspended: %d", r.Status)
	}
}

// Suspension hides the partner's offers everywhere at once and shows its staff why;
// they may still read and finish bookings, not change offers or staff.
func TestPartnerSuspension(t *testing.T) {
	o := newOnboarding(t)
	p, owner := o.ownerWorld(t, 9461, operatorBIN)
	off := o.env.Offer(o.place, p.ID, "Секретный десерт")
	member, m := o.env.Member(9462, "Участник")
	b, err := o.env.App.Bookings.Request(o.ctx, m.ID, off.ID, "web", "", nil, "")
	apptest.Must(t, err)
	if !strings.Contains(member.Get("/app").Body, "Секретный десерт") || !strings.Contains(member.Get("/api/v1/offers").Body, "Секретный десерт") {
		t.Fatal("the offer is not visible before suspension")
	}

	path := "/admin/partners/" + apptest.Itoa(p.ID)
	if body := flash(t, o.moderator, o.moderator.Post(path+"/suspend", url.Values{"reason": {""}})); !strings.Contains(body, o.t("flash.reason_required")) {
		t.Fatal("a suspension without a reason was not refused")
	}
	flash(t, o.moderator, o.moderator.Post(path+"/suspend", url.Values{"reason": {"Жалобы участников"}}))
	for _, u := range []string{"/app", "/api/v1/offers"} {
		if strings.Contains(member.Get(u).Body, "Секретный десерт") {
			t.Errorf("%s still shows a suspended partner's offer", u)
		}
	}
	if r := member.Get("/app/offers/" + apptest.Itoa(off.ID)); r.Status != http.StatusNotFound {
		t.Errorf("offer page of a suspended partner: %d", r.Status)
	}
	for _, u := range []string{"/partner", "/partner/offers", "/partner/bookings", "/partner/staff"} {
		r := owner.Get(u)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, o.t("partner.suspended_banner")) || !strings.Contains(r.Body, "Жалобы участников") {
			t.Errorf("%s: %d without the suspension banner", u, r.Status)
		}
	}
	if r := owner.Post("/partner/offers", url.Values{"title": {"Новое"}}); r.Status != http.StatusForbidden {
		t.Errorf("a suspended partner creates offers: %d", r.Status)
	}
	if r := owner.Post("/partner/staff/invites", url.Values{"role": {"cashier"}}); r.Status != http.StatusForbidden {
		t.Errorf("a suspended partner invites staff: %d", r.Status)
	}
	flash(t, owner, owner.Post("/partner/bookings/"+b.Code+"/confirm", nil)) // open bookings are finished
	if got, _ := o.env.App.DB.Booking.Get(o.ctx, b.ID); got.Status != booking.StatusConfirmed {
		t.Errorf("booking of a suspended partner: %s", got.Status)
	}
	if o.audits(t, "partner.suspend") != 1 {
		t.Error("suspension not audited")
	}

	flash(t, o.moderator, o.moderator.Post(path+"/reactivate", url.Values{"reason": {"Разобрались"}}))
	if !strings.Contains(member.Get("/app").Body, "Секретный десерт") {
		t.Error("the offer did not come back after reactivation")
	}
	if strings.Contains(owner.Get("/partner").Body, o.t("partner.suspended_banner")) {
		t.Error("the banner stays after reactivation")
	}
	if o.audits(t, "partner.reactivate") != 1 {
		t.Error("reactivation not audited")
	}
}
