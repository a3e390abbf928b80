// Package bot is IKRA's Telegram bot, on github.com/go-telegram/bot through app/tgapi:
// members join (with referral and offer deep links), browse their personal catalog,
// book, see their bookings, balance and invitation link and talk to the care service;
// partner staff confirm, decline and redeem bookings. Every rule is the domain
// packages'; the bot only routes updates, keeps a short conversation state and draws
// keyboards. It never keeps a phone number.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"ikra/app/authz"
	"ikra/app/bookings"
	"ikra/app/catalog"
	"ikra/app/i18n"
	"ikra/app/images"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/maintenance"
	"ikra/app/media"
	"ikra/app/members"
	"ikra/app/partners"
	"ikra/app/support"
	"ikra/app/tgapi"
	"ikra/ent"
)

// Deps is what the bot needs. API, Members and Catalog are required; a nil service turns
// its flows off.
type Deps struct {
	API     *tgapi.Client
	Members *members.Service
	Catalog *i18n.Catalog
	// BaseURL is the site's public address; the Mini App is BaseURL+"/tg".
	BaseURL string
	// BotUsername makes invitation links t.me/<bot>?start=ref_CODE ("" uses BaseURL/r/CODE).
	BotUsername string
	Log         *slog.Logger
	// Redis keeps the IDs of handled updates and each chat's conversation state, under
	// Prefix. Without it (or while it is down) updates are handled without the
	// duplicate check and conversations start over.
	Redis  redis.UniversalClient
	Prefix string

	Maintenance *maintenance.Service
	Support     *support.Service
	Offers      *catalog.Service
	Bookings    *bookings.Service
	Ledger      *ledger.Ledger
	Loyalty     *loyalty.Service
	History     *loyalty.History
	Staff       *partners.Staff
	Authz       *authz.Enforcer
	Media       media.Store
	Images      *images.Service
	DB          *ent.Client
}

// Bot answers updates.
type Bot struct {
	Deps
	api *tgapi.Client
	// commands, callbacks and inputs route messages ("/balance"), callback queries (by
	// the data's part before the first ':') and free text in a conversation state (by
	// the state's kind).
	commands  map[string]handler
	callbacks map[string]handler
	inputs    map[string]handler
}

// handler answers one request; errReplied (or nil) means it is done.
type handler func(r *Req) error

// errReplied stops a flow whose answer has been sent (a refusal, say).
var errReplied = errors.New("bot: replied")

// New returns the bot with its routes.
func New(d Deps) *Bot {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	b := &Bot{Deps: d, api: d.API, commands: map[string]handler{}, callbacks: map[string]handler{}, inputs: map[string]handler{}}
	b.memberRoutes()
	b.staffRoutes()
	return b
}

// almaty is the zone times are shown in.
var almaty = maintenance.Almaty

// HandleUpdate answers one update as Telegram sends it (the webhook's body), once: an
// update already handled here or on another node is skipped. An update that cannot be
// decoded is logged and dropped, since delivering it again would not help. An error
// means Telegram should deliver the update again.
func (b *Bot) HandleUpdate(ctx context.Context, raw []byte) error {
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		b.Log.Warn("bot update undecodable", "update_id", updateID(raw), "err", err)
		return nil
	}
	return b.HandleOnce(ctx, &u)
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

// seenTTL is how long an update's ID is remembered: Telegram gives up redelivering
// long before.
const seenTTL = 48 * time.Hour

// HandleOnce handles u unless its ID was claimed before (by a webhook retry, a second
// node, a poll after a restart). A failed update's claim is released, so that the
// redelivery is handled.
func (b *Bot) HandleOnce(ctx context.Context, u *models.Update) error {
	key := b.Prefix + "tg:update:" + strconv.FormatInt(u.ID, 10)
	claimed := false
	if b.Redis != nil && u.ID != 0 {
		ok, err := b.Redis.SetNX(ctx, key, 1, seenTTL).Result()
		switch {
		case err != nil:
			// Redis is down: answering twice is better than not at all.
			b.Log.Warn("bot update not checked for duplicates", "update_id", u.ID, "err", err)
		case !ok:
			b.Log.Debug("bot update already handled", "update_id", u.ID)
			return nil
		default:
			claimed = true
		}
	}
	err := b.Handle(ctx, u)
	if err != nil && claimed {
		rel, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if derr := b.Redis.Del(rel, key).Err(); derr != nil {
			b.Log.Warn("bot update claim not released", "update_id", u.ID, "err", derr)
		}
	}
	return err
}

