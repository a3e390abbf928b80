package members_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"ikra/app/members"
	"ikra/app/store"
	"ikra/app/terms"
	"ikra/ent"
	"ikra/ent/offer"
)

// accountDB is a migrated database with a published offer, and a second client on the
// same connections that counts the statements it runs.
type accountDB struct {
	db      *ent.Client
	counted *ent.Client
	queries atomic.Int64
	offer   *ent.Offer
	revoked []int
}

func newAccountDB(t *testing.T) *accountDB {
	t.Helper()
	ctx := context.Background()
	d, err := store.Open(ctx, "", t.TempDir())
	must(t, err)
	t.Cleanup(func() { d.Close() })
	must(t, d.Migrate(ctx))
	must(t, terms.EnsureInitial(ctx, d.Client))
	a := &accountDB{db: d.Client}
	drv := dialect.DebugWithContext(entsql.OpenDB(d.Dialect, d.SQL), func(context.Context, ...any) { a.queries.Add(1) })
	a.counted = ent.NewClient(ent.Driver(drv))
	cat, err := d.Category.Create().SetSlug("cafe").SetNameRu("Кафе").SetNameEn("Cafe").Save(ctx)
	must(t, err)
	city, err := d.City.Create().SetSlug("shymkent").SetNameRu("Шымкент").SetNameEn("Shymkent").Save(ctx)
	must(t, err)
	p, err := d.Partner.Create().SetName("Cafe").SetSlug("cafe").SetBin("000000000017").Save(ctx)
	must(t, err)
	a.offer, err = d.Offer.Create().SetPartnerID(p.ID).SetCategoryID(cat.ID).SetCityID(city.ID).SetTitle("Кофе").
		SetKind(offer.KindDiscount).SetStatus(offer.StatusPublished).SetPublishedAt(time.Now()).Save(ctx)
	must(t, err)
	return a
}

// service returns a members service on client that records whose sessions it ends.
func (a *accountDB) service(client *ent.Client) *members.Service {
	return members.New(client, nil, func(_ context.Context, id int) error {
		a.revoked = append(a.revoked, id)
		return nil
	})
}

func (a *accountDB) signIn(t *testing.T, tgID int64, name string) *ent.Member {
	t.Helper()
	m, _, err := a.service(a.db).SignIn(context.Background(), members.Identity{TelegramID: tgID, FirstName: name}, "web", "")
	must(t, err)
	return m
}

// activity gives the member n of every kind of record the export covers.
func (a *accountDB) activity(t *testing.T, memberID, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("%d-%d-%d", memberID, i, time.Now().UnixNano())
		must(t, a.db.Booking.Create().SetCode("B"+key).SetMemberID(memberID).SetOfferID(a.offer.ID).
			SetPartnerID(a.offer.PartnerID).Exec(ctx))
		must(t, a.db.LedgerEntry.Create().SetMemberID(memberID).SetKind("adjustment").SetAmount(10).
			SetIdempotencyKey("L"+key).Exec(ctx))
		must(t, a.db.Notification.Create().SetMemberID(memberID).SetKind("test").SetBody("hi").
			SetDedupKey("N"+key).Exec(ctx))
		th, err := a.db.SupportThread.Create().SetMemberID(memberID).SetSubject("Вопрос " + key).Save(ctx)
		must(t, err)
		must(t, a.db.SupportMessage.Create().SetThreadID(th.ID).SetAuthorID(memberID).SetBody("Здравствуйте").Exec(ctx))
		must(t, a.db.SupportMessage.Create().SetThreadID(th.ID).SetFromStaff(true).SetBody("Ответ").Exec(ctx))
		must(t, a.db.Claim.Create().SetMemberID(memberID).SetSubject("Претензия").SetBody("Текст").
			SetDueAt(time.Now().Add(240*time.Hour)).Exec(ctx))
	}
}

