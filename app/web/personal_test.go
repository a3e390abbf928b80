package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/ent"
	"ikra/ent/member"
)

var firstCard = regexp.MustCompile(`data-offer="(\d+)"`)

// The welcome screen is offered once after the first sign-in: /app leads to it until
// the member saves or skips it, and afterwards it is only the interests form of the
// settings.
func TestWelcomeOfferedOnce(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	place := env.Place()
	c := env.Client()
	c.FirstSignIn(9701, "Асель")
	if r := c.Get("/app"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app/welcome" {
		t.Fatalf("first /app: %d to %q", r.Status, r.Header.Get("Location"))
	}
	w := c.Get("/app/welcome")
	if w.Status != 200 || !strings.Contains(w.Body, "Что вам интересно?") || !strings.Contains(w.Body, "Пропустить") ||
		!strings.Contains(w.Body, `name="category" value="`+apptest.Itoa(place.CategoryID)+`"`) || !strings.Contains(w.Body, "Рестораны") {
		t.Fatalf("welcome: %d %s", w.Status, w.Body)
	}
	if r := c.Get("/app"); r.Status != http.StatusSeeOther {
		t.Fatalf("/app before saving or skipping: %d", r.Status)
	}
	if r := c.Post("/app/welcome", url.Values{"skip": {"1"}}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app" {
		t.Fatalf("skip: %d to %q", r.Status, r.Header.Get("Location"))
	}
	if r := c.Get("/app"); r.Status != 200 {
		t.Fatalf("/app after skipping: %d", r.Status)
	}
	m, err := env.App.DB.Member.Query().Where(member.TelegramID(9701)).WithInterests().Only(ctx)
	apptest.Must(t, err)
	if m.OnboardedAt == nil || len(m.Edges.Interests) != 0 || m.CityID != nil || m.Language != "ru" {
		t.Fatalf("after skipping: %+v", m)
	}
	// Later, from the settings: the same form, without "skip".
	if s := c.Get("/app/settings").Body; !strings.Contains(s, `href="/app/welcome"`) {
		t.Fatal("settings do not link to the interests form")
	}
	if w := c.Get("/app/welcome").Body; strings.Contains(w, "Пропустить") || !strings.Contains(w, `href="/app/settings"`) {
		t.Fatalf("interests from settings: %s", w)
	}
	// Signing in again does not bring the screen back.
	c.FirstSignIn(9701, "Асель")
	if r := c.Get("/app"); r.Status != 200 {
		t.Fatalf("/app after the second sign-in: %d", r.Status)
	}
}

// Two members with different declared interests see different first pages, each card
// with its reason; the interests are saved from the welcome screen.
func TestInterestsPersonaliseFirstPage(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	db := env.App.DB.Client
	food := env.Place()
	sport, err := db.Category.Create().SetSlug("sport-t").SetNameRu("Спорт").SetNameEn("Sport").SetNameKk("Спорт").Save(ctx)
	apptest.Must(t, err)
	p := env.Partner(food, "Арман")
	dinner := env.Offer(food, p.ID, "Ужин у Армана", func(o *ent.OfferCreate) { o.SetPublishedAt(time.Now().Add(-3 * time.Hour)) })
	gym := env.Offer(food, p.ID, "Абонемент в зал", func(o *ent.OfferCreate) {
		o.SetCategoryID(sport.ID).SetPublishedAt(time.Now().Add(-2 * time.Hour))
	})
	env.Offer(food, p.ID, "Самое новое", func(o *ent.OfferCreate) { o.SetCategoryID(sport.ID).SetPublishedAt(time.Now().Add(-time.Hour)) })

	foodie := env.Client()
	foodie.FirstSignIn(9711, "Айдар")
	// An unknown category is refused, and the screen stays due.
	bad := foodie.Post("/app/welcome", url.Values{"category": {"99999999"}, "lang": {"ru"}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "Выберите категории из списка") {
		t.Fatalf("unknown category: %d %s", bad.Status, bad.Body)
	}
	if r := foodie.Get("/app"); r.Status != http.StatusSeeOther {
		t.Fatalf("/app after a refused form: %d", r.Status)
	}
	r := foodie.Post("/app/welcome", url.Values{"category": {apptest.Itoa(food.CategoryID)}, "city": {apptest.Itoa(food.CityID)}, "lang": {"ru"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app" {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	athlete := env.Client()
	athlete.FirstSignIn(9712, "Dana")
	if r := athlete.Post("/app/welcome", url.Values{"category": {apptest.Itoa(sport.ID)}, "lang": {"en"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	m, err := db.Member.Query().Where(member.TelegramID(9711)).WithInterests().Only(ctx)
	apptest.Must(t, err)
	if m.OnboardedAt == nil || len(m.Edges.Interests) != 1 || m.Edges.Interests[0].ID != food.CategoryID || m.CityID == nil || *m.CityID != food.CityID {
		t.Fatalf("saved interests: %+v %v", m, m.Edges.Interests)
	}

	first := func(c *apptest.Client) (string, string) {
		t.Helper()
		r := c.Get("/app")
		mt := firstCard.FindStringSubmatch(r.Body)
		if r.Status != 200 || mt == nil {
			t.Fatalf("/app: %d %s", r.Status, r.Body)
		}
		return mt[1], r.Body
	}
	id, page := first(foodie)
	if id != apptest.Itoa(dinner.ID) || !strings.Contains(page, "Вам нравится: Рестораны") {
		t.Errorf("the restaurant lover's first card is %s: %s", id, page)
	}
	// "Show more" leaves the ranking for every offer, newest first, without reasons.
	if !strings.Contains(page, `href="/app?all=1"`) {
		t.Error("the ranked page has no way to every offer")
	}
	all := foodie.Get("/app?all=1")
	if mt := firstCard.FindStringSubmatch(all.Body); all.Status != 200 || mt == nil || mt[1] == apptest.Itoa(dinner.ID) || strings.Contains(all.Body, "Вам нравится") {
		t.Errorf("all=1 is not every offer newest first: %d", all.Status)
	}
	id, page = first(athlete)
	if id == apptest.Itoa(dinner.ID) || !strings.Contains(page, "You like Sport") || strings.Contains(page, "You like Restaurants") {
		t.Errorf("the athlete's first card is %s: %s", id, page)
	}
	if id != apptest.Itoa(gym.ID) && !strings.Contains(page, "data-offer=\""+apptest.Itoa(gym.ID)+"\"") {
		t.Errorf("the athlete does not see the gym: %s", page)
	}

	// Edited later from the settings: the new choice replaces the old one.
	foodie.Get("/app/welcome")
	if r := foodie.Post("/app/welcome", url.Values{"category": {apptest.Itoa(sport.ID)}, "lang": {"kk"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.Status, r.Body)
	}
	m, err = db.Member.Query().Where(member.TelegramID(9711)).WithInterests().Only(ctx)
	apptest.Must(t, err)
	if len(m.Edges.Interests) != 1 || m.Edges.Interests[0].ID != sport.ID || m.CityID != nil || m.Language != "kk" {
		t.Fatalf("edited interests: %+v %v", m, m.Edges.Interests)
	}
	if id, page := first(foodie); id == apptest.Itoa(dinner.ID) || !strings.Contains(page, "Сізге ұнайды: Спорт") {
		t.Errorf("after the edit the first card is %s: %s", id, page)
	}
}
