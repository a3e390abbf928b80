package dashboard_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/dashboard"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
	"ikra/ent/offer"
)

// The overview's figures and the liability chart agree with the rows they count, on
// both databases.
func TestOverviewCountsAndLiability(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, dashboard.Almaty)
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			db := d.Client
			day := func(n int) time.Time { return now.AddDate(0, 0, -n).UTC() }
			a, err := db.Member.Create().SetTelegramID(1).SetReferralCode("AAAA1").SetFirstName("A").SetCreatedAt(day(10)).SetLastSeenAt(day(1)).Save(ctx)
			apptest.Must(t, err)
			b, err := db.Member.Create().SetTelegramID(2).SetReferralCode("BBBB2").SetFirstName("B").SetCreatedAt(day(40)).Save(ctx)
			apptest.Must(t, err)
			n := 0
			entry := func(m *ent.Member, kind ledgerentry.Kind, bucket ledgerentry.Bucket, amount int64, at time.Time) {
				n++
				apptest.Must(t, db.LedgerEntry.Create().SetMemberID(m.ID).SetKind(kind).SetBucket(bucket).SetAmount(amount).
					SetIdempotencyKey(fmt.Sprint("k", n)).SetCreatedAt(at).Exec(ctx))
			}
			entry(b, ledgerentry.KindWelcome, ledgerentry.BucketAvailable, 100, day(40))
			entry(a, ledgerentry.KindWelcome, ledgerentry.BucketAvailable, 100, day(10))
			entry(a, ledgerentry.KindCashback, ledgerentry.BucketPending, 50, day(3))
			entry(a, ledgerentry.KindSpend, ledgerentry.BucketAvailable, -30, day(2))
			entry(a, ledgerentry.KindAnnulment, ledgerentry.BucketAvailable, -20, day(0))
			apptest.Must(t, db.Balance.Create().SetMemberID(a.ID).SetAvailable(50).SetPending(50).Exec(ctx))
			apptest.Must(t, db.Balance.Create().SetMemberID(b.ID).SetAvailable(100).Exec(ctx))

			cat, err := db.Category.Create().SetSlug("food").SetNameRu("Еда").SetNameEn("Food").Save(ctx)
			apptest.Must(t, err)
			city, err := db.City.Create().SetSlug("almaty").SetNameRu("Алматы").SetNameEn("Almaty").Save(ctx)
			apptest.Must(t, err)
			p, err := db.Partner.Create().SetName("P").SetSlug("p").SetBin("000000000000").Save(ctx)
			apptest.Must(t, err)
			o, err := db.Offer.Create().SetPartnerID(p.ID).SetCategoryID(cat.ID).SetCityID(city.ID).SetTitle("O").
				SetKind(offer.KindDiscount).SetStatus(offer.StatusPublished).Save(ctx)
			apptest.Must(t, err)
			book := func(code string, st booking.Status, amount int64, at time.Time) {
				q := db.Booking.Create().SetCode(code).SetMemberID(a.ID).SetOfferID(o.ID).SetPartnerID(p.ID).SetStatus(st).SetCreatedAt(at)
				if st == booking.StatusCompleted {
					q.SetDealAmount(amount).SetCompletedAt(at)
				}
				apptest.Must(t, q.Exec(ctx))
			}
			book("C1", booking.StatusCompleted, 500_000, day(5))
			book("C2", booking.StatusCompleted, 250_000, day(1))
			book("R1", booking.StatusRequested, 0, day(1))
			book("OLD", booking.StatusCompleted, 999_999, day(45))

			svc := dashboard.New(d.DB, func(ctx context.Context, from, to time.Time, into map[string]int64) error {
				into["extra"] = 7
				return nil
			})
			svc.SetClock(func() time.Time { return now })
			p30, err := dashboard.PeriodOf("")
			apptest.Must(t, err)
			ov, err := svc.Overview(ctx, p30)
			apptest.Must(t, err)
			if ov.Members.Total != 2 || ov.Members.New != 1 || ov.Members.Active != 1 {
				t.Errorf("members %+v", ov.Members)
			}
			if ov.Bookings["completed"] != 2 || ov.Bookings["requested"] != 1 || ov.Deals != 2 || ov.DealsAmount != 750_000 {
				t.Errorf("bookings %v, deals %d for %d", ov.Bookings, ov.Deals, ov.DealsAmount)
			}
			bo := ov.Bonuses
			if bo.Issued != 150 || bo.Spent != 30 || bo.Annulled != 20 || bo.Pending != 50 || bo.Outstanding() != 200 {
				t.Errorf("bonuses %+v, outstanding %d", bo, bo.Outstanding())
			}
			if len(ov.Chart) != 30 {
				t.Fatalf("%d points", len(ov.Chart))
			}
			last := ov.Chart[len(ov.Chart)-1]
			if last.Liability != 200 {
				t.Errorf("liability at the end of today %d, want 200", last.Liability)
			}
			// The day A joined ends with 200 held; the day before with B's 100 only.
			joined := ov.Chart[len(ov.Chart)-11]
			before := ov.Chart[len(ov.Chart)-12]
			if joined.Liability != 200 || before.Liability != 100 || joined.Issued != 100 {
				t.Errorf("the day A joined %+v, the day before %+v", joined, before)
			}
			var issued, spent int64
			for _, pt := range ov.Chart {
				issued += pt.Issued
				spent += pt.Spent
			}
			if issued != 150 || spent != 30 {
				t.Errorf("chart sums issued %d spent %d, want 150 and 30", issued, spent)
			}
			if ov.Work["extra"] != 7 {
				t.Errorf("counters not asked: %v", ov.Work)
			}
			for _, key := range []string{"7d", "90d", "365d"} {
				p, err := dashboard.PeriodOf(key)
				apptest.Must(t, err)
				ov, err := svc.Overview(ctx, p)
				apptest.Must(t, err)
				if len(ov.Chart) != p.Steps || ov.Chart[len(ov.Chart)-1].Liability != 200 {
					t.Errorf("%s: %d points, last %+v", key, len(ov.Chart), ov.Chart[len(ov.Chart)-1])
				}
			}
			if _, err := dashboard.PeriodOf("1y"); err == nil {
				t.Error("an unknown period is accepted")
			}
		})
	}
}
