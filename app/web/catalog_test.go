package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/loyalty"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/partner"
	"ikra/ent/tier"
)

// Offers open from a status tier, and invite-only offers, are shown only to members
// who qualify; to others they do not exist.
func TestCatalogEligibility(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	db := env.App.DB.Client
	c := env.Client()
	c.SignIn(9301, "Base")
	guest := env.Client()
	guest.SignIn(9302, "Invited")
	place := env.Place()
	p := env.Partner(place, "P")
	// The default tiers: the new member holds Base, Silver needs earnings they lack.
	silver, err := db.Tier.Query().Where(tier.Slug(loyalty.TierSilver)).Only(ctx)
	apptest.Must(t, err)
	open := env.Offer(place, p.ID, "Открытое для всех").ID
	vip := env.Offer(place, p.ID, "Только Silver", func(o *ent.OfferCreate) { o.SetMinTierID(silver.ID).SetVisibility(offer.VisibilityTier) }).ID
	invited, err := db.Member.Query().Where(member.TelegramID(9302)).Only(ctx)
	apptest.Must(t, err)
	secret := env.Offer(place, p.ID, "По приглашению", func(o *ent.OfferCreate) { o.SetVisibility(offer.VisibilityInvite).AddInvitedIDs(invited.ID) }).ID

	home := c.Get("/app").Body
	// The Silver offer is named, locked, with the status that opens it, and not linked.
	if !strings.Contains(home, "Открытое для всех") || strings.Contains(home, "По приглашению") ||
		!strings.Contains(home, "Только Silver") || !strings.Contains(home, "Откроется со статусом «Серебряный»") ||
		strings.Contains(home, fmt.Sprintf(`href="/app/offers/%d"`, vip)) {
		t.Fatalf("base member's catalog: %s", home)
	}
	for _, id := range []int{vip, secret} {
		if r := c.Get("/app/offers/" + apptest.Itoa(id)); r.Status != http.StatusNotFound {
			t.Errorf("offer %d shown to a member who does not qualify: %d", id, r.Status)
		}
	}
	if r := c.Get("/app/offers/" + apptest.Itoa(open)); r.Status != 200 {
		t.Fatalf("open offer: %d", r.Status)
	}
	if r := guest.Get("/app/offers/" + apptest.Itoa(secret)); r.Status != 200 {
		t.Fatalf("invited member: %d", r.Status)
	}
	// Buying silver opens the silver offer.
	m, err := db.Member.Query().Where(member.TelegramID(9301)).Only(ctx)
	apptest.Must(t, err)
	apptest.Must(t, m.Update().SetTierID(silver.ID).SetTierUntil(time.Now().Add(24*time.Hour)).Exec(ctx))
	if r := c.Get("/app/offers/" + apptest.Itoa(vip)); r.Status != 200 {
		t.Fatalf("silver member: %d", r.Status)
	}
}

