package web_test

import (
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/ent"
	"ikra/ent/auditlog"
	"ikra/ent/ledgerentry"
	"ikra/ent/member"
	"ikra/ent/referral"
	"ikra/ent/tier"
)

// thin is the digit-group separator the pages print numbers with: 3 000.
const thin = "\u202f"

// bonusWorld is a running app with helpers to sign people in and read their balances.
type bonusWorld struct {
	env *apptest.Env
	db  *ent.Client
}

func newBonusWorld(t *testing.T) *bonusWorld {
	t.Helper()
	env := apptest.New(t)
	return &bonusWorld{env: env, db: env.App.DB.Client}
}

// signIn signs a new client in as the Telegram user and returns it with the member.
func (w *bonusWorld) signIn(t *testing.T, tgID int64, name string) (*apptest.Client, *ent.Member) {
	t.Helper()
	return w.env.Member(tgID, name)
}

// staff signs in a member holding a platform role.
func (w *bonusWorld) staff(t *testing.T, tgID int64, role string) *apptest.Client {
	t.Helper()
	_, m := w.signIn(t, tgID, role)
	_, err := w.env.App.Staff.Grant(context.Background(), audit.Entry{ActorRole: "test"}, m.ID, role, nil)
	apptest.Must(t, err)
	c := w.env.Client()
	c.SignIn(tgID, role)
	return c
}

func (w *bonusWorld) balance(t *testing.T, memberID int) ledger.Balance {
	t.Helper()
	b, err := w.env.App.Ledger.Balance(context.Background(), memberID)
	apptest.Must(t, err)
	return b
}

func (w *bonusWorld) entries(t *testing.T, memberID int) int {
	t.Helper()
	n, err := w.db.LedgerEntry.Query().Where(ledgerentry.MemberID(memberID)).Count(context.Background())
	apptest.Must(t, err)
	return n
}

func (w *bonusWorld) audits(t *testing.T, action string) int {
	t.Helper()
	n, err := w.db.AuditLog.Query().Where(auditlog.Action(action)).Count(context.Background())
	apptest.Must(t, err)
	return n
}

// flash follows a redirect and returns the page it leads to, with its flash message.
func flash(t *testing.T, c *apptest.Client, r *apptest.Response) string {
	t.Helper()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("want a redirect, got %d: %s", r.Status, r.Body)
	}
	return c.Get(r.Header.Get("Location")).Body
}

func TestBonusesPageShowsWelcomeBonus(t *testing.T) {
	w := newBonusWorld(t)
	c, _ := w.signIn(t, 7001, "Алия")
	r := c.Get("/app/bonuses")
	if r.Status != http.StatusOK {
		t.Fatalf("status %d", r.Status)
	}
	for _, want := range []string{"3" + thin + "000", "+3" + thin + "000", "Приветственный бонус", "Бонусы — не деньги", "окно сторнирования"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("bonuses page lacks %q", want)
		}
	}
	if r := c.Get("/app/bonuses?before=x"); r.Status != http.StatusBadRequest {
		t.Errorf("a bad cursor: status %d", r.Status)
	}
}

func TestRulesPageFollowsSettings(t *testing.T) {
	w := newBonusWorld(t)
	admin := w.staff(t, 7101, "superadmin")
	anon := w.env.Client()
	if r := anon.Get("/rules"); r.Status != http.StatusOK || !strings.Contains(r.Body, "3"+thin+"000") || !strings.Contains(r.Body, "10%") {
		t.Fatalf("default rules: %d", r.Status)
	}

	tests := []struct {
		name      string
		form      url.Values
		status    int
		wantBody  string
		wantRules []string
	}{
		{"welcome not a number", url.Values{"welcome": {"много"}, "referral_percent": {"10"}, "reversal_days": {"14"}},
			http.StatusUnprocessableEntity, "Введите целое число", []string{"3" + thin + "000"}},
		{"share above 50%", url.Values{"welcome": {"3000"}, "referral_percent": {"75"}, "reversal_days": {"14"}},
			http.StatusUnprocessableEntity, "От 0 до 50%", []string{"10%"}},
		{"window of 0 days", url.Values{"welcome": {"3000"}, "referral_percent": {"10"}, "reversal_days": {"0"}},
			http.StatusUnprocessableEntity, "От 1 до 365 дней", []string{"14 дней"}},
		{"valid", url.Values{"welcome": {"4500"}, "referral_percent": {"7,5"}, "reversal_days": {"21"}},
			http.StatusSeeOther, "", []string{"4" + thin + "500", "7,5%", "21 день"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := admin.Post("/admin/settings/bonus", tt.form)
			if r.Status != tt.status || !strings.Contains(r.Body, tt.wantBody) {
				t.Fatalf("status %d, want %d with %q", r.Status, tt.status, tt.wantBody)
			}
			rules := anon.Get("/rules").Body
			for _, want := range tt.wantRules {
				if !strings.Contains(rules, want) {
					t.Errorf("rules page lacks %q", want)
				}
			}
		})
	}
	if n := w.audits(t, "settings.bonus"); n != 1 {
		t.Errorf("settings audited %d times, want 1", n)
	}
	// The new amount is what the next member gets.
	_, m := w.signIn(t, 7102, "Новый")
	if b := w.balance(t, m.ID); b.Available != 4500 {
		t.Errorf("welcome after the change: %d", b.Available)
	}
}

