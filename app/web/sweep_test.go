package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/auth/telegram"
	"ikra/app/web"
	"ikra/ent/member"
	"ikra/ent/partner"
)

// The hostile sweep walks the route table (Server.Routes, the same registry the
// authorization matrix checks, with the matrix's valid path for each route) and sends
// every route malformed, oversized and hostile input, on SQLite and on PostgreSQL.
//
// What each kind of request must get:
//   - anything: never a 5xx, and no payload echoed back as live markup;
//   - a 4xx carries a body saying why (an error page or a JSON error);
//   - hostile field values, query strings and path parameters, as a role that may call
//     the route: a 4xx, or a 2xx/3xx when the route took the value as text (it is then
//     stored, and the last step proves it is shown escaped everywhere);
//   - the same as a role that may not call it: a 4xx (or the sign-in redirect);
//   - a 10 MB body: 413 (routes that take uploads: a 4xx);
//   - broken multipart: a 4xx, or a 2xx/3xx on a route that reads no body;
//   - an unsafe request with a forged, foreign or missing CSRF token: 403, on every
//     unsafe route but the two that authenticate otherwise (the bot webhook's secret,
//     the POS/CRM API's bearer key);
//   - path traversal in media names: a 4xx and no file outside the store;
//   - stale or forged Telegram sign-ins: 401; the webhook without its secret: 404, and
//     the same update twice is handled once.
//
// Afterwards every page reachable from the route table, as every kind of user, is read
// again: none may carry a payload as live markup, and the server log holds no panic.

const (
	xssScript = "<script>alert(1)</script>"
	xssImg    = `"><img src=x onerror=alert(1)>`
	xssURL    = "javascript:alert(1)"
)

// liveMarkup are the payloads as a browser would run them; escaped, they never match.
var liveMarkup = []string{"<script>alert(1)", "<img src=x onerror=alert(1)>", `href="javascript:alert(1)"`, `src="javascript:alert(1)"`}

// fieldPayloads go in every form field, query parameter and JSON string: wrong types
// (letters, a negative, a huge and an overflowing number, an impossible date), SQL and
// markup (each SQL string carries a script too, so a field that stores text stores
// both), a javascript: link, NUL and invalid UTF-8, and a long text.
var fieldPayloads = []string{
	"abc", "-1", "99999999999999999999999", "1e400", "2024-13-45",
	"' OR 1=1--" + xssScript, "'; DROP TABLE members;--" + xssImg, xssURL, hostileText,
	strings.Repeat("Ж", 3000),
}

// pathPayloads replace one path parameter at a time (path-escaped).
var pathPayloads = []string{"abc", "-1", "99999999999999999999999", "' OR 1=1--" + xssScript, hostileText}

// queryFields are the query parameters pages read; a URL stays under the server's
// header limit with a payload in each (every form field goes in the body).
var queryFields = []string{"q", "next", "lang", "page", "before", "status", "tab", "kind", "offer", "id", "city", "category", "from", "to"}

// traversals are media names as sent, unescaped, after a media route's prefix.
var traversals = []string{
	"../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%2e%2e/%2e%2e/etc/passwd",
	"/etc/passwd", "%2fetc%2fpasswd", "....//....//etc/passwd", "x.png%00.jpg", "%00", "..%5c..%5cwindows%5cwin.ini",
}

func TestHostileSweep(t *testing.T) {
	dbs := []struct{ name, url string }{{"sqlite", ""}}
	if u := os.Getenv("IKRA_TEST_DATABASE_URL"); u != "" {
		dbs = append(dbs, struct{ name, url string }{"postgres", u})
	}
	for _, db := range dbs {
		t.Run(db.name, func(t *testing.T) {
			var opts []apptest.Option
			if db.url == "" {
				opts = append(opts, apptest.WithEnv("DATABASE_URL", "")) // SQLite even when PostgreSQL is named
			}
			runSweep(t, opts...)
		})
	}
}

type sweep struct {
	t      *testing.T
	f      *fixture
	table  map[string]matrixCase
	routes []web.Route
	botAPI *fakeBotAPI
	secret string

	mu     sync.Mutex
	fields map[string]bool // every field name a handler may read: a base list and what the pages' forms name
	forms  map[string][]sweepForm
	counts map[string]int
}

// sweepForm is a form found on a page: where it posts and its fields as a browser fills them.
type sweepForm struct {
	action string
	fields url.Values
	files  []string
}

