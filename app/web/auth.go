package web

import (
	"context"
	"errors"
	"ikra/app/catalog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/auth"
	"ikra/app/auth/telegram"
	"ikra/app/demo"
	"ikra/app/i18n"
	"ikra/app/members"
	"ikra/app/web/ui"
)

// home sends a signed-in user to their workspace and shows the landing page otherwise.
func (s *Server) home(c *fiber.Ctx) error {
	if v := ui.ViewerOf(c); v != nil {
		return c.Redirect(landing(v), fiber.StatusSeeOther)
	}
	return s.render.Render(c, ui.LayoutPublic, "public/home", "home.title", nil)
}

// landing is where a user goes after sign-in: the workspace of their highest role.
func landing(v *ui.Viewer) string {
	switch {
	case v.Channel == "tg":
		return "/app"
	case v.IsStaff():
		return "/admin"
	case v.IsPartnerStaff():
		return "/partner"
	}
	return "/app"
}

// login shows the Telegram Login Widget (and the demo accounts in demo mode).
func (s *Server) login(c *fiber.Ctx) error {
	if v := ui.ViewerOf(c); v != nil {
		return c.Redirect(landing(v), fiber.StatusSeeOther)
	}
	// Telegram adds its signed fields to this URL; next rides along unsigned and is
	// checked again (safeNext) after the signature, in signIn.
	authURL := s.cfg.BaseURL + "/auth/telegram"
	if next := safeNext(c.Query("next")); next != "/" {
		authURL += "?next=" + nextParam(next)
	}
	return s.render.Render(c, ui.LayoutPublic, "auth/login", "login.title", fiber.Map{
		"BotUsername": s.cfg.BotUsername,
		"AuthURL":     authURL,
		"Telegram":    s.cfg.TelegramEnabled(),
	})
}

// widgetFields are the fields Telegram's Login Widget signs; only they enter the
// data-check string. Others in the callback URL (next) are ours, and unsigned.
var widgetFields = map[string]bool{"id": true, "first_name": true, "last_name": true, "username": true,
	"photo_url": true, "auth_date": true, "hash": true}

// widgetCallback receives the Login Widget's redirect, verifies it and signs in.
func (s *Server) widgetCallback(c *fiber.Ctx) error {
	q := c.Request().URI().QueryArgs()
	values := map[string][]string{}
	q.VisitAll(func(k, v []byte) {
		if widgetFields[string(k)] {
			values[string(k)] = append(values[string(k)], string(v))
		}
	})
	if !s.cfg.TelegramEnabled() {
		return ui.Fail(fiber.StatusUnauthorized, "error.telegram_off", nil)
	}
	u, err := telegram.VerifyWidget(values, s.cfg.BotToken, s.cfg.AuthMaxAge, time.Now())
	if err != nil {
		s.log.Warn("widget sign-in refused", "request_id", ui.RequestID(c), "reason", err.Error(), "ip_tag", s.ipTag(c))
		return signInError(err)
	}
	// The widget's signed data carries no language_code: a new member gets the language
	// they were browsing in (the one they chose, else their browser's); the domain
	// uses it on the first sign-in only.
	lang := u.LanguageCode
	if lang == "" {
		lang = visitorLanguage(c)
	}
	return s.signIn(c, members.Identity{TelegramID: u.ID, FirstName: u.FirstName, LastName: u.LastName,
		Username: u.Username, PhotoURL: u.PhotoURL, Language: lang}, "web", "ref_"+c.Cookies("ikra_ref"), false)
}

