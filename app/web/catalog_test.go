package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
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
	_, err := db.Tier.Create().SetSlug("base").SetNameRu("Base").SetNameEn("Base").SetSort(0).Save(ctx)
	apptest.Must(t, err)
	silver, err := db.Tier.Create().SetSlug("silver").SetNameRu("Silver").SetNameEn("Silver").SetMinEarned(1_000_000).SetSort(1).Save(ctx)
	apptest.Must(t, err)
	open := env.Offer(place, p.ID, "Открытое для всех").ID
	vip := env.Offer(place, p.ID, "Только Silver", func(o *ent.OfferCreate) { o.SetMinTierID(silver.ID).SetVisibility(offer.VisibilityTier) }).ID
	invited, err := db.Member.Query().Where(member.TelegramID(9302)).Only(ctx)
	apptest.Must(t, err)
	secret := env.Offer(place, p.ID, "По приглашению", func(o *ent.OfferCreate) { o.SetVisibility(offer.VisibilityInvite).AddInvitedIDs(invited.ID) }).ID

	home := c.Get("/app").Body
	if !strings.Contains(home, "Открытое для всех") || strings.Contains(home, "Только Silver") || strings.Contains(home, "По приглашению") {
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
