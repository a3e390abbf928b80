package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/demo"
	"ikra/app/i18n"
	"ikra/app/ledger"
	"ikra/ent"
	"ikra/ent/member"
)

func TestHealthAndReadiness(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	if r := c.Get("/healthz"); r.Status != 200 || r.Body != "ok" {
		t.Fatalf("healthz: %d %q", r.Status, r.Body)
	}
	r := c.Get("/readyz")
	for _, part := range []string{`"database":"ok"`, `"redis":"ok"`, `"media":"ok"`} {
		if r.Status != 200 || !strings.Contains(r.Body, part) {
			t.Fatalf("readyz: %d %s", r.Status, r.Body)
		}
	}
	// The database goes away: readiness says so and names it.
	apptest.Must(t, env.App.DB.SQL.Close())
	r = c.Get("/readyz")
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Body, `"database":"fail`) || !strings.Contains(r.Body, `"redis":"ok"`) {
		t.Fatalf("readyz with the database closed: %d %s", r.Status, r.Body)
	}
}

// A role granted or revoked on one node takes effect on every node within seconds.
func TestRoleChangeReachesEveryNode(t *testing.T) {
	node1 := apptest.New(t)
	node2 := apptest.New(t, apptest.Join(node1))
	c := node2.Client()
	c.SignIn(8801, "Модератор")
	if r := c.Get("/admin"); r.Status != http.StatusForbidden {
		t.Fatalf("before the grant: %d", r.Status)
	}
	go node2.App.Authz.Watch(t.Context(), time.Hour) // the serve loop runs this on every node
	m, err := node1.App.DB.Member.Query().Where(member.TelegramID(8801)).Only(context.Background())
	apptest.Must(t, err)
	time.Sleep(200 * time.Millisecond) // let the watcher subscribe
	row, err := node1.App.Staff.Grant(context.Background(), audit.Entry{ActorRole: "test"}, m.ID, "moderator", nil)
	apptest.Must(t, err)
	waitStatus(t, c, "/admin", http.StatusOK)
	apptest.Must(t, node1.App.Staff.Revoke(context.Background(), audit.Entry{ActorRole: "test"}, row.ID, nil))
	waitStatus(t, c, "/admin", http.StatusForbidden)
}

func waitStatus(t *testing.T, c *apptest.Client, path string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := c.Get(path)
		if r.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %d, want %d within 5 s", path, r.Status, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDemoMode(t *testing.T) {
	env := apptest.New(t, apptest.Demo())
	list := env.Client().Get("/auth/demo")
	if list.Status != 200 {
		t.Fatalf("/auth/demo: %d", list.Status)
	}
	landing := map[string]string{"member": "/app", "owner": "/partner", "manager": "/partner", "cashier": "/partner",
		"superadmin": "/admin", "moderator": "/admin", "support": "/admin", "concierge": "/admin"}
	for _, acc := range demo.Accounts {
		if !strings.Contains(list.Body, apptest.Itoa64(acc.TelegramID)) {
			t.Errorf("demo page does not list %s", acc.FirstName)
		}
		c := env.Client()
		r := c.Post("/auth/demo", map[string][]string{"telegram_id": {apptest.Itoa64(acc.TelegramID)}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != landing[acc.Role] {
			t.Errorf("%s (%s): %d → %q, want %s", acc.FirstName, acc.Role, r.Status, r.Header.Get("Location"), landing[acc.Role])
			continue
		}
		if page := c.Get(landing[acc.Role]); page.Status != 200 {
			t.Errorf("%s lands on %s: %d", acc.FirstName, landing[acc.Role], page.Status)
		}
	}
	// Only listed accounts: an arbitrary Telegram ID cannot be signed in as.
	if r := env.Client().Post("/auth/demo", map[string][]string{"telegram_id": {"42"}}); r.Status != http.StatusNotFound {
		t.Errorf("non-demo id: %d", r.Status)
	}
	// The member's catalog shows the seeded offers with images.
	c := env.Client()
	c.Post("/auth/demo", map[string][]string{"telegram_id": {apptest.Itoa64(demo.Accounts[0].TelegramID)}})
	home := c.Get("/app")
	if strings.Count(home.Body, `class="card offer-card"`) < 5 || !strings.Contains(home.Body, `src="/media/offers/`) {
		t.Fatalf("catalog: %s", home.Body)
	}
	i := strings.Index(home.Body, `src="/media/`)
	src := home.Body[i+5 : i+5+strings.Index(home.Body[i+5:], `"`)]
	img := c.Get(src)
	if img.Status != 200 || img.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(img.Body, "\x89PNG") {
		t.Fatalf("image %s: %d %s", src, img.Status, img.Header.Get("Content-Type"))
	}
	if r := env.Client().Get(src); r.Status != http.StatusSeeOther {
		t.Fatalf("image served to an anonymous visitor: %d", r.Status)
	}
}

func TestSecurityHeadersAndAssets(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	r := c.Get("/login")
	for h, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "frame-ancestors 'none'",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
	} {
		if !strings.Contains(r.Header.Get(h), want) {
			t.Errorf("%s = %q, want %q", h, r.Header.Get(h), want)
		}
	}
	if r.Header.Get("X-Request-ID") == "" {
		t.Error("no request ID")
	}
	tg := c.Get("/tg")
	if !strings.Contains(tg.Header.Get("Content-Security-Policy"), "frame-ancestors https://web.telegram.org") || tg.Header.Get("X-Frame-Options") != "" {
		t.Errorf("the Mini App cannot be framed by Telegram: %q", tg.Header.Get("Content-Security-Policy"))
	}
	css := c.Get(env.App.Web.AssetPath("css/app.css"))
	if css.Status != 200 || !strings.Contains(css.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("asset: %d %v", css.Status, css.Header)
	}
	if r := c.Get("/assets/css/app.css"); r.Status != http.StatusNotFound {
		t.Errorf("unfingerprinted asset served: %d", r.Status)
	}
	req, _ := http.NewRequest("GET", env.URL("/login"), nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	apptest.Must(t, err)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("pages are not compressed: %q", resp.Header.Get("Content-Encoding"))
	}
}

func TestBodyLimit(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	c.SignIn(8901, "Big")
	big := strings.Repeat("a", 100<<10)
	r := c.Post("/app/settings/language", map[string][]string{"lang": {"en"}, "pad": {big}})
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 100 KiB form: %d", r.Status)
	}
}

