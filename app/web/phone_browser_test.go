package web_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"ikra/app/apptest"
	"ikra/app/claims"
	"ikra/app/demo"
	"ikra/app/i18n"
	"ikra/app/loyalty"
	"ikra/app/support"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/ent/offer"
	"ikra/ent/partner"
)

// phoneHeight is the handset of the phone-first checks: 360 × 740 CSS pixels.
const phoneHeight = 740

// phoneLayout is what a page measures of itself on the handset.
type phoneLayout struct {
	Lang        string   `json:"lang"`
	Title       string   `json:"title"`
	ScrollWidth int      `json:"scrollWidth"`
	Viewport    int      `json:"viewport"`
	Wide        []string `json:"wide"`  // elements reaching beyond the viewport
	Small       []string `json:"small"` // tap targets lower than 44 px
	PlainTables []string `json:"plainTables"`
	FlatCards   []string `json:"flatCards"` // .table-cards rows not shown as cards
	Cut         []string `json:"cut"`       // text cut short with an ellipsis
}

// measurePhone runs in the page. Elements hidden on purpose (display:none, the
// visually-hidden pattern, the header row of a table shown as cards) are not
// measured. No scroller is exempt: these pages have no content meant to scroll
// sideways (an element inside an overflow-x:auto strip past the edge counts as
// beyond it). Tap targets are the links,
// buttons, form controls and tabs in the main content, the top bar and the tab bar;
// a link inside running text (an inline link whose block holds more text than the
// link) is text, not a target, and a checkbox counts by its label.
const measurePhone = `(() => {
	const vw = window.innerWidth;
	const describe = el => {
		let s = el.tagName.toLowerCase();
		if (el.id) s += '#' + el.id;
		if (el.classList.length) s += '.' + [...el.classList].join('.');
		const text = (el.innerText || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 40);
		const r = el.getBoundingClientRect();
		return s + (text ? ' "' + text + '"' : '') + ' [' + Math.round(r.left) + '..' + Math.round(r.right) + ' × ' + Math.round(r.height) + ']';
	};
	const hidden = el => {
		for (let p = el; p && p !== document.documentElement; p = p.parentElement) {
			const s = getComputedStyle(p);
			if (s.display === 'none' || s.visibility === 'hidden') return true;
			const r = p.getBoundingClientRect();
			if (s.clipPath !== 'none' && r.width <= 1 && r.height <= 1) return true;
		}
		return false;
	};
	const out = {lang: document.documentElement.lang, title: document.title,
		scrollWidth: document.documentElement.scrollWidth, viewport: vw,
		wide: [], small: [], plainTables: [], flatCards: [], cut: []};
	for (const el of document.body.querySelectorAll('*')) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 && r.height === 0) continue;
		if (getComputedStyle(el).textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth && !hidden(el)) out.cut.push(describe(el));
		if (r.right <= vw + 0.5 && r.left >= -0.5) continue;
		if (hidden(el)) continue;
		out.wide.push(describe(el));
	}
	const targets = document.querySelectorAll(['main', '.topbar', '.tabbar'].map(area =>
		['a[href]', 'button', 'input:not([type=hidden])', 'select', 'summary', '[role=tab]'].map(t => area + ' ' + t).join(',')).join(','));
	for (const el of targets) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || hidden(el)) continue;
		let h = r.height;
		if (el.type === 'checkbox' || el.type === 'radio') {
			const label = el.closest('label') || (el.id && document.querySelector('label[for="' + el.id + '"]'));
			if (label) h = label.getBoundingClientRect().height;
		}
		if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') {
			let block = el.parentElement;
			while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
			if (block && block.innerText.trim().length > el.innerText.trim().length) continue;
		}
		if (h < 44 - 0.5) out.small.push(describe(el));
	}
	for (const t of document.querySelectorAll('main table')) {
		if (hidden(t)) continue;
		if (!t.classList.contains('table-cards')) { out.plainTables.push(describe(t)); continue; }
		for (const tr of t.querySelectorAll('tbody tr')) {
			if (getComputedStyle(tr).display !== 'block') out.flatCards.push(describe(tr));
		}
	}
	return out;
})`

// handset is a person's tab on the 360 px phone, with what the journey asserts.
type handset struct {
	*phone
	titles map[string]string // title → path, per language
	shots  string            // the screenshots' name prefix ("phone" when empty)
}