func TestEditTier(t *testing.T) {
	w := newBonusWorld(t)
	ctx := context.Background()
	tr, err := w.db.Tier.Query().Where(tier.Slug(loyalty.TierSilver)).Only(ctx) // a default tier
	apptest.Must(t, err)
	admin := w.staff(t, 7201, "superadmin")
	form := url.Values{"name_ru": {"Серебро"}, "name_en": {"Silver"}, "min_earned": {"17000"}, "multiplier_bp": {"9000"}, "price_bonus": {"0"}, "period_days": {"30"}}
	if r := admin.Post("/admin/tiers/"+apptest.Itoa(tr.ID), form); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "От 10000 до 50000") {
		t.Fatalf("a multiplier below ×1: %d", r.Status)
	}
	if rules := w.env.Client().Get("/rules").Body; strings.Contains(rules, "×1,15") || strings.Contains(rules, "17"+thin+"000") {
		t.Fatalf("rules page shows the edit before it is saved")
	}
	form.Set("multiplier_bp", "11500")
	flash(t, admin, admin.Post("/admin/tiers/"+apptest.Itoa(tr.ID), form))
	if rules := w.env.Client().Get("/rules").Body; !strings.Contains(rules, "Серебро") || !strings.Contains(rules, "×1,15") || !strings.Contains(rules, "17"+thin+"000") {
		t.Errorf("rules page does not show the edited tier")
	}
	if n := w.audits(t, "tier.update"); n != 1 {
		t.Errorf("tier edit audited %d times", n)
	}

	// The Kazakh name may stay empty (Kazakh pages then show the Russian one), up to 40
	// characters.
	if page := admin.Get("/admin/settings").Body; !strings.Contains(page, `name="name_kk" value=""`) {
		t.Errorf("the settings page lacks an optional Kazakh name field")
	}
	kk := w.env.Client()
	kk.SignIn(7202, "Айгерим")
	flash(t, kk, kk.Post("/app/settings/language", url.Values{"lang": {"kk"}}))
	if rules := kk.Get("/rules").Body; !strings.Contains(rules, "Серебро") {
		t.Errorf("Kazakh rules page does not fall back to the Russian name")
	}
	form.Set("name_kk", strings.Repeat("К", 41))
	if r := admin.Post("/admin/tiers/"+apptest.Itoa(tr.ID), form); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a 41-character Kazakh name: %d", r.Status)
	}
	form.Set("name_kk", "Күміс деңгей")
	flash(t, admin, admin.Post("/admin/tiers/"+apptest.Itoa(tr.ID), form))
	if rules := kk.Get("/rules").Body; !strings.Contains(rules, "Күміс деңгей") || strings.Contains(rules, "Серебро") {
		t.Errorf("Kazakh rules page does not show the Kazakh name")
	}
	if rules := w.env.Client().Get("/rules").Body; strings.Contains(rules, "Күміс деңгей") || !strings.Contains(rules, "Серебро") {
		t.Errorf("Russian rules page does not show the Russian name")
	}
}

