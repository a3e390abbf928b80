package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/loyalty"
	"ikra/ent/ledgerentry"
	"ikra/ent/notification"
)

// An empty list says what to do next and offers the button that does it: no bookings
// (to the catalog), no bonus history (the catalog, invite friends), no notifications
// (the catalog), a search that finds nothing (reset the filters), an empty first page
// (tell us your interests, invite friends).
func TestEmptyStatesSayWhatNext(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	// A member with nothing yet: no welcome bonus, no welcome notification.
	apptest.Must(t, env.App.Settings.Set(ctx, loyalty.KeyWelcome, "0", nil))
	c, m := env.Member(9851, "Асель")
	_, err := env.App.DB.Notification.Delete().Where(notification.MemberID(m.ID)).Exec(ctx)
	apptest.Must(t, err)
	if n, _ := env.App.DB.LedgerEntry.Query().Where(ledgerentry.MemberID(m.ID)).Count(ctx); n != 0 {
		t.Fatalf("a new member without a welcome bonus has %d ledger entries", n)
	}
	for _, tt := range []struct {
		path, text string
		buttons    []string
	}{
		{"/app", "Расскажите, что вам интересно", []string{`<a class="btn btn-primary" href="/app/welcome">`, `<a class="btn" href="/app/invite">`}},
		{"/app/bookings", "Выберите привилегию в каталоге", []string{`<a class="btn btn-primary" href="/app">`}},
		{"/app/bonuses", "Бонусы начисляются кэшбэком", []string{`<a class="btn btn-primary" href="/app">`, `<a class="btn" href="/app/invite">`}},
		{"/app/notifications", "Здесь появятся ответы партнёров", []string{`<a class="btn btn-primary" href="/app">`}},
	} {
		r := c.Get(tt.path)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, tt.text) {
			t.Errorf("%s: %d, no empty state %q", tt.path, r.Status, tt.text)
			continue
		}
		for _, b := range tt.buttons {
			if !strings.Contains(r.Body, b) {
				t.Errorf("%s: the empty state has no %s", tt.path, b)
			}
		}
	}
	// A search that finds nothing, while there are offers: reset the filters.
	place := env.Place()
	env.Offer(place, env.Partner(place, "Арман").ID, "Ужин у Армана")
	r := c.Get("/app?q=" + "зюзюзю")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Ничего не нашлось") || !strings.Contains(r.Body, `<a class="btn btn-primary" href="/app">Сбросить фильтры</a>`) {
		t.Errorf("a search with no result: %d %s", r.Status, r.Body)
	}
	if all := c.Get("/app"); strings.Contains(all.Body, "Расскажите, что вам интересно") {
		t.Error("the first page with an offer still shows the empty state")
	}
}
