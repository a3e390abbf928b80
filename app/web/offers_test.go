package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/ent"
	"ikra/ent/auditlog"
	"ikra/ent/notification"
	"ikra/ent/offer"
	"ikra/ent/offerrevision"
)

// offerWorld is two partners with staff of every role, a moderator and a member.
type offerWorld struct {
	env                                  *apptest.Env
	place                                apptest.Place
	a, b                                 *ent.Partner
	owner, manager, cashier, ownerB      *apptest.Client
	moderator, member                    *apptest.Client
	ownerID, managerID, cashierID, modID int
}

func newOfferWorld(t *testing.T) *offerWorld {
	t.Helper()
	env := apptest.New(t)
	w := &offerWorld{env: env, place: env.Place()}
	w.a = env.Partner(w.place, "Partner A")
	w.b = env.Partner(w.place, "Partner B")
	ctx := context.Background()
	person := func(tg int64, name, role string, partnerID *int) (*apptest.Client, int) {
		_, m := env.Member(tg, name)
		if role != "" {
			_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, m.ID, role, partnerID)
			apptest.Must(t, err)
		}
		c := env.Client()
		c.SignIn(tg, name)
		return c, m.ID
	}
	w.owner, w.ownerID = person(7101, "Owner", "owner", &w.a.ID)
	w.manager, w.managerID = person(7102, "Manager", "manager", &w.a.ID)
	w.cashier, w.cashierID = person(7103, "Cashier", "cashier", &w.a.ID)
	w.ownerB, _ = person(7104, "OwnerB", "owner", &w.b.ID)
	w.moderator, w.modID = person(7105, "Moderator", "moderator", nil)
	w.member, _ = person(7106, "Member", "", nil)
	return w
}

// offerForm is a valid offer as the partner's form sends it.
func (w *offerWorld) offerForm(title string) url.Values {
	return url.Values{
		"title": {title}, "summary": {"Скидка на ужин"}, "description": {"Весь вечер"}, "terms": {"По будням"},
		"kind": {"discount"}, "category_id": {apptest.Itoa(w.place.CategoryID)}, "city_id": {apptest.Itoa(w.place.CityID)},
		"addresses": {"Абая, 1\r\nДостык, 5"}, "valid_from": {""}, "valid_until": {""},
		"capacity": {"10"}, "per_member_limit": {"2"}, "min_tier_id": {""}, "cashback": {"7,5"},
		"price_bonus": {"0"}, "visibility": {"all"},
	}
}

func (w *offerWorld) offer(t *testing.T, id int) *ent.Offer {
	t.Helper()
	o, err := w.env.App.DB.Offer.Get(context.Background(), id)
	apptest.Must(t, err)
	return o
}

// moderated counts moderation notifications a member got.
func (w *offerWorld) moderated(t *testing.T, memberID int) int {
	t.Helper()
	n, err := w.env.App.DB.Notification.Query().
		Where(notification.MemberID(memberID), notification.Kind("offer_moderated")).Count(context.Background())
	apptest.Must(t, err)
	return n
}

func mustStatus(t *testing.T, what string, r *apptest.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d: %.600s", what, r.Status, want, r.Body)
	}
}

