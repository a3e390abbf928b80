package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"ikra/app/terms"
	"ikra/app/web/ui"
)

// termsPage shows the current version of a document (terms.Offer or terms.Privacy) to
// anyone, signed in or not.
func (s *Server) termsPage(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := terms.Latest(c.UserContext(), s.db, kind)
		if errors.Is(err, terms.ErrNotFound) {
			return ui.ErrNotFound
		}
		if err != nil {
			return err
		}
		p := s.render.Page(c, "", fiber.Map{"Version": v, "Body": markdown(v.Body, v.Title)})
		p.Title = v.Title
		return c.Render("public/terms", p, ui.LayoutPublic)
	}
}
