package web_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"ikra/app/apptest"
	"ikra/app/demo"
	"ikra/ent/partner"
)

// Browser journeys: a person on a phone-sized headless Chromium signs in on the
// demo page and goes through the app. Screenshots go to IKRA_ARTIFACTS.

const (
	// browserTestTimeout bounds a whole journey, browsers included.
	browserTestTimeout = 60 * time.Second
	// browserStepTimeout bounds one step, so a missing element fails fast
	// with a message instead of eating the whole budget.
	browserStepTimeout = 15 * time.Second
)

// browserApp starts the app in demo mode and a deadline for the journey.
func browserApp(t *testing.T) (*apptest.Env, context.Context) {
	t.Helper()
	apptest.Chromium(t) // skip before seeding the demo world
	env := apptest.New(t, apptest.Demo())
	ctx, cancel := context.WithTimeout(context.Background(), browserTestTimeout)
	t.Cleanup(cancel)
	return env, ctx
}

// phone is one person's browser: its own profile, cookies and tab.
type phone struct {
	t         testing.TB
	env       *apptest.Env
	ctx       context.Context
	artifacts string
	dialogs   chan string // messages of the confirm dialogs the person accepted
}

// newPhone starts a fresh browser for a person. It accepts every confirm
// dialog, as a person who clicks OK, and records what the dialog said.
func newPhone(ctx context.Context, t testing.TB, env *apptest.Env) *phone {
	t.Helper()
	p := &phone{t: t, env: env, ctx: apptest.Browser(ctx, t), artifacts: apptest.Artifacts(t), dialogs: make(chan string, 8)}
	opening := chromedp.Events(p.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opening {
			if err != nil {
				return // the browser closed
			}
			select {
			case p.dialogs <- ev.Message:
			default:
			}
			// The page is blocked until the dialog is answered; an error here
			// shows up as the click that opened it timing out.
			_, _ = chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return p
}

// do runs steps within browserStepTimeout and fails the test with what was
// being done and where the browser was.
func (p *phone) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s (at %s): %v", what, p.where(), err)
	}
}

// navigate runs a step that loads a page (opening a URL, clicking a link or a
// submit button) and fails on an error page.
func (p *phone) navigate(what string, step chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, step)
	if err != nil {
		p.t.Fatalf("%s (at %s): %v", what, p.where(), err)
	}
	if resp == nil {
		p.t.Fatalf("%s: no page loaded (at %s)", what, p.where())
	}
	if resp.Status >= 400 {
		p.t.Fatalf("%s: %s answered %d: %q", what, resp.URL, resp.Status, p.visibleText())
	}
}

// open loads a path of the app.
func (p *phone) open(path string) {
	p.t.Helper()
	p.navigate("open "+path, chromedp.Navigate(p.env.URL(path)))
}

// path is the path of the page shown now.
func (p *phone) path() string {
	p.t.Helper()
	return phoneRun(p, "read the location", chromedp.Evaluate[string](`location.pathname`))
}

// where is the current URL for failure messages; it never fails itself.
func (p *phone) where() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return u
}

// visibleText is the text a person sees on the page (hidden elements left out).
func (p *phone) visibleText() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

// text is the visible text of the first element css finds, waiting for it.
func (p *phone) text(css string) string {
	p.t.Helper()
	return strings.TrimSpace(phoneRun(p, "read "+css, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible)))
}

// sees fails unless every text is visible on the page.
func (p *phone) sees(texts ...string) {
	p.t.Helper()
	shown := p.visibleText()
	for _, s := range texts {
		if !strings.Contains(shown, s) {
			p.t.Errorf("at %s a person should see %q; the page shows:\n%s", p.where(), s, shown)
		}
	}
}

// settle waits until the page looks finished — every image loaded, the lazy
// ones too, as they would be for a person scrolling down, and no animation
// half-way — and fails on an image that did not load.
func (p *phone) settle() {
	p.t.Helper()
	broken := phoneRun(p, "wait for images and animations", chromedp.Poll[[]string](`(() => {
		const imgs = [...document.images];
		imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
		if (imgs.some(i => !i.complete)) return null;
		const moving = document.getAnimations().some(a =>
			a.playState === 'running' && a.effect && a.effect.getComputedTiming().endTime !== Infinity);
		if (moving) return null;
		return imgs.filter(i => i.naturalWidth === 0).map(i => i.currentSrc || i.src);
	})()`, chromedp.WithPollingTimeout(10*time.Second)))
	for _, src := range broken {
		p.t.Errorf("at %s the image %s did not load", p.where(), src)
	}
}