func TestEnglishInterface(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	req, _ := http.NewRequest("GET", env.URL("/login"), nil)
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	if r := c.Do(req); !strings.Contains(r.Body, "Sign in") || !strings.Contains(r.Body, `lang="en"`) {
		t.Fatalf("english login: %s", r.Body)
	}
	cat, err := i18n.Load()
	apptest.Must(t, err)
	for _, k := range cat.Keys("ru") {
		if !cat.Has("en", k) {
			t.Errorf("English catalog lacks %q", k)
		}
	}
	for _, k := range cat.Keys("en") {
		if !cat.Has("ru", k) {
			t.Errorf("Russian catalog lacks %q", k)
		}
	}
}

// IKRA_SUPERADMINS bootstraps a fresh install: the named Telegram ID is a superadmin
// from its first sign-in.
func TestSuperadminBootstrap(t *testing.T) {
	env := apptest.New(t, apptest.WithEnv("IKRA_SUPERADMINS", "9501"))
	boss, _ := env.Member(9501, "Boss")
	if r := boss.Get("/admin/staff"); r.Status != http.StatusOK {
		t.Fatalf("bootstrapped superadmin: %d", r.Status)
	}
	other, _ := env.Member(9502, "Other")
	if r := other.Get("/admin"); r.Status != http.StatusForbidden {
		t.Fatalf("someone else: %d", r.Status)
	}
}

