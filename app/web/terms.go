package web

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/terms"
	"ikra/app/web/ui"
)

// termsSeenCookie holds the newest terms version whose notice this browser dismissed.
const termsSeenCookie = "ikra_terms_seen"

// termsPage shows the current version of a document (terms.Offer or terms.Privacy) to
// anyone, signed in or not, with the list of earlier versions.
func (s *Server) termsPage(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := terms.Latest(c.UserContext(), s.db, kind)
		if errors.Is(err, terms.ErrNotFound) {
			return ui.ErrNotFound
		}
		if err != nil {
			return err
		}
		return s.renderTerms(c, kind, v.Version)
	}
}

// termsVersion shows one earlier (or the current) version of a document
// (GET /terms/v/:version, /privacy/v/:version).
func (s *Server) termsVersion(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error { return s.renderTerms(c, kind, c.Params("version")) }
}

func (s *Server) renderTerms(c *fiber.Ctx, kind, version string) error {
	now := time.Now()
	v, err := s.terms.Version(c.UserContext(), kind, version, now)
	if errors.Is(err, terms.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	all, err := s.terms.Versions(c.UserContext(), kind, now)
	if err != nil {
		return err
	}
	base := "/terms"
	if kind == terms.Privacy {
		base = "/privacy"
	}
	p := s.render.Page(c, "", fiber.Map{"Version": v, "Body": markdown(v.Body, v.Title), "Versions": all,
		"Current": len(all) > 0 && all[0].ID == v.ID, "Base": base})
	p.Title = v.Title
	return c.Render("public/terms", p, ui.LayoutPublic)
}

// termsUse records, on a signed-in member's request, their acceptance by continued use
// of the versions in effect (terms.Service.UseBy), and puts the notice of new or
// scheduled versions on member pages. Both come from caches: a warm request issues no
// query. A failure is logged and the request served.
func (s *Server) termsUse(c *fiber.Ctx) error {
	v := ui.ViewerOf(c)
	if v == nil || bearerPath(c.Path()) {
		return c.Next()
	}
	ctx := c.UserContext()
	now := time.Now()
	if err := s.terms.UseBy(ctx, v.ID(), v.Channel, now); err != nil {
		s.log.Warn("terms acceptance not recorded", "member_id", v.ID(), "err", err)
	}
	if c.Method() == fiber.MethodGet && !ui.IsAPI(c) {
		seen, _ := strconv.Atoi(c.Cookies(termsSeenCookie))
		notice, err := s.terms.Notice(ctx, seen, now)
		if err != nil {
			s.log.Warn("terms notice", "err", err)
		}
		ui.SetTermsNotice(c, notice)
	}
	return c.Next()
}

// dismissTerms hides, in this browser, the notice of every version published so far
// (POST /app/terms/seen), and goes back to the page it was on.
func (s *Server) dismissTerms(c *fiber.Ctx) error {
	newest, err := s.terms.Newest(c.UserContext())
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: termsSeenCookie, Value: strconv.Itoa(newest), Path: "/", MaxAge: 400 * 24 * 3600,
		HTTPOnly: true, Secure: s.cfg.Secure(), SameSite: fiber.CookieSameSiteLaxMode})
	return c.Redirect(safeNext(c.FormValue("next")), fiber.StatusSeeOther)
}
