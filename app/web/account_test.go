package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/members"
	"ikra/ent"
	"ikra/ent/auditlog"
	"ikra/ent/booking"
	"ikra/ent/consent"
	"ikra/ent/ledgerentry"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/ent/offer"
	"ikra/ent/session"
	"ikra/ent/termsacceptance"
)

// accountWorld is one partner's published offer that test members book.
type accountWorld struct {
	env      *apptest.Env
	db       *ent.Client
	offer    *ent.Offer
	category int
}

func newAccountWorld(t *testing.T) *accountWorld {
	t.Helper()
	env := apptest.New(t)
	ctx := context.Background()
	db := env.App.DB.Client
	cat, err := db.Category.Create().SetSlug("spa").SetNameRu("Спа").SetNameEn("Spa").Save(ctx)
	apptest.Must(t, err)
	city, err := db.City.Create().SetSlug("astana").SetNameRu("Астана").SetNameEn("Astana").Save(ctx)
	apptest.Must(t, err)
	p, err := db.Partner.Create().SetName("Spa Partner").SetSlug("spa-partner").SetBin("000000000009").Save(ctx)
	apptest.Must(t, err)
	o, err := db.Offer.Create().SetPartnerID(p.ID).SetCategoryID(cat.ID).SetCityID(city.ID).SetTitle("Массаж").
		SetKind(offer.KindService).SetStatus(offer.StatusPublished).SetPublishedAt(time.Now()).Save(ctx)
	apptest.Must(t, err)
	return &accountWorld{env: env, db: db, offer: o, category: cat.ID}
}

// member signs a new client in and returns it with the member's row.
func (w *accountWorld) member(t *testing.T, tgID int64, name string) (*apptest.Client, *ent.Member) {
	t.Helper()
	return w.env.Member(tgID, name)
}

func (w *accountWorld) book(t *testing.T, memberID int, code string, status booking.Status) *ent.Booking {
	t.Helper()
	b, err := w.db.Booking.Create().SetCode(code).SetMemberID(memberID).SetOfferID(w.offer.ID).
		SetPartnerID(w.offer.PartnerID).SetStatus(status).SetDealAmount(1_500_000).Save(context.Background())
	apptest.Must(t, err)
	return b
}

func (w *accountWorld) credit(t *testing.T, memberID int, key, reason string) *ent.LedgerEntry {
	t.Helper()
	e, err := w.db.LedgerEntry.Create().SetMemberID(memberID).SetKind(ledgerentry.KindAdjustment).SetAmount(250).
		SetReason(reason).SetIdempotencyKey(key).Save(context.Background())
	apptest.Must(t, err)
	return e
}

func TestAccountExport(t *testing.T) {
	w := newAccountWorld(t)
	alice, a := w.member(t, 7101, "Alice")
	_, b := w.member(t, 7102, "Boris")
	w.book(t, a.ID, "ALICE001", booking.StatusCompleted)
	w.book(t, b.ID, "BORIS001", booking.StatusRequested)
	w.credit(t, a.ID, "test:alice:1", "alice-adjustment")
	w.credit(t, b.ID, "test:boris:1", "boris-adjustment")

	r := alice.Get("/app/settings/export")
	if r.Status != http.StatusOK {
		t.Fatalf("export: status %d: %s", r.Status, r.Body)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "ikra-data-"+apptest.Itoa(a.ID)+".json") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var got members.Export
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if got.Profile.ID != a.ID || got.Profile.FirstName != "Alice" || got.Profile.TelegramID == nil || *got.Profile.TelegramID != 7101 {
		t.Errorf("profile %+v", got.Profile)
	}
	if len(got.Bookings) != 1 || got.Bookings[0].Code != "ALICE001" || got.Bookings[0].Offer != "Массаж" || got.Bookings[0].DealAmountTiyn != 1_500_000 {
		t.Errorf("bookings %+v", got.Bookings)
	}
	// Her entries: the welcome bonus and the adjustment made for the test.
	var kinds []string
	for _, e := range got.Ledger {
		kinds = append(kinds, fmt.Sprintf("%s:%d:%s", e.Kind, e.Amount, e.Reason))
	}
	if strings.Join(kinds, ",") != "welcome:3000:welcome,adjustment:250:alice-adjustment" {
		t.Errorf("ledger %v", kinds)
	}
	if len(got.Sessions) == 0 || got.Sessions[0].IP == "" {
		t.Errorf("sessions %+v", got.Sessions)
	}
	if len(got.TermsAcceptances) == 0 || got.TermsAcceptances[0].Version == "" || len(got.Consents) == 0 {
		t.Errorf("terms %+v, consents %+v", got.TermsAcceptances, got.Consents)
	}
	for _, foreign := range []string{"Boris", "BORIS001", "boris-adjustment", "7102"} {
		if strings.Contains(r.Body, foreign) {
			t.Errorf("Alice's export holds %q of another member", foreign)
		}
	}
	if strings.Contains(strings.ToLower(r.Body), "phone") {
		t.Error("the export mentions a phone")
	}

	if r := w.env.Client().Get("/app/settings/export"); r.Status != http.StatusSeeOther {
		t.Errorf("anonymous export: status %d", r.Status)
	}
}