// screenshot saves the whole page, settled, as a PNG artifact.
func (p *phone) screenshot(name string) {
	p.t.Helper()
	p.settle()
	png := phoneRun(p, "screenshot "+name, chromedp.FullScreenshot(100))
	file := filepath.Join(p.artifacts, name)
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	if os.Getenv("IKRA_ARTIFACTS") == "" {
		p.t.Logf("screenshot %s (removed after the test: set IKRA_ARTIFACTS to keep it)", file)
		return
	}
	p.t.Logf("screenshot %s", file)
}

// signIn signs in as a demo account by clicking its button on the demo page.
func (p *phone) signIn(acc demo.Account) {
	p.t.Helper()
	p.open("/auth/demo")
	name := acc.FirstName + " " + acc.LastName
	p.navigate("click the demo account "+name, chromedp.Click(chromedp.Search(fmt.Sprintf(
		`//form[@action="/auth/demo"]//button[contains(normalize-space(.), %q)]`, name))))
}

// phoneRun runs an action that returns a value within browserStepTimeout.
func phoneRun[T any](p *phone, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	// Right after a navigation Chromium may drop the script context chromedp just
	// picked; the next one is the new page's.
	for try := 0; err != nil && try < 5 && strings.Contains(err.Error(), "Cannot find context with specified id"); try++ {
		time.Sleep(100 * time.Millisecond)
		v, err = chromedp.Run(ctx, a)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w; the page shows:\n%s", err, p.visibleText())
		}
		p.t.Fatalf("%s (at %s): %v", what, p.where(), err)
	}
	return v
}

// demoAccountWithRole is the first demo account with the role.
func demoAccountWithRole(t testing.TB, role string) demo.Account {
	t.Helper()
	for _, a := range demo.Accounts {
		if a.Role == role {
			return a
		}
	}
	t.Fatalf("no demo account with the role %s", role)
	return demo.Account{}
}

func TestBrowserDemoSignIn(t *testing.T) {
	t.Parallel()
	env, ctx := browserApp(t)
	member, owner := demoAccountWithRole(t, demo.RoleMember), demoAccountWithRole(t, demo.RoleOwner)
	restaurant, err := env.App.DB.Partner.Query().Where(partner.Slug(owner.Partner)).Only(ctx)
	apptest.Must(t, err)

	tests := []struct {
		name    string
		account demo.Account
		landing string
		visible string   // an element of the workspace that must be shown
		texts   []string // what the person reads there
		shot    string
	}{
		{name: "member", account: member, landing: "/app",
			visible: ".offer-card", texts: []string{"Здравствуйте, " + member.FirstName + "!", "Каталог"}, shot: "member-home.png"},
		{name: "partner owner", account: owner, landing: "/partner",
			visible: "main h1", texts: []string{restaurant.Name, "Кабинет партнёра"}, shot: "owner-dashboard.png"},
		{name: "moderator", account: demoAccountWithRole(t, demo.RoleModerator), landing: "/admin",
			visible: ".stats", texts: []string{"Обзор", "Бэк-офис"}, shot: "moderator-overview.png"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPhone(ctx, t, env)
			p.signIn(tc.account)
			if got := p.path(); got != tc.landing {
				t.Fatalf("%s landed on %s, want %s", tc.name, got, tc.landing)
			}
			p.do("wait for "+tc.visible, chromedp.WaitVisible(chromedp.CSS(tc.visible)))
			p.sees(tc.texts...)
			p.screenshot(tc.shot)
		})
	}
}

func TestBrowserMemberOpensOffer(t *testing.T) {
	t.Parallel()
	env, ctx := browserApp(t)
	p := newPhone(ctx, t, env)
	p.signIn(demoAccountWithRole(t, demo.RoleMember))

	title := p.text(".offer-card .offer-title")
	p.navigate("click the first offer card", chromedp.Click(chromedp.CSS(".offer-card")))
	if got := p.path(); !strings.HasPrefix(got, "/app/offers/") {
		t.Fatalf("the offer card led to %s, want /app/offers/:id", got)
	}
	if got := p.text("main h1"); got != title {
		t.Errorf("the offer page is titled %q, the card said %q", got, title)
	}
	// The cover must have arrived and decoded, not just be an <img> tag.
	width := phoneRun(p, "wait for the cover", chromedp.Poll[int](`(() => {
		const img = document.querySelector('article .offer-media img');
		return img && img.complete ? img.naturalWidth : 0;
	})()`, chromedp.WithPollingTimeout(10*time.Second)))
	if width <= 0 {
		t.Errorf("the offer cover did not load (naturalWidth %d)", width)
	}
	p.sees("Описание")
	p.screenshot("member-offer.png")
}