func TestReferralLinkAttributesNewMember(t *testing.T) {
	w := newBonusWorld(t)
	a, ma := w.signIn(t, 7301, "Асель")
	page := a.Get("/app/invite")
	link := w.env.Config.BaseURL + "/r/" + ma.ReferralCode
	for _, want := range []string{link, "https://t.me/ikra_test_bot?start=ref_" + ma.ReferralCode, `data-copy="` + link + `"`, "10%"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("invite page lacks %q", want)
		}
	}

	b := w.env.Client()
	r := b.Get("/r/" + strings.ToLower(ma.ReferralCode))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("referral link: %d → %s", r.Status, r.Header.Get("Location"))
	}
	if got := b.Cookie("ikra_ref"); got != ma.ReferralCode {
		t.Fatalf("referral cookie %q, want %q", got, ma.ReferralCode)
	}
	if sc := r.Header.Get("Set-Cookie"); !strings.Contains(sc, "HttpOnly") || !strings.Contains(strings.ToLower(sc), "samesite=lax") {
		t.Errorf("referral cookie attributes: %s", sc)
	}
	b.SignIn(7302, "Берик")
	mb, err := w.db.Member.Query().Where(member.TelegramID(7302)).Only(context.Background())
	apptest.Must(t, err)
	ref, err := w.db.Referral.Query().Where(referral.InviteeID(mb.ID)).Only(context.Background())
	apptest.Must(t, err)
	if ref.ReferrerID != ma.ID {
		t.Fatalf("referrer %d, want %d", ref.ReferrerID, ma.ID)
	}
	if page := a.Get("/app/invite"); !strings.Contains(page.Body, "Берик") {
		t.Errorf("the invitee is not on the referrer's page")
	}
	// Signed in, the link only leads to the cabinet; a malformed code sets nothing.
	if r := b.Get("/r/" + ma.ReferralCode); r.Header.Get("Location") != "/app" {
		t.Errorf("signed in: → %s", r.Header.Get("Location"))
	}
	c := w.env.Client()
	c.Get("/r/bad-code!")
	if got := c.Cookie("ikra_ref"); got != "" {
		t.Errorf("malformed code stored as %q", got)
	}
}

func TestBuyTier(t *testing.T) {
	w := newBonusWorld(t)
	ctx := context.Background()
	// The default Gold and Black, priced for the test (Black is not for sale by default).
	apptest.Must(t, w.db.Tier.Update().Where(tier.Slug(loyalty.TierGold)).SetPriceBonus(5000).Exec(ctx))
	apptest.Must(t, w.db.Tier.Update().Where(tier.Slug(loyalty.TierBlack)).SetPriceBonus(1_000_000).Exec(ctx))
	c, m := w.signIn(t, 7401, "Даурен")
	_, err := w.env.App.Ledger.Credit(ctx, ledger.Op{MemberID: m.ID, Amount: 7000, Kind: ledger.KindAdjustment, Reason: "test", Key: "test:topup"})
	apptest.Must(t, err)

	page := c.Get("/app/status")
	if !strings.Contains(page.Body, `name="slug" value="gold"`) || !strings.Contains(page.Body, "<dd><strong>Базовый</strong>") {
		t.Fatalf("status page before buying: %s", page.Body)
	}
	key := "0123456789abcdef0123456789abcdef"
	buy := url.Values{"slug": {"gold"}, "key": {key}}
	body := flash(t, c, c.Post("/app/status/buy", buy))
	if !strings.Contains(body, "Статус куплен") || !strings.Contains(body, "Золотой") || !strings.Contains(body, "куплен до") {
		t.Errorf("status page after buying lacks the tier")
	}
	if b := w.balance(t, m.ID); b.Available != 10000-5000 {
		t.Errorf("available %d after buying, want 5000", b.Available)
	}
	// The same form submitted again charges nothing more.
	flash(t, c, c.Post("/app/status/buy", buy))
	if b := w.balance(t, m.ID); b.Available != 5000 {
		t.Errorf("available %d after a double submit, want 5000", b.Available)
	}
	n, err := w.db.LedgerEntry.Query().Where(ledgerentry.MemberID(m.ID), ledgerentry.KindEQ(ledgerentry.KindTierPurchase)).Count(ctx)
	apptest.Must(t, err)
	if n != 1 {
		t.Errorf("%d purchase entries, want 1", n)
	}
	if h := c.Get("/app/bonuses").Body; !strings.Contains(h, "Покупка статуса Золотой") {
		t.Errorf("history lacks the purchase")
	}

	tests := []struct {
		name, slug, flash string
	}{
		{"not enough bonuses", "black", "Недостаточно бонусов"},
		{"unknown tier", "platinum", "Этот статус не продаётся"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := flash(t, c, c.Post("/app/status/buy", url.Values{"slug": {tt.slug}, "key": {"fedcba9876543210fedcba9876543210"}}))
			if !strings.Contains(body, tt.flash) {
				t.Errorf("no flash %q", tt.flash)
			}
			if b := w.balance(t, m.ID); b.Available != 5000 {
				t.Errorf("available %d, want 5000", b.Available)
			}
		})
	}
	if r := c.Post("/app/status/buy", url.Values{"slug": {"gold"}, "key": {""}}); r.Status != http.StatusBadRequest {
		t.Errorf("no key: status %d", r.Status)
	}
}

