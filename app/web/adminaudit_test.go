package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/web"
)

// auditCase is one successful call of a state-changing back-office route: who calls
// it, the concrete path and the form. prepare, when set, runs first and may return the
// path (for a route that needs a fresh target each time).
type auditCase struct {
	role    string
	path    string
	form    url.Values
	prepare func(t *testing.T) string
}

// auditSections are the audited calls of back-office sections kept beside their own
// tests: each file appends a function from its init.
var auditSections []func(t *testing.T, f *fixture) map[string]auditCase

// TestEveryAdminActionIsAudited walks the route table: every POST route of the back
// office must, when it succeeds, write at least one audit entry.
func TestEveryAdminActionIsAudited(t *testing.T) {
	f := newFixture(t)
	cases := map[string]auditCase{}
	for _, section := range auditSections {
		for k, v := range section(t, f) {
			if _, dup := cases[k]; dup {
				t.Fatalf("audit cases name %s twice", k)
			}
			cases[k] = v
		}
	}
	var keys []string
	for _, r := range f.env.App.Web.Routes {
		if r.Workspace != web.Admin || r.Method == http.MethodGet {
			continue
		}
		key := r.Method + " " + r.Path
		if _, ok := cases[key]; !ok {
			t.Errorf("%s changes something but has no audited call in the test", key)
			continue
		}
		keys = append(keys, key)
	}
	sort.Strings(keys)
	ctx := context.Background()
	for _, key := range keys {
		tc := cases[key]
		path := tc.path
		if tc.prepare != nil {
			if p := tc.prepare(t); p != "" {
				path = p
			}
		}
		before, err := f.env.App.DB.AuditLog.Query().Count(ctx)
		apptest.Must(t, err)
		c := f.client(t, tc.role)
		resp := c.Post(path, tc.form)
		if resp.Status >= 400 {
			t.Errorf("%s as %s: status %d: %.300s", key, tc.role, resp.Status, resp.Body)
			continue
		}
		if cookies := strings.Join(resp.Header.Values("Set-Cookie"), "; "); strings.Contains(cookies, "error%7C") {
			t.Errorf("%s as %s: refused with an error flash (%s)", key, tc.role, cookies)
			continue
		}
		after, err := f.env.App.DB.AuditLog.Query().Count(ctx)
		apptest.Must(t, err)
		if after <= before {
			t.Errorf("%s as %s succeeded (%d) and wrote no audit entry", key, tc.role, resp.Status)
		}
	}
}