func runSweep(t *testing.T, opts ...apptest.Option) {
	start := time.Now()
	logs := &syncBuffer{}
	api := newFakeBotAPI(t)
	const secret = "sweep-hook-secret"
	opts = append(opts, apptest.WithLog(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))),
		apptest.WithEnv("TELEGRAM_API_URL", api.srv.URL), apptest.WithEnv("TELEGRAM_WEBHOOK_SECRET", secret))
	f := newFixture(t, opts...)
	s := &sweep{t: t, f: f, table: matrixTable(t, f), routes: f.env.App.Web.Routes, botAPI: api, secret: secret,
		fields: map[string]bool{}, forms: map[string][]sweepForm{}, counts: map[string]int{}}
	for _, k := range hostileFields {
		s.fields[k] = true
	}
	for _, k := range []string{"offer_id", "id", "date", "comment", "reason", "amount", "member", "url", "events", "scopes", "dir", "kind", "brand", "bin", "email"} {
		s.fields[k] = true
	}

	// Learn the forms and the fields they name, as every role, before anything changes.
	crawlRoles := []string{"anon", "member", "ownerA", "cashierA", "superadmin", "support", "concierge"}
	s.eachRole(crawlRoles, func(role string, c *apptest.Client) { s.crawl(role, c, false) })
	s.step("crawl", start)

	s.routePass()
	s.restore()
	s.step("routes", start)
	s.csrfPass()
	s.step("csrf", start)
	s.bodyPass()
	s.step("bodies", start)
	s.traversalPass()
	s.step("traversal", start)
	s.telegramPass()
	s.step("telegram", start)
	s.headerPass()
	s.step("headers", start)
	s.formPass([]string{"member", "cashierA", "ownerA", "support", "concierge", "superadmin"})
	s.restore()
	s.step("forms", start)

	// The sweep stored payloads (else the last check would prove nothing)...
	stored := s.storedPayloads()
	t.Logf("rows holding a script payload, by table: %v", stored)
	if len(stored) == 0 {
		t.Error("the sweep stored no payload anywhere")
	}
	// ...and every page, as every role, once more: none may show one as live markup.
	s.eachRole(crawlRoles, func(role string, c *apptest.Client) { s.crawl(role, c, true) })
	s.step("stored", start)

	logs.mu.Lock()
	logged := logs.buf.String()
	logs.mu.Unlock()
	for _, line := range strings.Split(logged, "\n") {
		if strings.Contains(line, `"msg":"panic"`) || strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("server log: %.600s", line)
		}
	}
	var kinds []string
	for k, n := range s.counts {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("sweep: %d routes, requests %s, %s", len(s.routes), strings.Join(kinds, " "), time.Since(start).Round(time.Millisecond))
}

// restore lets the actors back in after a pass: a hostile reason may well block the
// member or suspend partner A (the text it stored stays, for the final check).
func (s *sweep) restore() {
	ctx := context.Background()
	db := s.f.env.App.DB.Client
	sys := audit.Entry{ActorRole: "test"}
	for _, m := range db.Member.Query().Where(member.StatusEQ(member.StatusBlocked)).AllX(ctx) {
		apptest.Must(s.t, s.f.env.App.Members.Unblock(ctx, sys, m.ID))
	}
	for _, p := range db.Partner.Query().Where(partner.StatusEQ(partner.StatusSuspended)).AllX(ctx) {
		apptest.Must(s.t, s.f.env.App.Partners.Reactivate(ctx, sys, p.ID, "sweep"))
	}
	if _, err := s.f.env.App.APIKeys.Authenticate(ctx, s.f.keySecret); err != nil { // revoked by the sweep
		owner := memberIDOf(s.t, s.f.env, s.f.tg["ownerA"])
		_, secret, err := s.f.env.App.APIKeys.Create(ctx, sys, s.f.partnerA, owner, "till", []string{"read", "redeem"})
		apptest.Must(s.t, err)
		s.f.keySecret = secret
	}
}

func (s *sweep) step(name string, start time.Time) {
	s.t.Logf("%s done at %s", name, time.Since(start).Round(time.Millisecond))
}

// eachRole runs fn with a freshly signed-in client per role, the roles in parallel.
func (s *sweep) eachRole(roles []string, fn func(role string, c *apptest.Client)) {
	clients := map[string]*apptest.Client{}
	for _, r := range roles {
		clients[r] = s.f.client(s.t, r)
	}
	var wg sync.WaitGroup
	for _, r := range roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(r, clients[r])
		}()
	}
	wg.Wait()
}

// parallel runs jobs, n at a time, each on its own goroutine (a helper's Fatal ends
// only its job).
func parallel(n int, jobs []func()) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			j()
		}()
	}
	wg.Wait()
}

// answer is a response as read.
type answer struct {
	status int
	body   string
	ctype  string
	loc    string
}