func TestBrowserModeratorBlocksMember(t *testing.T) {
	t.Parallel()
	env, ctx := browserApp(t)
	victim := demoAccountWithRole(t, demo.RoleMember)
	name := victim.FirstName + " " + victim.LastName

	// The member signs in on their own phone before the block.
	member := newPhone(ctx, t, env)
	member.signIn(victim)
	if got := member.path(); got != "/app" {
		t.Fatalf("the member landed on %s, want /app", got)
	}

	mod := newPhone(ctx, t, env)
	mod.signIn(demoAccountWithRole(t, demo.RoleModerator))
	mod.navigate("click Участники in the sidebar", chromedp.Click(chromedp.CSS(`aside a[href="/admin/members"]`)))
	mod.navigate("click the member "+name, chromedp.Click(chromedp.Search(fmt.Sprintf(
		`//table//a[contains(normalize-space(.), %q)]`, name))))
	if got := mod.text(".page-head .badge"); got != "активен" {
		t.Fatalf("before the block the member's badge says %q, want активен", got)
	}
	mod.do("type the reason", chromedp.SendKeys(chromedp.CSS("textarea[name=reason]"), "Перепродаёт брони третьим лицам"))
	mod.navigate("click Заблокировать", chromedp.Click(chromedp.CSS(`form[action$="/block"] button[type=submit]`)))

	select {
	case msg := <-mod.dialogs:
		if want := "Заблокировать участника? Все его сессии будут завершены."; msg != want {
			t.Errorf("the confirm dialog said %q, want %q", msg, want)
		}
	default:
		t.Error("blocking did not ask for a confirmation")
	}
	if got := mod.text(".flash"); !strings.Contains(got, "Участник заблокирован, его сеансы завершены") {
		t.Errorf("the flash message says %q", got)
	}
	if got := mod.text(".page-head .badge"); got != "заблокирован" {
		t.Errorf("after the block the member's badge says %q, want заблокирован", got)
	}
	mod.sees("Перепродаёт брони третьим лицам")
	mod.screenshot("moderator-blocked-member.png")

	// The member's next page load finds the session gone.
	member.navigate("reload the member's page", chromedp.Reload())
	if got := member.path(); got != "/login" {
		t.Fatalf("the blocked member's next page is %s, want /login", got)
	}
	member.sees("Вход")
	member.screenshot("blocked-member-next-page.png")
}

func TestBrowserLanguageSwitch(t *testing.T) {
	t.Parallel()
	env, ctx := browserApp(t)
	member := demoAccountWithRole(t, demo.RoleMember)
	p := newPhone(ctx, t, env)
	p.signIn(member)
	p.navigate("click Настройки in the tab bar", chromedp.Click(chromedp.CSS(`nav.tabbar a[href="/app/settings"]`)))
	if got := p.text("main h1"); got != "Настройки" {
		t.Fatalf("the settings page is titled %q, want Настройки", got)
	}

	p.do("choose English", chromedp.SetValue(chromedp.CSS("select#lang"), "en"))
	p.navigate("click Сохранить", chromedp.Click(chromedp.CSS(`form[action="/app/settings/language"] button[type=submit]`)))
	if got := p.text("main h1"); got != "Settings" {
		t.Errorf("after switching to English the page is titled %q, want Settings", got)
	}
	p.sees("Catalog", "Inbox")
	p.screenshot("member-settings-en.png")

	p.navigate("click Catalog in the tab bar", chromedp.Click(chromedp.CSS(`nav.tabbar a[href="/app"]`)))
	p.sees("Hello, " + member.FirstName + "!")
}

// A member finds their bonuses, their invite link with its QR code and their status
// from the tab bar.
func TestBrowserMemberBonuses(t *testing.T) {
	t.Parallel()
	env, ctx := browserApp(t)
	p := newPhone(ctx, t, env)
	p.signIn(demoAccountWithRole(t, demo.RoleMember))

	p.navigate("tap Bonuses in the tab bar", chromedp.Click(chromedp.CSS(`.tabbar a[href="/app/bonuses"]`)))
	p.sees("Приветственный бонус", "не деньги")
	p.screenshot("member-bonuses.png")

	p.open("/app/invite")
	qr := phoneRun(p, "wait for the QR code", chromedp.Poll[int](`(() => {
		const img = document.querySelector('img.qr');
		return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : 0;
	})()`, chromedp.WithPollingTimeout(10*time.Second)))
	if qr < 200 {
		t.Fatalf("the QR code did not load: width %d", qr)
	}
	p.sees("Ваш код приглашения")
	p.screenshot("member-invite.png")

	p.navigate("tap Status in the tab bar", chromedp.Click(chromedp.CSS(`.tabbar a[href="/app/status"]`)))
	p.sees("Ваш статус", "Множитель кэшбэка")
	p.screenshot("member-status.png")
}
