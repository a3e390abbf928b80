package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"ikra/app/apptest"
	"ikra/app/i18n"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/member"
)

// tgTheme is a Telegram client's theme as the Mini App receives it.
type tgTheme struct {
	Scheme string            // light or dark
	Params map[string]string // themeParams
	BgRGB  string            // bg_color as getComputedStyle reports it
}

var (
	tgLight = tgTheme{Scheme: "light", BgRGB: "rgb(255, 255, 255)", Params: map[string]string{
		"bg_color": "#ffffff", "secondary_bg_color": "#f1f1f4", "section_bg_color": "#ffffff", "text_color": "#000000",
		"hint_color": "#707579", "link_color": "#3390ec", "button_color": "#3390ec", "button_text_color": "#ffffff",
		"section_separator_color": "#e7e7e7", "destructive_text_color": "#e53935", "bottom_bar_bg_color": "#ffffff"}}
	tgDark = tgTheme{Scheme: "dark", BgRGB: "rgb(23, 33, 43)", Params: map[string]string{
		"bg_color": "#17212b", "secondary_bg_color": "#232e3c", "section_bg_color": "#17212b", "text_color": "#f5f5f5",
		"hint_color": "#708499", "link_color": "#6ab3f3", "button_color": "#5288c1", "button_text_color": "#ffffff",
		"section_separator_color": "#111921", "destructive_text_color": "#ec3942", "bottom_bar_bg_color": "#17212b"}}
)

// fakeTelegram stands in for telegram-web-app.js: it defines Telegram.WebApp with the
// signed initData and the theme before any page script runs, and records what the
// page asks of Telegram in window.__tg (the MainButton's text and click handler, the
// BackButton, haptics). Each page gets a fresh one, as with the real script.
const fakeTelegram = `(() => {
	const cfg = %s;
	const rec = {main: {text: '', shown: false, click: null, progress: false}, back: {shown: false, click: null},
		haptics: [], opened: [], ready: 0, header: null};
	window.__tg = rec;
	const self = function () { return this; };
	window.Telegram = {WebApp: {
		initData: cfg.initData, initDataUnsafe: {}, version: '8.0', platform: 'android',
		themeParams: cfg.themeParams, colorScheme: cfg.colorScheme,
		safeAreaInset: {top: 0, bottom: 0, left: 0, right: 0},
		contentSafeAreaInset: {top: 0, bottom: 0, left: 0, right: 0},
		ready() { rec.ready++; }, expand() {}, onEvent() {}, offEvent() {},
		setHeaderColor(c) { rec.header = c; }, setBackgroundColor() {},
		openTelegramLink(u) { rec.opened.push(u); },
		MainButton: {
			setText(t) { rec.main.text = t; return this; },
			show() { rec.main.shown = true; return this; },
			hide() { rec.main.shown = false; return this; },
			onClick(f) { rec.main.click = f; return this; },
			offClick() { rec.main.click = null; return this; },
			showProgress() { rec.main.progress = true; return this; },
			hideProgress() { rec.main.progress = false; return this; },
			enable: self, disable: self, setParams: self,
		},
		BackButton: {
			show() { rec.back.shown = true; }, hide() { rec.back.shown = false; },
			onClick(f) { rec.back.click = f; }, offClick() { rec.back.click = null; },
		},
		HapticFeedback: {
			notificationOccurred(kind) { rec.haptics.push(kind); },
			impactOccurred() {}, selectionChanged() {},
		},
	}};
})();`

// tgRecord is window.__tg as the test reads it.
type tgRecord struct {
	Main struct {
		Text     string `json:"text"`
		Shown    bool   `json:"shown"`
		Click    bool   `json:"click"`
		Progress bool   `json:"progress"`
	} `json:"main"`
	Back struct {
		Shown bool `json:"shown"`
	} `json:"back"`
	Haptics []string `json:"haptics"`
	Opened  []string `json:"opened"` // links given to openTelegramLink
	Ready   int      `json:"ready"`
	Header  string   `json:"header"`
}

const readTG = `(() => { const r = window.__tg; if (!r) return null;
	return {main: {text: r.main.text, shown: r.main.shown, click: !!r.main.click, progress: r.main.progress},
		back: {shown: r.back.shown}, haptics: r.haptics, opened: r.opened, ready: r.ready, header: r.header || ''}; })()`