// What one node caches (the signed-in member, categories) is forgotten on every node
// when it changes on any node: a member's language changed through node 1 and a
// category renamed through node 1 show on node 2 at its next pages.
func TestCachedRowsChangeOnEveryNode(t *testing.T) {
	node1 := apptest.New(t)
	node2 := apptest.New(t, apptest.Join(node1))
	ctx := context.Background()
	place := node1.Place()
	node1.Offer(place, node1.Partner(place, "Кофейня").ID, "Кофе в подарок")
	c := node2.Client()
	c.SignIn(8802, "Айгерим")
	if r := c.Get("/app?all=1"); !strings.Contains(r.Body, `lang="ru"`) {
		t.Fatalf("before: %d, not in Russian", r.Status)
	}
	cat, err := node1.App.DB.Category.Get(ctx, place.CategoryID)
	apptest.Must(t, err)
	if r := c.Get("/app?all=1"); !strings.Contains(r.Body, cat.NameRu) {
		t.Fatalf("the filter does not name category %q", cat.NameRu)
	}
	// Node 2 serves the member and the categories from its cache (so only the
	// announcement through Redis can tell it about the changes below).
	var ran []string
	stop := node2.App.DB.Trace(func(q string) { ran = append(ran, q) })
	c.Get("/app?all=1")
	stop()
	for _, q := range ran {
		if strings.Contains(q, "FROM `members`") || strings.Contains(q, `FROM "members"`) ||
			strings.Contains(q, "FROM `categories`") || strings.Contains(q, `FROM "categories"`) {
			t.Fatalf("node 2 reads from the database what it should have cached: %s", q)
		}
	}
	m, err := node1.App.DB.Member.Query().Where(member.TelegramID(8802)).Only(ctx)
	apptest.Must(t, err)
	apptest.Must(t, node1.App.Members.SetLanguage(ctx, m.ID, "en"))
	apptest.Must(t, node1.App.DB.Category.UpdateOneID(cat.ID).SetNameEn("Coffee houses").Exec(ctx))
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := c.Get("/app?all=1")
		if strings.Contains(r.Body, `lang="en"`) && strings.Contains(r.Body, "Coffee houses") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 2 still serves the old member or category after 5 s: %s", r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The catalog's caches (candidate pools, a member's first-stage ranking and status,
// offer details, booking counts) follow changes made through another node: a new offer,
// a renamed one, a sold-out one, a suspended partner and a member's new status show on
// node 2's personal page, plain list and API within seconds.
func TestCatalogCachesFollowChangesOnEveryNode(t *testing.T) {
	node1 := apptest.New(t)
	node2 := apptest.New(t, apptest.Join(node1))
	ctx := context.Background()
	place := node1.Place()
	shop := node1.Partner(place, "Кофейня")
	other := node1.Partner(place, "Пекарня")
	first := node1.Offer(place, shop.ID, "Кофе в подарок")
	bread := node1.Offer(place, other.ID, "Хлеб к завтраку", func(c *ent.OfferCreate) { c.SetCapacity(1) })
	tiers, err := node1.App.Rows.Tiers(ctx)
	apptest.Must(t, err)
	var gold *ent.Tier
	for _, tr := range tiers {
		if tr.MinEarned > 0 && (gold == nil || tr.MinEarned < gold.MinEarned) {
			gold = tr
		}
	}
	if gold == nil {
		t.Fatal("no tier above the first")
	}
	locked := node1.Offer(place, shop.ID, "Закрытый ужин", func(c *ent.OfferCreate) { c.SetMinTierID(gold.ID) })
	c, m := node2.Member(8803, "Дана")
	pages := []string{"/app", "/app?all=1", "/api/v1/offers"}
	eventually := func(what string, ok func(page, body string) bool) {
		t.Helper()
		for _, page := range pages {
			deadline := time.Now().Add(5 * time.Second)
			for {
				r := c.Get(page)
				if r.Status == http.StatusOK && ok(page, r.Body) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: node 2's %s after 5 s (%d): %s", what, page, r.Status, r.Body)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	has := func(title string) func(string, string) bool {
		return func(_, body string) bool { return strings.Contains(body, title) }
	}
	eventually("before", has(first.Title))
	for _, p := range pages { // warm every cache on node 2
		c.Get(p)
	}

	node1.Offer(place, shop.ID, "Новый десерт")
	eventually("a new offer", has("Новый десерт"))

	apptest.Must(t, node1.App.DB.Offer.UpdateOneID(first.ID).SetTitle("Кофе и круассан").Exec(ctx))
	eventually("a renamed offer", func(_, body string) bool {
		return strings.Contains(body, "Кофе и круассан") && !strings.Contains(body, "Кофе в подарок")
	})

	// The last place taken through node 1: node 2's personal page sinks the sold-out
	// offer below every open one (it counts the bookings again).
	lastOpen := func() int {
		cards, err := node2.App.Offers.Personal(ctx, m.ID, 24)
		apptest.Must(t, err)
		last := 0
		for _, cd := range cards {
			if !cd.Locked {
				last = cd.ID
			}
		}
		return last
	}
	if lastOpen() == bread.ID {
		t.Fatal("the offer with a place left is already last")
	}
	_, err = node1.App.Bookings.Request(ctx, m.ID, bread.ID, "web", "", nil, "cache-sold-out")
	apptest.Must(t, err)
	for deadline := time.Now().Add(5 * time.Second); lastOpen() != bread.ID; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("node 2 still ranks the sold-out offer among the open ones after 5 s")
		}
	}

	// The locked offer shows with a lock and no link until the member's status opens it.
	link := `href="/app/offers/` + strconv.Itoa(locked.ID) + `"`
	if r := c.Get("/app"); !strings.Contains(r.Body, locked.Title) || strings.Contains(r.Body, link) {
		t.Fatalf("the tier-locked offer before the status: shown %v, linked %v", strings.Contains(r.Body, locked.Title), strings.Contains(r.Body, link))
	}
	apptest.Must(t, node1.App.Ledger.InTx(ctx, func(tx *ent.Tx) error {
		_, err := node1.App.Ledger.CreditTx(ctx, tx, ledger.Op{MemberID: m.ID, Amount: gold.MinEarned, Kind: ledger.KindCashback,
			Reason: "test", RefType: "test", Key: "cache-gold"})
		return err
	}))
	eventually("a new status", func(page, body string) bool {
		if page == "/api/v1/offers" {
			return strings.Contains(body, locked.Title)
		}
		return strings.Contains(body, link)
	})

	_, err = node1.App.DB.Partner.UpdateOneID(shop.ID).SetStatus("suspended").Save(ctx)
	apptest.Must(t, err)
	eventually("a suspended partner", func(_, body string) bool {
		return !strings.Contains(body, "Кофе и круассан") && !strings.Contains(body, "Новый десерт") && strings.Contains(body, bread.Title)
	})
}
