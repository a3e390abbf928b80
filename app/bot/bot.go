// Package bot is IKRA's Telegram bot: it signs members up through /start (with
// referral deep links), opens the Mini App, and never keeps a phone number.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"ikra/app/i18n"
	"ikra/app/maintenance"
	"ikra/app/members"
	"ikra/app/support"
	"ikra/app/tgapi"
)

// Update is the part of a Telegram update the bot reads.
type Update struct {
	UpdateID int64    `json:"update_id"`
	Message  *Message `json:"message"`
}

// Message is an incoming message.
type Message struct {
	MessageID int64           `json:"message_id"`
	From      *User           `json:"from"`
	Chat      Chat            `json:"chat"`
	Text      string          `json:"text"`
	Contact   json.RawMessage `json:"contact"` // read only to know one was sent; never stored
}

// User is a Telegram user.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Username     string `json:"username"`
	LanguageCode string `json:"language_code"`
}

// Chat is the chat a message came from.
type Chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

// Sender sends messages through the Bot API.
type Sender interface {
	SendMessage(ctx context.Context, chatID int64, text string, opts tgapi.SendOptions) error
}

// Bot answers updates.
type Bot struct {
	members *members.Service
	send    Sender
	catalog *i18n.Catalog
	baseURL string
	log     *slog.Logger
	// maintenance, when set and on, makes every answer a short notice.
	maintenance *maintenance.Service
	support     *support.Service
}

// SetSupport lets members write to the care service from the bot (/support and plain
// text to an active thread); nil turns that off.
func (b *Bot) SetSupport(s *support.Service) { b.support = s }

// New returns the bot.
func New(m *members.Service, send Sender, cat *i18n.Catalog, baseURL string, log *slog.Logger) *Bot {
	return &Bot{members: m, send: send, catalog: cat, baseURL: baseURL, log: log}
}

// SetMaintenance makes the bot answer a short notice instead of its normal reply while
// the maintenance mode is on (for everyone, staff too).
func (b *Bot) SetMaintenance(m *maintenance.Service) { b.maintenance = m }

// almaty is the zone the expected end of maintenance is shown in.
var almaty = maintenance.Almaty

// HandleUpdate answers one update as Telegram sends it (the webhook's body). An update
// that cannot be decoded is logged and dropped: delivering it again would not help.
func (b *Bot) HandleUpdate(ctx context.Context, raw []byte) error {
	var u Update
	if err := json.Unmarshal(raw, &u); err != nil {
		b.log.Warn("bot update undecodable", "update_id", updateID(raw), "err", err)
		return nil
	}
	return b.Handle(ctx, u)
}

// updateID reads only the ID of an update whose other fields may not decode; 0 when
// even that fails.
func updateID(raw []byte) int64 {
	var u struct {
		UpdateID int64 `json:"update_id"`
	}
	_ = json.Unmarshal(raw, &u)
	return u.UpdateID
}

