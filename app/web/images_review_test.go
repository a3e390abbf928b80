package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/images"
	"ikra/app/images/imagestest"
	"ikra/ent"
	"ikra/ent/offermedia"
	"ikra/ent/offerrevision"
)

// TestImagesOnPublishedOfferWaitForReview: an image added to a published offer reaches
// members only after a moderator approves it with a revision of the offer; a refused
// one never does. The moderator sees the new image on the review page.
func TestImagesOnPublishedOfferWaitForReview(t *testing.T) {
	w := newImagesWorld(t)
	ctx := context.Background()
	db := w.env.App.DB.Client
	_, mod := w.env.Member(7106, "Moderator")
	_, err := w.env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, mod.ID, "moderator", nil)
	apptest.Must(t, err)
	moderator := w.env.Client()
	moderator.SignIn(7106, "Moderator")
	offerPath := "/app/offers/" + apptest.Itoa(w.offer.ID)

	pendingRevision := func() *ent.OfferRevision {
		t.Helper()
		r, err := db.OfferRevision.Query().Where(offerrevision.OfferID(w.offer.ID), offerrevision.StatusEQ(offerrevision.StatusPending)).Only(ctx)
		if err != nil {
			t.Fatalf("no pending revision of the offer: %v", err)
		}
		return r
	}
	uploadOne := func(width int) *ent.OfferMedia {
		t.Helper()
		r := upload(t, w.ownerA, w.offer.ID, "p.jpg", "image/jpeg", imagestest.JPEG(width, 60))
		mustStatus(t, "upload", r, http.StatusSeeOther)
		m, err := db.OfferMedia.Query().Where(offermedia.OfferID(w.offer.ID), offermedia.Width(width)).Only(ctx)
		apptest.Must(t, err)
		if m.Status != offermedia.StatusPending {
			t.Fatalf("image on a published offer is %s, want pending", m.Status)
		}
		return m
	}
	hidden := func(m *ent.OfferMedia) {
		t.Helper()
		if r := w.member.Get("/media/" + m.Key); r.Status != http.StatusNotFound {
			t.Errorf("member got an unreviewed image: %d", r.Status)
		}
		if r := w.member.Get("/media/" + images.ThumbKey(m.Key)); r.Status != http.StatusNotFound {
			t.Errorf("member got an unreviewed thumbnail: %d", r.Status)
		}
		if r := w.member.Get(offerPath); r.Status != http.StatusOK || strings.Contains(r.Body, m.Key) {
			t.Errorf("offer page (%d) shows an unreviewed image", r.Status)
		}
	}

	m := uploadOne(320)
	hidden(m)
	if page := w.ownerA.Get("/partner/offers/" + apptest.Itoa(w.offer.ID) + "/media"); !strings.Contains(page.Body, w.env.App.Catalog.T("ru", "images.status.pending")) {
		t.Error("the portal does not say the image awaits review")
	}
	rev := pendingRevision()
	review := "/admin/moderation/revision/" + apptest.Itoa(rev.ID)
	if q := moderator.Get("/admin/moderation"); !strings.Contains(q.Body, review) {
		t.Fatal("the revision carrying the image is not in the queue")
	}
	page := moderator.Get(review)
	mustStatus(t, "review", page, http.StatusOK)
	if !strings.Contains(page.Body, "/admin/media/"+images.ThumbKey(m.Key)) || !strings.Contains(page.Body, w.env.App.Catalog.T("ru", "admin.moderation.image_new")) {
		t.Error("the review page does not show the new image as new")
	}
	if r := moderator.Get("/admin/media/" + m.Key); r.Status != http.StatusOK || decodeSize(t, r.Body).X != 320 {
		t.Errorf("moderator cannot open the image under review: %d", r.Status)
	}
	if r := w.ownerB.Get("/admin/media/" + m.Key); r.Status != http.StatusForbidden {
		t.Errorf("another partner's owner opened an image through the back office: %d", r.Status)
	}
	// A second image before the decision rides on the same revision.
	m2 := uploadOne(330)
	if again := pendingRevision(); again.ID != rev.ID {
		t.Fatalf("a second image opened another revision (%d, first %d)", again.ID, rev.ID)
	}
	mustStatus(t, "approve", moderator.Post(review+"/approve", url.Values{}), http.StatusSeeOther)
	for _, x := range []*ent.OfferMedia{m, m2} {
		if got, _ := db.OfferMedia.Get(ctx, x.ID); got.Status != offermedia.StatusLive {
			t.Fatalf("approved image is %s", got.Status)
		}
		if r := w.member.Get("/media/" + x.Key); r.Status != http.StatusOK {
			t.Errorf("member cannot see an approved image: %d", r.Status)
		}
	}
	if r := w.member.Get(offerPath); !strings.Contains(r.Body, m.Key) {
		t.Error("the offer page does not show the approved cover")
	}

	// Refused: never shown, marked for the partner.
	m3 := uploadOne(340)
	rev = pendingRevision()
	mustStatus(t, "reject", moderator.Post("/admin/moderation/revision/"+apptest.Itoa(rev.ID)+"/reject", url.Values{"reason": {"Чужой логотип"}}), http.StatusSeeOther)
	if got, _ := db.OfferMedia.Get(ctx, m3.ID); got.Status != offermedia.StatusRejected {
		t.Fatalf("refused image is %s", got.Status)
	}
	hidden(m3)
	if page := w.ownerA.Get("/partner/offers/" + apptest.Itoa(w.offer.ID) + "/media"); !strings.Contains(page.Body, w.env.App.Catalog.T("ru", "images.status.rejected")) {
		t.Error("the portal does not mark the refused image")
	}
	if r := w.member.Get("/media/" + m.Key); r.Status != http.StatusOK {
		t.Errorf("the refusal took down an approved image: %d", r.Status)
	}
}
