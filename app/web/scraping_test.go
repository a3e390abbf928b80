package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/scraping"
	"ikra/ent"
	"ikra/ent/auditlog"
	"ikra/ent/scrapeflag"
)

// sleeps records the slowdowns the anti-scraping watch asked for, instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
}

func (s *sleeps) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.d
	s.d = nil
	return out
}

// scrapeEnv is an app with low anti-scraping thresholds set by a superadmin on the
// settings page, n published offers, and the slowdowns recorded.
func scrapeEnv(t *testing.T, tg int64, n int) (*apptest.Env, *apptest.Client, []*ent.Offer, *sleeps) {
	env := apptest.New(t)
	rec := &sleeps{}
	env.App.Scraping.SetSleep(rec.sleep)
	admin, am := env.Member(tg, "Admin")
	_, err := env.App.Staff.Grant(context.Background(), audit.Entry{ActorRole: "test"}, am.ID, "superadmin", nil)
	apptest.Must(t, err)
	if r := admin.Post("/admin/settings/scraping", url.Values{"offers_per_hour": {"0"}, "pages_per_10min": {"5"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a zero threshold: %d, want 422", r.Status)
	}
	if r := admin.Post("/admin/settings/scraping", url.Values{"offers_per_hour": {"5"}, "pages_per_10min": {"5"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("saving thresholds: %d %s", r.Status, r.Body)
	}
	if r := admin.Get("/admin/settings"); !strings.Contains(r.Body, `name="offers_per_hour" inputmode="numeric" required value="5"`) {
		t.Fatal("the settings page does not show the saved threshold")
	}
	ok, err := env.App.DB.AuditLog.Query().Where(auditlog.Action("settings.scraping")).Exist(context.Background())
	apptest.Must(t, err)
	if !ok {
		t.Fatal("the threshold change is not audited")
	}
	place := env.Place()
	p := env.Partner(place, "Harvested")
	var offers []*ent.Offer
	for i := range n {
		offers = append(offers, env.Offer(place, p.ID, fmt.Sprint("Offer ", i)))
	}
	return env, admin, offers, rec
}

// A member opening far more offers and catalog pages than the thresholds is flagged
// once per kind, with the evidence, and slowed more and more — never refused.
func TestScrapingHarvestIsFlaggedAndSlowed(t *testing.T) {
	env, admin, offers, rec := scrapeEnv(t, 9_810_001, 15)
	ctx := context.Background()
	c, m := env.Member(9_810_002, "Harvester")
	for i, o := range offers {
		path := "/app/offers/" + apptest.Itoa(o.ID)
		if i%2 == 1 {
			path = "/api/v1/offers/" + apptest.Itoa(o.ID)
		}
		if r := c.Get(path); r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
		if i == 4 {
			if got := rec.take(); len(got) != 0 {
				t.Fatalf("slowed at the threshold: %v", got)
			}
		}
	}
	// Opening the same offer again is not a new one.
	c.Get("/app/offers/" + apptest.Itoa(offers[0].ID))
	got := rec.take()
	if len(got) != 11 {
		t.Fatalf("%d slowdowns for 10 offers over the threshold and one again, want 11: %v", len(got), got)
	}
	if got[0] != scraping.MinDelay || got[9] <= got[0] || got[9] > scraping.MaxDelay {
		t.Fatalf("slowdowns do not grow from %v within %v: %v", scraping.MinDelay, scraping.MaxDelay, got)
	}
	for i := range 15 {
		path := fmt.Sprintf("/app?q=offer&n=%d", i)
		if i%3 == 0 {
			path = fmt.Sprintf("/api/v1/offers?n=%d", i)
		}
		if r := c.Get(path); r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
	}
	if got := rec.take(); len(got) != 10 {
		t.Fatalf("%d slowdowns for 10 pages over the threshold: %v", len(got), got)
	}

	flags, err := env.App.DB.ScrapeFlag.Query().Order(ent.Asc(scrapeflag.FieldID)).All(ctx)
	apptest.Must(t, err)
	if len(flags) != 2 {
		t.Fatalf("%d flags, want one for offers and one for pages: %+v", len(flags), flags)
	}
	fo, fp := flags[0], flags[1]
	if fo.Kind != "offers" || fo.MemberID == nil || *fo.MemberID != m.ID || fo.Count != 6 || fo.Threshold != 5 || fo.Status != scrapeflag.StatusOpen {
		t.Fatalf("offers flag: %+v", fo)
	}
	if len(fo.Evidence) != 6 || fo.Evidence[0] != apptest.Itoa(offers[5].ID) {
		t.Fatalf("offers evidence %v, want the 6 offers opened, newest first", fo.Evidence)
	}
	if fp.Kind != "pages" || fp.MemberID == nil || *fp.MemberID != m.ID || len(fp.Evidence) != 6 || !strings.Contains(strings.Join(fp.Evidence, " "), "/app?q=offer&n=1") {
		t.Fatalf("pages flag: %+v", fp)
	}

	// Staff see it with the evidence and a link to the member, and review it.
	list := admin.Get("/admin/flags")
	for _, want := range []string{`href="/admin/members/` + apptest.Itoa(m.ID) + `"`, apptest.Itoa(offers[5].ID), "/app?q=offer&amp;n=1", `/admin/flags/` + apptest.Itoa(fo.ID) + `/review`} {
		if !strings.Contains(list.Body, want) {
			t.Fatalf("the flags page lacks %q", want)
		}
	}
	if r := admin.Post("/admin/flags/"+apptest.Itoa(fo.ID)+"/review", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("review: %d", r.Status)
	}
	fo, err = env.App.DB.ScrapeFlag.Get(ctx, fo.ID)
	apptest.Must(t, err)
	if fo.Status != scrapeflag.StatusReviewed || fo.ReviewedByID == nil {
		t.Fatalf("after review: %+v", fo)
	}
}

// A person's session — a handful of offers and pages — raises nothing and waits for
// nothing.
func TestScrapingNormalSessionNotFlagged(t *testing.T) {
	env, _, offers, rec := scrapeEnv(t, 9_810_011, 5)
	c, _ := env.Member(9_810_012, "Reader")
	for _, path := range []string{"/app", "/app?q=offer", "/api/v1/offers", "/app/offers/" + apptest.Itoa(offers[0].ID),
		"/app/offers/" + apptest.Itoa(offers[1].ID), "/api/v1/offers/" + apptest.Itoa(offers[2].ID), "/app/offers/" + apptest.Itoa(offers[0].ID),
		"/app?category=1", "/app/offers/" + apptest.Itoa(offers[3].ID), "/app"} {
		if r := c.Get(path); r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
	}
	n, err := env.App.DB.ScrapeFlag.Query().Count(context.Background())
	apptest.Must(t, err)
	if got := rec.take(); n != 0 || len(got) != 0 {
		t.Fatalf("a normal session: %d flags, slowdowns %v", n, got)
	}
}