// miniAppAuth receives the Mini App's initData (form field or JSON), verifies it and signs in.
func (s *Server) miniAppAuth(c *fiber.Ctx) error {
	var body struct {
		InitData string `json:"initData" form:"initData"`
	}
	if err := c.BodyParser(&body); err != nil || body.InitData == "" {
		return ui.Fail(fiber.StatusBadRequest, "error.bad_request", err)
	}
	if !s.cfg.TelegramEnabled() {
		return ui.Fail(fiber.StatusUnauthorized, "error.telegram_off", nil)
	}
	d, err := telegram.VerifyInitData(body.InitData, s.cfg.BotToken, s.cfg.AuthMaxAge, time.Now())
	if err != nil {
		s.log.Warn("mini app sign-in refused", "request_id", ui.RequestID(c), "reason", err.Error(), "ip_tag", s.ipTag(c))
		return signInError(err)
	}
	return s.signIn(c, members.Identity{TelegramID: d.User.ID, FirstName: d.User.FirstName, LastName: d.User.LastName,
		Username: d.User.Username, PhotoURL: d.User.PhotoURL, Language: d.User.LanguageCode}, "tg", d.StartParam, wantsJSON(c))
}

// wantsJSON reports whether the client sent or asked for JSON (the Mini App's script).
func wantsJSON(c *fiber.Ctx) bool {
	return strings.Contains(c.Get(fiber.HeaderContentType), "json") || strings.Contains(c.Get(fiber.HeaderAccept), "json")
}

func signInError(err error) error {
	key := "error.signin_invalid"
	if errors.Is(err, telegram.ErrStale) {
		key = "error.signin_stale"
	}
	return ui.Fail(fiber.StatusUnauthorized, key, err)
}

// signIn registers or finds the member, starts a fresh session and sets its cookie.
func (s *Server) signIn(c *fiber.Ctx, id members.Identity, channel, startParam string, asJSON bool) error {
	ctx := c.UserContext()
	// Registration, the welcome bonus and the welcome notification are the domain's.
	m, _, err := s.members.SignIn(ctx, id, channel, startParam)
	if errors.Is(err, members.ErrBlocked) {
		return ui.Fail(fiber.StatusForbidden, "error.blocked", err)
	}
	if err != nil {
		return err
	}
	// A previous session in this browser ends: the new one gets a new ID.
	if old := c.Cookies(sessionCookie); old != "" {
		if cur, err := s.sessions.Lookup(ctx, old); err == nil {
			_ = s.sessions.Revoke(ctx, cur.MemberID, cur.SessionID)
		}
	}
	token, err := s.sessions.Start(ctx, m.ID, channel, c.Get(fiber.HeaderUserAgent), ui.IP(c))
	if err != nil {
		return err
	}
	cookie := &fiber.Cookie{Name: sessionCookie, Value: token, Path: "/", HTTPOnly: true,
		SameSite: "Lax", Secure: s.secure(c), Expires: time.Now().Add(s.sessions.TTL())}
	if channel == "tg" && cookie.Secure {
		cookie.SameSite = "None" // Telegram's web clients frame the Mini App
	}
	c.Cookie(cookie)
	s.log.Info("signed in", "member_id", m.ID, "channel", channel)
	v, err := s.viewer(c, auth.Current{MemberID: m.ID, Channel: channel})
	if err != nil {
		return err
	}
	dest := landing(v)
	if next := safeNext(c.Query("next")); next != "/" {
		dest = next
	} else if page, ok := s.startPage(ctx, m.ID, startParam); ok {
		dest = page
	}
	if asJSON {
		return c.JSON(fiber.Map{"ok": true, "redirect": dest})
	}
	return c.Redirect(dest, fiber.StatusSeeOther)
}

// startPage is the page a start payload opens after sign-in: "offer_ID" opens that
// offer when the member may see it. The payload must come from signed data (the Mini
// App's start_param), never from the URL.
func (s *Server) startPage(ctx context.Context, memberID int, startParam string) (string, bool) {
	id, ok := catalog.StartOffer(startParam)
	if !ok {
		return "", false
	}
	if _, err := s.catalog.Offer(ctx, memberID, id); err != nil {
		return "", false // unknown, closed or not for this member: the cabinet instead
	}
	return "/app/offers/" + strconv.Itoa(id), true
}

