package offers_test

import (
	"context"
	"errors"
	"testing"

	"ikra/app/apptest"
	"ikra/app/offers"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
)

// The invite list through the service: by Telegram ID and by username in any case,
// inviting twice is a no-op, unknown, blocked and malformed names are ErrNoSuchMember,
// another partner's offer is ErrNotFound for every call, an archived offer's list is
// frozen, and the list shows only first name and username.
func TestInviteList(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	db := env.App.DB.Client
	place := env.Place()
	a := env.Partner(place, "Partner A")
	b := env.Partner(place, "Partner B")
	o := env.Offer(place, a.ID, "Ужин", func(c *ent.OfferCreate) { c.SetVisibility(offer.VisibilityInvite) })
	_, aigerim := env.Member(7301, "Айгерим")
	_, dana := env.Member(7302, "Дана")
	_, blocked := env.Member(7303, "Блок")
	apptest.Must(t, db.Member.UpdateOneID(aigerim.ID).SetLastName("Секретова").Exec(ctx))
	apptest.Must(t, db.Member.UpdateOneID(dana.ID).SetUsername("Dana_K").Exec(ctx))
	apptest.Must(t, db.Member.UpdateOneID(blocked.ID).SetUsername("blocked_one").SetStatus(member.StatusBlocked).Exec(ctx))
	svc := env.App.PartnerOffers

	apptest.Must(t, svc.Invite(ctx, a.ID, o.ID, " 7301 "))
	apptest.Must(t, svc.Invite(ctx, a.ID, o.ID, "@dana_k"))
	apptest.Must(t, svc.Invite(ctx, a.ID, o.ID, "DANA_K")) // already there
	for _, who := range []string{"@nobody_here", "7399", "@blocked_one", "", "@", "Дана", "@dana%", "-5"} {
		if err := svc.Invite(ctx, a.ID, o.ID, who); !errors.Is(err, offers.ErrNoSuchMember) {
			t.Errorf("Invite(%q) = %v, want ErrNoSuchMember", who, err)
		}
	}
	list, err := svc.Invited(ctx, a.ID, o.ID)
	apptest.Must(t, err)
	if len(list) != 2 || list[0].ID != aigerim.ID || list[1].ID != dana.ID {
		t.Fatalf("invited %v, want Айгерим and Дана", list)
	}
	if list[0].LastName != "" || list[0].TelegramID != nil || list[1].Username != "Dana_K" {
		t.Errorf("the list carries more than first name and username: %+v", list[0])
	}

	// Partner B reaches nothing of partner A's offer.
	if _, err := svc.Invited(ctx, b.ID, o.ID); !errors.Is(err, offers.ErrNotFound) {
		t.Errorf("Invited by partner B = %v", err)
	}
	if err := svc.Invite(ctx, b.ID, o.ID, "7302"); !errors.Is(err, offers.ErrNotFound) {
		t.Errorf("Invite by partner B = %v", err)
	}
	if err := svc.Uninvite(ctx, b.ID, o.ID, aigerim.ID); !errors.Is(err, offers.ErrNotFound) {
		t.Errorf("Uninvite by partner B = %v", err)
	}

	apptest.Must(t, svc.Uninvite(ctx, a.ID, o.ID, aigerim.ID))
	apptest.Must(t, svc.Uninvite(ctx, a.ID, o.ID, aigerim.ID)) // not there any more
	if n, _ := db.Offer.QueryInvited(o).Count(ctx); n != 1 {
		t.Fatalf("%d invited after removing one of two", n)
	}

	apptest.Must(t, svc.Archive(ctx, a.ID, o.ID))
	if err := svc.Invite(ctx, a.ID, o.ID, "7301"); !errors.Is(err, offers.ErrState) {
		t.Errorf("Invite to an archived offer = %v, want ErrState", err)
	}
}
