package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/ent/member"
	"ikra/ent/session"
)

// hostileText holds what PostgreSQL refuses in a text column: a NUL byte and invalid UTF-8.
const hostileText = "Ай\x00гуль\xff\xfe\xd0"

// hostileFields are the form and query fields the handlers read, and a few more.
var hostileFields = []string{"q", "next", "lang", "reason", "slug", "key", "partner_id", "telegram_id", "before",
	"status", "code", "amount", "entry_id", "referral_percent", "reversal_days", "welcome", "role", "confirm",
	"initData", "title", "name", "description", "text", "comment", "first_name", "username"}

// Every route, as a member, as partner staff and as a superadmin, with NUL and invalid
// UTF-8 in every field it may read, in its path parameters and in the User-Agent:
// the answer is a 4xx or a success with the text cleaned, never a 5xx. On PostgreSQL
// this is what matters (SQLite stored such text).
func TestHostileTextNeverFails(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	place := env.Place()
	p := env.Partner(place, "Партнёр")
	o := env.Offer(place, p.ID, "Ужин")
	_, victim := env.Member(9701, "Жертва")
	b, err := env.App.DB.Booking.Create().SetCode("H0STILE1").SetMemberID(victim.ID).SetOfferID(o.ID).SetPartnerID(p.ID).Save(ctx)
	apptest.Must(t, err)
	actors := map[string]int64{"member": 9702, "owner": 9703, "superadmin": 9704}
	for role, tg := range actors {
		_, m := env.Member(tg, role)
		var partner *int
		if role == "owner" {
			partner = &p.ID
		}
		if role != "member" {
			_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, m.ID, role, partner)
			apptest.Must(t, err)
		}
	}
	params := func(path string, hostile bool) string {
		var out []string
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, ":") || seg == "*" {
				switch {
				case hostile:
					seg = url.PathEscape(hostileText)
				case seg == ":code":
					seg = b.Code
				case strings.HasPrefix(path, "/app/offers") || strings.HasPrefix(path, "/partner/offers"):
					seg = apptest.Itoa(o.ID)
				case strings.HasPrefix(path, "/admin/members"):
					seg = apptest.Itoa(victim.ID)
				case seg == "*":
					seg = "offers/1/x.png"
				default:
					seg = "1"
				}
			}
			out = append(out, seg)
		}
		return strings.Join(out, "/")
	}
	query := url.Values{}
	for _, f := range hostileFields {
		query.Set(f, hostileText)
	}
	for _, rt := range env.App.Web.Routes {
		for role, tg := range actors {
			for _, hostilePath := range []bool{false, true} {
				c := env.Client()
				c.SignIn(tg, role)
				form := url.Values{}
				for k, v := range query {
					form[k] = v
				}
				form.Set("_csrf", c.CSRF())
				target := params(rt.Path, hostilePath) + "?" + query.Encode()
				var body *strings.Reader
				if rt.Method != "GET" {
					body = strings.NewReader(form.Encode())
				} else {
					body = strings.NewReader("")
				}
				req, _ := http.NewRequest(rt.Method, env.URL(target), body)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-CSRF-Token", c.CSRF())
				req.Header.Set("User-Agent", "Mozilla\xff\xfe/5.0")
				if r := c.Do(req); r.Status >= 500 {
					t.Errorf("%s %s as %s: %d", rt.Method, target, role, r.Status)
				}
			}
		}
	}

	// JSON strings with \u0000 and a raw NUL in a multipart field.
	c := env.Client()
	r := c.Send("POST", "/tg/auth", "application/json", strings.NewReader(`{"initData":"user=%7B%7D\u0000&hash=\u0000\udcff"}`))
	if r.Status >= 500 || r.Status < 400 {
		t.Errorf("JSON with NUL to /tg/auth: %d", r.Status)
	}
	mc, _ := env.Member(9705, "Мульти")
	token := mc.CSRF()
	mp := "--x\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n" + token + "\r\n" +
		"--x\r\nContent-Disposition: form-data; name=\"lang\"\r\n\r\nen\x00\xff\r\n--x--\r\n"
	if r := mc.Send("POST", "/app/settings/language", "multipart/form-data; boundary=x", strings.NewReader(mp)); r.Status >= 500 {
		t.Errorf("multipart with NUL: %d", r.Status)
	}

	// Sign-in with a dirty User-Agent registers the member and starts a session whose
	// stored User-Agent is clean; a dirty name in the widget's fields is refused.
	su := env.Client()
	req, _ := http.NewRequest("GET", env.URL("/auth/telegram?"+apptest.WidgetQuery(9706, "Нур", time.Now()).Encode()), nil)
	req.Header.Set("User-Agent", "Mozilla\xff/5.0 "+strings.Repeat("Ж", 200))
	if r := su.Do(req); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in with an invalid User-Agent: %d", r.Status)
	}
	s, err := env.App.DB.Session.Query().Where(session.HasMemberWith(member.TelegramID(9706))).Only(ctx)
	apptest.Must(t, err)
	if !utf8.ValidString(s.UserAgent) || !strings.HasPrefix(s.UserAgent, "Mozilla\uFFFD/5.0 Ж") || len(s.UserAgent) > 300 {
		t.Errorf("stored User-Agent %q", s.UserAgent)
	}
	if r := env.Client().Get("/auth/telegram?" + apptest.WidgetQuery(9707, "Нур\x00\xff", time.Now()).Encode()); r.Status >= 500 {
		t.Errorf("widget sign-in with a dirty name: %d", r.Status)
	}

	// A raw NUL in the User-Agent header, which no Go client sends: over a bare connection.
	for _, ua := range []string{"Mozilla\x00/5.0", "Mozilla\xff/5.0"} {
		status := rawGet(t, env, "/auth/telegram?"+apptest.WidgetQuery(9708, "Raw", time.Now()).Encode(), ua)
		if status >= 500 {
			t.Errorf("raw User-Agent %q: %d", ua, status)
		}
	}

	// Whatever was stored is valid text.
	for _, m := range env.App.DB.Member.Query().AllX(ctx) {
		for _, v := range []string{m.FirstName, m.LastName, m.Username, m.BlockedReason} {
			if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
				t.Errorf("member %d stored %q", m.ID, v)
			}
		}
	}
	for _, s := range env.App.DB.Session.Query().AllX(ctx) {
		if strings.ContainsRune(s.UserAgent, 0) || !utf8.ValidString(s.UserAgent) {
			t.Errorf("session stored User-Agent %q", s.UserAgent)
		}
	}
}

// rawGet sends a GET with the User-Agent exactly as given and returns the status.
func rawGet(t *testing.T, env *apptest.Env, path, ua string) int {
	t.Helper()
	u, _ := url.Parse(env.Server.URL)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	apptest.Must(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n", path, u.Host, ua)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("raw request: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