func TestAccountDeleteRefusedWithoutConfirmation(t *testing.T) {
	w := newAccountWorld(t)
	c, m := w.member(t, 7201, "Vera")
	open := w.book(t, m.ID, "VERA0001", booking.StatusConfirmed)
	for _, word := range []string{"", "нет", "DELET", "удалить аккаунт", "УДАЛИТЬ!"} {
		r := c.Post("/app/settings/delete", url.Values{"confirm": {word}})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "field-error") {
			t.Errorf("confirm %q: status %d", word, r.Status)
		}
	}
	ctx := context.Background()
	after, err := w.db.Member.Get(ctx, m.ID)
	apptest.Must(t, err)
	if after.Status != member.StatusActive || after.FirstName != "Vera" || after.TelegramID == nil {
		t.Errorf("member changed: %+v", after)
	}
	if b, _ := w.db.Booking.Get(ctx, open.ID); b.Status != booking.StatusConfirmed {
		t.Errorf("booking %s", b.Status)
	}
	if r := c.Get("/api/v1/me"); r.Status != http.StatusOK {
		t.Errorf("session ended: %d", r.Status)
	}
}

func TestAccountDelete(t *testing.T) {
	w := newAccountWorld(t)
	ctx := context.Background()
	const tg = 7301
	c, m := w.member(t, tg, "Galina")
	other, _ := w.member(t, tg, "Galina") // a second device
	apptest.Must(t, w.db.Member.UpdateOneID(m.ID).AddInterestIDs(w.category).Exec(ctx))
	requested := w.book(t, m.ID, "GALINA01", booking.StatusRequested)
	confirmed := w.book(t, m.ID, "GALINA02", booking.StatusConfirmed)
	completed := w.book(t, m.ID, "GALINA03", booking.StatusCompleted)
	entry := w.credit(t, m.ID, "test:galina:1", "galina-adjustment")
	acceptances, err := w.db.TermsAcceptance.Query().Where(termsacceptance.MemberID(m.ID)).Count(ctx)
	apptest.Must(t, err)

	page := c.Get("/app/settings")
	if !strings.Contains(page.Body, `href="/app/settings/delete"`) || !strings.Contains(page.Body, `href="/app/settings/export"`) {
		t.Error("settings do not link export and deletion")
	}
	if r := c.Get("/app/settings/delete"); r.Status != http.StatusOK || !strings.Contains(r.Body, "УДАЛИТЬ") {
		t.Fatalf("confirmation page: %d", r.Status)
	}

	r := c.Post("/app/settings/delete", url.Values{"confirm": {" delete "}}) // either language, any case
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("delete: status %d, location %q: %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	if c.Cookie("ikra_session") != "" {
		t.Error("the session cookie is still set")
	}
	if home := c.Get("/"); home.Status != http.StatusOK || !strings.Contains(home.Body, "Аккаунт удалён") {
		t.Errorf("after deletion: status %d, no flash", home.Status)
	}
	for name, cl := range map[string]*apptest.Client{"this device": c, "other device": other} {
		if r := cl.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
			t.Errorf("%s: /api/v1/me %d after deletion", name, r.Status)
		}
	}
	if n, _ := w.db.Session.Query().Where(session.MemberID(m.ID), session.RevokedAtIsNil()).Count(ctx); n != 0 {
		t.Errorf("%d sessions live", n)
	}

	gone, err := w.db.Member.Query().Where(member.ID(m.ID)).WithInterests().Only(ctx)
	apptest.Must(t, err)
	if gone.Status != member.StatusDeleted || gone.DeletedAt == nil || gone.TelegramID != nil ||
		gone.FirstName != "" || gone.LastName != "" || gone.Username != "" || gone.PhotoURL != "" ||
		!strings.HasPrefix(gone.ReferralCode, "DELETED-") || gone.ReferralCode == m.ReferralCode || len(gone.Edges.Interests) != 0 {
		t.Errorf("not anonymised: %+v, interests %d", gone, len(gone.Edges.Interests))
	}
	for _, b := range []*ent.Booking{requested, confirmed} {
		if after, _ := w.db.Booking.Get(ctx, b.ID); after.Status != booking.StatusCancelled || after.CancelledAt == nil {
			t.Errorf("open booking %s: %s", b.Code, after.Status)
		}
	}
	if after, _ := w.db.Booking.Get(ctx, completed.ID); after.Status != booking.StatusCompleted {
		t.Errorf("completed booking became %s", after.Status)
	}
	if _, err := w.db.LedgerEntry.Get(ctx, entry.ID); err != nil {
		t.Errorf("ledger entry: %v", err)
	}
	if n, _ := w.db.TermsAcceptance.Query().Where(termsacceptance.MemberID(m.ID)).Count(ctx); n != acceptances || n == 0 {
		t.Errorf("terms acceptances %d, had %d", n, acceptances)
	}
	if n, _ := w.db.Consent.Query().Where(consent.MemberID(m.ID), consent.WithdrawnAtIsNil()).Count(ctx); n != 0 {
		t.Errorf("%d consents not withdrawn", n)
	}
	if n, _ := w.db.Notification.Query().Where(notification.MemberID(m.ID)).Count(ctx); n != 0 {
		t.Errorf("%d notifications kept", n)
	}
	rec, err := w.db.AuditLog.Query().Where(auditlog.Action("member.delete"), auditlog.TargetID(apptest.Itoa(m.ID))).Only(ctx)
	if err != nil || rec.ActorID == nil || *rec.ActorID != m.ID {
		t.Errorf("audit: %+v, %v", rec, err)
	} else if raw, _ := json.Marshal([]any{rec.Before, rec.After}); strings.Contains(string(raw), "Galina") {
		t.Errorf("the audit log holds the name: %s", raw)
	}

	// The same Telegram user coming back is a new member.
	again := w.env.Client()
	again.SignIn(tg, "Galina")
	fresh, err := w.db.Member.Query().Where(member.TelegramID(tg)).Only(ctx)
	apptest.Must(t, err)
	if fresh.ID == m.ID || fresh.Status != member.StatusActive {
		t.Errorf("sign-in after deletion: member %d (%s), deleted one was %d", fresh.ID, fresh.Status, m.ID)
	}
	if r := again.Get("/api/v1/me"); r.Status != http.StatusOK || !strings.Contains(r.Body, `"id":`+apptest.Itoa(fresh.ID)) {
		t.Errorf("new member /api/v1/me: %d %s", r.Status, r.Body)
	}
	if n, _ := w.db.Booking.Query().Where(booking.MemberID(fresh.ID)).Count(ctx); n != 0 {
		t.Errorf("the new member inherited %d bookings", n)
	}
}
