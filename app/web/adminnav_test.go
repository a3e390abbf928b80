package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/audit"
)

// The back office shows each role only the sections it may open.
func TestAdminNavFollowsPermissions(t *testing.T) {
	env := apptest.New(t)
	links := []string{`href="/admin/moderation"`, `href="/admin/partners"`, `href="/admin/staff"`, `href="/admin/settings"`, `href="/admin/audit"`, `href="/admin/flags"`,
		`href="/admin/support"`, `href="/admin/concierge"`, `href="/admin/claims"`, `href="/admin/terms"`, `href="/admin/maintenance"`, `href="/admin/jobs/"`}
	cases := map[string][]bool{ // role -> which of links it sees
		"superadmin": {true, true, true, true, true, true, true, true, true, true, true, true},
		"moderator":  {true, true, false, false, false, true, false, false, false, false, false, false},
		"support":    {false, false, false, false, false, false, true, false, true, false, false, false},
		"concierge":  {false, false, false, false, false, false, false, true, false, false, false, false},
	}
	tg := int64(7_950_000)
	for role, want := range cases {
		tg++
		_, m := env.Member(tg, role)
		_, err := env.App.Staff.Grant(context.Background(), audit.Entry{ActorRole: "test"}, m.ID, role, nil)
		apptest.Must(t, err)
		c := env.Client()
		c.SignIn(tg, role)
		r := c.Get("/admin")
		if r.Status != http.StatusOK {
			t.Fatalf("%s: /admin %d", role, r.Status)
		}
		for i, l := range links {
			if got := strings.Contains(r.Body, l); got != want[i] {
				t.Errorf("%s sees %s: %v, want %v", role, l, got, want[i])
			}
		}
	}
}