func TestAnnulment(t *testing.T) {
	w := newBonusWorld(t)
	ctx := context.Background()
	mc, m := w.signIn(t, 7501, "Ержан")
	mod := w.staff(t, 7502, "moderator")
	sup := w.staff(t, 7503, "support")
	path := "/admin/members/" + apptest.Itoa(m.ID)
	welcome, err := w.db.LedgerEntry.Query().Where(ledgerentry.MemberID(m.ID), ledgerentry.KindEQ(ledgerentry.KindWelcome)).Only(ctx)
	apptest.Must(t, err)

	if r := sup.Get(path + "/ledger"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Приветственный бонус") {
		t.Fatalf("support reads the ledger: %d", r.Status)
	}
	if r := sup.Post(path+"/annul", url.Values{"amount": {"100"}, "reason": {"fraud"}, "key": {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}); r.Status != http.StatusForbidden {
		t.Fatalf("support annuls: status %d, want 403", r.Status)
	}

	// Refusals write nothing: no entry, no audit row.
	refused := []struct {
		name  string
		form  url.Values
		flash string
	}{
		{"no reason", url.Values{"amount": {"1000"}, "reason": {"  "}}, "Укажите причину"},
		{"no amount", url.Values{"amount": {"0"}, "reason": {"fraud"}}, "Укажите начисление или сумму"},
		{"more than available", url.Values{"amount": {"3001"}, "reason": {"fraud"}}, "Нельзя аннулировать больше"},
		{"unknown entry", url.Values{"entry_id": {"999999"}, "reason": {"fraud"}}, "Такого начисления у участника нет"},
	}
	for i, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := w.entries(t, m.ID)
			tt.form.Set("key", strings.Repeat(string("bcdef"[i]), 32))
			if body := flash(t, mod, mod.Post(path+"/annul", tt.form)); !strings.Contains(body, tt.flash) {
				t.Errorf("no flash %q", tt.flash)
			}
			if after := w.entries(t, m.ID); after != before {
				t.Errorf("entries %d → %d", before, after)
			}
			if n := w.audits(t, "ledger.annul"); n != 0 {
				t.Errorf("%d audit rows", n)
			}
		})
	}

	form := url.Values{"amount": {"1000"}, "reason": {"Перепродажа броней"}, "key": {"1111111111111111aaaaaaaaaaaaaaaa"}}
	if body := flash(t, mod, mod.Post(path+"/annul", form)); !strings.Contains(body, "Бонусы аннулированы") {
		t.Errorf("no success flash")
	}
	flash(t, mod, mod.Post(path+"/annul", form)) // a double submit annuls once
	if b := w.balance(t, m.ID); b.Available != 2000 {
		t.Errorf("available %d after annulling 1000, want 2000", b.Available)
	}
	if n := w.audits(t, "ledger.annul"); n != 1 {
		t.Errorf("%d audit rows, want 1", n)
	}
	if h := mc.Get("/app/bonuses").Body; !strings.Contains(h, "Аннулировано службой заботы. Причина: Перепродажа броней") || !strings.Contains(h, "−1"+thin+"000") {
		t.Errorf("the member does not see the annulment with its reason")
	}
	if h := mc.Get("/app/notifications").Body; !strings.Contains(h, "Бонусы аннулированы") || !strings.Contains(h, "Перепродажа броней") || strings.Count(h, "Бонусы аннулированы") != 1 {
		t.Errorf("the member was not notified of the annulment exactly once")
	}

	// An entry annulled by its ID cannot be annulled again.
	byEntry := url.Values{"entry_id": {apptest.Itoa(welcome.ID)}, "reason": {"fraud"}, "key": {"2222222222222222aaaaaaaaaaaaaaaa"}}
	if body := flash(t, mod, mod.Post(path+"/annul", byEntry)); !strings.Contains(body, "Нельзя аннулировать больше") {
		t.Errorf("annulling 3000 of 2000 available was not refused")
	}
	_, err = w.env.App.Ledger.Credit(ctx, ledger.Op{MemberID: m.ID, Amount: 5000, Kind: ledger.KindAdjustment, Key: "test:topup"})
	apptest.Must(t, err)
	flash(t, mod, mod.Post(path+"/annul", byEntry))
	byEntry.Set("key", "3333333333333333aaaaaaaaaaaaaaaa")
	if body := flash(t, mod, mod.Post(path+"/annul", byEntry)); !strings.Contains(body, "уже аннулировано") {
		t.Errorf("a second annulment of one entry was not refused")
	}
	if b := w.balance(t, m.ID); b.Available != 2000+5000-3000 {
		t.Errorf("available %d, want 4000", b.Available)
	}
}