// Handle answers one update. Only private chats with people are served.
func (b *Bot) Handle(ctx context.Context, u *models.Update) error {
	r := b.request(ctx, u)
	if r == nil {
		return nil
	}
	err := b.dispatch(r)
	if r.Callback != nil && !r.answered {
		// A callback left unanswered keeps the button's spinner going.
		r.Toast("")
	}
	if errors.Is(err, errReplied) {
		return nil
	}
	return err
}

// request builds the request of u, nil when the bot does not answer it.
func (b *Bot) request(ctx context.Context, u *models.Update) *Req {
	r := &Req{Ctx: ctx, Update: u, b: b}
	switch {
	case u.Message != nil:
		m := u.Message
		if m.From == nil || m.From.IsBot || m.Chat.Type != models.ChatTypePrivate {
			return nil
		}
		r.From, r.ChatID = m.From, m.Chat.ID
		r.Text = strings.TrimSpace(m.Text)
		if r.Text == "" {
			r.Text = strings.TrimSpace(m.Caption)
		}
		if strings.HasPrefix(r.Text, "/") {
			cmd, arg, _ := strings.Cut(r.Text, " ")
			cmd, _, _ = strings.Cut(cmd, "@") // "/start@ikra_bot"
			r.Cmd, r.Arg = strings.ToLower(cmd), strings.TrimSpace(arg)
		}
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		if q.From.IsBot {
			return nil
		}
		r.Callback, r.From = q, &q.From
		if m := q.Message.Message; m != nil {
			if m.Chat.Type != models.ChatTypePrivate {
				return nil
			}
			r.ChatID, r.MessageID = m.Chat.ID, m.ID
			r.photoMessage = len(m.Photo) > 0
		} else {
			r.ChatID = q.From.ID // an inaccessible (old) message: answer in a new one
		}
		r.Cmd, r.Arg, _ = strings.Cut(q.Data, ":")
	default:
		return nil
	}
	r.Lang = i18n.Supported(r.From.LanguageCode)
	if r.Lang == "" {
		r.Lang = i18n.Default
	}
	return r
}

func (b *Bot) dispatch(r *Req) error {
	if b.Maintenance != nil {
		if st, _ := b.Maintenance.Current(r.Ctx); st.On {
			text := r.T("bot.maintenance")
			if !st.Until.IsZero() {
				text += " " + r.T("maintenance.until", st.Until.In(almaty).Format("02.01.2006 15:04"))
			}
			if r.Callback != nil {
				r.Alert(text)
				return nil
			}
			return r.Plain(text)
		}
	}
	if err := r.load(); err != nil {
		return err
	}
	if m := r.Update.Message; m != nil {
		if m.Contact != nil {
			// A shared contact carries a phone number: it is discarded, not stored.
			return r.Plain(r.T("bot.contact_discarded"))
		}
		if r.Cmd != "" {
			if h, ok := b.commands[r.Cmd]; ok {
				r.ClearState()
				return h(r)
			}
			return b.commands["/help"](r)
		}
		if kind, data := r.State(); kind != "" {
			if h, ok := b.inputs[kind]; ok {
				r.StateData = data
				return h(r)
			}
		}
		return b.commands[""](r)
	}
	if h, ok := b.callbacks[r.Cmd]; ok {
		return h(r)
	}
	r.Toast(r.T("bot.stale_button"))
	return nil
}

// Commands lists the bot's commands for Telegram's command menu, by language.
func (b *Bot) Commands(lang string) []models.BotCommand {
	var out []models.BotCommand
	for _, c := range []string{"start", "catalog", "bookings", "balance", "invite", "support", "lang", "redeem", "help"} {
		out = append(out, models.BotCommand{Command: c, Description: b.Catalog.T(lang, "bot.cmd."+c)})
	}
	return out
}

// MiniAppURL is the Mini App's address with an optional path to open after sign-in.
func (b *Bot) MiniAppURL(next string) string {
	if next == "" {
		return b.BaseURL + "/tg"
	}
	return b.BaseURL + "/tg?next=" + next
}

// WelcomePath opens the Mini App (its entry page signs the member in) and then the
// welcome screen of interests, city and language.
const WelcomePath = "/tg?next=/app/welcome"

func (b *Bot) logErr(msg string, err error, args ...any) {
	if err != nil && !errors.Is(err, errReplied) {
		b.Log.Warn(msg, append(args, "err", err)...)
	}
}

var _ = fmt.Sprintf