func TestExportQueriesDoNotGrowWithRows(t *testing.T) {
	a := newAccountDB(t)
	ctx := context.Background()
	svc := a.service(a.counted)
	m := a.signIn(t, 501, "Aida")
	a.activity(t, m.ID, 1)

	a.queries.Store(0)
	small, err := svc.Export(ctx, m.ID)
	must(t, err)
	few := a.queries.Load()
	if few == 0 {
		t.Fatal("no queries counted")
	}

	a.activity(t, m.ID, 6)
	a.queries.Store(0)
	big, err := svc.Export(ctx, m.ID)
	must(t, err)
	if many := a.queries.Load(); many != few {
		t.Errorf("export ran %d queries with 1 row of each kind, %d with 7", few, many)
	}
	if len(small.Bookings) != 1 || len(big.Bookings) != 7 || len(big.Ledger) != 7 || len(big.Claims) != 7 ||
		len(big.Support) != 7 || len(big.Support[6].Messages) != 2 || len(big.Notifications) < 7 {
		t.Errorf("export: %d bookings, %d ledger, %d claims, %d threads, %d notifications",
			len(big.Bookings), len(big.Ledger), len(big.Claims), len(big.Support), len(big.Notifications))
	}
}

func TestExportShowsReferralsByFirstName(t *testing.T) {
	a := newAccountDB(t)
	ctx := context.Background()
	svc := a.service(a.db)
	inviter := a.signIn(t, 601, "Bolat")
	invitee := a.signIn(t, 602, "Dana")
	must(t, a.db.Member.UpdateOneID(invitee.ID).SetLastName("Secretova").Exec(ctx))
	must(t, a.db.Referral.Create().SetReferrerID(inviter.ID).SetInviteeID(invitee.ID).SetCode(inviter.ReferralCode).Exec(ctx))

	got, err := svc.Export(ctx, inviter.ID)
	must(t, err)
	if got.Referral.InvitedBy != nil || len(got.Referral.Invited) != 1 || got.Referral.Invited[0].FirstName != "Dana" {
		t.Errorf("inviter's referral: %+v", got.Referral)
	}
	got, err = svc.Export(ctx, invitee.ID)
	must(t, err)
	if got.Referral.InvitedBy == nil || got.Referral.InvitedBy.FirstName != "Bolat" {
		t.Errorf("invitee's referral: %+v", got.Referral)
	}

	// Once the inviter leaves, their name is gone from the invitee's export too.
	must(t, svc.Delete(ctx, inviter.ID, "web"))
	got, err = svc.Export(ctx, invitee.ID)
	must(t, err)
	if got.Referral.InvitedBy == nil || got.Referral.InvitedBy.FirstName != "" {
		t.Errorf("after deletion: %+v", got.Referral.InvitedBy)
	}
}

func TestDeleteKeepsRecordsAndRevokesSessions(t *testing.T) {
	a := newAccountDB(t)
	ctx := context.Background()
	svc := a.service(a.db)
	m := a.signIn(t, 701, "Erlan")
	a.activity(t, m.ID, 2)
	grant, err := a.db.WelcomeGrant.Create().SetTgHash("test-hash-of-701").Save(ctx)
	must(t, err)

	must(t, svc.Delete(ctx, m.ID, "tg"))
	if len(a.revoked) != 1 || a.revoked[0] != m.ID {
		t.Errorf("sessions revoked for %v", a.revoked)
	}
	if _, err := a.db.WelcomeGrant.Get(ctx, grant.ID); err != nil {
		t.Errorf("welcome grant: %v", err)
	}
	got, err := svc.Export(ctx, m.ID)
	must(t, err)
	if got.Profile.Status != "deleted" || got.Profile.TelegramID != nil || got.Profile.FirstName != "" ||
		len(got.Ledger) != 2 || len(got.Claims) != 2 || len(got.Support) != 2 || len(got.Notifications) != 0 {
		t.Errorf("after deletion: %+v", got)
	}
	for _, c := range got.Consents {
		if c.WithdrawnAt == nil {
			t.Errorf("consent %s not withdrawn", c.Version)
		}
	}

	for name, id := range map[string]int{"twice": m.ID, "unknown": m.ID + 1000} {
		if err := svc.Delete(ctx, id, "web"); !errors.Is(err, members.ErrNotFound) {
			t.Errorf("delete %s: %v", name, err)
		}
	}
	if len(a.revoked) != 1 {
		t.Errorf("a refused deletion revoked sessions: %v", a.revoked)
	}
	if _, err := svc.Export(ctx, m.ID+1000); !errors.Is(err, members.ErrNotFound) {
		t.Errorf("export of an unknown member: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
