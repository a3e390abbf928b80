package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"

	"ikra/app/auth"
	"ikra/app/authz"
	"ikra/app/i18n"
	"ikra/app/logtag"
	"ikra/app/web/ui"
	"ikra/ent"
	"ikra/ent/partner"
	"ikra/ent/staff"
)

const (
	sessionCookie = "ikra_session"
	anonCookie    = "ikra_anon"
	partnerCookie = "ikra_partner"
	langCookie    = "ikra_lang"
)

// requestContext assigns the request ID, decides the client address, turns an error or
// a panic into its response, and logs the request with the status the client got.
// The client address is not logged here: the rate limiter logs it when it refuses.
func (s *Server) requestContext(c *fiber.Ctx) (err error) {
	start := time.Now()
	id := c.Get("X-Request-ID")
	if !s.trusted(c.Context().RemoteIP()) || !validRequestID(id) {
		id = randomID(12)
	}
	ui.SetRequestID(c, id)
	c.Set("X-Request-ID", id)
	ui.SetIP(c, s.clientIP(c))
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic", "request_id", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = s.handleError(c, fmt.Errorf("panic: %v", v))
		}
		status := c.Response().StatusCode()
		took := time.Since(start)
		s.routeMetrics.of(c).Observe(status, took)
		attrs := []any{"request_id", id, "method", c.Method(), "path", loggedPath(c.Path()), "status", status,
			"duration_ms", took.Milliseconds()}
		if v := ui.ViewerOf(c); v != nil {
			attrs = append(attrs, "member_id", v.ID())
		}
		if k := ui.APIKeyOf(c); k != nil {
			attrs = append(attrs, "api_key_id", k.ID, "partner_id", k.PartnerID)
		}
		level := slog.LevelInfo
		switch {
		case status == fiber.StatusServiceUnavailable:
			level = slog.LevelWarn // the database or a dependency is down: passing
		case status >= 500:
			level = slog.LevelError
		}
		s.log.Log(c.UserContext(), level, "request", attrs...)
	}()
	// The error is answered here rather than by Fiber's error handler afterwards, so
	// that the status logged above is the one sent.
	if err := c.Next(); err != nil {
		return s.handleError(c, err)
	}
	return nil
}

// ipTag is how the client address appears in the log: a short keyed hash
// (logtag.Addr with the server secret), never the address itself.
func (s *Server) ipTag(c *fiber.Ctx) string { return logtag.Addr(s.secret, ui.IP(c)) }

// loggedPath is the path as the access log shows it: an invite link's token and the
// Telegram webhook's secret are credentials, so they are cut out.
func loggedPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/telegram/webhook/"); ok && rest != "" {
		return "/telegram/webhook/…"
	}
	if rest, ok := strings.CutPrefix(p, "/partner/invite/"); ok && rest != "" {
		if _, tail, ok := strings.Cut(rest, "/"); ok {
			return "/partner/invite/…/" + tail
		}
		return "/partner/invite/…"
	}
	return p
}

// validRequestID accepts a proxy's request ID only when it is short and plain.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// clientIP is the peer address, or — only when the peer is a trusted proxy — the
// right-most address in X-Forwarded-For that is not itself a trusted proxy.
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer := c.Context().RemoteIP()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(strings.TrimSpace(hops[i]))
		if ip == nil {
			break
		}
		if !s.trusted(ip) {
			return ip.String()
		}
	}
	return peer.String()
}

func (s *Server) trusted(ip net.IP) bool {
	for _, n := range s.proxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// secure: the public URL is https, the listener is, or a trusted proxy says so.
func (s *Server) secure(c *fiber.Ctx) bool {
	if s.cfg.Secure() || c.Context().IsTLS() {
		return true
	}
	return s.trusted(c.Context().RemoteIP()) && strings.EqualFold(c.Get(fiber.HeaderXForwardedProto), "https")
}

// securityHeaders sets the headers every response carries. The Mini App is framed by
// Telegram's web clients, so only /tg may be framed, and only by Telegram.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	frame := "'none'"
	if strings.HasPrefix(c.Path(), "/tg") || s.tgSession(c) {
		frame = "https://web.telegram.org https://*.telegram.org"
	} else {
		c.Set("X-Frame-Options", "DENY")
	}
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https://t.me https://*.telegram.org https://*.t.me; "+
		"script-src 'self' https://telegram.org; frame-src https://oauth.telegram.org; style-src 'self'; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors "+frame)
	if s.secure(c) {
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
	return c.Next()
}

func (s *Server) tgSession(c *fiber.Ctx) bool {
	v := ui.ViewerOf(c)
	return v != nil && v.Channel == "tg"
}

