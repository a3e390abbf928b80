package web

import (
	"crypto/hmac"

	"github.com/gofiber/fiber/v2"

	"ikra/app/web/ui"
)

// webhook receives the bot's updates from Telegram. The secret is both in the path and
// in Telegram's X-Telegram-Bot-Api-Secret-Token header; anything else is 404.
func (s *Server) webhook(c *fiber.Ctx) error {
	secret := s.cfg.WebhookSecret
	if s.onUpdate == nil || secret == "" ||
		!hmac.Equal([]byte(c.Params("secret")), []byte(secret)) ||
		!hmac.Equal([]byte(c.Get("X-Telegram-Bot-Api-Secret-Token")), []byte(secret)) {
		return ui.ErrNotFound
	}
	// An error answers 500 so that Telegram delivers the update again; handling is
	// idempotent (sign-in finds the member the first attempt registered).
	if err := s.onUpdate(c.UserContext(), c.Body()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusOK)
}
