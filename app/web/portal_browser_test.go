package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"ikra/app/apptest"
	"ikra/app/demo"
)

// TestBrowserPortalAndBackOfficeOnPhone opens the partner portal's and the back
// office's screens of onboarding, analytics, keys, webhooks and flags at 360 px as
// each role that reaches them: no page scrolls sideways, and a manager is shown no
// form of the owner's (invites, roles, removal).
func TestBrowserPortalAndBackOfficeOnPhone(t *testing.T) {
	apptest.Chromium(t)
	env := apptest.New(t, apptest.Demo())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	p := newPhone(ctx, t, env)
	p.do("hold a 360 px phone", chromedp.EmulateViewport(narrowWidth, phoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch))
	flag, _ := newFlag(t, env, nil)
	pages := map[string][]string{
		demo.RoleOwner:      {"/partner", "/partner/staff", "/partner/keys", "/partner/webhooks", "/partner/analytics", "/partner/offers", "/partner/offers/new"},
		demo.RoleManager:    {"/partner/staff", "/partner/analytics", "/partner/offers/new"},
		demo.RoleModerator:  {"/admin/partners", "/admin/partners/applications", "/admin/flags", "/admin/flags/" + apptest.Itoa(flag.ID), "/admin/moderation"},
		demo.RoleSuperadmin: {"/admin/settings", "/admin/partners", "/admin/audit"},
	}
	for _, role := range []string{demo.RoleOwner, demo.RoleManager, demo.RoleModerator, demo.RoleSuperadmin} {
		if _, err := chromedp.Call(p.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatalf("sign out: %v", err)
		}
		p.signIn(demoAccountWithRole(t, role))
		for _, path := range pages[role] {
			p.open(path)
			p.settle()
			if p.path() != path {
				t.Errorf("%s %s: landed on %s", role, path, p.path())
				continue
			}
			width := phoneRun(p, "measure "+path, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if width > narrowWidth {
				t.Errorf("%s %s scrolls sideways: %d px on a %d px screen", role, path, width, narrowWidth)
			}
			if role == demo.RoleManager && path == "/partner/staff" {
				forms := phoneRun(p, "count owner forms", chromedp.Evaluate[int](
					`document.querySelectorAll('form[action^="/partner/staff/"]').length`))
				if forms != 0 {
					t.Errorf("a manager is shown %d staff forms only the owner may submit", forms)
				}
			}
			p.screenshot(fmt.Sprintf("portal-%s%s.png", role, shotName(path)))
		}
	}
}
