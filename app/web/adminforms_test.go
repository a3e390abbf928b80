package web_test

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/authz"
	"ikra/app/web"
	"ikra/ent/member"
)

var (
	hrefRe = regexp.MustCompile(`href="(/admin[^"#?]*)(?:\?[^"#]*)?"`)
	formRe = regexp.MustCompile(`(?is)<form[^>]*>`)
	attrRe = regexp.MustCompile(`(?i)\b(method|action)="([^"]*)"`)
)

// routeFor finds the route of the table that serves method and path.
func routeFor(routes []web.Route, method, path string) (web.Route, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, r := range routes {
		if r.Method != method {
			continue
		}
		pat := strings.Split(strings.Trim(r.Path, "/"), "/")
		match := true
		for i, p := range pat {
			if p == "*" {
				break
			}
			if i >= len(segs) || (!strings.HasPrefix(p, ":") && p != segs[i]) {
				match = false
				break
			}
			if i == len(pat)-1 && len(segs) != len(pat) {
				match = false
			}
		}
		if match {
			return r, true
		}
	}
	return web.Route{}, false
}

// TestAdminShowsOnlyUsableForms walks the back office as each platform role, following
// its links from /admin, and checks every form a page shows: the route it posts to
// must exist, and the viewer must hold the route's permission. A form whose submit
// would end in 403 fails the test, and so does a link to a page that is 403.
func TestAdminShowsOnlyUsableForms(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	routes := f.env.App.Web.Routes
	for _, role := range []string{"superadmin", "moderator", "support", "concierge"} {
		m, err := f.env.App.DB.Member.Query().Where(member.TelegramID(f.tg[role])).Only(ctx)
		apptest.Must(t, err)
		c := f.client(t, role)
		seen := map[string]bool{"/admin": true}
		// The member's page is linked from the list; the walk starts there too.
		queue := []string{"/admin", "/admin/members/" + apptest.Itoa(f.memberID)}
		forms := 0
		for len(queue) > 0 && len(seen) < 150 {
			page := queue[0]
			queue = queue[1:]
			if strings.HasPrefix(page, "/admin/jobs") || strings.HasSuffix(page, ".csv") || strings.Contains(page, "/media/") {
				continue
			}
			r := c.Get(page)
			if r.Status != http.StatusOK {
				if r.Status == http.StatusForbidden {
					t.Errorf("%s: a link on the way leads to %s, which is 403", role, page)
				}
				continue
			}
			for _, h := range hrefRe.FindAllStringSubmatch(r.Body, -1) {
				if !seen[h[1]] {
					seen[h[1]] = true
					queue = append(queue, h[1])
				}
			}
			for _, tag := range formRe.FindAllString(r.Body, -1) {
				attrs := map[string]string{"method": "get"}
				for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
					attrs[strings.ToLower(a[1])] = a[2]
				}
				if !strings.EqualFold(attrs["method"], "post") {
					continue
				}
				forms++
				action := attrs["action"]
				rt, ok := routeFor(routes, http.MethodPost, action)
				if !ok {
					t.Errorf("%s on %s: a form posts to %s, which no route serves", role, page, action)
					continue
				}
				if rt.Workspace == web.Admin && !f.env.App.Authz.Can(m.ID, authz.Platform, rt.Perm) {
					t.Errorf("%s on %s: a form posts to %s (%s), which needs %s", role, page, action, rt.Path, rt.Perm)
				}
			}
		}
		var pages []string
		for p := range seen {
			pages = append(pages, p)
		}
		sort.Strings(pages)
		t.Logf("%s: %d pages, %d forms checked", role, len(pages), forms)
		if role == "superadmin" && forms < 5 {
			t.Errorf("superadmin saw only %d forms on %v: the walk is not reaching the pages", forms, pages)
		}
	}
}
