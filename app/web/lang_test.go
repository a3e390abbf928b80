package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"ikra/app/apptest"
	"ikra/app/auth/telegram"
	"ikra/ent"
	"ikra/ent/member"
)

// signInMiniApp signs a new client in through the Mini App, as a Telegram client set to
// the language code, and returns it.
func signInMiniApp(t *testing.T, env *apptest.Env, tgID int64, name, code string) *apptest.Client {
	t.Helper()
	user, _ := json.Marshal(map[string]any{"id": tgID, "first_name": name, "language_code": code})
	initData := telegram.SignInitData(map[string]string{
		"user": string(user), "auth_date": strconv.FormatInt(time.Now().Unix(), 10), "chat_type": "private",
	}, apptest.BotToken)
	c := env.Client()
	if r := c.Post("/tg/auth", url.Values{"initData": {initData}}); r.Status != http.StatusSeeOther {
		t.Fatalf("Mini App sign-in with %q: %d %s", code, r.Status, r.Body)
	}
	// The first sign-in offers the welcome screen (which gives the session's CSRF
	// token); these members skip it.
	if r := c.Get("/app"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app/welcome" {
		t.Fatalf("the first /app after a Mini App sign-in: %d to %q", r.Status, r.Header.Get("Location"))
	}
	c.Get("/app/welcome")
	if r := c.Post("/app/welcome", url.Values{"skip": {"1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("skipping the welcome screen: %d %s", r.Status, r.Body)
	}
	return c
}

// catalogFile reads a catalog as its JSON file holds it: a text, or plural forms.
func catalogFile(t *testing.T, lang string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../i18n/" + lang + ".json")
	apptest.Must(t, err)
	m := map[string]any{}
	apptest.Must(t, json.Unmarshal(b, &m))
	return m
}

func texts(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, f := range v.(map[string]any) {
		out = append(out, f.(string))
	}
	return out
}

var printfVerb = regexp.MustCompile(`%(\[\d+\])?[sdv]`)

// russianOnly lists the pieces of Russian interface text a Kazakh page must not show:
// the texts (split where numbers and names are filled in) of every key whose Kazakh
// text differs, leaving out pieces that occur in some Kazakh text too, such as "Telegram"
// or "Кэшбэк".
func russianOnly(t *testing.T) []string {
	ru, kk := catalogFile(t, "ru"), catalogFile(t, "kk")
	var all strings.Builder
	for _, v := range kk {
		for _, s := range texts(v) {
			all.WriteString(s + "\n")
		}
	}
	kkText := all.String()
	seen := map[string]bool{}
	var out []string
	for key, v := range ru {
		kv, ok := kk[key]
		if !ok {
			t.Errorf("kk lacks %q", key)
			continue
		}
		if same, _ := json.Marshal(kv); string(same) == mustJSON(v) {
			continue
		}
		for _, s := range texts(v) {
			for _, piece := range printfVerb.Split(s, -1) {
				piece = strings.TrimFunc(piece, func(r rune) bool { return !unicode.IsLetter(r) })
				if !strings.ContainsFunc(piece, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) ||
					strings.Contains(kkText, piece) || seen[piece] {
					continue
				}
				seen[piece] = true
				out = append(out, piece)
			}
		}
	}
	return out
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var (
	scriptOrStyle = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)>`)
	htmlTag       = regexp.MustCompile(`(?s)<[^>]*>`)
	shownAttr     = regexp.MustCompile(`\b(?:placeholder|aria-label|title|alt)="([^"]*)"`)
)