// The whole loop through HTTP: the owner's bad form is refused field by field, a
// draft is submitted, the moderator rejects it (not without a reason), the owner sees
// the reason, fixes and resubmits, the moderator approves and members see the offer;
// an edit of the published offer waits as a revision while members keep the approved
// version, until the moderator approves it. Owner and manager are notified once per
// decision, the cashier never; every decision is audited.
func TestOfferModerationJourney(t *testing.T) {
	w := newOfferWorld(t)
	ctx := context.Background()
	db := w.env.App.DB.Client

	mustStatus(t, "new form", w.owner.Get("/partner/offers/new"), http.StatusOK)
	bad := w.offerForm("")
	bad.Set("summary", "Оставьте меня")
	bad.Set("addresses", "")
	bad.Set("cashback", "150")
	bad.Set("valid_from", "2027-02-10")
	bad.Set("valid_until", "2027-02-01")
	bad.Set("per_member_limit", "0")
	bad.Set("category_id", "999999")
	r := w.owner.Post("/partner/offers", bad)
	mustStatus(t, "bad offer", r, http.StatusUnprocessableEntity)
	for _, want := range []string{"Укажите название", "Укажите хотя бы один адрес", "От 0 до 100%", "Окончание должно быть позже начала",
		"Не меньше 1", "Выберите из списка", `value="Оставьте меня"`, `value="2027-02-10"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("refused form lacks %q", want)
		}
	}
	if n, _ := db.Offer.Query().Count(ctx); n != 0 {
		t.Fatalf("a refused form saved %d offers", n)
	}

	r = w.owner.Post("/partner/offers", w.offerForm("Ужин на двоих"))
	mustStatus(t, "create", r, http.StatusSeeOther)
	o, err := db.Offer.Query().Only(ctx)
	apptest.Must(t, err)
	if o.PartnerID != w.a.ID || o.Status != offer.StatusDraft || o.CashbackBp != 750 || len(o.Addresses) != 2 || o.PerMemberLimit != 2 {
		t.Fatalf("draft saved as %+v", o)
	}
	path := "/partner/offers/" + apptest.Itoa(o.ID)
	if loc := r.Header.Get("Location"); loc != path {
		t.Fatalf("created offer redirects to %q", loc)
	}
	mustStatus(t, "submit", w.owner.Post(path+"/submit", nil), http.StatusSeeOther)
	if o = w.offer(t, o.ID); o.Status != offer.StatusPending {
		t.Fatalf("submitted offer is %s", o.Status)
	}

	queue := w.moderator.Get("/admin/moderation")
	mustStatus(t, "queue", queue, http.StatusOK)
	if !strings.Contains(queue.Body, "Ужин на двоих") || !strings.Contains(queue.Body, "/admin/moderation/offer/"+apptest.Itoa(o.ID)) {
		t.Fatalf("the queue lacks the offer: %s", queue.Body)
	}
	review := "/admin/moderation/offer/" + apptest.Itoa(o.ID)
	mustStatus(t, "review", w.moderator.Get(review), http.StatusOK)

	r = w.moderator.Post(review+"/reject", url.Values{"reason": {"  "}})
	if got := flash(t, w.moderator, r); !strings.Contains(got, "Укажите причину") {
		t.Errorf("an empty reason is refused with a message; got %q", got)
	}
	if o = w.offer(t, o.ID); o.Status != offer.StatusPending || w.moderated(t, w.ownerID) != 0 {
		t.Fatalf("an empty reason changed the offer (%s) or notified", o.Status)
	}
	apptest.Must(t, db.Member.UpdateOneID(w.managerID).SetLanguage("en").Exec(ctx))
	mustStatus(t, "reject", w.moderator.Post(review+"/reject", url.Values{"reason": {"Нет фото меню"}}), http.StatusSeeOther)
	// Each is told in their own language, with the reason and a link to the offer.
	for id, title := range map[int]string{w.ownerID: "Предложение отклонено", w.managerID: "Offer rejected"} {
		n, err := db.Notification.Query().Where(notification.MemberID(id), notification.Kind("offer_moderated")).Only(ctx)
		apptest.Must(t, err)
		if n.Title != title || !strings.Contains(n.Body, "Нет фото меню") || n.Link != path {
			t.Errorf("notification to %d: %q %q %q", id, n.Title, n.Body, n.Link)
		}
	}
	if o = w.offer(t, o.ID); o.Status != offer.StatusRejected || o.RejectReason != "Нет фото меню" {
		t.Fatalf("rejected offer: %s %q", o.Status, o.RejectReason)
	}
	if a, m, c := w.moderated(t, w.ownerID), w.moderated(t, w.managerID), w.moderated(t, w.cashierID); a != 1 || m != 1 || c != 0 {
		t.Fatalf("after the rejection: owner %d, manager %d, cashier %d notifications", a, m, c)
	}
	list := w.owner.Get("/partner/offers")
	if !strings.Contains(list.Body, "Нет фото меню") {
		t.Fatalf("the owner does not see the reason: %s", list.Body)
	}
	// A second decision on the same submission is refused.
	w.moderator.Post(review+"/approve", nil)
	if o = w.offer(t, o.ID); o.Status != offer.StatusRejected {
		t.Fatalf("a decided offer was approved: %s", o.Status)
	}

	fixed := w.offerForm("Ужин на двоих с десертом")
	mustStatus(t, "edit rejected", w.owner.Post(path, fixed), http.StatusSeeOther)
	if o = w.offer(t, o.ID); o.Title != "Ужин на двоих с десертом" || o.Status != offer.StatusRejected {
		t.Fatalf("a rejected offer is edited in place: %q %s", o.Title, o.Status)
	}
	mustStatus(t, "resubmit", w.manager.Post(path+"/submit", nil), http.StatusSeeOther)
	mustStatus(t, "approve", w.moderator.Post(review+"/approve", nil), http.StatusSeeOther)
	if o = w.offer(t, o.ID); o.Status != offer.StatusPublished || o.PublishedAt == nil {
		t.Fatalf("approved offer: %s", o.Status)
	}
	if a, m, c := w.moderated(t, w.ownerID), w.moderated(t, w.managerID), w.moderated(t, w.cashierID); a != 2 || m != 2 || c != 0 {
		t.Fatalf("after the approval: owner %d, manager %d, cashier %d notifications", a, m, c)
	}
	if home := w.member.Get("/app"); !strings.Contains(home.Body, "Ужин на двоих с десертом") {
		t.Fatalf("the approved offer is not in the catalog: %s", home.Body)
	}

	// Editing the published offer: a revision under review, the live version unchanged.
	edit := w.offerForm("Ужин и концерт")
	edit.Set("cashback", "10")
	r = w.owner.Post(path, edit)
	mustStatus(t, "revise", r, http.StatusSeeOther)
	if got := flash(t, w.owner, r); !strings.Contains(got, "на модерацию") {
		t.Errorf("the owner is told the change awaits review; got %q", got)
	}
	if o = w.offer(t, o.ID); o.Title != "Ужин на двоих с десертом" || o.CashbackBp != 750 || o.Status != offer.StatusPublished {
		t.Fatalf("the live offer changed before review: %q %d %s", o.Title, o.CashbackBp, o.Status)
	}
	rev, err := db.OfferRevision.Query().Where(offerrevision.OfferID(o.ID)).Only(ctx)
	apptest.Must(t, err)
	if rev.Status != offerrevision.StatusPending {
		t.Fatalf("revision %s", rev.Status)
	}
	home := w.member.Get("/app")
	if !strings.Contains(home.Body, "Ужин на двоих с десертом") || strings.Contains(home.Body, "Ужин и концерт") {
		t.Fatalf("members must see the approved version only: %s", home.Body)
	}
	if page := w.owner.Get(path + "/edit"); !strings.Contains(page.Body, `value="Ужин и концерт"`) {
		t.Errorf("the edit form starts from the proposal under review")
	}
	// Editing again replaces the pending proposal instead of queueing a second one.
	mustStatus(t, "revise again", w.owner.Post(path, edit), http.StatusSeeOther)
	if n, _ := db.OfferRevision.Query().Where(offerrevision.OfferID(o.ID)).Count(ctx); n != 1 {
		t.Fatalf("%d revisions", n)
	}

	queue = w.moderator.Get("/admin/moderation")
	revPath := "/admin/moderation/revision/" + apptest.Itoa(rev.ID)
	if !strings.Contains(queue.Body, revPath) {
		t.Fatalf("the queue lacks the revision: %s", queue.Body)
	}
	page := w.moderator.Get(revPath)
	mustStatus(t, "revision review", page, http.StatusOK)
	for _, want := range []string{"Ужин на двоих с десертом", "Ужин и концерт", "7.5%", "10%", `class="changed"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the side-by-side review lacks %q", want)
		}
	}
	if n := strings.Count(page.Body, `class="changed"`); n != 2 {
		t.Errorf("%d fields marked changed, want 2 (title and cashback)", n)
	}
	mustStatus(t, "approve revision", w.moderator.Post(revPath+"/approve", nil), http.StatusSeeOther)
	if o = w.offer(t, o.ID); o.Title != "Ужин и концерт" || o.CashbackBp != 1000 || o.Status != offer.StatusPublished {
		t.Fatalf("approved revision not applied: %q %d %s", o.Title, o.CashbackBp, o.Status)
	}
	if home := w.member.Get("/app"); !strings.Contains(home.Body, "Ужин и концерт") {
		t.Fatalf("members see the approved revision: %s", home.Body)
	}
	if a, m := w.moderated(t, w.ownerID), w.moderated(t, w.managerID); a != 3 || m != 3 {
		t.Fatalf("after the revision: owner %d, manager %d notifications", a, m)
	}
	n, err := db.AuditLog.Query().Where(auditlog.ActionHasPrefix("moderation.")).Count(ctx)
	apptest.Must(t, err)
	if n != 3 {
		t.Fatalf("%d moderation audit entries, want 3", n)
	}
	if q := w.moderator.Get("/admin/moderation"); strings.Contains(q.Body, revPath) || strings.Contains(q.Body, review) {
		t.Errorf("decided items stay in the queue")
	}
}