// Handle answers one update. Only private chats with people are served.
func (b *Bot) Handle(ctx context.Context, u Update) error {
	m := u.Message
	if m == nil || m.From == nil || m.From.IsBot || m.Chat.Type != "private" {
		return nil
	}
	lang := i18n.Supported(m.From.LanguageCode)
	if lang == "" {
		lang = i18n.Default
	}
	t := func(key string, args ...any) string { return b.catalog.T(lang, key, args...) }
	if b.maintenance != nil {
		if st, _ := b.maintenance.Current(ctx); st.On {
			text := t("bot.maintenance")
			if !st.Until.IsZero() {
				text += " " + t("maintenance.until", st.Until.In(almaty).Format("02.01.2006 15:04"))
			}
			return b.reply(ctx, m, text, tgapi.SendOptions{})
		}
	}
	if len(m.Contact) > 0 {
		// A shared contact carries a phone number: it is discarded, not stored.
		return b.reply(ctx, m, t("bot.contact_discarded"), tgapi.SendOptions{})
	}
	cmd, arg, _ := strings.Cut(strings.TrimSpace(m.Text), " ")
	cmd, _, _ = strings.Cut(cmd, "@") // "/start@ikra_bot" in groups
	switch cmd {
	case "/start":
		member, created, err := b.members.SignIn(ctx, members.Identity{
			TelegramID: m.From.ID, FirstName: m.From.FirstName, LastName: m.From.LastName,
			Username: m.From.Username, Language: m.From.LanguageCode,
		}, "bot", strings.TrimSpace(arg))
		if errors.Is(err, members.ErrBlocked) {
			return b.reply(ctx, m, t("bot.blocked"), tgapi.SendOptions{})
		}
		if err != nil {
			return fmt.Errorf("bot start: %w", err)
		}
		key := "bot.welcome_back"
		if created {
			key = "bot.welcome"
		}
		b.log.Info("bot start", "member_id", member.ID, "created", created)
		if members.OnboardingDue(member) {
			// Not onboarded yet: the button opens the Mini App at the interests screen,
			// and the text says it can be skipped and done later in settings.
			return b.reply(ctx, m, t(key, member.FirstName)+"\n\n"+t("bot.interests_note"), tgapi.SendOptions{
				ButtonText: t("bot.button_interests"), WebAppURL: b.baseURL + WelcomePath})
		}
		return b.reply(ctx, m, t(key, member.FirstName), b.openApp(t))
	case "/app":
		return b.reply(ctx, m, t("bot.open_app"), b.openApp(t))
	case "/support":
		return b.supportMessage(ctx, m, strings.TrimSpace(arg), true, t)
	default:
		if b.support != nil && !strings.HasPrefix(cmd, "/") && strings.TrimSpace(m.Text) != "" {
			return b.supportMessage(ctx, m, strings.TrimSpace(m.Text), false, t)
		}
		return b.reply(ctx, m, t("bot.help"), b.openApp(t))
	}
}

// supportMessage takes a member's message for the care service: /support opens a
// thread (or adds to the active one) and is answered with the acknowledgement; plain
// text goes to the active thread, and without one the help is shown. Once the message
// is stored a failed answer is only logged: Telegram delivering the update again
// would store it twice.
func (b *Bot) supportMessage(ctx context.Context, m *Message, text string, open bool, t func(string, ...any) string) error {
	if b.support == nil {
		return b.reply(ctx, m, t("bot.help"), b.openApp(t))
	}
	member, err := b.members.ByTelegramID(ctx, m.From.ID)
	switch {
	case errors.Is(err, members.ErrBlocked):
		return b.reply(ctx, m, t("bot.blocked"), tgapi.SendOptions{})
	case errors.Is(err, members.ErrNotFound) && !open:
		return b.reply(ctx, m, t("bot.help"), b.openApp(t))
	case errors.Is(err, members.ErrNotFound):
		return b.reply(ctx, m, t("bot.support_sign_up"), tgapi.SendOptions{})
	case err != nil:
		return fmt.Errorf("bot support: %w", err)
	}
	if open && text == "" {
		return b.reply(ctx, m, t("bot.support_usage"), tgapi.SendOptions{})
	}
	th, ack, err := b.support.FromBot(ctx, member.ID, text, open)
	var invalid *support.Invalid
	switch {
	case errors.Is(err, support.ErrNotFound) && !open:
		return b.reply(ctx, m, t("bot.help"), b.openApp(t))
	case errors.As(err, &invalid):
		return b.reply(ctx, m, t(invalid.Key), tgapi.SendOptions{})
	case err != nil:
		return fmt.Errorf("bot support: %w", err)
	}
	answer := t("bot.support_added", th.ID)
	if ack != nil {
		answer = ack.Body
	}
	if err := b.reply(ctx, m, answer, tgapi.SendOptions{}); err != nil {
		b.log.Warn("bot support answer not sent", "thread_id", th.ID, "err", err)
	}
	return nil
}

// WelcomePath opens the Mini App (its entry page signs the member in) and then the
// welcome screen of interests, city and language.
const WelcomePath = "/tg?next=/app/welcome"

func (b *Bot) openApp(t func(string, ...any) string) tgapi.SendOptions {
	return tgapi.SendOptions{ButtonText: t("bot.button_open"), WebAppURL: b.baseURL + "/tg"}
}

func (b *Bot) reply(ctx context.Context, m *Message, text string, opts tgapi.SendOptions) error {
	return b.send.SendMessage(ctx, m.Chat.ID, text, opts)
}