// check opens a page and asserts it fits a 360 px phone: no sideways scrolling, no
// element beyond the screen's edge, no text cut short, tables shown
// as cards, tap targets of 44 px, a title of its own, the language asked for.
func (h *handset) check(lang, path string) {
	h.t.Helper()
	h.open(path)
	h.loaded()
	h.settle()
	got := phoneRun(h.phone, "measure "+path, chromedp.Evaluate[phoneLayout](measurePhone+"()"))
	where := lang + " " + path
	if got.Viewport != narrowWidth {
		h.t.Fatalf("%s: the viewport is %d px wide, want %d", where, got.Viewport, narrowWidth)
	}
	if got.Lang != lang {
		h.t.Errorf("%s: the page is in %q", where, got.Lang)
	}
	if got.ScrollWidth > got.Viewport {
		h.t.Errorf("%s scrolls sideways: %d px wide on a %d px screen", where, got.ScrollWidth, got.Viewport)
	}
	if len(got.Wide) > 0 {
		h.t.Errorf("%s: elements beyond the screen's edge:\n  %s", where, strings.Join(got.Wide, "\n  "))
	}
	if len(got.Small) > 0 {
		h.t.Errorf("%s: tap targets lower than 44 px:\n  %s", where, strings.Join(got.Small, "\n  "))
	}
	if len(got.Cut) > 0 {
		h.t.Errorf("%s: text cut short on a phone:\n  %s", where, strings.Join(got.Cut, "\n  "))
	}
	if len(got.PlainTables) > 0 {
		h.t.Errorf("%s: tables not shown as cards on a phone:\n  %s", where, strings.Join(got.PlainTables, "\n  "))
	}
	if len(got.FlatCards) > 0 {
		h.t.Errorf("%s: table rows not shown as cards:\n  %s", where, strings.Join(got.FlatCards, "\n  "))
	}
	name, ok := strings.CutSuffix(got.Title, " · IKRA")
	switch {
	case !ok || strings.TrimSpace(name) == "":
		h.t.Errorf("%s: the title %q does not name the page", where, got.Title)
	case h.titles[got.Title] != "":
		h.t.Errorf("%s has the same title %q as %s", where, got.Title, h.titles[got.Title])
	default:
		h.titles[got.Title] = path
	}
	prefix := h.shots
	if prefix == "" {
		prefix = "phone"
	}
	h.screenshot(fmt.Sprintf("%s-%s-%s.png", prefix, lang, shotName(path)))
}