// miniApp is the Mini App's entry page: its script posts initData to /tg/auth.
// Telegram adds tgWebAppStartParam to the URL of a direct link (startapp=...): that
// copy is unsigned, so a member already signed in still goes through /tg/auth, where
// the signed start_param decides.
func (s *Server) miniApp(c *fiber.Ctx) error {
	if v := ui.ViewerOf(c); v != nil && v.Channel == "tg" && c.Query("tgWebAppStartParam") == "" {
		dest := "/app"
		if next := safeNext(c.Query("next")); next != "/" {
			dest = next // the bot's welcome button opens /tg?next=/app/welcome
		}
		return c.Redirect(dest, fiber.StatusSeeOther)
	}
	return s.render.Render(c, ui.LayoutPublic, "tg/entry", "tg.title", fiber.Map{"Telegram": s.cfg.TelegramEnabled()})
}

// demoList shows the demo accounts; without demo mode it does not exist.
func (s *Server) demoList(c *fiber.Ctx) error {
	if !s.cfg.Demo {
		return ui.ErrNotFound
	}
	return s.render.Render(c, ui.LayoutPublic, "auth/demo", "demo.title", fiber.Map{"Accounts": demo.Accounts})
}

// demoSignIn signs in as a demo account with one click.
func (s *Server) demoSignIn(c *fiber.Ctx) error {
	if !s.cfg.Demo {
		return ui.ErrNotFound
	}
	tgID, err := strconv.ParseInt(c.FormValue("telegram_id"), 10, 64)
	if err != nil {
		return ui.ErrBadRequest
	}
	acc, ok := demo.Find(tgID)
	if !ok {
		return ui.ErrNotFound
	}
	return s.signIn(c, members.Identity{TelegramID: acc.TelegramID, FirstName: acc.FirstName, LastName: acc.LastName,
		Username: acc.Username, Language: acc.Language}, "web", "", false)
}

// logout ends this device's session.
func (s *Server) logout(c *fiber.Ctx) error {
	if v := ui.ViewerOf(c); v != nil {
		if err := s.sessions.Revoke(c.UserContext(), v.ID(), v.SessionID); err != nil {
			return err
		}
	}
	s.clearCookie(c, sessionCookie)
	return c.Redirect("/", fiber.StatusSeeOther)
}

// setLang switches the interface language: the member's setting when signed in, a
// cookie otherwise.
func (s *Server) setLang(c *fiber.Ctx) error {
	lang := i18n.Supported(c.FormValue("lang"))
	if lang == "" {
		return ui.ErrBadRequest
	}
	if v := ui.ViewerOf(c); v != nil {
		if err := s.members.SetLanguage(c.UserContext(), v.ID(), lang); err != nil {
			return err
		}
	}
	c.Cookie(&fiber.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 86400, HTTPOnly: true, SameSite: "Lax", Secure: s.secure(c)})
	return c.Redirect(safeNext(c.FormValue("next")), fiber.StatusSeeOther)
}

// switchPartner changes the partner a staff member of several acts for.
func (s *Server) switchPartner(c *fiber.Ctx) error {
	v := ui.ViewerOf(c)
	want := c.FormValue("partner_id")
	for _, p := range v.Partners {
		if itoa(p.PartnerID) == want {
			c.Cookie(&fiber.Cookie{Name: partnerCookie, Value: want, Path: "/partner", HTTPOnly: true, SameSite: "Lax", Secure: s.secure(c)})
			return ui.Redirect(c, "/partner", "ok", "flash.partner_switched")
		}
	}
	return ui.ErrNotFound
}

// healthz: the process is up.
func (s *Server) healthz(c *fiber.Ctx) error { return c.SendString("ok") }

// readyz: the database, Redis and the media store answer; 503 names what does not.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	out := fiber.Map{}
	failed := false
	for part, err := range s.ready(ctx) {
		if err != nil {
			out[part] = "fail: " + err.Error()
			failed = true
		} else {
			out[part] = "ok"
		}
	}
	if failed {
		c.Status(fiber.StatusServiceUnavailable)
	}
	return c.JSON(out)
}

// asset serves a fingerprinted embedded asset with a year-long cache lifetime.
func (s *Server) asset(c *fiber.Ctx) error {
	b, ct, ok := s.assets.Open(c.Params("*"))
	if !ok {
		return ui.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(b)
}

func itoa(n int) string { return strconv.Itoa(n) }
