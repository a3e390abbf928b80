package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/ent"
	"ikra/ent/offer"
)

// An invite-only offer through the partner portal: the owner invites one member by
// Telegram ID and another by @username (in another letter case); both see the offer in
// the catalog and open it, anyone else gets 404; an unknown username is refused with a
// message; removing a member takes the offer away from them at once; partner B's owner
// gets 404 on every invite route of partner A's offer; the cashier has no offer page.
func TestInviteOnlyOfferThroughPortal(t *testing.T) {
	w := newOfferWorld(t)
	ctx := context.Background()
	db := w.env.App.DB.Client
	o := w.env.Offer(w.place, w.a.ID, "Закрытый ужин для своих", func(c *ent.OfferCreate) { c.SetVisibility(offer.VisibilityInvite) })
	page := "/partner/offers/" + apptest.Itoa(o.ID)
	dana, danaRow := w.env.Member(7107, "Дана")
	apptest.Must(t, db.Member.UpdateOneID(danaRow.ID).SetUsername("Dana_K").Exec(ctx))
	outsider, _ := w.env.Member(7108, "Чужой")
	card := "/app/offers/" + apptest.Itoa(o.ID)

	sees := func(c *apptest.Client, who string, want bool) {
		t.Helper()
		inList := strings.Contains(c.Get("/app").Body, "Закрытый ужин для своих")
		r := c.Get(card)
		opens := r.Status == http.StatusOK && strings.Contains(r.Body, "Закрытый ужин для своих")
		if inList != want || opens != want {
			t.Fatalf("%s: in the catalog %v, opens the offer %v (status %d); want %v", who, inList, opens, r.Status, want)
		}
		if !want && r.Status != http.StatusNotFound {
			t.Fatalf("%s: a hidden offer's page answers %d, want 404", who, r.Status)
		}
	}
	sees(w.member, "member before the invite", false)

	r := w.owner.Get(page)
	mustStatus(t, "offer page", r, http.StatusOK)
	for _, want := range []string{"Приглашённые участники", "Пока никто не приглашён", `action="` + page + `/invited"`, "Telegram ID или @username"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the invite-only offer's page lacks %q", want)
		}
	}
	mustStatus(t, "cashier's offer page", w.cashier.Get(page), http.StatusForbidden)

	if got := flash(t, w.owner, w.owner.Post(page+"/invited", url.Values{"member": {"7106"}})); !strings.Contains(got, "Участник приглашён") {
		t.Errorf("inviting by Telegram ID: %s", got)
	}
	if got := flash(t, w.manager, w.manager.Post(page+"/invited", url.Values{"member": {"@dana_k"}})); !strings.Contains(got, "Участник приглашён") {
		t.Errorf("inviting by username: %s", got)
	}
	r = w.owner.Post(page+"/invited", url.Values{"member": {"@nobody_here"}})
	if got := flash(t, w.owner, r); !strings.Contains(got, "Нет активного участника с таким Telegram ID или именем пользователя") {
		t.Errorf("an unknown username is not explained: %s", got)
	}
	list := w.owner.Get(page).Body
	for _, want := range []string{"Member", "Дана", "@Dana_K", "2 участника приглашены"} {
		if !strings.Contains(list, want) {
			t.Errorf("the invite list lacks %q", want)
		}
	}
	sees(w.member, "member invited by Telegram ID", true)
	sees(dana, "member invited by username", true)
	sees(outsider, "member not invited", false)

	// Partner B's owner reaches nothing of it, by guessed IDs.
	mustStatus(t, "partner B adds", w.ownerB.Post(page+"/invited", url.Values{"member": {"7108"}}), http.StatusNotFound)
	mustStatus(t, "partner B removes", w.ownerB.Post(page+"/invited/"+apptest.Itoa(danaRow.ID)+"/remove", nil), http.StatusNotFound)
	sees(outsider, "member partner B tried to invite", false)
	sees(dana, "member partner B tried to remove", true)

	if got := flash(t, w.owner, w.owner.Post(page+"/invited/"+apptest.Itoa(danaRow.ID)+"/remove", nil)); !strings.Contains(got, "Убран из списка приглашённых") {
		t.Errorf("removing: %s", got)
	}
	sees(dana, "member removed from the list", false)
	sees(w.member, "member still on the list", true)
	if n, _ := db.Offer.QueryInvited(o).Count(ctx); n != 1 {
		t.Fatalf("%d invited, want 1", n)
	}

	// An offer for all members has no invite list on its page.
	open := w.env.Offer(w.place, w.a.ID, "Открытый ужин")
	if body := w.owner.Get("/partner/offers/" + apptest.Itoa(open.ID)).Body; strings.Contains(body, "Приглашённые участники") {
		t.Errorf("an offer for all members shows an invite list")
	}
}
