package catalog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/catalog"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/media"
	"ikra/app/settings"
	"ikra/ent"
	"ikra/ent/offer"
	"ikra/ent/partner"
)

// The personal first page holds exactly the offers the member may see now, plus those
// their status does not open yet, named only by title, partner and the unlocking tier;
// nothing ineligible or invite-only for others. Declared interests and views order it.
func TestPersonalLoader(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			db := d.Client
			objects, err := media.NewDisk(t.TempDir())
			apptest.Must(t, err)
			l := loyalty.New(db, ledger.New(db, d.Dialect), settings.New(db), nil)
			cat := catalog.New(db, l, objects)

			food, err := db.Category.Create().SetSlug("food").SetNameRu("Рестораны").SetNameEn("Restaurants").Save(ctx)
			apptest.Must(t, err)
			spa, err := db.Category.Create().SetSlug("spa").SetNameRu("СПА").SetNameEn("Spa").Save(ctx)
			apptest.Must(t, err)
			city, err := db.City.Create().SetSlug("ala").SetNameRu("Алматы").SetNameEn("Almaty").Save(ctx)
			apptest.Must(t, err)
			base, err := db.Tier.Create().SetSlug("b").SetNameRu("Базовый").SetNameEn("Base").SetSort(1).Save(ctx)
			apptest.Must(t, err)
			gold, err := db.Tier.Create().SetSlug("g").SetNameRu("Золотой").SetNameEn("Gold").SetMinEarned(1_000_000).SetSort(2).Save(ctx)
			apptest.Must(t, err)
			p, err := db.Partner.Create().SetName("Кафе Арман").SetSlug("p").SetBin("000000000001").SetCategoryID(food.ID).SetCityID(city.ID).Save(ctx)
			apptest.Must(t, err)
			off, err := db.Partner.Create().SetName("Закрытый").SetSlug("q").SetBin("000000000002").SetCategoryID(food.ID).SetCityID(city.ID).
				SetStatus(partner.StatusSuspended).Save(ctx)
			apptest.Must(t, err)
			m, err := db.Member.Create().SetTelegramID(1).SetReferralCode("R1").Save(ctx)
			apptest.Must(t, err)
			other, err := db.Member.Create().SetTelegramID(2).SetReferralCode("R2").Save(ctx)
			apptest.Must(t, err)

			published := time.Now().Add(-30 * 24 * time.Hour)
			mk := func(title string, pid, cid int, edit func(*ent.OfferCreate)) int {
				q := db.Offer.Create().SetPartnerID(pid).SetCategoryID(cid).SetCityID(city.ID).SetTitle(title).
					SetSummary("summary of " + title).SetDescription("details of " + title).
					SetKind(offer.KindDiscount).SetStatus(offer.StatusPublished).SetPublishedAt(published)
				published = published.Add(time.Minute)
				if edit != nil {
					edit(q)
				}
				o, err := q.Save(ctx)
				apptest.Must(t, err)
				return o.ID
			}
			spaOffer := mk("SPA", p.ID, spa.ID, nil)
			foodOffer := mk("Ужин", p.ID, food.ID, nil) // newer than the SPA offer
			baseOffer := mk("Для базового", p.ID, spa.ID, func(o *ent.OfferCreate) { o.SetMinTierID(base.ID).SetVisibility(offer.VisibilityTier) })
			goldOffer := mk("Золотой ужин", p.ID, food.ID, func(o *ent.OfferCreate) { o.SetMinTierID(gold.ID).SetVisibility(offer.VisibilityTier) })
			never := map[int]string{
				mk("Черновик", p.ID, food.ID, func(o *ent.OfferCreate) { o.SetStatus(offer.StatusDraft) }):                                           "draft",
				mk("Истёкшее", p.ID, food.ID, func(o *ent.OfferCreate) { o.SetValidUntil(time.Now().Add(-time.Hour)) }):                              "expired",
				mk("Приостановлен", off.ID, food.ID, nil):                                                                                            "suspended partner",
				mk("Чужое приглашение", p.ID, food.ID, func(o *ent.OfferCreate) { o.SetVisibility(offer.VisibilityInvite).AddInvitedIDs(other.ID) }): "invite-only for another",
				mk("Золото по приглашению", p.ID, food.ID, func(o *ent.OfferCreate) {
					o.SetVisibility(offer.VisibilityInvite).SetMinTierID(gold.ID).AddInvitedIDs(other.ID)
				}): "invite-only above the tier",
				mk("Закрытое партнёром с золотом", off.ID, food.ID, func(o *ent.OfferCreate) { o.SetMinTierID(gold.ID).SetVisibility(offer.VisibilityTier) }): "locked at a suspended partner",
			}

			cards, err := cat.Personal(ctx, m.ID, 24)
			apptest.Must(t, err)
			order := func(cards []catalog.Card) string {
				s := ""
				for _, c := range cards {
					s += fmt.Sprintf("%d:%s ", c.ID, c.Reason)
				}
				return s
			}
			if len(cards) != 4 {
				t.Fatalf("cards %s, want 4", order(cards))
			}
			for _, c := range cards {
				if why, ok := never[c.ID]; ok {
					t.Errorf("offer %d (%s) on the page", c.ID, why)
				}
			}
			// Open ones first; the gold one last and locked.
			last := cards[3]
			if last.ID != goldOffer || !last.Locked || last.Offer != nil || last.Title != "Золотой ужин" || last.PartnerName != "Кафе Арман" ||
				last.UnlockTier == nil || last.UnlockTier.ID != gold.ID || last.Reason != catalog.ReasonLocked || last.ReasonArg != any(last.UnlockTier) {
				t.Fatalf("locked card %+v", last)
			}
			for _, c := range cards[:3] {
				if c.Locked || c.Offer == nil || c.Offer.Edges.Partner == nil || c.Offer.Edges.Category == nil {
					t.Errorf("open card %+v", c)
				}
			}
			if cards[0].ID != baseOffer || cards[0].Reason != catalog.ReasonUnlocked {
				t.Errorf("first %s: want the offer the Base status unlocks", order(cards))
			}
			if cards[1].ID != foodOffer || cards[2].ID != spaOffer {
				t.Errorf("without interests: %s, want the newer one first", order(cards))
			}

			// Views of an SPA offer put both SPA offers ahead of the newer dinner.
			for i := 0; i < 3; i++ {
				apptest.Must(t, db.OfferView.Create().SetOfferID(spaOffer).SetPartnerID(p.ID).SetMemberID(m.ID).
					SetDay(time.Now().Format(time.DateOnly)).Exec(ctx))
			}
			cards, err = cat.Personal(ctx, m.ID, 24)
			apptest.Must(t, err)
			if cards[0].ID != baseOffer || cards[1].ID != spaOffer || cards[1].Reason != catalog.ReasonViewed || cards[2].ID != foodOffer {
				t.Errorf("after SPA views: %s", order(cards))
			}
			// A declared interest in restaurants beats the views.
			apptest.Must(t, db.Member.UpdateOneID(m.ID).AddInterestIDs(food.ID).Exec(ctx))
			cards, err = cat.Personal(ctx, m.ID, 24)
			apptest.Must(t, err)
			if cards[0].ID != foodOffer || cards[0].Reason != catalog.ReasonInterest || cards[0].ReasonArg != any(cards[0].Offer.Edges.Category) {
				t.Errorf("after declaring restaurants: %s", order(cards))
			}
			if last := cards[len(cards)-1]; last.ID != goldOffer || !last.Locked {
				t.Errorf("a declared interest lifted a locked offer: %s", order(cards))
			}
		})
	}
}