// A rejected revision leaves the live offer as it is and shows the reason to the owner.
func TestOfferRevisionRejected(t *testing.T) {
	w := newOfferWorld(t)
	o := w.env.Offer(w.place, w.a.ID, "Завтрак", func(c *ent.OfferCreate) {
		c.SetAddresses([]string{"Абая, 1"}).SetPerMemberLimit(1)
	})
	path := "/partner/offers/" + apptest.Itoa(o.ID)
	mustStatus(t, "revise", w.owner.Post(path, w.offerForm("Бранч")), http.StatusSeeOther)
	rev, err := w.env.App.DB.OfferRevision.Query().Only(context.Background())
	apptest.Must(t, err)
	mustStatus(t, "reject", w.moderator.Post("/admin/moderation/revision/"+apptest.Itoa(rev.ID)+"/reject", url.Values{"reason": {"Неверная цена"}}), http.StatusSeeOther)
	if got := w.offer(t, o.ID); got.Title != "Завтрак" || got.Status != offer.StatusPublished {
		t.Fatalf("a rejected revision changed the offer: %q %s", got.Title, got.Status)
	}
	if page := w.owner.Get(path); !strings.Contains(page.Body, "Неверная цена") {
		t.Fatalf("the owner does not see why: %s", page.Body)
	}
	if a := w.moderated(t, w.ownerID); a != 1 {
		t.Fatalf("owner notified %d times", a)
	}
}

