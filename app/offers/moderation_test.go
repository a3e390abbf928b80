package offers_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/offers"
	"ikra/ent"
	"ikra/ent/auditlog"
	"ikra/ent/notification"
	"ikra/ent/offer"
)

// Moderators deciding on the same offer at once make exactly one decision: one audit
// entry, one notification per owner, the others told it is already decided.
func TestConcurrentDecisionsDecideOnce(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	place := env.Place()
	p := env.Partner(place, "Partner")
	_, owner := env.Member(7201, "Owner")
	_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, owner.ID, "owner", &p.ID)
	apptest.Must(t, err)
	o := env.Offer(place, p.ID, "Ужин", func(c *ent.OfferCreate) { c.SetStatus(offer.StatusPending) })

	svc := env.App.PartnerOffers
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			actor := audit.Entry{ActorRole: "moderator"}
			if i%2 == 0 {
				errs <- svc.Approve(ctx, actor, offers.KindOffer, o.ID)
			} else {
				errs <- svc.Reject(ctx, actor, offers.KindOffer, o.ID, "нет")
			}
		})
	}
	wg.Wait()
	close(errs)
	decided := 0
	for err := range errs {
		switch {
		case err == nil:
			decided++
		case !errors.Is(err, offers.ErrState):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if decided != 1 {
		t.Fatalf("%d decisions, want 1", decided)
	}
	db := env.App.DB.Client
	if a, _ := db.AuditLog.Query().Where(auditlog.ActionHasPrefix("moderation.offer.")).Count(ctx); a != 1 {
		t.Errorf("%d audit entries", a)
	}
	if k, _ := db.Notification.Query().Where(notification.MemberID(owner.ID), notification.Kind("offer_moderated")).Count(ctx); k != 1 {
		t.Errorf("owner notified %d times", k)
	}
	if got, _ := db.Offer.Get(ctx, o.ID); got.Status == offer.StatusPending {
		t.Errorf("still pending")
	}
}

// Another partner's offer is not found by any partner-scoped function.
func TestPartnerScoping(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	place := env.Place()
	a, b := env.Partner(place, "A"), env.Partner(place, "B")
	o := env.Offer(place, a.ID, "Ужин", func(c *ent.OfferCreate) { c.SetStatus(offer.StatusDraft).SetAddresses([]string{"x"}) })
	svc := env.App.PartnerOffers
	in := offers.OfferInput{Title: "Чужое", Kind: "discount", CategoryID: place.CategoryID, CityID: place.CityID,
		Addresses: []string{"y"}, PerMemberLimit: 1, Visibility: "all"}
	if _, err := svc.Get(ctx, b.ID, o.ID); !errors.Is(err, offers.ErrNotFound) {
		t.Errorf("Get: %v", err)
	}
	if _, err := svc.Update(ctx, b.ID, o.ID, 1, in); !errors.Is(err, offers.ErrNotFound) {
		t.Errorf("Update: %v", err)
	}
	if err := svc.Submit(ctx, b.ID, o.ID); !errors.Is(err, offers.ErrNotFound) {
		t.Errorf("Submit: %v", err)
	}
	if err := svc.Archive(ctx, b.ID, o.ID); !errors.Is(err, offers.ErrNotFound) {
		t.Errorf("Archive: %v", err)
	}
	list, err := svc.List(ctx, b.ID)
	apptest.Must(t, err)
	if len(list) != 0 {
		t.Errorf("B lists %d offers", len(list))
	}
	if got, _ := env.App.DB.Offer.Get(ctx, o.ID); got.Title != "Ужин" || got.Status != offer.StatusDraft {
		t.Errorf("A's offer changed: %q %s", got.Title, got.Status)
	}
}