func TestAPIBonuses(t *testing.T) {
	w := newBonusWorld(t)
	c, m := w.signIn(t, 7601, "Гульнара")
	var me struct {
		Balance      *int64  `json:"balance"`
		Pending      *int64  `json:"pending"`
		Reserved     *int64  `json:"reserved"`
		Tier         *string `json:"tier"`
		ReferralCode string  `json:"referral_code"`
	}
	r := c.Get("/api/v1/me")
	apptest.Must(t, json.Unmarshal([]byte(r.Body), &me))
	if me.Balance == nil || *me.Balance != 3000 || me.Pending == nil || *me.Pending != 0 || me.Reserved == nil || *me.Reserved != 0 ||
		me.Tier == nil || *me.Tier != "base" || me.ReferralCode != m.ReferralCode || !strings.Contains(r.Body, `"tier":"base"`) { // the default tier
		t.Errorf("/api/v1/me: %s", r.Body)
	}

	var list struct {
		Entries []struct {
			ID     int    `json:"id"`
			Kind   string `json:"kind"`
			Amount int64  `json:"amount"`
			Bucket string `json:"bucket"`
			Reason string `json:"reason"`
		} `json:"entries"`
		NextBefore *int `json:"next_before"`
	}
	r = c.Get("/api/v1/bonuses")
	apptest.Must(t, json.Unmarshal([]byte(r.Body), &list))
	if len(list.Entries) != 1 || list.Entries[0].Kind != "welcome" || list.Entries[0].Amount != 3000 ||
		list.Entries[0].Bucket != "available" || list.Entries[0].Reason != "Приветственный бонус" || list.NextBefore != nil {
		t.Errorf("/api/v1/bonuses: %s", r.Body)
	}
	r = c.Get("/api/v1/bonuses?before=" + apptest.Itoa(list.Entries[0].ID))
	if !strings.Contains(r.Body, `"entries":[]`) {
		t.Errorf("the page before the first entry: %s", r.Body)
	}
}

func TestInviteQR(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	c.SignIn(9911, "Qr")
	page := c.Get("/app/invite")
	if !strings.Contains(page.Body, `src="/app/invite/qr.png"`) {
		t.Fatal("the invite page shows no QR code")
	}
	r := c.Get("/app/invite/qr.png")
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	img, err := png.Decode(strings.NewReader(r.Body))
	apptest.Must(t, err)
	if img.Bounds().Dx() < 200 {
		t.Fatalf("qr too small: %v", img.Bounds())
	}
}

