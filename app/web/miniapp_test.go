package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/auth/telegram"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/referral"
)

// miniAppInitData is the initData Telegram hands a Mini App opened by the user,
// signed with the test bot's token; startParam is the link's startapp value.
func miniAppInitData(tgID int64, firstName, lang, startParam string) string {
	fields := map[string]string{
		"user":          `{"id":` + strconv.FormatInt(tgID, 10) + `,"first_name":` + strconv.Quote(firstName) + `,"language_code":"` + lang + `"}`,
		"auth_date":     strconv.FormatInt(time.Now().Unix(), 10),
		"chat_instance": "-4470001",
		"chat_type":     "sender",
	}
	if startParam != "" {
		fields["start_param"] = startParam
	}
	return telegram.SignInitData(fields, apptest.BotToken)
}

// miniAppSignIn posts initData to /tg/auth as the Mini App's script does and returns
// where the server sends the member.
func miniAppSignIn(t *testing.T, c *apptest.Client, initData string) (status int, redirect string) {
	t.Helper()
	r := c.Send("POST", "/tg/auth", "application/json", strings.NewReader(`{"initData":`+strconv.Quote(initData)+`}`))
	if r.Status != http.StatusOK {
		return r.Status, ""
	}
	const key = `"redirect":"`
	i := strings.Index(r.Body, key)
	if i < 0 {
		t.Fatalf("no redirect in %s", r.Body)
	}
	rest := r.Body[i+len(key):]
	return r.Status, rest[:strings.IndexByte(rest, '"')]
}

