package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"ikra/app/i18n"
	"ikra/app/members"
	"ikra/app/tgapi"
	"ikra/ent"
)

// Req is one update being answered: who sent it, in which chat and language, and the
// command (or callback) with its argument.
type Req struct {
	Ctx    context.Context
	Update *models.Update
	// ChatID is the private chat to answer in; From is the person.
	ChatID int64
	From   *models.User
	// Lang is the member's language, or Telegram's for someone not yet a member.
	Lang string
	// Text is a message's text (or a photo's caption), trimmed.
	Text string
	// Cmd and Arg are "/start" and its payload for a command message, or the callback
	// data's route and the rest ("bk" and "12:confirm" for "bk:12:confirm").
	Cmd, Arg string
	// Callback is the callback query, with MessageID the message its button is on.
	Callback  *models.CallbackQuery
	MessageID int
	// Member is the sender's membership, nil when they have none yet.
	Member *ent.Member
	// StateData is the data of the conversation state an input handler runs in.
	StateData string

	b            *Bot
	answered     bool
	photoMessage bool
}

// T translates key into the request's language.
func (r *Req) T(key string, args ...any) string { return r.b.Catalog.T(r.Lang, key, args...) }

// E escapes text for an HTML message.
func E(s string) string { return html.EscapeString(s) }

// load finds the sender's membership; a blocked member gets the block message and
// nothing else.
func (r *Req) load() error {
	m, err := r.b.Members.ByTelegramID(r.Ctx, r.From.ID)
	switch {
	case errors.Is(err, members.ErrBlocked):
		if r.Callback != nil {
			r.Alert(r.T("bot.blocked"))
			return errReplied
		}
		if err := r.Plain(r.T("bot.blocked")); err != nil {
			return err
		}
		return errReplied
	case errors.Is(err, members.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("bot: member of %d: %w", r.From.ID, err)
	}
	r.Member = m
	if l := i18n.Supported(m.Language); l != "" {
		r.Lang = l
	}
	return nil
}

// NeedMember returns the sender's membership, or asks them to /start and stops.
func (r *Req) NeedMember() (*ent.Member, error) {
	if r.Member != nil {
		return r.Member, nil
	}
	kb := &tgapi.Keyboard{Rows: [][]tgapi.Button{{{Text: r.T("bot.button_start"), Data: "start"}}}}
	if err := r.Send(r.T("bot.sign_up_first"), kb); err != nil {
		return nil, err
	}
	return nil, errReplied
}

// Plain sends text without markup.
func (r *Req) Plain(text string) error {
	_, err := r.b.api.Send(r.Ctx, r.ChatID, text, tgapi.SendOptions{})
	return err
}

// Send sends an HTML message with an optional keyboard.
func (r *Req) Send(text string, kb *tgapi.Keyboard) error {
	_, err := r.SendID(text, kb)
	return err
}

// SendID is Send that returns the new message's ID.
func (r *Req) SendID(text string, kb *tgapi.Keyboard) (int, error) {
	p := &tgbot.SendMessageParams{ChatID: r.ChatID, Text: text, ParseMode: models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()}}
	if m := kb.Markup(); m != nil {
		p.ReplyMarkup = m
	}
	msg, err := r.b.api.API().SendMessage(r.Ctx, p)
	if err != nil {
		return 0, r.b.api.Wrap(err)
	}
	return msg.ID, nil
}

// Show answers a button by editing the message it is on, as a native bot does; it sends
// a new message when there is none to edit (a command, a photo card, an old message).
func (r *Req) Show(text string, kb *tgapi.Keyboard) error {
	if r.Callback == nil || r.MessageID == 0 || r.photoMessage {
		return r.Send(text, kb)
	}
	p := &tgbot.EditMessageTextParams{ChatID: r.ChatID, MessageID: r.MessageID, Text: text, ParseMode: models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()}}
	if m := kb.Markup(); m != nil {
		p.ReplyMarkup = m
	}
	_, err := r.b.api.API().EditMessageText(r.Ctx, p)
	err = r.b.api.Wrap(err)
	switch {
	case err == nil, tgapi.IsNotModified(err):
		return nil
	case tgapi.IsPermanent(err):
		// The message can no longer be edited (too old, deleted): say it anew.
		return r.Send(text, kb)
	}
	return err
}

