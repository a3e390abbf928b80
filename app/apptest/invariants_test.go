package apptest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/ledger"
	"ikra/ent/booking"
	"ikra/ent/offer"
)

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Failed() bool        { return len(r.errs) > 0 }
func (r *recorder) Logf(string, ...any) {}

// The checker passes an intact world and finds each kind of breach.
func TestCheckInvariantsFindsBreaches(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			m, err := d.Member.Create().SetReferralCode("R1").SetTelegramID(777).Save(ctx)
			apptest.Must(t, err)
			l := ledger.New(d.Client, d.Dialect)
			_, err = l.Credit(ctx, ledger.Op{MemberID: m.ID, Amount: 500, Kind: ledger.KindWelcome, Key: "welcome:1"})
			apptest.Must(t, err)
			n, err := d.Notification.Create().SetMemberID(m.ID).SetKind("welcome").SetBody("hi").SetDedupKey("w1").
				SetTelegramSentAt(time.Now()).Save(ctx)
			apptest.Must(t, err)
			cat, err := d.Category.Create().SetSlug("c").SetNameRu("К").SetNameEn("C").Save(ctx)
			apptest.Must(t, err)
			city, err := d.City.Create().SetSlug("a").SetNameRu("А").SetNameEn("A").Save(ctx)
			apptest.Must(t, err)
			p, err := d.Partner.Create().SetName("P").SetSlug("p").SetBin("000000000001").Save(ctx)
			apptest.Must(t, err)
			o, err := d.Offer.Create().SetPartnerID(p.ID).SetCategoryID(cat.ID).SetCityID(city.ID).SetTitle("O").
				SetKind(offer.KindDiscount).SetCapacity(1).Save(ctx)
			apptest.Must(t, err)
			apptest.Must(t, d.Booking.Create().SetCode("B1").SetMemberID(m.ID).SetOfferID(o.ID).SetPartnerID(p.ID).Exec(ctx))

			check := func(sent apptest.Delivery) []string {
				r := &recorder{TB: t}
				apptest.CheckInvariants(r, ctx, d.Client, sent)
				return r.errs
			}
			if errs := check(apptest.Delivery{777: 1}); len(errs) != 0 {
				t.Fatalf("an intact world: %q", errs)
			}
			if errs := check(apptest.Delivery{777: 2}); len(errs) != 1 {
				t.Errorf("a message sent twice: %q", errs)
			}
			apptest.Must(t, d.Notification.UpdateOne(n).ClearTelegramSentAt().Exec(ctx))
			if errs := check(apptest.Delivery{}); len(errs) != 2 { // not sent, and not received
				t.Errorf("a notification never sent: %q", errs)
			}
			apptest.Must(t, d.Notification.UpdateOne(n).SetTelegramSentAt(time.Now()).Exec(ctx))
			apptest.Must(t, d.Booking.Create().SetCode("B2").SetMemberID(m.ID).SetOfferID(o.ID).SetPartnerID(p.ID).
				SetStatus(booking.StatusCompleted).Exec(ctx))
			if errs := check(nil); len(errs) != 1 {
				t.Errorf("two bookings on one place: %q", errs)
			}
			apptest.Must(t, d.Booking.Update().Where(booking.Code("B2")).SetStatus(booking.StatusCancelled).Exec(ctx))
			_, err = d.Balance.Update().AddAvailable(1).Save(ctx)
			apptest.Must(t, err)
			if errs := check(nil); len(errs) != 1 {
				t.Errorf("a balance off its entries: %q", errs)
			}
			_, err = d.Balance.Update().AddAvailable(499).Save(ctx)
			apptest.Must(t, err)
			apptest.Must(t, d.LedgerEntry.Create().SetMemberID(m.ID).SetKind("welcome").SetAmount(500).SetIdempotencyKey("welcome:again").Exec(ctx))
			if errs := check(nil); len(errs) != 1 {
				t.Errorf("a second welcome credit: %q", errs)
			}
		})
	}
}