// A Mini App link with startapp=ref_CODE registers the friend with the referral
// attributed; startapp=offer_ID opens that offer after sign-in, when the member may
// see it. Both act only on the signed start_param: a tampered one is refused, and the
// unsigned copy Telegram puts in the URL changes nothing.
func TestMiniAppStartParam(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	_, inviter := env.Member(7101, "Айгерим")
	place := env.Place()
	p := env.Partner(place, "Икра и вино")
	open := env.Offer(place, p.ID, "Ужин на двоих")
	draft := env.Offer(place, p.ID, "Черновик", func(c *ent.OfferCreate) { c.SetStatus(offer.StatusDraft) })

	referredBy := func(tgID int64) *ent.Referral {
		t.Helper()
		r, err := env.App.DB.Referral.Query().Where(referral.HasInviteeWith(member.TelegramID(tgID))).Only(ctx)
		if ent.IsNotFound(err) {
			return nil
		}
		apptest.Must(t, err)
		return r
	}

	t.Run("ref registers the friend with the referral", func(t *testing.T) {
		c := env.Client()
		status, dest := miniAppSignIn(t, c, miniAppInitData(7102, "Бекзат", "ru", "ref_"+inviter.ReferralCode))
		if status != http.StatusOK || dest != "/app" {
			t.Fatalf("sign-in: %d, redirect %q", status, dest)
		}
		r := referredBy(7102)
		if r == nil || r.ReferrerID != inviter.ID || r.Code != inviter.ReferralCode {
			t.Fatalf("the friend's referral: %+v, want one to member %d", r, inviter.ID)
		}
		if inv := c.Get("/app/invite"); inv.Status != http.StatusOK {
			t.Fatalf("the friend's cabinet: %d", inv.Status)
		}
	})

	t.Run("ref only at registration", func(t *testing.T) {
		// A member who registered without a code does not gain a referrer later.
		if status, _ := miniAppSignIn(t, env.Client(), miniAppInitData(7103, "Дана", "kk", "")); status != http.StatusOK {
			t.Fatalf("first sign-in: %d", status)
		}
		if status, _ := miniAppSignIn(t, env.Client(), miniAppInitData(7103, "Дана", "kk", "ref_"+inviter.ReferralCode)); status != http.StatusOK {
			t.Fatalf("second sign-in: %d", status)
		}
		if r := referredBy(7103); r != nil {
			t.Fatalf("an existing member was attributed: %+v", r)
		}
	})

	t.Run("offer opens the offer", func(t *testing.T) {
		c := env.Client()
		status, dest := miniAppSignIn(t, c, miniAppInitData(7104, "Ерлан", "en", "offer_"+strconv.Itoa(open.ID)))
		want := "/app/offers/" + strconv.Itoa(open.ID)
		if status != http.StatusOK || dest != want {
			t.Fatalf("sign-in: %d, redirect %q, want %q", status, dest, want)
		}
		if r := c.Get(dest); r.Status != http.StatusOK || !strings.Contains(r.Body, "Ужин на двоих") {
			t.Fatalf("%s: %d", dest, r.Status)
		}
		// The form post (no script) lands there too.
		f := env.Client()
		r := f.Post("/tg/auth", url.Values{"initData": {miniAppInitData(7104, "Ерлан", "en", "offer_"+strconv.Itoa(open.ID))}})
		if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || loc != want {
			t.Fatalf("form sign-in: %d to %q", r.Status, loc)
		}
	})

	t.Run("offer the member may not see opens the cabinet", func(t *testing.T) {
		for _, param := range []string{"offer_" + strconv.Itoa(draft.ID), "offer_999999", "offer_" + strconv.Itoa(open.ID) + "x",
			"offer_-1", "offer_0" + strconv.Itoa(open.ID), "offer_"} {
			status, dest := miniAppSignIn(t, env.Client(), miniAppInitData(7105, "Мадина", "ru", param))
			if status != http.StatusOK || dest != "/app" {
				t.Errorf("%s: %d, redirect %q, want /app", param, status, dest)
			}
		}
	})

	t.Run("a tampered start_param is refused", func(t *testing.T) {
		signed := miniAppInitData(7106, "Ильяс", "ru", "ref_"+inviter.ReferralCode)
		for _, forged := range []string{
			strings.Replace(signed, "ref_"+inviter.ReferralCode, "ref_ZZZZZZ", 1),
			strings.Replace(signed, "start_param=ref_"+inviter.ReferralCode, "start_param=offer_"+strconv.Itoa(open.ID), 1),
			signed + "&start_param=offer_" + strconv.Itoa(open.ID),
		} {
			if forged == signed {
				t.Fatal("the forgery changed nothing")
			}
			c := env.Client()
			if status, _ := miniAppSignIn(t, c, forged); status != http.StatusUnauthorized {
				t.Errorf("forged initData: %d, want 401", status)
			}
			if c.Cookie("ikra_session") != "" {
				t.Error("a forged initData got a session")
			}
		}
		if n, err := env.App.DB.Member.Query().Where(member.TelegramID(7106)).Count(ctx); err != nil || n != 0 {
			t.Fatalf("a forged sign-in registered a member: %d, %v", n, err)
		}
		// Added beside the signed data, outside it, the parameter is not read.
		unsigned := miniAppInitData(7106, "Ильяс", "ru", "")
		c := env.Client()
		r := c.Send("POST", "/tg/auth?start_param=ref_"+inviter.ReferralCode+"&tgWebAppStartParam=offer_"+strconv.Itoa(open.ID),
			"application/json", strings.NewReader(`{"initData":`+strconv.Quote(unsigned)+`,"start_param":"ref_`+inviter.ReferralCode+`"}`))
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `"redirect":"/app"`) {
			t.Fatalf("unsigned start parameters: %d %s", r.Status, r.Body)
		}
		if ref := referredBy(7106); ref != nil {
			t.Fatalf("an unsigned ref_ was attributed: %+v", ref)
		}
	})

	t.Run("a signed-in member opening a direct link signs in again", func(t *testing.T) {
		c := env.Client()
		if r := c.Get("/tg"); strings.Count(r.Body, "telegram-web-app.js") != 1 || strings.Count(r.Body, "/js/tg.") != 1 {
			t.Fatalf("the entry page (%d) does not load Telegram's script and ours once each", r.Status)
		}
		if status, _ := miniAppSignIn(t, c, miniAppInitData(7107, "Арман", "ru", "")); status != http.StatusOK {
			t.Fatalf("sign-in: %d", status)
		}
		// A plain reopening goes straight to the cabinet.
		if r := c.Get("/tg"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app" {
			t.Fatalf("/tg: %d to %q", r.Status, r.Header.Get("Location"))
		}
		// A direct link's page posts the signed initData again, which opens the offer.
		r := c.Get("/tg?tgWebAppStartParam=offer_" + strconv.Itoa(open.ID))
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `id="tg-status"`) {
			t.Fatalf("/tg with a start param: %d", r.Status)
		}
		if n := strings.Count(r.Body, "telegram-web-app.js"); n != 1 || strings.Count(r.Body, "/js/tg.") != 1 {
			t.Fatalf("the entry page loads Telegram's script %d times and ours %d", n, strings.Count(r.Body, "/js/tg."))
		}
		status, dest := miniAppSignIn(t, c, miniAppInitData(7107, "Арман", "ru", "offer_"+strconv.Itoa(open.ID)))
		if status != http.StatusOK || dest != "/app/offers/"+strconv.Itoa(open.ID) {
			t.Fatalf("second sign-in: %d to %q", status, dest)
		}
	})
}