// The queue puts the oldest first.
func TestModerationQueueOldestFirst(t *testing.T) {
	w := newOfferWorld(t)
	now := time.Now()
	pending := func(title string, at time.Time) {
		w.env.Offer(w.place, w.a.ID, title, func(c *ent.OfferCreate) {
			c.SetStatus(offer.StatusPending).SetUpdatedAt(at)
		})
	}
	pending("Новее", now.Add(-time.Hour))
	pending("Старше", now.Add(-48*time.Hour))
	body := w.moderator.Get("/admin/moderation").Body
	if i, j := strings.Index(body, "Старше"), strings.Index(body, "Новее"); i < 0 || j < 0 || i > j {
		t.Fatalf("queue order wrong: %s", body)
	}
	if d := w.moderator.Get("/admin"); !strings.Contains(d.Body, `href="/admin/moderation"`) {
		t.Errorf("the dashboard's pending count does not link to the queue")
	}
}

// Staff of partner B get 404 for partner A's offers, by ID or guessed IDs, on every
// screen and action; a cashier gets 403 and no link to the offers.
func TestOfferTenantIsolation(t *testing.T) {
	w := newOfferWorld(t)
	o := w.env.Offer(w.place, w.a.ID, "Секретный ужин", func(c *ent.OfferCreate) {
		c.SetStatus(offer.StatusDraft).SetAddresses([]string{"Абая, 1"})
	})
	for _, id := range []int{o.ID, o.ID + 1, 999999} {
		p := "/partner/offers/" + apptest.Itoa(id)
		for _, get := range []string{p, p + "/edit"} {
			if r := w.ownerB.Get(get); r.Status != http.StatusNotFound || strings.Contains(r.Body, "Секретный") {
				t.Errorf("B: GET %s: %d", get, r.Status)
			}
		}
		for _, post := range []struct {
			path string
			form url.Values
		}{{p, w.offerForm("Взлом")}, {p + "/submit", nil}, {p + "/archive", nil}} {
			if r := w.ownerB.Post(post.path, post.form); r.Status != http.StatusNotFound {
				t.Errorf("B: POST %s: %d", post.path, r.Status)
			}
		}
	}
	if got := w.offer(t, o.ID); got.Title != "Секретный ужин" || got.Status != offer.StatusDraft {
		t.Fatalf("B changed A's offer: %q %s", got.Title, got.Status)
	}
	if l := w.ownerB.Get("/partner/offers"); strings.Contains(l.Body, "Секретный") {
		t.Fatalf("B's list shows A's offer")
	}

	p := "/partner/offers/" + apptest.Itoa(o.ID)
	for _, get := range []string{"/partner/offers", "/partner/offers/new", p, p + "/edit"} {
		if r := w.cashier.Get(get); r.Status != http.StatusForbidden {
			t.Errorf("cashier: GET %s: %d", get, r.Status)
		}
	}
	for _, post := range []string{"/partner/offers", p, p + "/submit", p + "/archive"} {
		if r := w.cashier.Post(post, w.offerForm("Касса")); r.Status != http.StatusForbidden {
			t.Errorf("cashier: POST %s: %d", post, r.Status)
		}
	}
	if d := w.cashier.Get("/partner"); d.Status != http.StatusOK || strings.Contains(d.Body, `href="/partner/offers"`) {
		t.Errorf("the cashier's portal links to the offers (%d)", d.Status)
	}
	if d := w.owner.Get("/partner"); !strings.Contains(d.Body, `href="/partner/offers"`) {
		t.Errorf("the owner's portal lacks the offers link")
	}
	// The partner's own staff archive it.
	mustStatus(t, "archive", w.manager.Post(p+"/archive", nil), http.StatusSeeOther)
	if got := w.offer(t, o.ID); got.Status != offer.StatusArchived {
		t.Fatalf("archive: %s", got.Status)
	}
}

// The periodic job archives a published offer whose validity has ended; a current one
// stays published.
func TestExpiredOffersArchivedByJob(t *testing.T) {
	w := newOfferWorld(t)
	past := time.Now().Add(-time.Hour)
	expired := w.env.Offer(w.place, w.a.ID, "Прошлое", func(c *ent.OfferCreate) { c.SetValidUntil(past) })
	current := w.env.Offer(w.place, w.a.ID, "Настоящее", func(c *ent.OfferCreate) { c.SetValidUntil(time.Now().Add(24 * time.Hour)) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.env.App.RunWorker(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(20 * time.Second)
	for w.offer(t, expired.ID).Status != offer.StatusArchived {
		if time.Now().After(deadline) {
			t.Fatal("the expired offer was not archived by the worker")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := w.offer(t, current.ID); got.Status != offer.StatusPublished {
		t.Fatalf("a current offer was archived: %s", got.Status)
	}
}