// Photo is a picture to send: a public URL Telegram fetches, or bytes uploaded.
type Photo struct {
	URL  string
	Name string
	Data io.Reader
}

// SendPhoto sends a photo with an HTML caption and an optional keyboard.
func (r *Req) SendPhoto(ph Photo, caption string, kb *tgapi.Keyboard) error {
	var file models.InputFile = &models.InputFileString{Data: ph.URL}
	if ph.Data != nil {
		file = &models.InputFileUpload{Filename: ph.Name, Data: ph.Data}
	}
	p := &tgbot.SendPhotoParams{ChatID: r.ChatID, Photo: file, Caption: caption, ParseMode: models.ParseModeHTML}
	if m := kb.Markup(); m != nil {
		p.ReplyMarkup = m
	}
	_, err := r.b.api.API().SendPhoto(r.Ctx, p)
	return r.b.api.Wrap(err)
}

// Refuse says why a request cannot be done: as an alert over the button pressed, or as
// a message to a command.
func (r *Req) Refuse(key string, args ...any) error {
	if r.Callback != nil {
		r.Alert(r.T(key, args...))
		return nil
	}
	return r.Plain(r.T(key, args...))
}

// Toast answers the callback with a short notice ("" just stops the spinner).
func (r *Req) Toast(text string) {
	r.answerCallback(text, false)
}

// Alert answers the callback with a notice the person must dismiss.
func (r *Req) Alert(text string) {
	r.answerCallback(text, true)
}

func (r *Req) answerCallback(text string, alert bool) {
	if r.Callback == nil || r.answered {
		return
	}
	r.answered = true
	_, err := r.b.api.API().AnswerCallbackQuery(r.Ctx, &tgbot.AnswerCallbackQueryParams{
		CallbackQueryID: r.Callback.ID, Text: text, ShowAlert: alert})
	r.b.logErr("bot callback not answered", r.b.api.Wrap(err))
}

// stateTTL is how long the bot waits for the next message of a conversation (a booking
// comment, a code to redeem, an amount).
const stateTTL = 15 * time.Minute

func (r *Req) stateKey() string { return r.b.Prefix + "tg:state:" + strconv.FormatInt(r.ChatID, 10) }

// Expect makes the chat's next plain message go to the input handler of kind, with data.
func (r *Req) Expect(kind, data string) error {
	if r.b.Redis == nil {
		return errors.New("bot: no conversation state without Redis")
	}
	if err := r.b.Redis.Set(r.Ctx, r.stateKey(), kind+"|"+data, stateTTL).Err(); err != nil {
		return fmt.Errorf("bot: keep conversation state: %w", err)
	}
	return nil
}

// State returns the chat's conversation state; "" when there is none (or Redis is down:
// the conversation starts over).
func (r *Req) State() (kind, data string) {
	if r.b.Redis == nil {
		return "", ""
	}
	v, err := r.b.Redis.Get(r.Ctx, r.stateKey()).Result()
	if err != nil {
		return "", ""
	}
	kind, data, _ = strings.Cut(v, "|")
	return kind, data
}

// ClearState ends the chat's conversation.
func (r *Req) ClearState() {
	if r.b.Redis == nil {
		return
	}
	if err := r.b.Redis.Del(r.Ctx, r.stateKey()).Err(); err != nil {
		r.b.Log.Warn("bot conversation state not cleared", "err", err)
	}
}

// Buttons builds a keyboard: each argument is a row.
func Buttons(rows ...[]tgapi.Button) *tgapi.Keyboard {
	var k tgapi.Keyboard
	for _, row := range rows {
		if len(row) > 0 {
			k.Rows = append(k.Rows, row)
		}
	}
	return &k
}

// Row is a keyboard row.
func Row(bs ...tgapi.Button) []tgapi.Button { return bs }

// Data is a callback button.
func Data(text, data string) tgapi.Button { return tgapi.Button{Text: text, Data: data} }

// Link is a button that opens a link.
func Link(text, url string) tgapi.Button { return tgapi.Button{Text: text, URL: url} }

// App is a button that opens the Mini App at url; Telegram allows it only for https
// addresses, so elsewhere (local runs) it is a plain link.
func App(text, url string) tgapi.Button {
	if strings.HasPrefix(url, "https://") {
		return tgapi.Button{Text: text, WebApp: &tgapi.WebApp{URL: url}}
	}
	return tgapi.Button{Text: text, URL: url}
}
