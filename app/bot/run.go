package bot

import (
	"context"
	"errors"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"ikra/app/i18n"
)

// AllowedUpdates are the kinds of update the bot asks Telegram for.
var AllowedUpdates = []string{"message", "callback_query"}

// WebhookPath is where Telegram posts updates; the secret is part of the path and is
// also checked in the X-Telegram-Bot-Api-Secret-Token header.
func WebhookPath(secret string) string { return "/telegram/webhook/" + secret }

// Setup tells Telegram how to reach the bot: the webhook at BaseURL (when secret is
// set), or no webhook so that long polling works. It also sets the command menu in each
// language and, for an https site, the menu button that opens the Mini App.
func (b *Bot) Setup(ctx context.Context, secret string) error {
	api := b.api.API()
	if secret != "" {
		_, err := api.SetWebhook(ctx, &tgbot.SetWebhookParams{
			URL: b.BaseURL + WebhookPath(secret), SecretToken: secret, AllowedUpdates: AllowedUpdates})
		if err != nil {
			return b.api.Wrap(err)
		}
	} else if _, err := api.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil {
		return b.api.Wrap(err)
	}
	for _, lang := range append([]string{""}, i18n.Languages...) {
		lc := lang
		if lc == "" {
			lc = i18n.Default
		}
		if _, err := api.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: b.Commands(lc), LanguageCode: lang}); err != nil {
			b.Log.Warn("bot commands not set", "lang", lang, "err", b.api.Wrap(err))
		}
	}
	if App("", b.MiniAppURL("")).WebApp != nil {
		_, err := api.SetChatMenuButton(ctx, &tgbot.SetChatMenuButtonParams{MenuButton: models.MenuButtonWebApp{
			Type: models.MenuButtonTypeWebApp, Text: b.Catalog.T(i18n.Default, "bot.button_open"),
			WebApp: models.WebAppInfo{URL: b.MiniAppURL("")}}})
		if err != nil {
			b.Log.Warn("bot menu button not set", "err", b.api.Wrap(err))
		}
	}
	return nil
}

// Poll receives updates by long polling and handles them one at a time until ctx ends.
// A failing update is tried three times, then logged and skipped, so that one bad
// update cannot stall the bot; Telegram being unreachable only delays polling.
func (b *Bot) Poll(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := b.Setup(ctx, ""); err == nil {
			break
		} else if ctx.Err() == nil {
			b.Log.Warn("bot setup", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	poller, err := b.api.Poller(30*time.Second,
		tgbot.WithDefaultHandler(func(ctx context.Context, _ *tgbot.Bot, u *models.Update) { b.handlePolled(ctx, u) }),
		tgbot.WithNotAsyncHandlers(),
		// Unbuffered: an update is confirmed to Telegram (by the next poll's offset) only
		// once the handler has taken it, so a crash loses at most the one in hand.
		tgbot.WithUpdatesChannelCap(0),
		tgbot.WithAllowedUpdates(AllowedUpdates),
		tgbot.WithErrorsHandler(func(err error) {
			if !errors.Is(err, context.Canceled) {
				b.Log.Warn("bot poll", "err", b.api.Wrap(err))
			}
		}),
	)
	if err != nil {
		return err
	}
	poller.Start(ctx)
	return nil
}

// retryWait is the pause before the nth retry of a failing update.
func retryWait(n int) time.Duration { return time.Duration(n) * time.Second }

func (b *Bot) handlePolled(ctx context.Context, u *models.Update) {
	for try := 1; ; try++ {
		err := b.HandleOnce(ctx, u)
		if err == nil || ctx.Err() != nil {
			return
		}
		if try == 3 {
			b.Log.Error("bot update failed", "update_id", u.ID, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryWait(try)):
		}
	}
}