// shownText is what a person reads or hears on a page: its text nodes and the
// attributes shown or read out.
func shownText(page string) []string {
	page = scriptOrStyle.ReplaceAllString(page, "")
	var out []string
	for _, m := range shownAttr.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	for _, s := range htmlTag.Split(page, -1) {
		if s = strings.TrimSpace(html.UnescapeString(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// A member whose Telegram speaks Kazakh gets the interface in Kazakh from the first
// sign-in, and no member page mixes in Russian: neither interface text, nor category,
// city or tier names. The same pages in Russian show what is looked for.
func TestKazakhPagesHaveNoRussian(t *testing.T) {
	env := apptest.New(t)
	place := env.Place()
	partner := env.Partner(place, "Dastarkhan")
	o := env.Offer(place, partner.ID, "Dastarkhan Lounge", func(c *ent.OfferCreate) {
		c.SetPriceBonus(100).SetCashbackBp(500).SetSummary("Lounge").SetAddresses([]string{"Abay 10"})
	})

	kk := signInMiniApp(t, env, 8801, "Айгерим", "kk")
	ru := signInMiniApp(t, env, 8802, "Айгерим", "ru")
	for _, c := range []*apptest.Client{kk, ru} {
		r := c.Post("/app/offers/"+apptest.Itoa(o.ID)+"/book", url.Values{"comment": {"—"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("booking: %d %s", r.Status, r.Body)
		}
	}
	if page := kk.Get("/app").Body; !strings.Contains(page, `<html lang="kk">`) {
		t.Errorf("the catalog of a member whose Telegram speaks Kazakh is not in Kazakh")
	}
	if page := ru.Get("/app/settings").Body; !strings.Contains(page, `<option value="kk" lang="kk">Қазақша</option>`) {
		t.Errorf("the language choice does not offer Қазақша")
	}
	if page := kk.Get("/app/settings").Body; !strings.Contains(page, `<option value="kk" lang="kk" selected>Қазақша</option>`) {
		t.Errorf("Қазақша is not the chosen language")
	}

	forbidden := russianOnly(t)
	if len(forbidden) < 300 {
		t.Fatalf("only %d Russian pieces to look for", len(forbidden))
	}
	for _, path := range []string{"/app", "/app/offers/" + apptest.Itoa(o.ID), "/app/bookings", "/app/bonuses",
		"/app/status", "/app/invite", "/app/notifications", "/app/settings", "/app/settings/delete", "/app/welcome", "/rules"} {
		kkPage, ruPage := kk.Get(path), ru.Get(path)
		if kkPage.Status != http.StatusOK || ruPage.Status != http.StatusOK {
			t.Errorf("%s: %d in Kazakh, %d in Russian", path, kkPage.Status, ruPage.Status)
			continue
		}
		found := 0
		for _, page := range []struct {
			lang string
			text []string
		}{{"kk", shownText(kkPage.Body)}, {"ru", shownText(ruPage.Body)}} {
			for _, node := range page.text {
				for _, piece := range forbidden {
					// A short piece ("До", "Статус") counts only as a whole text.
					if node == piece || utf8.RuneCountInString(piece) >= 12 && strings.Contains(node, piece) {
						if page.lang == "ru" {
							found++
						} else {
							t.Errorf("%s in Kazakh shows Russian %q in %q", path, piece, node)
						}
					}
				}
			}
		}
		if found == 0 {
			t.Errorf("%s in Russian shows none of the Russian texts: the check sees nothing", path)
		}
		for _, name := range []string{"Мейрамханалар", "Базалық"} {
			if strings.Contains(ruPage.Body, name) {
				t.Errorf("%s in Russian shows the Kazakh name %q", path, name)
			}
		}
	}
	if page := kk.Get("/app/offers/" + apptest.Itoa(o.ID)).Body; !strings.Contains(page, "Мейрамханалар") {
		t.Errorf("the Kazakh offer page lacks the Kazakh category name")
	}
	if page := kk.Get("/app/status").Body; !strings.Contains(page, "Базалық") || !strings.Contains(page, "Алтын") {
		t.Errorf("the Kazakh status page lacks the Kazakh tier names")
	}
}

// A member reading the deletion page in Kazakh confirms with the Kazakh word it shows.
func TestKazakhDeleteConfirmation(t *testing.T) {
	env := apptest.New(t)
	c := signInMiniApp(t, env, 8811, "Айгерим", "kk")
	if r := c.Get("/app/settings/delete"); r.Status != http.StatusOK || !strings.Contains(r.Body, "ЖОЮ") {
		t.Fatalf("the Kazakh deletion page does not ask for ЖОЮ: %d", r.Status)
	}
	if r := c.Post("/app/settings/delete", url.Values{"confirm": {"жоюу"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a wrong word: status %d", r.Status)
	}
	if r := c.Post("/app/settings/delete", url.Values{"confirm": {" жою "}}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Errorf("the Kazakh word: status %d, location %q", r.Status, r.Header.Get("Location"))
	}
}

// The first sign-in picks the member's language from Telegram: the Mini App's
// language_code (ru, en, kk; any other is Russian), and for the Login Widget, whose
// data has no language_code, the language the visitor was browsing in. A later sign-in
// keeps what the member chose in settings since.
func TestFirstSignInLanguage(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	lang := func(tgID int64) string {
		t.Helper()
		m, err := env.App.DB.Member.Query().Where(member.TelegramID(tgID)).Only(ctx)
		apptest.Must(t, err)
		return m.Language
	}
	for i, tt := range []struct{ code, want string }{{"kk", "kk"}, {"en-GB", "en"}, {"ru", "ru"}, {"de", "ru"}} {
		id := int64(7300 + i)
		signInMiniApp(t, env, id, "Айгерим", tt.code)
		if got := lang(id); got != tt.want {
			t.Errorf("Mini App with %q: language %q, want %q", tt.code, got, tt.want)
		}
	}
	// Changed in settings, then signed in again from a Telegram set to English: kept.
	c := signInMiniApp(t, env, 7310, "Айгерим", "kk")
	c.Get("/app/settings")
	if r := c.Post("/app/settings/language", url.Values{"lang": {"ru"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("settings: %d", r.Status)
	}
	user := `{"id":7310,"first_name":"Айгерим","language_code":"en"}`
	initData := telegram.SignInitData(map[string]string{"user": user, "auth_date": strconv.FormatInt(time.Now().Unix(), 10), "chat_type": "private"}, apptest.BotToken)
	if r := env.Client().Post("/tg/auth", url.Values{"initData": {initData}}); r.Status != http.StatusSeeOther {
		t.Fatalf("second Mini App sign-in: %d", r.Status)
	}
	if got := lang(7310); got != "ru" {
		t.Errorf("a later Mini App sign-in replaced the member's choice: %q", got)
	}

	widget := func(c *apptest.Client, tgID int64, acceptLanguage string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, env.URL("/auth/telegram?"+apptest.WidgetQuery(tgID, "Dana", time.Now()).Encode()), nil)
		req.Header.Set("Accept-Language", acceptLanguage)
		if r := c.Do(req); r.Status != http.StatusSeeOther {
			t.Fatalf("widget sign-in: %d %s", r.Status, r.Body)
		}
	}
	widget(env.Client(), 7320, "kk-KZ,kk;q=0.9,ru;q=0.5")
	widget(env.Client(), 7321, "de-DE")
	if a, b := lang(7320), lang(7321); a != "kk" || b != "ru" {
		t.Errorf("widget: languages %q and %q, want kk and ru", a, b)
	}
	// A visitor who chose English on the public pages signs up in English.
	en := env.Client()
	en.Post("/lang", url.Values{"lang": {"en"}})
	widget(en, 7322, "ru")
	if got := lang(7322); got != "en" {
		t.Errorf("widget after choosing English: %q", got)
	}
	// A later widget sign-in keeps the member's own choice.
	en.Get("/app/settings")
	en.Post("/app/settings/language", url.Values{"lang": {"kk"}})
	widget(env.Client(), 7322, "en")
	if got := lang(7322); got != "kk" {
		t.Errorf("a later widget sign-in replaced the member's choice: %q", got)
	}
}
