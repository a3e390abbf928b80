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
	"ikra/app/demo"
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

// Every back-office page a superadmin opens fits a 360 px phone and a 768 px tablet:
// the page never scrolls sideways, and a table wider than the screen scrolls inside
// its own container.
func TestBrowserAdminOnPhoneAndTablet(t *testing.T) {
	apptest.Chromium(t)
	env := apptest.New(t, apptest.Demo())
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	admin := demoAccountWithRole(t, demo.RoleSuperadmin)
	pages := []string{"/admin", "/admin?period=365d", "/admin/members", "/admin/bookings", "/admin/ledger", "/admin/partners",
		"/admin/partners/applications", "/admin/moderation", "/admin/staff", "/admin/settings", "/admin/audit", "/admin/flags",
		"/admin/support", "/admin/support?tab=resolved", "/admin/concierge", "/admin/claims", "/admin/claims?view=overdue", "/admin/terms", "/admin/maintenance"}
	pages = append(pages, adminBrowserPages...)
	p := newPhone(ctx, t, env)
	for _, width := range []int64{360, 768} {
		phoneRun(p, "set the screen", chromedp.EmulateViewport(width, 900, chromedp.EmulateMobile, chromedp.EmulateTouch))
		if _, err := chromedp.Call(p.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatalf("sign out: %v", err)
		}
		p.signIn(admin)
		for _, path := range pages {
			p.open(path)
			p.settle()
			got := phoneRun(p, "measure "+path, chromedp.Evaluate[adminLayout](measureAdmin))
			if got.Viewport != int(width) {
				// A mobile browser widens its viewport (zooms out) to fit a page too wide.
				t.Errorf("%d px %s: the page is laid out %d px wide", width, path, got.Viewport)
			}
			if got.ScrollWidth > got.Viewport {
				t.Errorf("%d px %s scrolls sideways: %d px wide", width, path, got.ScrollWidth)
			}
			if len(got.Loose) > 0 {
				t.Errorf("%d px %s: tables wider than the screen outside a scrolling container: %s", width, path, strings.Join(got.Loose, "; "))
			}
			if !strings.HasSuffix(got.Title, " · IKRA") {
				t.Errorf("%d px %s: title %q", width, path, got.Title)
			}
		}
	}
}

// adminBrowserPages are the pages of back-office sections kept in other files.
var adminBrowserPages []string
