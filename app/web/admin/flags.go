package admin

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"ikra/app/scraping"
	"ikra/app/web/ui"
)

// Flags show staff the members and addresses flagged for harvesting the catalog.
type Flags struct {
	render   *ui.Renderer
	scraping *scraping.Service
}

// NewFlags returns the flags' handlers.
func NewFlags(r *ui.Renderer, s *scraping.Service) *Flags {
	return &Flags{render: r, scraping: s}
}

// List shows the latest flags, newest first, with their evidence.
func (h *Flags) List(c *fiber.Ctx) error {
	list, err := h.scraping.List(c.UserContext(), 200)
	if err != nil {
		return err
	}
	v := ui.ViewerOf(c)
	return h.render.Render(c, ui.LayoutAdmin, "admin/flags", "admin.flags.title",
		fiber.Map{"Flags": list, "MayReview": v.CanPlatform("members:block")})
}

// Review marks a flag reviewed.
func (h *Flags) Review(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	err = h.scraping.Review(c.UserContext(), actor(c), id)
	if errors.Is(err, scraping.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, "/admin/flags", "ok", "flash.flag_reviewed")
}