// An offer's images are served exactly to the members who may open the offer: for every
// offer a member may not open, none of its images is served, and the list, the offer
// page, the images and the catalog's own query agree.
func TestOfferImagesFollowVisibility(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	db := env.App.DB.Client
	c, m := env.Member(9311, "Base")
	_, other := env.Member(9312, "Other")
	place := env.Place()
	p := env.Partner(place, "Open partner")
	suspended := env.Partner(place, "Suspended partner")
	apptest.Must(t, suspended.Update().SetStatus(partner.StatusSuspended).Exec(ctx))
	high, err := db.Tier.Create().SetSlug("t-high").SetNameRu("Высокий").SetNameEn("High").SetMinEarned(1_000_000_000).SetSort(1000).Save(ctx)
	apptest.Must(t, err)
	low, err := db.Tier.Create().SetSlug("t-low").SetNameRu("Низкий").SetNameEn("Low").SetSort(-1000).Save(ctx)
	apptest.Must(t, err)
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)

	tests := []struct {
		title   string
		partner int
		edit    func(*ent.OfferCreate)
		visible bool
		locked  bool // named on /app as locked by tier: title only, no link or image
	}{
		{"Открытое", p.ID, func(*ent.OfferCreate) {}, true, false},
		{"Открытое со сроком", p.ID, func(o *ent.OfferCreate) { o.SetValidFrom(past).SetValidUntil(future) }, true, false},
		{"С достигнутым статусом", p.ID, func(o *ent.OfferCreate) { o.SetMinTierID(low.ID).SetVisibility(offer.VisibilityTier) }, true, false},
		{"С приглашением", p.ID, func(o *ent.OfferCreate) { o.SetVisibility(offer.VisibilityInvite).AddInvitedIDs(m.ID) }, true, false},
		{"Черновик", p.ID, func(o *ent.OfferCreate) { o.SetStatus(offer.StatusDraft).SetNillablePublishedAt(nil) }, false, false},
		{"На модерации", p.ID, func(o *ent.OfferCreate) { o.SetStatus(offer.StatusPending) }, false, false},
		{"Отклонённое", p.ID, func(o *ent.OfferCreate) { o.SetStatus(offer.StatusRejected) }, false, false},
		{"В архиве", p.ID, func(o *ent.OfferCreate) { o.SetStatus(offer.StatusArchived) }, false, false},
		{"Истёкшее", p.ID, func(o *ent.OfferCreate) { o.SetValidUntil(past) }, false, false},
		{"Ещё не началось", p.ID, func(o *ent.OfferCreate) { o.SetValidFrom(future) }, false, false},
		{"Партнёр приостановлен", suspended.ID, func(*ent.OfferCreate) {}, false, false},
		{"Выше статуса", p.ID, func(o *ent.OfferCreate) { o.SetMinTierID(high.ID).SetVisibility(offer.VisibilityTier) }, false, true},
		{"Без приглашения", p.ID, func(o *ent.OfferCreate) { o.SetVisibility(offer.VisibilityInvite).AddInvitedIDs(other.ID) }, false, false},
	}
	png := []byte("\x89PNG\r\n\x1a\nfake")
	ids := make([]int, len(tests))
	for i, tt := range tests {
		o := env.Offer(place, tt.partner, tt.title, tt.edit)
		ids[i] = o.ID
		for i := 1; i <= 2; i++ {
			key := fmt.Sprintf("offers/%d/%d.png", o.ID, i)
			apptest.Must(t, env.App.Media.Put(ctx, key, bytes.NewReader(png), int64(len(png)), "image/png"))
			apptest.Must(t, db.OfferMedia.Create().SetOfferID(o.ID).SetKey(key).SetContentType("image/png").SetSize(int64(len(png))).SetSort(i).Exec(ctx))
		}
	}

	home := c.Get("/app").Body
	q, err := env.App.Offers.Visible(ctx, m.ID)
	apptest.Must(t, err)
	visible, err := q.IDs(ctx)
	apptest.Must(t, err)
	inQuery := map[int]bool{}
	for _, id := range visible {
		inQuery[id] = true
	}
	for i, tt := range tests {
		id := ids[i]
		t.Run(tt.title, func(t *testing.T) {
			want := http.StatusNotFound
			if tt.visible {
				want = http.StatusOK
			}
			if inQuery[id] != tt.visible {
				t.Errorf("catalog query says visible=%v", inQuery[id])
			}
			if got := strings.Contains(home, tt.title); got != (tt.visible || tt.locked) {
				t.Errorf("named on /app: %v", got)
			}
			if got := strings.Contains(home, fmt.Sprintf(`href="/app/offers/%d"`, id)); got != tt.visible {
				t.Errorf("linked from /app: %v", got)
			}
			if got := strings.Contains(home, fmt.Sprintf("/media/offers/%d/", id)); got && !tt.visible {
				t.Errorf("an image on /app")
			}
			if r := c.Get("/app/offers/" + apptest.Itoa(id)); r.Status != want {
				t.Errorf("offer page: %d, want %d", r.Status, want)
			}
			for i := 1; i <= 2; i++ {
				r := c.Get(fmt.Sprintf("/media/offers/%d/%d.png", id, i))
				if r.Status != want {
					t.Errorf("image %d: %d, want %d", i, r.Status, want)
				}
				if want == http.StatusOK && r.Body != string(png) {
					t.Errorf("image %d: wrong bytes", i)
				}
			}
		})
	}
	// Not signed in, nothing is served.
	for _, id := range ids {
		if r := env.Client().Get(fmt.Sprintf("/media/offers/%d/1.png", id)); r.Status == http.StatusOK {
			t.Errorf("offer %d's image served to a visitor", id)
		}
	}
}