// send sends a request with client c (nil: no cookies) and reads the answer; a
// connection the server closed on an oversized body reads as status 0.
func (s *sweep) send(kind string, c *apptest.Client, method, target string, body []byte, hdr map[string]string) answer {
	s.mu.Lock()
	s.counts[kind]++
	s.mu.Unlock()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.f.env.Server.URL+target, rd)
	if err != nil {
		s.t.Errorf("%s %s: %v", method, target, err)
		return answer{}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if c != nil {
		hc = c.HTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		if len(body) > 1<<20 {
			return answer{} // the server may answer 413 and close before reading it all
		}
		s.t.Errorf("%s %s %.120s: %.200v", kind, method, target, err)
		return answer{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(b), ctype: resp.Header.Get("Content-Type"), loc: resp.Header.Get("Location")}
}

// check holds what every answer must satisfy.
func (s *sweep) check(what string, a answer) {
	if a.status >= 500 {
		s.t.Errorf("%s: %d %.300s", what, a.status, a.body)
	}
	if a.status >= 400 && strings.TrimSpace(a.body) == "" {
		s.t.Errorf("%s: %d with an empty body", what, a.status)
	}
	if strings.Contains(a.ctype, "html") {
		for _, m := range liveMarkup {
			if strings.Contains(a.body, m) {
				s.t.Errorf("%s: the answer shows %q as live markup", what, m)
			}
		}
	}
}

// refused requires a 4xx (status 0: the connection was cut on an oversized body).
func (s *sweep) refused(what string, a answer, want ...int) {
	s.check(what, a)
	if a.status == 0 {
		return
	}
	if len(want) > 0 {
		for _, w := range want {
			if a.status == w {
				return
			}
		}
		s.t.Errorf("%s: %d, want %v", what, a.status, want)
		return
	}
	if a.status < 400 || a.status >= 500 {
		s.t.Errorf("%s: %d, want a 4xx", what, a.status)
	}
}

// may reports whether the matrix lets role through to route key's handler.
func (s *sweep) may(key, role string) bool {
	w := s.table[key].want[role]
	return w != unauth && w != forbid && !(role == "anon" && w == see && strings.HasPrefix(key, "GET "))
}

// actor is the role the sweep calls a route as: one the matrix lets through, signed
// in before anyone else; "key" for the POS/CRM API.
func (s *sweep) actor(rt web.Route) string {
	if rt.Workspace == web.PartnerAPI {
		return "key"
	}
	key := rt.Method + " " + rt.Path
	for _, r := range []string{"member", "ownerA", "managerA", "cashierA", "superadmin", "moderator", "support", "concierge", "anon"} {
		if s.may(key, r) {
			return r
		}
	}
	return "anon"
}

// outsider is a role the route refuses, or "" when none does.
func (s *sweep) outsider(rt web.Route) string {
	if rt.Workspace == web.Public {
		return ""
	}
	key := rt.Method + " " + rt.Path
	for _, r := range []string{"member", "cashierA", "ownerB", "support", "anon"} {
		if !s.may(key, r) {
			return r
		}
	}
	return ""
}

// client signs in as role (anon and key: no session).
func (s *sweep) client(role string) *apptest.Client {
	if role == "key" {
		return s.f.env.Client()
	}
	c := s.f.client(s.t, role)
	c.CSRF()
	return c
}

// headers are what a browser (or the POS) sends with a request of c.
func (s *sweep) headers(role string, c *apptest.Client, ctype string) map[string]string {
	h := map[string]string{"Content-Type": ctype}
	if role == "key" {
		h["Authorization"] = "Bearer " + s.f.keySecret
	} else if c != nil {
		h["X-CSRF-Token"] = c.CSRF()
	}
	return h
}

// validPath is the matrix's path of a route, without its query.
func (s *sweep) validPath(rt web.Route) string {
	p, _, _ := strings.Cut(s.table[rt.Method+" "+rt.Path].path, "?")
	return p
}

// withParam is the route's valid path with its i-th parameter (or the rest, for "*")
// replaced by raw, as given.
func withParam(pattern, valid string, i int, raw string) string {
	ps, vs := strings.Split(pattern, "/"), strings.Split(valid, "/")
	out := make([]string, 0, len(ps))
	n := 0
	for j, seg := range ps {
		if strings.HasPrefix(seg, ":") || seg == "*" {
			if n == i {
				seg = raw
			} else if seg == "*" {
				seg = strings.Join(vs[j:], "/")
			} else {
				seg = vs[j]
			}
			n++
		}
		out = append(out, seg)
	}
	return strings.Join(out, "/")
}

func params(pattern string) int {
	n := 0
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, ":") || seg == "*" {
			n++
		}
	}
	return n
}

func unsafeMethod(m string) bool { return m != http.MethodGet && m != http.MethodHead }

// routePass: every route, as its actor and as an outsider, with each payload in every
// field, in the query and in each path parameter; JSON routes also get the payloads
// as JSON strings and as numbers of the wrong size.
func (s *sweep) routePass() {
	s.mu.Lock()
	var names []string
	for k := range s.fields {
		names = append(names, k)
	}
	s.mu.Unlock()
	sort.Strings(names)
	var jobs, last []func()
	for _, rt := range s.routes {
		if unsafeMethod(rt.Method) && dangerous(rt.Path) {
			// Routes that may lock an actor out run alone, and the actors are let back in after each.
			last = append(last, func() { s.sweepRoute(rt, names); s.restore() })
			continue
		}
		jobs = append(jobs, func() { s.sweepRoute(rt, names) })
	}
	parallel(4, jobs)
	parallel(1, last)
}