// miniAppPhone is a 360 × 740 handset inside Telegram: telegram.org is unreachable
// (blocked, so its script fails at once instead of stalling), and every page gets the
// fake Telegram.WebApp with the signed initData and the theme. It returns the
// identifier of the injected script, to take Telegram away again.
func miniAppPhone(ctx context.Context, t *testing.T, env *apptest.Env, initData string, theme tgTheme) (*phone, page.ScriptIdentifier) {
	t.Helper()
	p := newPhone(ctx, t, env)
	p.do("hold a 360 px phone", chromedp.EmulateViewport(narrowWidth, phoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch))
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	_, err := chromedp.Call(p.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{
		{URLPattern: "https://telegram.org/*", Block: true}, {URLPattern: "https://*.telegram.org/*", Block: true}}})
	if err != nil {
		t.Fatalf("block telegram.org: %v", err)
	}
	cfg, _ := json.Marshal(map[string]any{"initData": initData, "themeParams": theme.Params, "colorScheme": theme.Scheme})
	added, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(fakeTelegram, cfg)})
	if err != nil {
		t.Fatalf("inject Telegram.WebApp: %v", err)
	}
	return p, added.Identifier
}

// waitPath waits until the page shown is at path (the entry page signs in with
// fetch and then moves on by script) and has finished loading.
func (p *phone) waitPath(path string) {
	p.t.Helper()
	deadline := time.Now().Add(browserStepTimeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, time.Second)
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + ' ' + document.readyState`))
		cancel()
		if err == nil && state == path+" complete" {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waiting for %s: at %q (%v); the page shows:\n%s", path, state, err, p.visibleText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tg reads what the page asked of the fake Telegram.
func (p *phone) tg() tgRecord {
	p.t.Helper()
	return phoneRun(p, "read window.__tg", chromedp.Evaluate[tgRecord](readTG))
}

// fitsPhone fails when the page scrolls sideways on the handset.
func (p *phone) fitsPhone(where string) {
	p.t.Helper()
	w := phoneRun(p, "measure the width", chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if w[0] > w[1] {
		p.t.Errorf("%s scrolls sideways in the Mini App: %d px wide on a %d px screen", where, w[0], w[1])
	}
}

// A friend opens the Mini App by a link to an offer (startapp=offer_ID), on a
// 360 px handset, once with Telegram's light theme and once with its dark one: the
// signed initData signs them up and opens the offer; the page takes Telegram's
// colours, shows no site header, offers Back and puts "Book" on Telegram's
// MainButton instead of in the page. Tapping the MainButton books the offer, the
// bookings page shows it with a success haptic, and nothing scrolls sideways.
// Without Telegram's script (it failed to load) the same page keeps its own button.
func TestBrowserMiniAppBooksWithMainButton(t *testing.T) {
	apptest.Chromium(t)
	env := apptest.New(t)
	place := env.Place()
	restaurant := env.Partner(place, "Икра и вино")
	o := env.Offer(place, restaurant.ID, "Ужин на двоих у окна", func(c *ent.OfferCreate) { c.SetPerMemberLimit(5) })
	offerPath := "/app/offers/" + strconv.Itoa(o.ID)

	for i, tc := range []struct {
		theme tgTheme
		lang  string
	}{{tgLight, "ru"}, {tgDark, "kk"}} {
		t.Run(tc.theme.Scheme, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), browserTestTimeout)
			defer cancel()
			tgID := int64(7201 + i)
			initData := miniAppInitData(tgID, "Жанар", tc.lang, "offer_"+strconv.Itoa(o.ID))
			p, fake := miniAppPhone(ctx, t, env, initData, tc.theme)

			p.open("/tg")
			p.waitPath(offerPath)
			shot := func(name string) { p.screenshot("miniapp-" + tc.theme.Scheme + "-" + name + ".png") }
			shot("offer")

			// Telegram's colours, not the site's; no site header; Back; Book on the MainButton.
			look := phoneRun(p, "read the page's look", chromedp.Evaluate[map[string]string](`({
				bg: getComputedStyle(document.body).backgroundColor,
				scheme: document.documentElement.getAttribute('data-tg-scheme') || '',
				body: document.body.className,
				topbar: String(!!document.querySelector('.topbar') && getComputedStyle(document.querySelector('.topbar')).display !== 'none'),
				book: String(document.querySelector('[data-tg-main]').offsetParent !== null),
			})`))
			if look["bg"] != tc.theme.BgRGB || look["scheme"] != tc.theme.Scheme {
				t.Errorf("the page's background is %s in the %q scheme, want bg_color %s in %q", look["bg"], look["scheme"], tc.theme.BgRGB, tc.theme.Scheme)
			}
			if !strings.Contains(look["body"], "tg") || look["topbar"] != "false" {
				t.Errorf("the Mini App layout: body class %q, site header shown: %s", look["body"], look["topbar"])
			}
			rec := p.tg()
			wantText := env.App.Catalog.T(tc.lang, "booking.book")
			if !rec.Main.Shown || rec.Main.Text != wantText || !rec.Main.Click {
				t.Fatalf("MainButton: %+v, want %q shown with a click handler", rec.Main, wantText)
			}
			if look["book"] != "false" {
				t.Error("the in-page Book button is shown beside the MainButton")
			}
			if !rec.Back.Shown || rec.Ready == 0 {
				t.Errorf("BackButton shown %v, ready() called %d times", rec.Back.Shown, rec.Ready)
			}
			p.fitsPhone(offerPath)

			// Tap the MainButton: Telegram calls the handler the page registered.
			p.navigate("tap the MainButton", chromedp.Evaluate[chromedp.Void](`window.__tg.main.click()`))
			p.waitPath("/app/bookings")
			haptic := phoneRun(p, "wait for the success haptic", chromedp.Poll[bool](
				`window.__tg && window.__tg.haptics.includes('success')`, chromedp.WithPollingTimeout(5*time.Second)))
			if !haptic {
				t.Error("no success haptic after booking")
			}
			p.sees(env.App.Catalog.T(tc.lang, "flash.booked"), "Ужин на двоих у окна")
			if rec := p.tg(); rec.Main.Shown {
				t.Errorf("the bookings page left the MainButton shown: %+v", rec.Main)
			}
			p.fitsPhone("/app/bookings")
			shot("booked")

			bs, err := env.App.DB.Booking.Query().Where(booking.HasMemberWith(member.TelegramID(tgID)), booking.OfferID(o.ID)).All(context.Background())
			apptest.Must(t, err)
			if len(bs) != 1 || bs[0].Channel != booking.ChannelTg || bs[0].Status != booking.StatusRequested {
				t.Fatalf("the member's bookings of the offer: %v, want one requested from tg", bs)
			}
			if !strings.Contains(p.visibleText(), bs[0].Code) {
				t.Errorf("the bookings page does not show the code %s", bs[0].Code)
			}

			// Telegram's Back returns to the offer the booking came from.
			if rec := p.tg(); !rec.Back.Shown {
				t.Error("no BackButton on the bookings page")
			}
			p.do("tap Telegram's Back", chromedp.Evaluate[chromedp.Void](`window.__tg.back.click()`))
			p.waitPath(offerPath)
			if rec := p.tg(); !rec.Main.Shown || rec.Main.Progress || rec.Main.Text != wantText {
				t.Errorf("back on the offer, the MainButton is %+v, want %q ready", rec.Main, wantText)
			}

			// The invitation's primary action shares the bot link through Telegram.
			p.open("/app/invite")
			inviter, err := env.App.DB.Member.Query().Where(member.TelegramID(tgID)).Only(context.Background())
			apptest.Must(t, err)
			if rec := p.tg(); !rec.Main.Shown || rec.Main.Text != env.App.Catalog.T(tc.lang, "app.invite.share") {
				t.Errorf("the invitation's MainButton: %+v", rec.Main)
			}
			p.do("tap the MainButton", chromedp.Evaluate[chromedp.Void](`window.__tg.main.click()`))
			wantShare := "https://t.me/share/url?url=" + url.QueryEscape("https://t.me/"+env.Config.BotUsername+"?start=ref_"+inviter.ReferralCode)
			if rec := p.tg(); len(rec.Opened) != 1 || !strings.HasPrefix(rec.Opened[0], wantShare+"&text=") {
				t.Errorf("sharing opened %q, want %s&text=…", rec.Opened, wantShare)
			}
			p.fitsPhone("/app/invite")

			// Telegram's script did not load and nothing stands in for it: the page
			// still works, with its own Book button.
			if _, err := chromedp.Call(p.ctx, page.RemoveScriptToEvaluateOnNewDocument,
				page.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: fake}); err != nil {
				t.Fatal(err)
			}
			p.open(offerPath)
			p.navigate("tap the page's Book button", chromedp.Click(chromedp.CSS(`button[data-tg-main]`), chromedp.NodeVisible))
			p.waitPath("/app/bookings")
			n, err := env.App.DB.Booking.Query().Where(booking.HasMemberWith(member.TelegramID(tgID)), booking.OfferID(o.ID)).Count(context.Background())
			apptest.Must(t, err)
			if n != 2 {
				t.Errorf("without Telegram's script the Book button made %d bookings in all, want 2", n)
			}
			p.fitsPhone("/app/bookings without Telegram")
		})
	}
}

// Outside Telegram, or when Telegram's script cannot load, the entry page says to
// open the club in Telegram (or sign in on the web) instead of waiting for ever.
func TestBrowserMiniAppEntryWithoutTelegram(t *testing.T) {
	apptest.Chromium(t)
	env := apptest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTestTimeout)
	defer cancel()
	p := newPhone(ctx, t, env)
	p.do("hold a 360 px phone", chromedp.EmulateViewport(narrowWidth, phoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch))
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	_, err := chromedp.Call(p.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{
		{URLPattern: "https://telegram.org/*", Block: true}}})
	apptest.Must(t, err)
	p.open("/tg")
	shown := phoneRun(p, "wait for the note to open the club in Telegram", chromedp.Poll[bool](
		`!document.getElementById('tg-outside').hidden && document.getElementById('tg-status').hidden`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if !shown {
		t.Fatal("the entry page never said to open it in Telegram")
	}
	p.sees(env.App.Catalog.T("ru", "tg.outside"))
	p.fitsPhone("/tg")
}

// waitLeave waits until the page shown is no longer at path and has finished loading.
func (p *phone) waitLeave(path string) string {
	p.t.Helper()
	deadline := time.Now().Add(browserStepTimeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, time.Second)
		state, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[location.pathname, document.readyState]`))
		cancel()
		if err == nil && state[0] != path && state[1] == "complete" {
			return state[0]
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("still at %s (%q, %v); the page shows:\n%s", path, state, err, p.visibleText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The phone walk of the Mini App: the demo member opens it in Telegram (dark theme)
// on a 360 × 740 handset and goes through every screen of the cabinet in Russian,
// English and Kazakh, with the same checks as on the web (no sideways scrolling,
// 44 px targets, cards, titles), in the Mini App's layout: Telegram's colours, no
// site header, and the MainButton exactly where a screen has a primary action.
func TestBrowserPhoneMiniAppScreens(t *testing.T) {
	apptest.Chromium(t)
	env := apptest.New(t, apptest.Demo())
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	w := newPhoneWorld(t, env)
	acc := w.memberAcc
	p, _ := miniAppPhone(ctx, t, env, miniAppInitData(acc.TelegramID, acc.FirstName, acc.Language, ""), tgDark)
	h := &handset{phone: p, shots: "miniapp"}
	h.open("/tg")
	if at := h.waitLeave("/tg"); !strings.HasPrefix(at, "/app") {
		t.Fatalf("the Mini App signed in to %s", at)
	}
	for _, lang := range i18n.Languages {
		h.setLanguage(lang)
		for _, path := range w.memberPages {
			h.check(lang, path)
			look := phoneRun(h.phone, "read the Mini App layout", chromedp.Evaluate[map[string]any](`({
				tg: document.body.classList.contains('tg'),
				bg: getComputedStyle(document.body).backgroundColor,
				header: [...document.querySelectorAll('.topbar')].some(e => getComputedStyle(e).display !== 'none'),
				primary: [...document.querySelectorAll('[data-tg-main]')].some(b => (b.form || b.href) && !b.disabled),
			})`))
			where := lang + " " + path
			if look["tg"] != true || look["bg"] != tgDark.BgRGB {
				t.Errorf("%s is not in the Mini App layout: %v", where, look)
			}
			// The member's pages leave the header to Telegram; public ones (rules, terms)
			// keep theirs with the language switch.
			if strings.HasPrefix(path, "/app") && look["header"] != false {
				t.Errorf("%s shows the site header inside Telegram", where)
			}
			if rec := h.tg(); rec.Main.Shown != (look["primary"] == true) {
				t.Errorf("%s: MainButton shown %v, the page has a primary action: %v", where, rec.Main.Shown, look["primary"])
			}
		}
	}
}