// loaded waits until the page just opened has its document ready: right after a
// navigation Chromium may still be creating the page's script context.
func (h *handset) loaded() {
	h.t.Helper()
	deadline := time.Now().Add(browserStepTimeout)
	for {
		ctx, cancel := context.WithTimeout(h.ctx, time.Second)
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState`))
		cancel()
		if err == nil && state == "complete" {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s did not finish loading: %q, %v", h.where(), state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// setLanguage chooses the interface language in the member's settings.
func (h *handset) setLanguage(lang string) {
	h.t.Helper()
	h.open("/app/settings")
	h.do("choose "+lang, chromedp.SetValue(chromedp.CSS("select#lang"), lang))
	h.navigate("save the language", chromedp.Click(chromedp.CSS(`form[action="/app/settings/language"] button[type=submit]`)))
	h.titles = map[string]string{}
}

// shotName turns a path into a file name: /app/offers/12 → app-offers-12.
func shotName(path string) string {
	s := strings.Trim(strings.NewReplacer("/", "-", ":", "").Replace(path), "-")
	if s == "" {
		return "home"
	}
	return s
}

// phoneWorld is the demo world of the phone walks, with a member who has something
// on every screen: bookings in every state, notifications, a claim, a care thread.
type phoneWorld struct {
	memberAcc, cashierAcc     demo.Account
	memberPages, counterPages []string
	dear                      *ent.Tier // a status for sale the member cannot afford
	short                     int64     // by how much
}

func newPhoneWorld(t *testing.T, env *apptest.Env) phoneWorld {
	t.Helper()
	bg := context.Background()
	memberAcc, cashierAcc := demoAccountWithRole(t, demo.RoleMember), demoAccountWithRole(t, demo.RoleCashier)
	m, err := env.App.DB.Member.Query().Where(member.TelegramID(memberAcc.TelegramID)).Only(bg)
	apptest.Must(t, err)
	cashierMember, err := env.App.DB.Member.Query().Where(member.TelegramID(cashierAcc.TelegramID)).Only(bg)
	apptest.Must(t, err)
	restaurant, err := env.App.DB.Partner.Query().Where(partner.Slug(cashierAcc.Partner)).Only(bg)
	apptest.Must(t, err)

	// Bookings of the cashier's restaurant in every state the member can see.
	visible, err := env.App.Offers.Visible(bg, m.ID)
	apptest.Must(t, err)
	o, err := visible.Where(offer.PartnerID(restaurant.ID), offer.PriceBonus(0), offer.PerMemberLimitGTE(5)).
		Order(ent.Asc(offer.FieldID)).First(bg)
	if err != nil {
		t.Fatalf("no demo offer of %s the member can book five times: %v", restaurant.Name, err)
	}
	book := func(i int) *ent.Booking {
		b, err := env.App.Bookings.Request(bg, m.ID, o.ID, "web", "У окна, пожалуйста", nil, "phone-"+strconv.Itoa(i))
		apptest.Must(t, err)
		return b
	}
	requested := book(1)
	confirmed := book(2)
	_, err = env.App.Bookings.Confirm(bg, restaurant.ID, confirmed.ID, cashierMember.ID)
	apptest.Must(t, err)
	completed := book(3)
	_, err = env.App.Bookings.Confirm(bg, restaurant.ID, completed.ID, cashierMember.ID)
	apptest.Must(t, err)
	_, err = env.App.Bookings.Complete(bg, restaurant.ID, completed.ID, cashierMember.ID, 48_500_00)
	apptest.Must(t, err)
	declined := book(4)
	_, err = env.App.Bookings.Decline(bg, restaurant.ID, declined.ID, cashierMember.ID, "В этот день зал закрыт на банкет")
	apptest.Must(t, err)
	cancelled := book(5)
	_, err = env.App.Bookings.CancelByMember(bg, m.ID, cancelled.ID)
	apptest.Must(t, err)
	states, err := env.App.DB.Booking.Query().Where(booking.MemberID(m.ID)).GroupBy(booking.FieldStatus).Strings(bg)
	apptest.Must(t, err)
	if len(states) < 5 {
		t.Fatalf("the member's bookings are in the states %v, want five", states)
	}
	notes, err := env.App.DB.Notification.Query().Where(notification.MemberID(m.ID)).Count(bg)
	apptest.Must(t, err)
	if notes == 0 {
		t.Fatal("the member has no notification to show")
	}

	// A status for sale that the member cannot afford, and by how much.
	bal, err := env.App.Ledger.Balance(bg, m.ID)
	apptest.Must(t, err)
	tiers, err := env.App.Loyalty.Tiers(bg)
	apptest.Must(t, err)
	var dear *ent.Tier
	for _, tr := range tiers {
		if loyalty.Shortfall(tr, bal.Available) > 0 {
			dear = tr
			break
		}
	}
	if dear == nil {
		t.Fatalf("every status is within %d bonuses", bal.Available)
	}
	short := dear.PriceBonus - bal.Available

	// A claim with its receipt, and a care thread with the automatic answer.
	cl, err := env.App.Claims.File(bg, claims.Filing{MemberID: m.ID, Subject: "Не начислен кэшбэк за ужин", Body: "Сделку провели 12 ноября, кэшбэка нет."})
	apptest.Must(t, err)
	th, _, err := env.App.Support.Open(bg, support.OpenInput{MemberID: m.ID, Subject: "Бонусы", Body: "Когда начислят бонусы за ужин?"})
	apptest.Must(t, err)

	return phoneWorld{memberAcc: memberAcc, cashierAcc: cashierAcc, dear: dear, short: short, memberPages: []string{"/app", "/app/offers/" + strconv.Itoa(o.ID), "/app/bookings", "/app/bonuses", "/app/status",
		"/app/invite", "/app/notifications", "/app/settings", "/app/welcome", "/app/settings/delete", "/rules", "/terms", "/privacy", "/partner/apply",
		"/app/support", "/app/support/" + strconv.Itoa(th.ID), "/app/claims", "/app/claims/new", "/app/claims/" + strconv.Itoa(cl.ID)},
		counterPages: []string{"/partner/bookings", "/partner/bookings/" + requested.Code, "/partner/bookings/" + confirmed.Code}}
}

// On a 360 × 740 handset, a member with bookings in every state, bonus history and
// notifications, and the restaurant's cashier go through every screen they have, in
// Russian, English and Kazakh: nothing scrolls sideways, tables become cards, every
// tap target is 44 px high and every page has its own title. A status the member
// cannot afford shows its buy button disabled with the missing amount.
func TestBrowserPhoneFirstScreens(t *testing.T) {
	apptest.Chromium(t)
	env := apptest.New(t, apptest.Demo())
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	w := newPhoneWorld(t, env)
	memberAcc, cashierAcc := w.memberAcc, w.cashierAcc
	memberPages, counterPages, dear, short := w.memberPages, w.counterPages, w.dear, w.short

	// One browser and one tab: the member goes through every language, then the
	// cashier signs in on the same handset.
	h := &handset{phone: newPhone(ctx, t, env)}
	h.do("hold a 360 px phone", chromedp.EmulateViewport(narrowWidth, phoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch))
	h.signIn(memberAcc)
	for _, lang := range i18n.Languages {
		h.setLanguage(lang)
		for _, path := range memberPages {
			h.check(lang, path)
			if path != "/app/status" {
				continue
			}
			want := env.App.Catalog.N(lang, "app.status.short", short)
			got := phoneRun(h.phone, "read the shortfall", chromedp.Evaluate[[]string](
				`[...document.querySelectorAll('.shortfall')].map(p => {
					const b = document.querySelector('[aria-describedby="' + p.id + '"]');
					return p.innerText.trim() + (b && b.disabled ? '|disabled' : '|enabled');
				})`))
			if !slices.Contains(got, want+"|disabled") {
				t.Errorf("%s /app/status: want a disabled buy button with %q for %s; the page shows %q", lang, want, dear.Slug, got)
			}
		}
	}

	if _, err := chromedp.Call(h.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatalf("sign the member out: %v", err)
	}
	h.signIn(cashierAcc)
	for _, lang := range i18n.Languages {
		h.setLanguage(lang)
		for _, path := range counterPages {
			h.check(lang, path)
		}
	}
}