func (s *sweep) sweepRoute(rt web.Route, names []string) {
	key := rt.Method + " " + rt.Path
	role := s.actor(rt)
	c := s.client(role)
	valid := s.validPath(rt)
	jsonRoute := rt.Workspace == web.API || rt.Workspace == web.PartnerAPI || rt.Path == "/tg/auth"
	for _, p := range fieldPayloads {
		vals, query := url.Values{}, url.Values{}
		for _, n := range names {
			vals.Set(n, p)
		}
		for _, n := range queryFields {
			query.Set(n, p[:min(len(p), 40)])
		}
		target := valid + "?" + query.Encode()
		what := fmt.Sprintf("%s as %s, fields=%.40q", key, role, p)
		var a answer
		if unsafeMethod(rt.Method) {
			a = s.send("fields", c, rt.Method, target, []byte(vals.Encode()), s.headers(role, c, "application/x-www-form-urlencoded"))
		} else {
			a = s.send("fields", c, rt.Method, target, nil, s.headers(role, c, ""))
		}
		s.check(what, a)
		if jsonRoute && unsafeMethod(rt.Method) {
			obj := map[string]any{}
			for _, n := range names {
				obj[n] = p
			}
			b, _ := json.Marshal(obj)
			h := s.headers(role, c, "application/json")
			h["Idempotency-Key"] = strings.ReplaceAll(p[:min(len(p), 300)], "\x00", "") // Go sends no NUL in a header: rawIdempotency does
			s.check(what+" (JSON)", s.send("json", c, rt.Method, valid, b, h))
		}
	}
	if jsonRoute && unsafeMethod(rt.Method) {
		for _, raw := range []string{`{"offer_id":1e400,"amount":-1}`, `{"offer_id":-1,"amount":99999999999999999999999}`,
			`{"offer_id":"abc","amount":"abc","date":123}`, `[1,2]`, `{"offer_id":`, `null`, "\x00\xff", `{"comment":"\u0000\ud800"}`} {
			h := s.headers(role, c, "application/json")
			s.check(fmt.Sprintf("%s as %s, JSON %q", key, role, raw), s.send("json", c, rt.Method, valid, []byte(raw), h))
		}
	}
	for i := range params(rt.Path) {
		for _, p := range pathPayloads {
			target := withParam(rt.Path, valid, i, url.PathEscape(p))
			var body []byte
			if unsafeMethod(rt.Method) {
				body = []byte("x=1")
			}
			a := s.send("path", c, rt.Method, target, body, s.headers(role, c, "application/x-www-form-urlencoded"))
			s.check(fmt.Sprintf("%s as %s, path %q", key, role, target), a)
			if a.status >= 200 && a.status < 300 && unsafeMethod(rt.Method) && rt.Path != "/telegram/webhook/:secret" {
				s.t.Errorf("%s as %s, path %q: %d, a hostile ID must not act", key, role, target, a.status)
			}
		}
	}
	// Someone the route refuses: still refused, whatever the input.
	if out := s.outsider(rt); out != "" {
		if unsafeMethod(rt.Method) && dangerous(rt.Path) {
			s.restore() // the payloads above may have blocked the outsider
		}
		oc := s.client(out)
		for _, p := range []string{xssScript, hostileText} {
			vals, query := url.Values{}, url.Values{}
			for _, n := range names {
				vals.Set(n, p)
			}
			for _, n := range queryFields {
				query.Set(n, p)
			}
			target := valid + "?" + query.Encode()
			var body []byte
			if unsafeMethod(rt.Method) {
				body = []byte(vals.Encode())
			}
			a := s.send("outsider", oc, rt.Method, target, body, s.headers(out, oc, "application/x-www-form-urlencoded"))
			what := fmt.Sprintf("%s as %s (refused by the matrix), fields=%.20q", key, out, p)
			if !unsafeMethod(rt.Method) && rt.Workspace != web.API && a.status == http.StatusSeeOther && strings.HasPrefix(a.loc, "/login") {
				s.check(what, a) // the sign-in redirect
				continue
			}
			s.refused(what, a)
		}
	}
}

