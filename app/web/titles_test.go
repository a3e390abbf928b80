package web_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/claims"
	"ikra/app/i18n"
	"ikra/app/support"
	"ikra/app/web"
)

var pageTitle = regexp.MustCompile(`(?s)<title>(.*?)</title>`)

// notMemberPages are the member routes that answer with something other than a page.
var notMemberPages = map[string]bool{
	"/app/bookings/:id/qr.png":     true, // a QR image
	"/app/invite/qr.png":           true, // a QR image
	"/app/settings/export":         true, // a JSON download
	"/media/*":                     true, // offer images
	"/app/claims/:id/files/:name":  true, // a claim's attached image
	"/app/support/:id/files/:name": true, // a care-service attachment
}

// Every page a member opens, walked from the route table so that a new one cannot be
// missed, has a title of its own in every language: not empty, not just the brand,
// and different from every other member page's.
func TestMemberPagesHaveOwnTitles(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	place := env.Place()
	p := env.Partner(place, "Арман")
	o := env.Offer(place, p.ID, "Ужин у Армана")
	c, m := env.Member(9801, "Асель")
	token, _, err := env.App.Staff.Invite(ctx, audit.Entry{ActorRole: "test"}, p.ID, "cashier")
	apptest.Must(t, err)
	cl, err := env.App.Claims.File(ctx, claims.Filing{MemberID: m.ID, Subject: "Претензия", Body: "Текст"})
	apptest.Must(t, err)
	params := map[string]string{"/app/offers/:id": "/app/offers/" + apptest.Itoa(o.ID), "/partner/invite/:token": "/partner/invite/" + token,
		"/app/claims/:id": "/app/claims/" + apptest.Itoa(cl.ID)}
	th, _, err := env.App.Support.Open(ctx, support.OpenInput{MemberID: m.ID, Body: "Вопрос"})
	apptest.Must(t, err)
	params["/app/support/:id"] = "/app/support/" + apptest.Itoa(th.ID)

	var paths []string
	for _, r := range env.App.Web.Routes {
		if r.Workspace != web.Member || r.Method != http.MethodGet || notMemberPages[r.Path] {
			continue
		}
		path := r.Path
		if strings.ContainsAny(path, ":*") {
			if path = params[r.Path]; path == "" {
				t.Errorf("member page %s: the test has no address for it", r.Path)
				continue
			}
		}
		paths = append(paths, path)
	}
	if len(paths) < 10 {
		t.Fatalf("only %d member pages in the route table: %v", len(paths), paths)
	}
	for _, lang := range i18n.Languages {
		apptest.Must(t, env.App.Members.SetLanguage(ctx, m.ID, lang))
		seen := map[string]string{}
		for _, path := range paths {
			r := c.Get(path)
			if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s %s: %d %s", lang, path, r.Status, r.Header.Get("Content-Type"))
				continue
			}
			if !strings.Contains(r.Body, `<html lang="`+lang+`"`) {
				t.Errorf("%s %s is not in %s", lang, path, lang)
			}
			mt := pageTitle.FindStringSubmatch(r.Body)
			if mt == nil {
				t.Errorf("%s %s has no <title>", lang, path)
				continue
			}
			title := html.UnescapeString(strings.TrimSpace(mt[1]))
			name, ok := strings.CutSuffix(title, " · IKRA")
			switch {
			case !ok || strings.TrimSpace(name) == "":
				t.Errorf("%s %s: the title %q does not name the page", lang, path, title)
			case seen[title] != "":
				t.Errorf("%s %s has the same title %q as %s", lang, path, title, seen[title])
			default:
				seen[title] = path
			}
		}
	}
}
