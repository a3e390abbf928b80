package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/scraping"
	"ikra/app/web/ui"
)

// maxEvidence caps the length of a page's path and query kept as evidence.
const maxEvidence = 200

// watch counts a read of an offer (kind scraping.Offers, the :id parameter) or of a
// catalog page (scraping.Pages; on /app only a page with a cursor or a filter, the
// first page being what every visit opens) and, for a member or an address over the
// limits, waits the slowdown before the handler runs. It never refuses the request.
func (s *Server) watch(kind scraping.Kind) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.scraping == nil {
			return c.Next()
		}
		r := scraping.Request{IP: ui.IP(c), Kind: kind}
		if v := ui.ViewerOf(c); v != nil {
			r.MemberID = v.ID()
		}
		switch kind {
		case scraping.Offers:
			r.Item = strings.Clone(c.Params("id"))
		default:
			q := string(c.Request().URI().QueryString())
			if c.Path() == "/app" && q == "" {
				return c.Next()
			}
			item := c.Path()
			if q != "" {
				item += "?" + q
			}
			if len(item) > maxEvidence {
				item = item[:maxEvidence]
			}
			r.Item = strings.ToValidUTF8(item, "")
		}
		s.scraping.Observe(c.UserContext(), r)
		return c.Next()
	}
}