// csrfPass: every unsafe route but the webhook and the POS/CRM API refuses a request
// with no token, a forged one and another session's, with 403, signed in or not.
func (s *sweep) csrfPass() {
	other := s.client("member")
	var jobs []func()
	for _, rt := range s.routes {
		if !unsafeMethod(rt.Method) || rt.Workspace == web.PartnerAPI || rt.Path == "/telegram/webhook/:secret" {
			continue
		}
		jobs = append(jobs, func() {
			key := rt.Method + " " + rt.Path
			valid := s.validPath(rt)
			form := s.table[key].form
			for _, role := range []string{s.actor(rt), "anon"} {
				c := s.client(role)
				c.CSRF()
				tokens := map[string]string{"missing": "", "forged": "forged-" + strings.Repeat("0", 40), "another session's": other.CSRF()}
				if role == "anon" {
					tokens = map[string]string{"forged": tokens["forged"]}
				}
				for name, token := range tokens {
					f := url.Values{}
					for k, v := range form {
						f[k] = v
					}
					if token != "" {
						f.Set("_csrf", token)
					}
					a := s.send("csrf", c, rt.Method, valid, []byte(f.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
					s.refused(fmt.Sprintf("%s as %s, %s CSRF token", key, role, name), a, http.StatusForbidden)
					if name == "another session's" {
						a = s.send("csrf", c, rt.Method, valid, nil, map[string]string{"X-CSRF-Token": token})
						s.refused(fmt.Sprintf("%s as %s, %s CSRF header", key, role, name), a, http.StatusForbidden)
					}
				}
			}
		})
	}
	parallel(4, jobs)
}

// uploadRoute reports whether a route takes files (and the larger body limit).
func uploadRoute(rt web.Route) bool {
	return strings.HasSuffix(rt.Path, "/media") || rt.Path == "/app/claims" || rt.Path == "/app/support" ||
		rt.Path == "/app/support/:id" || strings.HasSuffix(rt.Path, "/reply") || strings.HasSuffix(rt.Path, "/note")
}

// bodyPass: 10 MB bodies (form, JSON, multipart) and broken multipart to every unsafe route.
func (s *sweep) bodyPass() {
	big := bytes.Repeat([]byte("a"), 10<<20)
	form := append([]byte("comment="), big...)
	js := append(append([]byte(`{"comment":"`), big...), '"', '}')
	mp := func(boundary string, part []byte) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n", boundary)
		b.Write(part)
		fmt.Fprintf(&b, "\r\n--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n", boundary)
		fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
		return b.Bytes()
	}
	bigMP := mp("sweep", big)
	broken := map[string][2]string{
		"bad boundary":   {"multipart/form-data; boundary=other", string(mp("sweep", []byte("x")))},
		"no boundary":    {"multipart/form-data", string(mp("sweep", []byte("x")))},
		"truncated":      {"multipart/form-data; boundary=sweep", string(mp("sweep", []byte(xssScript)))[:90]},
		"no final":       {"multipart/form-data; boundary=sweep", "--sweep\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nx"},
		"bad header":     {"multipart/form-data; boundary=sweep", "--sweep\r\nContent-Disposition form-data\r\n\r\nx\r\n--sweep--\r\n"},
		"NUL names":      {"multipart/form-data; boundary=sweep", "--sweep\r\nContent-Disposition: form-data; name=\"te\x00xt\"; filename=\"a\x00\xff.png\"\r\n\r\nx\r\n--sweep--\r\n"},
		"empty":          {"multipart/form-data; boundary=sweep", ""},
		"huge boundary":  {"multipart/form-data; boundary=" + strings.Repeat("b", 5000), "--x"},
		"form bad bytes": {"application/x-www-form-urlencoded", "a=%zz&%=&&==&text=%00%ff"},
	}
	var names []string
	for name := range broken {
		names = append(names, name)
	}
	sort.Strings(names)
	var jobs, bigJobs []func()
	n := 0
	for _, rt := range s.routes {
		if !unsafeMethod(rt.Method) {
			continue
		}
		n++
		key := rt.Method + " " + rt.Path
		role := s.actor(rt)
		valid := s.validPath(rt)
		// Upload routes get every broken body; the others three each, in turn, so that
		// every kind reaches every workspace.
		mine := names
		if !uploadRoute(rt) {
			mine = []string{names[n%len(names)], names[(n+3)%len(names)], names[(n+6)%len(names)]}
		}
		jobs = append(jobs, func() {
			c := s.client(role)
			for _, name := range mine {
				b := broken[name]
				a := s.send("multipart", c, rt.Method, valid, []byte(b[1]), s.headers(role, c, b[0]))
				s.check(fmt.Sprintf("%s as %s, %s", key, role, name), a)
			}
		})
		// 10 MB bodies: every kind on upload routes; one kind on every second other
		// route, in turn (form, multipart, JSON where JSON is read), so that each
		// workspace sees each. The limit is one middleware before any parsing.
		bodies := map[string][2]string{}
		kinds := []string{"form", "multipart"}
		if rt.Workspace == web.API || rt.Workspace == web.PartnerAPI || rt.Path == "/tg/auth" || rt.Path == "/telegram/webhook/:secret" {
			kinds = append(kinds, "JSON")
		}
		ctypes := map[string]string{"form": "application/x-www-form-urlencoded", "multipart": "multipart/form-data; boundary=sweep", "JSON": "application/json"}
		switch {
		case uploadRoute(rt):
			for _, k := range kinds {
				bodies[k] = [2]string{ctypes[k], ""}
			}
		case n%2 == 0:
			k := kinds[(n/2)%len(kinds)]
			bodies[k] = [2]string{ctypes[k], ""}
		}
		for name, ct := range bodies {
			bigJobs = append(bigJobs, func() {
				c := s.client(role)
				b := form
				switch name {
				case "multipart":
					b = bigMP
				case "JSON":
					b = js
				}
				target := valid
				if rt.Path == "/telegram/webhook/:secret" {
					target = "/telegram/webhook/" + s.secret
				}
				h := s.headers(role, c, ct[0])
				h["X-Telegram-Bot-Api-Secret-Token"] = s.secret
				a := s.send("10MB", c, rt.Method, target, b, h)
				what := fmt.Sprintf("%s as %s, 10 MB %s", key, role, name)
				if uploadRoute(rt) {
					s.check(what, a) // the larger limit: refused by the form (4xx, or PRG back with the reason)
				} else {
					s.refused(what, a, http.StatusRequestEntityTooLarge)
				}
			})
		}
	}
	parallel(4, jobs)
	parallel(2, bigJobs)
}

// traversalPass: media names that climb out of the store, as whoever may read the media.
func (s *sweep) traversalPass() {
	var jobs []func()
	for _, rt := range s.routes {
		if rt.Method != http.MethodGet || !(strings.HasSuffix(rt.Path, "/*") || strings.HasSuffix(rt.Path, "/:name")) || strings.HasPrefix(rt.Path, "/admin/jobs") {
			continue
		}
		jobs = append(jobs, func() {
			role := s.actor(rt)
			c := s.client(role)
			valid := s.validPath(rt)
			for _, tr := range traversals {
				target := withParam(rt.Path, valid, params(rt.Path)-1, tr)
				a := s.send("traversal", c, http.MethodGet, target, nil, nil)
				what := fmt.Sprintf("%s as %s, %q", rt.Path, role, target)
				s.refused(what, a)
				if strings.Contains(a.body, "root:") || strings.Contains(a.body, "[fonts]") {
					s.t.Errorf("%s: a file outside the store was served", what)
				}
			}
		})
	}
	parallel(4, jobs)
}

// telegramPass: replayed and forged sign-ins and webhook deliveries.
func (s *sweep) telegramPass() {
	t := s.t
	maxAge := s.f.env.Config.AuthMaxAge
	// The Login Widget's query: too old, a field changed, no hash, signed with another token.
	old := apptest.WidgetQuery(8901, "Old", time.Now().Add(-maxAge-time.Minute))
	changed := apptest.WidgetQuery(8902, "Real", time.Now())
	changed.Set("first_name", xssScript)
	noHash := apptest.WidgetQuery(8903, "NoHash", time.Now())
	noHash.Del("hash")
	other := telegram.SignWidget(map[string]string{"id": "8904", "first_name": "Other", "auth_date": apptest.Itoa64(time.Now().Unix())}, "654321:another-token")
	future := apptest.WidgetQuery(8905, "Future", time.Now().Add(time.Hour))
	for name, q := range map[string]url.Values{"stale": old, "changed": changed, "no hash": noHash, "another bot": other, "future": future} {
		s.refused("widget sign-in, "+name, s.send("telegram", nil, http.MethodGet, "/auth/telegram?"+q.Encode(), nil, nil), http.StatusUnauthorized)
	}

	// The Mini App's initData: past its max age, a field changed, another bot's.
	user := `{"id":8911,"first_name":"Mini"}`
	fields := func(date time.Time) map[string]string {
		return map[string]string{"user": user, "auth_date": apptest.Itoa64(date.Unix()), "query_id": "AAH"}
	}
	fresh := telegram.SignInitData(fields(time.Now()), apptest.BotToken)
	stale := telegram.SignInitData(fields(time.Now().Add(-maxAge-time.Minute)), apptest.BotToken)
	forged := strings.Replace(fresh, "Mini", "Mani", 1)
	foreign := telegram.SignInitData(fields(time.Now()), "654321:another-token")
	for name, data := range map[string]string{"stale": stale, "changed": forged, "another bot": foreign, "no hash": strings.Split(fresh, "&hash=")[0]} {
		c := s.f.env.Client()
		body, _ := json.Marshal(map[string]string{"initData": data})
		s.refused("initData, "+name, s.send("telegram", c, http.MethodPost, "/tg/auth", body, map[string]string{"Content-Type": "application/json", "X-CSRF-Token": c.CSRF()}), http.StatusUnauthorized)
	}
	// The fresh one is accepted, so the refusals above are for the reasons named.
	c := s.f.env.Client()
	body, _ := json.Marshal(map[string]string{"initData": fresh})
	if a := s.send("telegram", c, http.MethodPost, "/tg/auth", body, map[string]string{"Content-Type": "application/json", "X-CSRF-Token": c.CSRF()}); a.status != http.StatusOK {
		t.Errorf("fresh initData: %d %.200s", a.status, a.body)
	}

	// The webhook: a wrong or missing secret is 404; the same update twice is handled once.
	update := `{"update_id":77001,"message":{"message_id":1,"from":{"id":8921,"first_name":"` + strings.ReplaceAll(xssImg, `"`, `\"`) + `"},"chat":{"id":8921,"type":"private"},"text":"/start"}}`
	hook := func(path, header string) answer {
		h := map[string]string{"Content-Type": "application/json"}
		if header != "" {
			h["X-Telegram-Bot-Api-Secret-Token"] = header
		}
		return s.send("telegram", nil, http.MethodPost, path, []byte(update), h)
	}
	s.refused("webhook, wrong header", hook("/telegram/webhook/"+s.secret, "wrong"), http.StatusNotFound)
	s.refused("webhook, no header", hook("/telegram/webhook/"+s.secret, ""), http.StatusNotFound)
	s.refused("webhook, wrong path", hook("/telegram/webhook/wrong", s.secret), http.StatusNotFound)
	s.refused("webhook, no path", hook("/telegram/webhook/", s.secret), http.StatusNotFound)
	sent := func() int {
		s.botAPI.mu.Lock()
		defer s.botAPI.mu.Unlock()
		n := 0
		for _, c := range s.botAPI.calls {
			if p, _ := c["_path"].(string); strings.HasSuffix(p, "/sendMessage") && fmt.Sprint(c["chat_id"]) == "8921" {
				n++
			}
		}
		return n
	}
	for i := range 2 {
		if a := hook("/telegram/webhook/"+s.secret, s.secret); a.status != http.StatusOK {
			t.Errorf("webhook delivery %d: %d", i+1, a.status)
		}
	}
	if n := sent(); n != 1 {
		t.Errorf("the same update delivered twice was answered %d times", n)
	}
	for _, raw := range []string{"", "{", `{"update_id":"x"}`, `{"update_id":77002,"message":{"from":{"id":-1},"chat":{"id":1e400},"text":"\u0000"}}`, "\x00\xff", `[]`} {
		h := map[string]string{"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": s.secret}
		s.check(fmt.Sprintf("webhook body %q", raw), s.send("telegram", nil, http.MethodPost, "/telegram/webhook/"+s.secret, []byte(raw), h))
	}
}

// crawl reads the pages role can reach from the matrix's paths (at most a few of each
// path shape), checks each and records the forms they hold; stored says this is the
// final check for stored payloads.
func (s *sweep) crawl(role string, c *apptest.Client, stored bool) {
	var queue []string
	for key, r := range s.table {
		if strings.HasPrefix(key, "GET ") && r.want[role] == ok {
			queue = append(queue, r.path)
		}
	}
	sort.Strings(queue)
	seen := map[string]bool{}
	shapes := map[string]int{}
	for len(queue) > 0 && len(seen) < 250 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] || skipCrawl(p) {
			continue
		}
		shape := digits.ReplaceAllString(strings.SplitN(p, "?", 2)[0], "N")
		if shapes[shape] >= 2 {
			continue
		}
		seen[p] = true
		shapes[shape]++
		a := s.send("crawl", c, http.MethodGet, p, nil, nil)
		what := fmt.Sprintf("page %s as %s", p, role)
		if stored {
			what = "after the sweep, " + what
		}
		s.check(what, a)
		if !strings.Contains(a.ctype, "html") {
			continue
		}
		for _, m := range hrefs.FindAllStringSubmatch(a.body, -1) {
			u := html.UnescapeString(m[1])
			if strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !seen[u] {
				queue = append(queue, u)
			}
		}
		if !stored {
			s.learnForms(role, a.body)
		}
	}
}

