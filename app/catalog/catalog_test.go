package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/catalog"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/media"
	"ikra/app/settings"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
)

// A member sees an offer only while in good standing: a blocked or deleted member sees
// no offer and no image, whatever the offer; an unknown member sees nothing either.
func TestMemberInGoodStanding(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			db := d.Client
			objects, err := media.NewDisk(t.TempDir())
			apptest.Must(t, err)
			l := loyalty.New(db, ledger.New(db, d.Dialect), settings.New(db), nil)
			cat := catalog.New(db, l, objects)

			c, err := db.Category.Create().SetSlug("c").SetNameRu("К").SetNameEn("C").Save(ctx)
			apptest.Must(t, err)
			city, err := db.City.Create().SetSlug("a").SetNameRu("А").SetNameEn("A").Save(ctx)
			apptest.Must(t, err)
			p, err := db.Partner.Create().SetName("P").SetSlug("p").SetBin("000000000001").SetCategoryID(c.ID).SetCityID(city.ID).Save(ctx)
			apptest.Must(t, err)
			o, err := db.Offer.Create().SetPartnerID(p.ID).SetCategoryID(c.ID).SetCityID(city.ID).SetTitle("O").
				SetKind(offer.KindDiscount).SetStatus(offer.StatusPublished).SetPublishedAt(time.Now()).Save(ctx)
			apptest.Must(t, err)
			key := "offers/1/a.png"
			apptest.Must(t, objects.Put(ctx, key, bytes.NewReader([]byte("png")), 3, "image/png"))
			apptest.Must(t, db.OfferMedia.Create().SetOfferID(o.ID).SetKey(key).SetContentType("image/png").SetSize(3).Exec(ctx))

			for i, status := range []member.Status{member.StatusActive, member.StatusBlocked, member.StatusDeleted} {
				m, err := db.Member.Create().SetTelegramID(int64(100 + i)).SetReferralCode("R" + string(status)).SetStatus(status).Save(ctx)
				apptest.Must(t, err)
				want := status == member.StatusActive
				q, err := cat.Visible(ctx, m.ID)
				apptest.Must(t, err)
				n, err := q.Count(ctx)
				apptest.Must(t, err)
				if (n == 1) != want {
					t.Errorf("%s member sees %d offers", status, n)
				}
				if _, err := cat.Offer(ctx, m.ID, o.ID); (err == nil) != want || (!want && !errors.Is(err, catalog.ErrNotFound)) {
					t.Errorf("%s member opens the offer: %v", status, err)
				}
				r, _, err := cat.Image(ctx, m.ID, key)
				if r != nil {
					r.Close()
				}
				if (err == nil) != want {
					t.Errorf("%s member gets the image: %v", status, err)
				}
			}
			var none []*ent.Offer
			q, err := cat.Visible(ctx, 999999)
			apptest.Must(t, err)
			if none, err = q.All(ctx); err != nil || len(none) != 0 {
				t.Errorf("an unknown member sees %d offers (%v)", len(none), err)
			}
			if ok, err := cat.MediaAllowed(ctx, 999999, "../etc/passwd"); ok || err != nil {
				t.Errorf("a malformed key: %v %v", ok, err)
			}
		})
	}
}