// syncNodes catches this node up with the permission and settings changes of the
// other nodes before the request reads them, so that a role granted, revoked or a
// maintenance switch on one node holds on this one from the next request on. When
// Redis cannot tell, the request goes on with what this node knows.
func (s *Server) syncNodes(c *fiber.Ctx) error {
	if s.sync == nil {
		return c.Next()
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	err := s.sync(ctx)
	cancel()
	if err != nil && c.UserContext().Err() == nil {
		s.log.Warn("catching up with the other nodes failed", "request_id", ui.RequestID(c), "err", err)
	}
	return c.Next()
}

// loadSession reads the session cookie; a live session puts the viewer in the context.
// An unknown or dead token is ignored and its cookie cleared: the server never adopts
// a session ID it did not issue.
func (s *Server) loadSession(c *fiber.Ctx) error {
	if bearerPath(c.Path()) {
		// The POS/CRM API knows only its bearer keys: a session cookie is not read,
		// and no cookie is set.
		lang := i18n.FromAcceptLanguage(c.Get(fiber.HeaderAcceptLanguage))
		if lang == "" {
			lang = i18n.Default
		}
		ui.SetLang(c, lang)
		return c.Next()
	}
	token := c.Cookies(sessionCookie)
	if token != "" {
		// The visitor's language until the member's is known: an error page for a
		// failed lookup (the database down) is then in the language they chose.
		ui.SetLang(c, s.language(c))
		cur, err := s.sessions.Lookup(c.UserContext(), token)
		switch {
		case errors.Is(err, auth.ErrNoSession):
			s.clearCookie(c, sessionCookie)
		case err != nil:
			return err
		default:
			v, err := s.viewer(c, cur)
			if err != nil {
				return err
			}
			if v != nil {
				ui.SetViewer(c, v)
			}
		}
	}
	ui.SetLang(c, s.language(c))
	ui.SetCSRF(c, s.csrfToken(c))
	return c.Next()
}

// viewer loads the member and their roles for a live session, through the cache: a
// change to the member, to anyone's staff roles or to a partner forgets the cached
// rows on every node (app/cache), so a member removed from a partner loses it at once.
func (s *Server) viewer(c *fiber.Ctx, cur auth.Current) (*ui.Viewer, error) {
	ctx := c.UserContext()
	m, err := s.rows.Member(ctx, cur.MemberID)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := &ui.Viewer{Member: m, SessionID: cur.SessionID, Channel: cur.Channel,
		Can: func(domain, perm string) bool { return s.authz.Can(m.ID, domain, perm) }}
	v.Platform = s.authz.Roles(m.ID, authz.Platform)
	if s.roles != nil {
		v.Partners, err = s.roles.Get(ctx, m.ID)
	} else {
		v.Partners, err = s.loadRoles(ctx, m.ID)
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// loadRoles reads a member's partner roles. Staff of a suspended partner keep them,
// with its status: the portal shows them why.
func (s *Server) loadRoles(ctx context.Context, memberID int) ([]ui.PartnerRole, error) {
	rows, err := s.db.Staff.Query().
		Where(staff.MemberID(memberID), staff.PartnerIDNotNil()).
		WithPartner().
		Order(ent.Asc(staff.FieldPartnerID)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	var out []ui.PartnerRole
	for _, r := range rows {
		p := r.Edges.Partner
		out = append(out, ui.PartnerRole{PartnerID: *r.PartnerID, Name: p.Name, Role: string(r.Role),
			Suspended: p.Status == partner.StatusSuspended, SuspendedReason: p.SuspendedReason})
	}
	return out, nil
}

// language: the cookie a visitor chose, the member's own setting, then the browser's.
func (s *Server) language(c *fiber.Ctx) string {
	if v := ui.ViewerOf(c); v != nil {
		if l := i18n.Supported(v.Member.Language); l != "" {
			return l
		}
	}
	if l := i18n.Supported(c.Cookies(langCookie)); l != "" {
		return l
	}
	if l := i18n.FromAcceptLanguage(c.Get(fiber.HeaderAcceptLanguage)); l != "" {
		return l
	}
	return i18n.Default
}

// visitorLanguage is the language of a visitor regardless of who is signed in: the
// cookie they chose, else their browser's; "" when neither names a supported one.
func visitorLanguage(c *fiber.Ctx) string {
	if l := i18n.Supported(c.Cookies(langCookie)); l != "" {
		return l
	}
	return i18n.FromAcceptLanguage(c.Get(fiber.HeaderAcceptLanguage))
}

// csrfToken is bound to the session, or to an anonymous cookie before sign-in, and
// signed with the server secret; every unsafe request must echo it.
func (s *Server) csrfToken(c *fiber.Ctx) string {
	binding := ""
	if v := ui.ViewerOf(c); v != nil {
		binding = "s:" + v.SessionID
	} else {
		anon := c.Cookies(anonCookie)
		if len(anon) != 22 {
			anon = randomID(16)
			c.Cookie(&fiber.Cookie{Name: anonCookie, Value: anon, Path: "/", HTTPOnly: true, SameSite: "Lax", Secure: s.secure(c), MaxAge: 86400})
			c.Request().Header.SetCookie(anonCookie, anon)
		}
		binding = "a:" + anon
	}
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("csrf|" + binding))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// checkCSRF refuses an unsafe request without the right token (form field _csrf or
// header X-CSRF-Token).
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if strings.HasPrefix(c.Path(), "/telegram/webhook/") {
		return c.Next() // authenticated by Telegram's secret header instead
	}
	if bearerPath(c.Path()) {
		// Authenticated by the Authorization header alone, which a browser never adds
		// to a cross-site request by itself: there is no cookie to ride on.
		return c.Next()
	}
	got := c.Get("X-CSRF-Token")
	if got == "" {
		got = bodyField(c, "_csrf")
	}
	want := ui.CSRF(c)
	if got == "" || !hmac.Equal([]byte(got), []byte(want)) {
		return ui.ErrCSRF
	}
	return c.Next()
}

// bearerPrefix is where the POS/CRM API lives: bearer keys only, no cookies.
const bearerPrefix = "/api/partner/v1/"

// bearerPath reports whether path belongs to the POS/CRM API. Fiber routes are
// case-insensitive and ignore a trailing slash, so the test is too.
func bearerPath(path string) bool {
	p := strings.ToLower(path)
	return strings.HasPrefix(p, bearerPrefix) || p+"/" == bearerPrefix
}

// bodyField is a field of a URL-encoded or multipart form body. Unlike c.FormValue it
// never reads the query string: a token in a URL leaks through logs and referrers.
func bodyField(c *fiber.Ctx, name string) string {
	req := c.Request()
	if v := req.PostArgs().Peek(name); len(v) > 0 {
		return string(v)
	}
	if f, err := req.MultipartForm(); err == nil && len(f.Value[name]) > 0 {
		return f.Value[name][0]
	}
	return ""
}

// bodyLimit refuses bodies larger than n bytes on routes that take small input.
func bodyLimit(n int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if len(c.Body()) > n {
			return ui.Fail(fiber.StatusRequestEntityTooLarge, "error.too_large", nil)
		}
		return c.Next()
	}
}

// rateLimit allows perMinute requests per key per minute as a token bucket (GCRA, in
// Redis, shared by every node): a full bucket admits a burst of perMinute, then one
// request every minute/perMinute, so no moment of the clock admits twice the limit.
// The key is the API key on the POS/CRM API, the member when signed in, and the client
// address otherwise (never a header from an untrusted peer). Without Redis the limit
// fails open.
func (s *Server) rateLimit(name string, perMinute int) fiber.Handler {
	limit := redis_rate.PerMinute(perMinute)
	return func(c *fiber.Ctx) error {
		key := "ip:" + ui.IP(c)
		if v := ui.ViewerOf(c); v != nil {
			key = "m:" + strconv.Itoa(v.ID())
		}
		if k := ui.APIKeyOf(c); k != nil {
			key = "k:" + strconv.Itoa(k.ID)
		}
		if err := s.limited(c, name, key, limit); err != nil {
			return err
		}
		return c.Next()
	}
}

// limited takes one request from the bucket of limit name and key: nil while the
// bucket admits it, else ui.ErrTooMany with Retry-After set and a warning logged.
func (s *Server) limited(c *fiber.Ctx, name, key string, limit redis_rate.Limit) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), time.Second)
	res, err := s.limiter.Allow(ctx, s.prefix+"rl:"+name+":"+key, limit)
	cancel()
	if err != nil {
		s.log.Warn("rate limit unavailable", "request_id", ui.RequestID(c), "limit", name, "err", err)
		return nil // fail open: Redis trouble must not take the site down
	}
	if res.Allowed > 0 {
		return nil
	}
	wait := int64(math.Ceil(res.RetryAfter.Seconds()))
	if wait < 1 {
		wait = 1
	}
	c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(wait, 10))
	attrs := []any{"request_id", ui.RequestID(c), "limit", name, "path", loggedPath(c.Path()), "ip_tag", s.ipTag(c)}
	if v := ui.ViewerOf(c); v != nil {
		attrs = append(attrs, "member_id", v.ID())
	}
	if k := ui.APIKeyOf(c); k != nil {
		attrs = append(attrs, "api_key_id", k.ID)
	}
	s.log.Warn("rate limited", attrs...)
	return ui.ErrTooMany
}

// clearCookie removes a cookie. On HTTPS the removal is SameSite=None so that it also
// works inside Telegram's framed Mini App, where a Lax cookie from the frame is refused.
func (s *Server) clearCookie(c *fiber.Ctx, name string) {
	secure := s.secure(c)
	sameSite := "Lax"
	if secure {
		sameSite = "None"
	}
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", HTTPOnly: true, Secure: secure, SameSite: sameSite,
		MaxAge: -1, Expires: time.Unix(1, 0)})
}

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
