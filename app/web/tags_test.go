package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
)

// Finer tags end to end: the partner tags an offer with a tag of its category (one of
// another category is refused on the field), the member picks the tag on the welcome
// screen without declaring the category, and the tagged offer leads their first page
// with the tag as its reason.
func TestTagsFromWelcomeAndOfferForm(t *testing.T) {
	w := newOfferWorld(t)
	ctx := context.Background()
	db := w.env.App.DB.Client
	// The vocabulary is by category slug: this category is the restaurants.
	apptest.Must(t, db.Category.UpdateOneID(w.place.CategoryID).SetSlug("restaurants").Exec(ctx))

	form := w.owner.Get("/partner/offers/new")
	mustStatus(t, "new form", form, http.StatusOK)
	if !strings.Contains(form.Body, `name="tags" value="coffee"`) || !strings.Contains(form.Body, "Кофе") {
		t.Fatalf("the offer form offers no tags: %s", form.Body)
	}
	// Each category's tags are a group the page's script shows for that category only.
	if !strings.Contains(form.Body, `data-tags-for="tags"`) || !strings.Contains(form.Body, `class="tag-group" data-category="`+apptest.Itoa(w.place.CategoryID)+`"`) {
		t.Errorf("the tag groups are not tied to their categories")
	}
	wrong := w.offerForm("Кофе с собой")
	wrong["tags"] = []string{"coffee", "yoga"} // yoga is a sport tag
	r := w.owner.Post("/partner/offers", wrong)
	mustStatus(t, "a tag of another category", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.Body, "Эти теги не относятся к категории предложения") {
		t.Errorf("the refusal does not say why: %s", r.Body)
	}
	if n, _ := db.Offer.Query().Count(ctx); n != 0 {
		t.Fatalf("a refused form saved %d offers", n)
	}

	good := w.offerForm("Кофе с собой")
	good["tags"] = []string{"coffee"}
	mustStatus(t, "create", w.owner.Post("/partner/offers", good), http.StatusSeeOther)
	o, err := db.Offer.Query().Only(ctx)
	apptest.Must(t, err)
	if !slices.Equal(o.Tags, []string{"coffee"}) {
		t.Fatalf("saved tags %v", o.Tags)
	}
	path := "/partner/offers/" + apptest.Itoa(o.ID)
	if e := w.owner.Get(path + "/edit"); !strings.Contains(e.Body, `name="tags" value="coffee" checked`) {
		t.Errorf("the edit form does not show the tag ticked")
	}
	mustStatus(t, "submit", w.owner.Post(path+"/submit", nil), http.StatusSeeOther)
	review := w.moderator.Get("/admin/moderation/offer/" + apptest.Itoa(o.ID))
	if !strings.Contains(review.Body, "Теги") || !strings.Contains(review.Body, `<dd class="pre">Кофе</dd>`) {
		t.Errorf("the moderator does not see the tags under review")
	}
	mustStatus(t, "approve", w.moderator.Post("/admin/moderation/offer/"+apptest.Itoa(o.ID)+"/approve", nil), http.StatusSeeOther)
	if o = w.offer(t, o.ID); o.Status != offer.StatusPublished {
		t.Fatalf("approved offer is %s", o.Status)
	}
	// A newer offer of the same category without the tag: first for anyone without tags.
	plain := w.env.Offer(w.place, w.a.ID, "Обед дня", func(c *ent.OfferCreate) { c.SetPublishedAt(time.Now().Add(time.Minute)) })

	lover := w.env.Client()
	lover.FirstSignIn(9781, "Жанар")
	welcome := lover.Get("/app/welcome")
	if welcome.Status != 200 || !strings.Contains(welcome.Body, `name="tag" value="coffee"`) {
		t.Fatalf("the welcome screen offers no tags: %d %s", welcome.Status, welcome.Body)
	}
	bad := lover.Post("/app/welcome", url.Values{"tag": {"coffee", "no-such-tag"}, "lang": {"ru"}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "Выберите теги из списка") {
		t.Fatalf("unknown tag: %d %s", bad.Status, bad.Body)
	}
	if r := lover.Post("/app/welcome", url.Values{"tag": {"coffee"}, "lang": {"ru"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	m, err := db.Member.Query().Where(member.TelegramID(9781)).Only(ctx)
	apptest.Must(t, err)
	if !slices.Equal(m.InterestTags, []string{"coffee"}) {
		t.Fatalf("saved member tags %v", m.InterestTags)
	}
	if again := lover.Get("/app/welcome"); !strings.Contains(again.Body, `name="tag" value="coffee" checked`) {
		t.Error("the interests form does not show the saved tag")
	}

	home := lover.Get("/app")
	mt := firstCard.FindStringSubmatch(home.Body)
	if home.Status != 200 || mt == nil || mt[1] != apptest.Itoa(o.ID) || !strings.Contains(home.Body, "Вам нравится: Кофе") {
		t.Fatalf("the coffee lover's first page: %d first %v: %s", home.Status, mt, home.Body)
	}
	// The offer's page and the API name its tags.
	page := lover.Get("/app/offers/" + apptest.Itoa(o.ID))
	if !strings.Contains(page.Body, `<span class="tag tag-interest">Кофе</span>`) {
		t.Errorf("the offer page does not show the tag: %s", page.Body)
	}
	api := lover.Get("/api/v1/offers/" + apptest.Itoa(o.ID))
	if !strings.Contains(api.Body, `"tags":[{"key":"coffee","name":"Кофе"}]`) {
		t.Errorf("the API does not name the tag: %s", api.Body)
	}
	if plainAPI := lover.Get("/api/v1/offers/" + apptest.Itoa(plain.ID)); !strings.Contains(plainAPI.Body, `"tags":[]`) {
		t.Errorf("an offer without tags: %s", plainAPI.Body)
	}
	// Someone without the tag sees the newer offer first and no tag reason.
	other := w.env.Client()
	other.FirstSignIn(9782, "Ерлан")
	other.Post("/app/welcome", url.Values{"lang": {"ru"}})
	home = other.Get("/app")
	if mt := firstCard.FindStringSubmatch(home.Body); mt == nil || mt[1] != apptest.Itoa(plain.ID) || strings.Contains(home.Body, "Вам нравится: Кофе") {
		t.Errorf("without tags the first card is %v", mt)
	}
}
