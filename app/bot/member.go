package bot

import (
	"errors"
	"fmt"
	"strings"

	"ikra/app/members"
	"ikra/app/support"
)

// memberRoutes are the member's commands, buttons and conversation inputs.
func (b *Bot) memberRoutes() {
	b.commands["/start"] = b.start
	b.commands["/app"] = b.openApp
	b.commands["/help"] = b.help
	b.commands["/support"] = func(r *Req) error { return b.supportMessage(r, r.Arg, true) }
	b.commands[""] = b.plainText
	b.callbacks["start"] = b.start
}

// start signs the member up or in: a new member gets the welcome (and the welcome bonus,
// by the membership rules); the payload "ref_CODE" attributes the invitation.
func (b *Bot) start(r *Req) error {
	member, created, err := b.Members.SignIn(r.Ctx, members.Identity{
		TelegramID: r.From.ID, FirstName: r.From.FirstName, LastName: r.From.LastName,
		Username: r.From.Username, Language: r.From.LanguageCode,
	}, "bot", r.Arg)
	if errors.Is(err, members.ErrBlocked) {
		return r.Plain(r.T("bot.blocked"))
	}
	if err != nil {
		return fmt.Errorf("bot start: %w", err)
	}
	r.Member = member
	key := "bot.welcome_back"
	if created {
		key = "bot.welcome"
	}
	b.Log.Info("bot start", "member_id", member.ID, "created", created)
	if members.OnboardingDue(member) {
		return r.Send(E(r.T(key, member.FirstName))+"\n\n"+E(r.T("bot.interests_note")),
			Buttons(Row(App(r.T("bot.button_interests"), b.BaseURL+WelcomePath))))
	}
	return r.Send(E(r.T(key, member.FirstName)), Buttons(Row(App(r.T("bot.button_open"), b.MiniAppURL("")))))
}

func (b *Bot) openApp(r *Req) error {
	return r.Send(E(r.T("bot.open_app")), Buttons(Row(App(r.T("bot.button_open"), b.MiniAppURL("")))))
}

func (b *Bot) help(r *Req) error {
	return r.Send(E(r.T("bot.help")), Buttons(Row(App(r.T("bot.button_open"), b.MiniAppURL("")))))
}

// plainText is a message outside any conversation: it continues the member's open care
// thread, or gets the help.
func (b *Bot) plainText(r *Req) error {
	if b.Support != nil && r.Text != "" && r.Member != nil {
		return b.supportMessage(r, r.Text, false)
	}
	return b.help(r)
}

// supportMessage takes a member's message for the care service: /support opens a
// thread (or adds to the active one) and is answered with the acknowledgement; plain
// text goes to the active thread, and without one the help is shown. Once the message
// is stored a failed answer is only logged: Telegram delivering the update again
// would store it twice.
func (b *Bot) supportMessage(r *Req, text string, open bool) error {
	if b.Support == nil {
		return b.help(r)
	}
	if r.Member == nil {
		if !open {
			return b.help(r)
		}
		return r.Plain(r.T("bot.support_sign_up"))
	}
	text = strings.TrimSpace(text)
	if open && text == "" {
		return r.Plain(r.T("bot.support_usage"))
	}
	th, ack, err := b.Support.FromBot(r.Ctx, r.Member.ID, text, open)
	var invalid *support.Invalid
	switch {
	case errors.Is(err, support.ErrNotFound) && !open:
		return b.help(r)
	case errors.As(err, &invalid):
		return r.Plain(r.T(invalid.Key))
	case err != nil:
		return fmt.Errorf("bot support: %w", err)
	}
	answer := r.T("bot.support_added", th.ID)
	if ack != nil {
		answer = ack.Body
	}
	b.logErr("bot support answer not sent", r.Plain(answer), "thread_id", th.ID)
	return nil
}
