package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/ent"
)

// A number of bonuses is followed by the noun in the form the language needs: the
// annulment notifications a member reads and the prices in the catalog say "1 бонус",
// "2 бонуса", "5 бонусов" in Russian and "1 bonus", "2 bonuses" in English.
func TestPluralFormsOnPages(t *testing.T) {
	w := newBonusWorld(t)
	ctx := context.Background()
	ru, ruMember := w.signIn(t, 7701, "Айжан")
	en, enMember := w.signIn(t, 7702, "Anna")
	apptest.Must(t, w.env.App.Members.SetLanguage(ctx, enMember.ID, "en"))
	mod := w.staff(t, 7703, "moderator")

	annul := func(m *ent.Member, amount int) {
		t.Helper()
		form := url.Values{"amount": {fmt.Sprint(amount)}, "reason": {"проверка"},
			"key": {fmt.Sprintf("%016d%016d", m.ID, amount)}}
		flash(t, mod, mod.Post("/admin/members/"+apptest.Itoa(m.ID)+"/annul", form))
	}
	for _, n := range []int{1, 2, 5, 21} {
		annul(ruMember, n)
	}
	for _, n := range []int{1, 2} {
		annul(enMember, n)
	}

	page := ru.Get("/app/notifications").Body
	for _, want := range []string{"Аннулирован 1 бонус.", "Аннулировано 2 бонуса.", "Аннулировано 5 бонусов.", "Аннулирован 21 бонус."} {
		if !strings.Contains(page, want) {
			t.Errorf("Russian notifications lack %q", want)
		}
	}
	page = en.Get("/app/notifications").Body
	for _, want := range []string{"1 bonus was annulled.", "2 bonuses were annulled."} {
		if !strings.Contains(page, want) {
			t.Errorf("English notifications lack %q", want)
		}
	}

	place := w.env.Place()
	partner := w.env.Partner(place, "Кофейня")
	for _, price := range []int64{1, 2, 5, 1500} {
		w.env.Offer(place, partner.ID, fmt.Sprint("Предложение за ", price), func(c *ent.OfferCreate) { c.SetPriceBonus(price) })
	}
	page = ru.Get("/app").Body
	for _, want := range []string{">1 бонус<", ">2 бонуса<", ">5 бонусов<", ">1" + thin + "500 бонусов<"} {
		if !strings.Contains(page, want) {
			t.Errorf("Russian catalog lacks %q", want)
		}
	}
	page = en.Get("/app").Body
	for _, want := range []string{">1 bonus<", ">2 bonuses<"} {
		if !strings.Contains(page, want) {
			t.Errorf("English catalog lacks %q", want)
		}
	}
}