// postJSON posts a form as a script would, asking for JSON back.
func postJSON(c *apptest.Client, env *apptest.Env, path string, form url.Values) *apptest.Response {
	req, _ := http.NewRequest(http.MethodPost, env.URL(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", c.CSRF())
	return c.Do(req)
}

// An idempotency key names one request: the same key with other parameters is refused
// with a clear message (409 for JSON) and changes nothing.
func TestIdempotencyKeyReusedWithOtherParameters(t *testing.T) {
	w := newBonusWorld(t)
	ctx := context.Background()
	// The default Silver and Gold, priced for the test.
	for slug, price := range map[string]int64{loyalty.TierSilver: 1000, loyalty.TierGold: 2000} {
		apptest.Must(t, w.db.Tier.Update().Where(tier.Slug(slug)).SetPriceBonus(price).SetPeriodDays(30).Exec(ctx))
	}
	c, m := w.signIn(t, 7601, "Арман")
	key := "00112233445566778899aabbccddeeff"
	flash(t, c, c.Post("/app/status/buy", url.Values{"slug": {"silver"}, "key": {key}}))
	if b := w.balance(t, m.ID); b.Available != 3000-1000 {
		t.Fatalf("available %d after buying silver", b.Available)
	}
	other := url.Values{"slug": {"gold"}, "key": {key}}
	if body := flash(t, c, c.Post("/app/status/buy", other)); !strings.Contains(body, "Форма устарела") || strings.Contains(body, "Статус куплен") {
		t.Errorf("buying gold with silver's key was not refused")
	}
	if r := postJSON(c, w.env, "/app/status/buy", other); r.Status != http.StatusConflict || !strings.Contains(r.Body, `"code":"conflict"`) {
		t.Errorf("JSON: %d %s", r.Status, r.Body)
	}
	if b := w.balance(t, m.ID); b.Available != 2000 {
		t.Errorf("available %d, want 2000", b.Available)
	}
	if st, _ := w.env.App.Loyalty.Status(ctx, m.ID); st.Bought == nil || st.Bought.Slug != "silver" {
		t.Errorf("bought %+v, want silver", st.Bought)
	}

	mod := w.staff(t, 7602, "moderator")
	path := "/admin/members/" + apptest.Itoa(m.ID) + "/annul"
	annul := url.Values{"amount": {"100"}, "reason": {"fraud"}, "key": {"ffeeddccbbaa99887766554433221100"}}
	flash(t, mod, mod.Post(path, annul))
	for name, change := range map[string][2]string{"amount": {"amount", "200"}, "reason": {"reason", "other"}} {
		form := cloneForm(annul)
		form.Set(change[0], change[1])
		if body := flash(t, mod, mod.Post(path, form)); !strings.Contains(body, "Форма устарела") {
			t.Errorf("another %s under the key was not refused", name)
		}
		if r := postJSON(mod, w.env, path, form); r.Status != http.StatusConflict || !strings.Contains(r.Body, `"code":"conflict"`) {
			t.Errorf("JSON, another %s: %d %s", name, r.Status, r.Body)
		}
	}
	welcome, err := w.db.LedgerEntry.Query().Where(ledgerentry.MemberID(m.ID), ledgerentry.KindEQ(ledgerentry.KindWelcome)).Only(ctx)
	apptest.Must(t, err)
	form := cloneForm(annul)
	form.Del("amount")
	form.Set("entry_id", apptest.Itoa(welcome.ID))
	if body := flash(t, mod, mod.Post(path, form)); !strings.Contains(body, "Форма устарела") {
		t.Errorf("an entry under an amount's key was not refused")
	}
	if b := w.balance(t, m.ID); b.Available != 2000-100 {
		t.Errorf("available %d, want 1900", b.Available)
	}
	if n := w.audits(t, "ledger.annul"); n != 1 {
		t.Errorf("%d annulments audited, want 1", n)
	}
	// The same annulment again is answered as done.
	if body := flash(t, mod, mod.Post(path, annul)); !strings.Contains(body, "Бонусы аннулированы") {
		t.Errorf("the repeated annulment was not answered as done")
	}
}

func cloneForm(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Only credits that bring bonuses in can be annulled by their ID: the rule is the
// domain's, not the ledger page's.
func TestAnnulRefusesOtherKinds(t *testing.T) {
	w := newBonusWorld(t)
	ctx := context.Background()
	_, m := w.signIn(t, 7701, "Айгерим")
	l := w.env.App.Ledger
	_, err := l.Reserve(ctx, ledger.Op{MemberID: m.ID, Amount: 500, RefType: "booking", RefID: "1", Key: "test:res"})
	apptest.Must(t, err)
	_, err = l.Release(ctx, m.ID, "test:res", "test:rel", nil)
	apptest.Must(t, err)
	back, err := w.db.LedgerEntry.Query().Where(ledgerentry.MemberID(m.ID), ledgerentry.KindEQ(ledgerentry.KindRelease), ledgerentry.AmountGT(0)).Only(ctx)
	apptest.Must(t, err)
	mod := w.staff(t, 7702, "moderator")
	path := "/admin/members/" + apptest.Itoa(m.ID)
	if page := mod.Get(path + "/ledger").Body; strings.Contains(page, `name="entry_id" value="`+apptest.Itoa(back.ID)+`"`) {
		t.Errorf("the ledger page offers to annul a release")
	}
	form := url.Values{"entry_id": {apptest.Itoa(back.ID)}, "reason": {"fraud"}, "key": {"abababababababababababababababab"}}
	if body := flash(t, mod, mod.Post(path+"/annul", form)); !strings.Contains(body, "Это начисление нельзя аннулировать") {
		t.Errorf("annulling a release was not refused")
	}
	if b := w.balance(t, m.ID); b.Available != 3000 {
		t.Errorf("available %d, want 3000", b.Available)
	}
}
