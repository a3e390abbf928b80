package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/ent"
	"ikra/ent/offer"
)

// The filter bar on /app and the same parameters on GET /api/v1/offers: words in their
// forms, the partner's name, each filter, "more" pages that keep the filter, clear 400s
// for a malformed filter or a tampered cursor, and a page-size cap.
func TestCatalogSearchWeb(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.Member(9601, "Searcher")
	place, other := env.Place(), env.Place()
	p := env.Partner(place, "Кофейня Zerno")
	env.Offer(place, p.ID, "Ужин для двоих", func(o *ent.OfferCreate) { o.SetDescription("Скидка на ужин в ресторане.") })
	env.Offer(other, p.ID, "Капучино", func(o *ent.OfferCreate) { o.SetPriceBonus(200).SetKind(offer.KindService) })
	env.Offer(place, p.ID, "Черновик ресторана", func(o *ent.OfferCreate) { o.SetStatus(offer.StatusDraft) })
	t1 := func(key string) string { return html.EscapeString(env.App.Catalog.T("ru", key)) }

	home := c.Get("/app")
	for _, want := range []string{`name="q"`, `name="category"`, `name="city"`, `name="kind"`, `name="bonus"`, `name="available"`, "Рестораны", t1("app.filter.bonus")} {
		if !strings.Contains(home.Body, want) {
			t.Fatalf("the filter bar lacks %q", want)
		}
	}
	cases := []struct {
		query url.Values
		want  []string
	}{
		{url.Values{"q": {"ресторан"}}, []string{"Ужин для двоих"}},
		{url.Values{"q": {"zerno"}}, []string{"Капучино", "Ужин для двоих"}},
		{url.Values{"q": {"капучино"}, "category": {apptest.Itoa(place.CategoryID)}}, nil},
		{url.Values{"category": {apptest.Itoa(other.CategoryID)}}, []string{"Капучино"}},
		{url.Values{"city": {apptest.Itoa(place.CityID)}}, []string{"Ужин для двоих"}},
		{url.Values{"kind": {"service"}}, []string{"Капучино"}},
		{url.Values{"bonus": {"1"}}, []string{"Капучино"}},
		{url.Values{"available": {"1"}}, []string{"Капучино", "Ужин для двоих"}},
	}
	all := []string{"Капучино", "Ужин для двоих", "Черновик ресторана"}
	for _, tt := range cases {
		page := c.Get("/app?" + tt.query.Encode())
		if page.Status != http.StatusOK {
			t.Fatalf("/app?%s: %d", tt.query.Encode(), page.Status)
		}
		var got []string
		for _, title := range all {
			if strings.Contains(page.Body, ">"+title+"<") {
				got = append(got, title)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("/app?%s shows %q, want %q", tt.query.Encode(), got, tt.want)
		}
		if tt.want == nil && !strings.Contains(page.Body, t1("app.filter.empty")) {
			t.Errorf("/app?%s: no empty state", tt.query.Encode())
		}
		r, out := apiCall(t, env, c, "GET", "/api/v1/offers?"+tt.query.Encode(), nil)
		items, _ := out["items"].([]any)
		got = nil
		for _, it := range items {
			got = append(got, it.(map[string]any)["title"].(string))
		}
		slices.Sort(got)
		if r.Status != http.StatusOK || !slices.Equal(got, tt.want) {
			t.Errorf("API ?%s: %d %q, want %q", tt.query.Encode(), r.Status, got, tt.want)
		}
	}
	if page := c.Get("/app?q=ресторан"); !strings.Contains(page.Body, `value="ресторан"`) {
		t.Errorf("the search field does not keep the words")
	}

	// "More" keeps the filter and pages through once.
	for i := range 23 {
		env.Offer(place, p.ID, fmt.Sprintf("Ресторанный сет %02d", i))
	}
	more := regexp.MustCompile(`href="(/app\?[^"]*cursor=[^"]*)"`)
	seen := map[string]bool{}
	path := "/app?q=" + url.QueryEscape("ресторанный")
	for pages := 1; ; pages++ {
		page := c.Get(path)
		if page.Status != http.StatusOK || pages > 3 {
			t.Fatalf("%s: %d (page %d)", path, page.Status, pages)
		}
		for _, m := range regexp.MustCompile(`Ресторанный сет \d\d`).FindAllString(page.Body, -1) {
			if seen[m] {
				t.Fatalf("%s twice", m)
			}
			seen[m] = true
		}
		m := more.FindStringSubmatch(page.Body)
		if m == nil {
			break
		}
		path = html.UnescapeString(m[1])
		if !strings.Contains(path, "q=") {
			t.Fatalf("the more link drops the words: %s", path)
		}
	}
	if len(seen) != 23 {
		t.Fatalf("%d of 23 offers over the pages", len(seen))
	}
	r, out := apiCall(t, env, c, "GET", "/api/v1/offers?limit=1000", nil)
	if items, _ := out["items"].([]any); r.Status != http.StatusOK || len(items) != 25 {
		t.Fatalf("limit=1000 with 25 offers: %d %d", r.Status, len(items))
	}
	r, out = apiCall(t, env, c, "GET", "/api/v1/offers?limit=3", nil)
	if items, _ := out["items"].([]any); r.Status != http.StatusOK || len(items) != 3 || out["next"] == nil {
		t.Fatalf("limit=3: %d %d %v", r.Status, len(items), out["next"])
	}
	next := out["next"].(string)
	if r, _ := apiCall(t, env, c, "GET", "/api/v1/offers?limit=3&cursor="+url.QueryEscape(next), nil); r.Status != http.StatusOK {
		t.Fatalf("the next page: %d", r.Status)
	}

	// Malformed filters and tampered cursors: a clear 400 on the page and in the API.
	tampered := next[:len(next)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(next, "AA")]
	for _, tt := range []struct{ query, code string }{
		{"cursor=" + url.QueryEscape(tampered), "catalog_cursor"},
		{"cursor=42", "catalog_cursor"},
		{"category=abc", "catalog_filter"},
		{"city=-1", "catalog_filter"},
		{"kind=party", "catalog_filter"},
		{"limit=-5", "catalog_filter"},
		{"limit=1e9", "catalog_filter"},
	} {
		page := c.Get("/app?" + tt.query)
		if page.Status != http.StatusBadRequest || !strings.Contains(page.Body, t1("error."+tt.code)) || !strings.Contains(page.Body, `name="q"`) {
			t.Errorf("/app?%s: %d, no clear message", tt.query, page.Status)
		}
		if r, out := apiCall(t, env, c, "GET", "/api/v1/offers?"+tt.query, nil); r.Status != http.StatusBadRequest || errorCode(out) != tt.code {
			t.Errorf("API ?%s: %d %v", tt.query, r.Status, out)
		}
	}
}

// Hostile search strings and parameters never make a 500, on the page or in the API.
func TestCatalogSearchHostile(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.Member(9602, "Hostile")
	place := env.Place()
	env.Offer(place, env.Partner(place, "P").ID, "Ресторан", func(o *ent.OfferCreate) { o.SetDescription("в ресторане") })
	queries := []string{
		`"`, `'`, `*`, `ресторан*`, `NEAR(ресторан ужин)`, `ресторан AND OR NOT`, `title:ресторан`, `{title}: x`,
		"\x00", "ресторан\x00ужин", "\xff\xfe", strings.Repeat("x", 1000), strings.Repeat("ab ", 333), strings.Repeat("я", 1000), strings.Repeat("ресторан ", 200),
		`'; DROP TABLE offers; --`, `1' OR '1'='1`, `%' OR 1=1 --`, `\`, `$1`, `?`, `<->`, `ресторан & !ужин`, `ресторан:*`,
		`<script>alert(1)</script>`, "😀🍕", "\u202eresto",
	}
	var params []string
	for _, q := range queries {
		params = append(params, "q="+url.QueryEscape(q))
	}
	params = append(params, "q=%zz", "cursor=%00", "cursor="+strings.Repeat("A", 5000), "cursor='", "category=1%00", "city=99999999999999999999",
		"kind=%27", "bonus=%00", "available=yes", "limit=0", "limit=999999999999999999999", "q=a&q=b", "category=&city=&kind=")
	// 431: the server refuses a request line longer than its buffer before any handler.
	fine := func(status int) bool {
		return status == http.StatusOK || status == http.StatusBadRequest || status == http.StatusRequestHeaderFieldsTooLarge
	}
	for _, p := range params {
		page := c.Get("/app?" + p)
		if !fine(page.Status) {
			t.Errorf("/app?%.60s: %d", p, page.Status)
		}
		if strings.Contains(page.Body, "<script>alert(1)</script>") {
			t.Errorf("/app?%.60s: the words are not escaped", p)
		}
		r, _ := apiCall(t, env, c, "GET", "/api/v1/offers?"+p, nil)
		if !fine(r.Status) {
			t.Errorf("API ?%.60s: %d", p, r.Status)
		}
	}
	if n, err := env.App.DB.Offer.Query().Count(t.Context()); err != nil || n != 1 {
		t.Fatalf("offers after the hostile queries: %d %v", n, err)
	}
	if r, out := apiCall(t, env, c, "GET", "/api/v1/offers?q=ресторан", nil); r.Status != 200 || len(out["items"].([]any)) != 1 {
		t.Fatalf("search after the hostile queries: %d %v", r.Status, out)
	}
}
