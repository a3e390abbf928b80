package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/web/ui"
)

// maintenanceOpen lists what stays reachable in maintenance mode for everyone: sign-in
// (so staff can sign in), signing out, the language switch, the bot's webhook (the bot
// answers a short notice itself) and the back office (whose guard lets only staff in).
// /healthz, /readyz and /assets are served before this middleware.
func maintenanceOpen(path string) bool {
	switch path {
	case "/login", "/tg", "/tg/auth", "/logout", "/lang", "/admin":
		return true
	}
	for _, p := range []string{"/auth/", "/admin/", "/telegram/webhook/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// maintenanceGate answers every request from anyone but platform staff with 503 and the
// maintenance page (JSON under /api) while the mode is on, with Retry-After: the
// seconds until the expected end, at least a minute. The mode is read through the
// settings cache, so a warm request costs no query.
func (s *Server) maintenanceGate(c *fiber.Ctx) error {
	if s.maintenance == nil || maintenanceOpen(c.Path()) {
		return c.Next()
	}
	st, err := s.maintenance.Current(c.UserContext())
	if err != nil {
		s.log.Warn("maintenance mode unreadable; serving", "err", err)
	}
	if !st.On {
		return c.Next()
	}
	if v := ui.ViewerOf(c); v != nil && v.IsStaff() {
		return c.Next()
	}
	now := time.Now()
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(st.RetryAfter(now)/time.Second)))
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(fiber.StatusServiceUnavailable)
	l := s.render.Locale(c)
	msg := st.Message
	if msg == "" {
		msg = l.T("maintenance.default")
	}
	until := ""
	if !st.Until.IsZero() {
		until = st.Until.In(almaty).Format("02.01.2006 15:04")
	}
	if ui.IsAPI(c) {
		body := fiber.Map{"code": "maintenance", "message": msg, "request_id": ui.RequestID(c)}
		if until != "" {
			body["until"] = st.Until.UTC().Format(time.RFC3339)
		}
		return c.JSON(fiber.Map{"error": body})
	}
	p := s.render.Page(c, "maintenance.title", fiber.Map{"Message": msg, "Until": until})
	return c.Render("public/maintenance", p, ui.LayoutPublic)
}
