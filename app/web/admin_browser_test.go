package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"ikra/app/apptest"
	"ikra/app/authz"
	"ikra/app/demo"
	"ikra/ent/member"
)

// adminLayout is what a back-office page measures: the document's width, its tables'
// scrolling containers, and its title.
type adminLayout struct {
	ScrollWidth int      `json:"scrollWidth"`
	Viewport    int      `json:"viewport"`
	Loose       []string `json:"loose"` // tables wider than the screen outside a scrolling container
	Title       string   `json:"title"`
}

const measureAdmin = `(() => {
	const vw = window.innerWidth;
	const loose = [];
	for (const t of document.querySelectorAll('main table')) {
		if (t.getBoundingClientRect().width <= vw) continue;
		let p = t.parentElement, ok = false;
		for (; p && p !== document.body; p = p.parentElement) {
			const o = getComputedStyle(p).overflowX;
			if (o === 'auto' || o === 'scroll') { ok = true; break; }
		}
		if (!ok) loose.push(t.outerHTML.slice(0, 80));
	}
	return {scrollWidth: document.documentElement.scrollWidth, viewport: vw, loose, title: document.title};
})()`

// Every back-office page, opened by each platform role that may open it, fits a 360 px
// phone and a 768 px tablet: the page never scrolls sideways, and a table wider than
// the screen scrolls inside its own container.
func TestBrowserAdminOnPhoneAndTablet(t *testing.T) {
	apptest.Chromium(t)
	env := apptest.New(t, apptest.Demo())
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	pages := []string{"/admin", "/admin?period=365d", "/admin/members", "/admin/bookings", "/admin/ledger", "/admin/partners",
		"/admin/partners/applications", "/admin/moderation", "/admin/staff", "/admin/settings", "/admin/audit", "/admin/flags",
		"/admin/support", "/admin/support?tab=resolved", "/admin/concierge", "/admin/claims", "/admin/claims?view=overdue", "/admin/terms", "/admin/maintenance"}
	p := newPhone(ctx, t, env)
	for _, role := range []string{demo.RoleSuperadmin, demo.RoleModerator, demo.RoleSupport, demo.RoleConcierge} {
		acc := demoAccountWithRole(t, role)
		m, err := env.App.DB.Member.Query().Where(member.TelegramID(acc.TelegramID)).Only(context.Background())
		apptest.Must(t, err)
		var mine []string // the pages the role may open
		for _, path := range pages {
			rt, ok := routeFor(env.App.Web.Routes, "GET", strings.SplitN(path, "?", 2)[0])
			if !ok {
				t.Fatalf("no route serves %s", path)
			}
			if env.App.Authz.Can(m.ID, authz.Platform, rt.Perm) {
				mine = append(mine, path)
			}
		}
		if len(mine) < 3 {
			t.Fatalf("%s may open only %v", role, mine)
		}
		for _, width := range []int64{360, 768} {
			phoneRun(p, "set the screen", chromedp.EmulateViewport(width, 900, chromedp.EmulateMobile, chromedp.EmulateTouch))
			if _, err := chromedp.Call(p.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatalf("sign out: %v", err)
			}
			p.signIn(acc)
			for _, path := range mine {
				checkAdminPage(t, p, role, width, path)
			}
		}
	}
}

// checkAdminPage opens path and asserts it fits the screen width.
func checkAdminPage(t *testing.T, p *phone, role string, width int64, path string) {
	t.Helper()
	p.open(path)
	p.settle()
	got := phoneRun(p, "measure "+path, chromedp.Evaluate[adminLayout](measureAdmin))
	if got.Viewport != int(width) {
		// A mobile browser widens its viewport (zooms out) to fit a page too wide.
		t.Errorf("%s, %d px, %s: the page is laid out %d px wide", role, width, path, got.Viewport)
	}
	if got.ScrollWidth > got.Viewport {
		t.Errorf("%s, %d px, %s scrolls sideways: %d px wide", role, width, path, got.ScrollWidth)
	}
	if len(got.Loose) > 0 {
		t.Errorf("%s, %d px, %s: tables wider than the screen outside a scrolling container: %s", role, width, path, strings.Join(got.Loose, "; "))
	}
	if !strings.HasSuffix(got.Title, " · IKRA") {
		t.Errorf("%s, %d px, %s: title %q", role, width, path, got.Title)
	}
}
