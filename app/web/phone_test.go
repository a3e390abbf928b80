package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/ent/tier"
)

// buyButton finds a tier's buy form on the status page: its slug, whether its
// button is disabled, and the shortfall line the button points to.
var buyButton = regexp.MustCompile(`(?s)name="slug" value="([^"]+)">.*?<button class="btn btn-primary btn-block" type="submit"( disabled aria-describedby="short-[^"]+")?>.*?</form>`)

// The status page keeps the buy button of a status the member cannot afford
// disabled, with how many bonuses are missing (from the ledger and the tier's price,
// in the language's plural form); once the bonuses are there the button works.
func TestStatusBuyWaitsForBonuses(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	c, m := env.Member(7_100_001, "Дана")
	silver, err := env.App.DB.Tier.Query().Where(tier.Slug(loyalty.TierSilver)).Only(ctx)
	apptest.Must(t, err)
	bal, err := env.App.Ledger.Balance(ctx, m.ID)
	apptest.Must(t, err)
	if bal.Available >= silver.PriceBonus {
		t.Fatalf("a new member already holds %d bonuses, Silver costs %d", bal.Available, silver.PriceBonus)
	}

	forms := func(lang string) (map[string]bool, string) {
		t.Helper()
		c.Post("/lang", url.Values{"lang": {lang}, "next": {"/app/status"}})
		r := c.Get("/app/status")
		if r.Status != http.StatusOK {
			t.Fatalf("/app/status: %d", r.Status)
		}
		disabled := map[string]bool{}
		for _, f := range buyButton.FindAllStringSubmatch(r.Body, -1) {
			disabled[f[1]] = f[2] != ""
		}
		return disabled, html.UnescapeString(r.Body)
	}

	short := silver.PriceBonus - bal.Available
	for _, lang := range []string{"ru", "en", "kk"} {
		disabled, body := forms(lang)
		if !disabled[loyalty.TierSilver] {
			t.Errorf("%s: Silver's buy button works with %d of %d bonuses", lang, bal.Available, silver.PriceBonus)
		}
		want := env.App.Catalog.N(lang, "app.status.short", short)
		if !strings.Contains(body, `data-short="`+apptest.Itoa64(short)+`">`+want+"</p>") {
			t.Errorf("%s: the page does not say %q", lang, want)
		}
	}
	if got := env.App.Catalog.N("ru", "app.status.short", 1200); got != "Не хватает 1"+thin+"200 бонусов" {
		t.Errorf("ru shortfall of 1200: %q", got)
	}
	if got := env.App.Catalog.N("ru", "app.status.short", 21); got != "Не хватает 21 бонуса" {
		t.Errorf("ru shortfall of 21: %q", got)
	}

	_, err = env.App.Ledger.Credit(ctx, ledger.Op{MemberID: m.ID, Amount: short, Kind: ledger.KindAdjustment, Reason: "test", Key: "test:silver"})
	apptest.Must(t, err)
	disabled, body := forms("ru")
	if on, ok := disabled[loyalty.TierSilver]; !ok || on {
		t.Errorf("with exactly Silver's price the buy button is missing or disabled (%v, %v)", ok, on)
	}
	if strings.Contains(body, "Не хватает") && !disabled[loyalty.TierGold] {
		t.Error("a shortfall is shown for a status the member can buy")
	}
	r := c.Post("/app/status/buy", url.Values{"slug": {loyalty.TierSilver}, "key": {strings.Repeat("ab", 16)}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app/status" {
		t.Fatalf("buying Silver: %d %s", r.Status, r.Header.Get("Location"))
	}
	if b, _ := env.App.Ledger.Balance(ctx, m.ID); b.Available != 0 {
		t.Errorf("after buying Silver with all of them, %d bonuses are left", b.Available)
	}
}

// Empty lists say what to do next and lead there; every page has a title of its own,
// the ones about one thing (an offer) titled after it.
func TestPhoneEmptyStatesAndTitles(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.Member(7_100_002, "Ерлан")
	place := env.Place()
	p := env.Partner(place, "Тест-кафе")
	o := env.Offer(place, p.ID, "Кофе в подарок")

	r := c.Get("/app/bookings")
	if !strings.Contains(r.Body, `<div class="empty">`) || !strings.Contains(r.Body, `<a class="btn btn-primary" href="/app">Открыть каталог</a>`) {
		t.Errorf("no bookings: the page does not lead to the catalog:\n%s", r.Body)
	}
	title := regexp.MustCompile(`<title>([^<]*)</title>`)
	seen := map[string]string{}
	for _, path := range []string{"/app", "/app/offers/" + apptest.Itoa(o.ID), "/app/bookings", "/app/bonuses", "/app/status",
		"/app/invite", "/app/notifications", "/app/settings", "/app/settings/delete", "/rules", "/partner/apply"} {
		r := c.Get(path)
		if r.Status != http.StatusOK {
			t.Errorf("%s: %d", path, r.Status)
			continue
		}
		m := title.FindStringSubmatch(r.Body)
		if m == nil || m[1] == "IKRA" || !strings.HasSuffix(m[1], " · IKRA") {
			t.Errorf("%s: title %v", path, m)
			continue
		}
		if other, ok := seen[m[1]]; ok {
			t.Errorf("%s and %s share the title %q", path, other, m[1])
		}
		seen[m[1]] = path
	}
	if got := seen[html.EscapeString(o.Title)+" · IKRA"]; got == "" {
		t.Errorf("the offer page is not titled after the offer: %v", seen)
	}
}