var (
	digits = regexp.MustCompile(`[0-9]+`)
	hrefs  = regexp.MustCompile(`href="([^"#]+)"`)
)

func skipCrawl(p string) bool {
	for _, x := range []string{"/assets/", "/auth/", "/admin/jobs", "/media/", ".png", ".csv", "/export", "/files/", "/logout", "/openapi.json"} {
		if strings.Contains(p, x) {
			return true
		}
	}
	return false
}

// learnForms records the POST forms of a page with their fields as a browser fills
// them (defaults, the first option, a plausible value for an empty field).
func (s *sweep) learnForms(role, body string) {
	doc, err := xhtml.Parse(strings.NewReader(body))
	if err != nil {
		return
	}
	attr := func(n *xhtml.Node, k string) string {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val
			}
		}
		return ""
	}
	var forms []sweepForm
	var walkForm func(n *xhtml.Node, f *sweepForm)
	walkForm = func(n *xhtml.Node, f *sweepForm) {
		if n.Type == xhtml.ElementNode {
			name := attr(n, "name")
			switch n.Data {
			case "input":
				typ := attr(n, "type")
				switch {
				case name == "":
				case typ == "file":
					f.files = append(f.files, name)
				case typ == "checkbox" || typ == "radio":
					if _, has := f.fields[name]; !has || attr(n, "checked") != "" {
						f.fields.Set(name, orDefault(attr(n, "value"), "on"))
					}
				case typ == "submit" || typ == "button":
				default:
					f.fields.Set(name, orDefault(attr(n, "value"), plausible(name, typ)))
				}
			case "textarea":
				v := ""
				if n.FirstChild != nil {
					v = n.FirstChild.Data
				}
				f.fields.Set(name, orDefault(v, plausible(name, "text")))
			case "select":
				for o := n.FirstChild; o != nil; o = o.NextSibling {
					if o.Type == xhtml.ElementNode && o.Data == "option" && attr(o, "value") != "" {
						f.fields.Set(name, attr(o, "value"))
						break
					}
				}
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walkForm(ch, f)
		}
	}
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode && n.Data == "form" && strings.EqualFold(attr(n, "method"), "post") && strings.HasPrefix(attr(n, "action"), "/") {
			f := sweepForm{action: attr(n, "action"), fields: url.Values{}}
			walkForm(n, &f)
			forms = append(forms, f)
			return
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range forms {
		for k := range f.fields {
			s.fields[k] = true
		}
		dup := false
		for _, g := range s.forms[role] {
			dup = dup || g.action == f.action
		}
		if !dup {
			s.forms[role] = append(s.forms[role], f)
		}
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// plausible is a value a person would type in an empty field.
func plausible(name, typ string) string {
	switch {
	case typ == "number" || strings.Contains(name, "amount") || strings.Contains(name, "percent") || strings.Contains(name, "days"):
		return "1"
	case typ == "date" || strings.Contains(name, "date"):
		return time.Now().AddDate(0, 0, 2).Format("2006-01-02")
	case typ == "email" || name == "email":
		return "sweep@example.com"
	case typ == "url" || name == "url":
		return "https://example.com/hook"
	case name == "bin":
		return "100000000007"
	case typ == "hidden":
		return ""
	}
	return "Sweep text"
}

// dangerous forms end the sessions or access the other forms rely on: they run last.
func dangerous(action string) bool {
	for _, x := range []string{"logout", "delete", "revoke", "suspend", "block", "remove", "archive", "switch", "/role", "disable"} {
		if strings.Contains(action, x) {
			return true
		}
	}
	return false
}

// formPass fills every form the crawl found as a person would, with one field at a
// time holding a payload: what a route accepts as text gets stored, and the final
// crawl shows whether it is escaped wherever it appears.
func (s *sweep) formPass(roles []string) {
	payloads := []string{"' OR 1=1--" + xssScript, xssImg, xssURL, hostileText, "-1", "99999999999999999999999"}
	done := map[string]bool{} // a form several roles see is filled by the first
	for _, role := range roles {
		var forms []sweepForm
		for _, f := range s.forms[role] {
			shape := digits.ReplaceAllString(f.action, "N")
			if !done[shape] {
				done[shape] = true
				forms = append(forms, f)
			}
		}
		sort.SliceStable(forms, func(i, j int) bool { return !dangerous(forms[i].action) && dangerous(forms[j].action) })
		var jobs, last []func()
		for _, f := range forms {
			job := func() {
				c := s.client(role)
				for field := range f.fields {
					if field == "_csrf" {
						continue
					}
					for _, p := range payloads {
						v := url.Values{}
						for k, vs := range f.fields {
							v[k] = append([]string(nil), vs...)
						}
						v.Set(field, p)
						v.Set("_csrf", c.CSRF())
						a := s.send("forms", c, http.MethodPost, f.action, []byte(v.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
						s.check(fmt.Sprintf("form %s as %s, %s=%.40q", f.action, role, field, p), a)
					}
				}
				if len(f.files) > 0 {
					s.uploadHostile(c, role, f)
				}
			}
			if dangerous(f.action) {
				last = append(last, job)
			} else {
				jobs = append(jobs, job)
			}
		}
		parallel(4, jobs)
		for _, j := range last {
			j()
		}
	}
}

// uploadHostile sends a form with files: a script named as an image, a traversing file
// name, and a payload in the name.
func (s *sweep) uploadHostile(c *apptest.Client, role string, f sweepForm) {
	for _, file := range []struct{ name, content string }{
		{"../../../etc/passwd", "root:x:0:0"},
		{xssImg + ".png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xff\xff\xff\xff\xff\xff\xff"},
		{"a.svg", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`},
		{"x.jpg", xssScript},
	} {
		var b bytes.Buffer
		fmt.Fprintf(&b, "--sweep\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n", c.CSRF())
		for k, vs := range f.fields {
			if k != "_csrf" && len(vs) > 0 {
				fmt.Fprintf(&b, "--sweep\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", k, vs[0])
			}
		}
		for _, name := range f.files {
			fmt.Fprintf(&b, "--sweep\r\nContent-Disposition: form-data; name=%q; filename=%q\r\nContent-Type: image/png\r\n\r\n%s\r\n", name, file.name, file.content)
		}
		b.WriteString("--sweep--\r\n")
		a := s.send("upload", c, http.MethodPost, f.action, b.Bytes(), map[string]string{"Content-Type": "multipart/form-data; boundary=sweep"})
		s.check(fmt.Sprintf("upload to %s as %s, %q", f.action, role, file.name), a)
	}
}

// storedPayloads counts, per table, the rows whose text holds a script payload.
func (s *sweep) storedPayloads() map[string]int {
	ctx := context.Background()
	db := s.f.env.App.DB.SQL
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if s.f.env.Config.DatabaseURL != "" {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	rows, err := db.QueryContext(ctx, q)
	apptest.Must(s.t, err)
	var tables []string
	for rows.Next() {
		var n string
		apptest.Must(s.t, rows.Scan(&n))
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string]int{}
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		apptest.Must(s.t, err)
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			apptest.Must(s.t, rows.Scan(ptrs...))
			for _, v := range vals {
				var text string
				switch v := v.(type) {
				case string:
					text = v
				case []byte:
					text = string(v)
				}
				if strings.Contains(text, "<script>alert(1)") || strings.Contains(text, "onerror=alert(1)") {
					out[table]++
					break
				}
			}
		}
		rows.Close()
	}
	return out
}

// headerPass: NUL bytes and invalid UTF-8 in the headers the platform reads (no Go
// client sends a NUL in a header, so these go over a bare connection).
func (s *sweep) headerPass() {
	u, _ := url.Parse(s.f.env.Server.URL)
	s.restore()
	member := s.f.env.Client()
	member.SignIn(8960, "Headers") // a member with no booking yet
	var cookies []string
	for _, ck := range member.HTTP.Jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	session := strings.Join(cookies, "; ")
	token := member.CSRF()
	book := `{"offer_id":` + apptest.Itoa(s.f.offerA) + `,"comment":"x"}`
	api := "/api/partner/v1/bookings/" + s.f.bookingA + "/confirm"
	for i, bad := range []string{"a\x00b", "\xff\xfe\xd0", "\x00"} {
		book := strings.Replace(book, `"x"`, `"`+apptest.Itoa(i)+`"`, 1)
		for _, r := range []struct {
			what, method, path, body string
			headers                  []string
		}{
			{"Idempotency-Key (member API)", "POST", "/api/v1/bookings", book, []string{"Cookie: " + session, "X-CSRF-Token: " + token, "Content-Type: application/json", "Idempotency-Key: " + bad}},
			{"Idempotency-Key (POS API)", "POST", api, "{}", []string{"Authorization: Bearer " + s.f.keySecret, "Content-Type: application/json", "Idempotency-Key: " + bad}},
			{"Authorization", "GET", "/api/partner/v1/offers", "", []string{"Authorization: Bearer " + bad}},
			{"Authorization (key)", "GET", "/api/partner/v1/offers", "", []string{"Authorization: Bearer " + s.f.keySecret + bad}},
			{"X-CSRF-Token", "POST", "/app/notifications/read", "", []string{"Cookie: " + session, "X-CSRF-Token: " + bad}},
			{"Cookie", "GET", "/app", "", []string{"Cookie: " + session + bad + "; lang=" + bad + "; partner=" + bad}},
			{"X-Request-ID", "GET", "/app", "", []string{"Cookie: " + session, "X-Request-ID: " + bad}},
			{"Accept-Language", "GET", "/login", "", []string{"Accept-Language: " + bad}},
			{"Referer and Origin", "POST", "/lang", "lang=en", []string{"Cookie: " + session, "X-CSRF-Token: " + token, "Content-Type: application/x-www-form-urlencoded", "Referer: " + bad, "Origin: " + bad}},
		} {
			status := rawRequest(s.t, s.f.env, r.method, r.path, r.headers, r.body)
			s.mu.Lock()
			s.counts["headers"]++
			s.mu.Unlock()
			if status >= 500 || status == 0 {
				s.t.Errorf("%s holding %q: %d", r.what, bad, status)
			}
		}
	}
}

// rawRequest sends a request exactly as given over a bare connection and returns the
// status (0: no answer).
func rawRequest(t *testing.T, env *apptest.Env, method, path string, headers []string, body string) int {
	u, _ := url.Parse(env.Server.URL)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Errorf("dial: %v", err)
		return 0
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: %d\r\n", method, path, u.Host, len(body))
	for _, h := range headers {
		fmt.Fprintf(conn, "%s\r\n", h)
	}
	fmt.Fprintf(conn, "\r\n%s", body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
