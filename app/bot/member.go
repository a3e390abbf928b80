package bot

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"ikra/app/bookings"
	"ikra/app/catalog"
	"ikra/app/i18n"
	"ikra/app/ledger"
	"ikra/app/members"
	"ikra/app/support"
	"ikra/app/tgapi"
	"ikra/ent"
)

// memberRoutes are the member's commands, buttons and conversation inputs.
func (b *Bot) memberRoutes() {
	b.commands["/start"] = b.start
	b.commands["/menu"] = b.menu
	b.commands["/app"] = b.openApp
	b.commands["/help"] = b.help
	b.commands["/catalog"] = b.catalog
	b.commands["/bookings"] = b.bookingList
	b.commands["/balance"] = b.balance
	b.commands["/invite"] = b.invite
	b.commands["/lang"] = b.langChoice
	b.commands["/support"] = func(r *Req) error {
		if r.Arg == "" {
			return b.supportPrompt(r)
		}
		return b.supportMessage(r, r.Arg, true)
	}
	b.commands[""] = b.plainText

	// Moving elsewhere by a button ends a conversation, as a command does; the booking
	// steps keep theirs.
	fresh := func(h handler) handler {
		return func(r *Req) error {
			r.ClearState()
			return h(r)
		}
	}
	b.callbacks["start"] = fresh(b.start)
	b.callbacks["menu"] = fresh(b.menu)
	b.callbacks["cat"] = fresh(b.catalog) // cat:<category ID, 0 for the personal selection>:<page>
	b.callbacks["of"] = b.offerCard
	b.callbacks["bn"] = b.bookAsk     // bn:<offer ID>: the confirmation
	b.callbacks["bc"] = b.bookComment // bc:<offer ID>: type a comment and a date
	b.callbacks["bo"] = b.bookConfirm // bo:<offer ID>: book
	b.callbacks["bl"] = fresh(b.bookingList)
	b.callbacks["qr"] = b.bookingQR // qr:<booking ID>
	b.callbacks["bal"] = fresh(b.balance)
	b.callbacks["inv"] = fresh(b.invite)
	b.callbacks["sup"] = b.supportPrompt
	b.callbacks["lang"] = fresh(b.langChoice)
	b.callbacks["lg"] = fresh(b.setLang) // lg:<language>

	b.inputs["book"] = b.bookNote
	b.inputs["support"] = func(r *Req) error {
		r.ClearState()
		return b.supportMessage(r, r.Text, true)
	}
}

// start signs the member up or in. A new member gets the welcome with the terms they
// accept by joining (and the welcome bonus, by the membership rules); "ref_CODE"
// attributes the invitation and "offer_ID" opens that offer after the greeting.
func (b *Bot) start(r *Req) error {
	payload := r.Arg
	if r.Callback != nil {
		payload = ""
	}
	member, created, err := b.Members.SignIn(r.Ctx, members.Identity{
		TelegramID: r.From.ID, FirstName: r.From.FirstName, LastName: r.From.LastName,
		Username: r.From.Username, Language: r.From.LanguageCode,
	}, "bot", payload)
	if errors.Is(err, members.ErrBlocked) {
		return r.Plain(r.T("bot.blocked"))
	}
	if err != nil {
		return fmt.Errorf("bot start: %w", err)
	}
	r.Member = member
	if l := i18n.Supported(member.Language); l != "" {
		r.Lang = l
	}
	b.Log.Info("bot start", "member_id", member.ID, "created", created)
	text := E(r.T("bot.welcome_back", member.FirstName))
	if created {
		text = E(r.T("bot.welcome", member.FirstName)) + "\n\n" +
			r.T("bot.terms_consent", `<a href="`+E(b.BaseURL+"/terms")+`">`+E(r.T("bot.terms_link"))+`</a>`)
		if bal, err := b.Loyalty.Ledger().Balance(r.Ctx, member.ID); err == nil && bal.Available+bal.Pending > 0 {
			text += "\n\n" + E(r.T("bot.welcome_bonus", bal.Available+bal.Pending))
		}
	}
	if members.OnboardingDue(member) {
		text += "\n\n" + E(r.T("bot.interests_note"))
	}
	kb := b.menuKeyboard(r)
	if members.OnboardingDue(member) {
		kb.Rows = append([][]tgapi.Button{{App(r.T("bot.button_interests"), b.BaseURL+WelcomePath)}}, kb.Rows...)
	}
	if err := r.Send(text, kb); err != nil {
		return err
	}
	if id, ok := catalog.StartOffer(payload); ok {
		r.Arg = strconv.Itoa(id)
		return b.offerCard(r)
	}
	return nil
}

// menuKeyboard is the main menu.
func (b *Bot) menuKeyboard(r *Req) *tgapi.Keyboard {
	return Buttons(
		Row(Data(r.T("bot.menu.catalog"), "cat:0:0"), Data(r.T("bot.menu.bookings"), "bl")),
		Row(Data(r.T("bot.menu.balance"), "bal"), Data(r.T("bot.menu.invite"), "inv")),
		Row(Data(r.T("bot.menu.support"), "sup"), Data(r.T("bot.menu.lang"), "lang")),
		Row(App(r.T("bot.button_open"), b.MiniAppURL(""))),
	)
}

func (b *Bot) menu(r *Req) error {
	if _, err := r.NeedMember(); err != nil {
		return err
	}
	return r.Show(E(r.T("bot.menu.title")), b.menuKeyboard(r))
}

func (b *Bot) openApp(r *Req) error {
	return r.Send(E(r.T("bot.open_app")), Buttons(Row(App(r.T("bot.button_open"), b.MiniAppURL("")))))
}

func (b *Bot) help(r *Req) error {
	if r.Member == nil {
		return r.Send(E(r.T("bot.help")), Buttons(Row(Data(r.T("bot.button_start"), "start"))))
	}
	return r.Send(E(r.T("bot.help")), b.menuKeyboard(r))
}

// backRow returns to the main menu.
func backRow(r *Req) []tgapi.Button { return Row(Data(r.T("bot.menu.back"), "menu")) }

// catalogPage is how many offers one catalog message lists.
const catalogPage = 5

// catalog lists the member's personal selection (category 0) or one category's offers,
// a page at a time, with the categories to switch between.
func (b *Bot) catalog(r *Req) error {
	m, err := r.NeedMember()
	if err != nil {
		return err
	}
	catID, page := 0, 0
	if r.Callback != nil {
		c, p, _ := strings.Cut(r.Arg, ":")
		catID, _ = strconv.Atoi(c)
		page, _ = strconv.Atoi(p)
	}
	page = max(0, min(page, catalog.MaxLimit/catalogPage-1))
	want := (page + 1) * catalogPage
	var offers []*ent.Offer
	if catID == 0 {
		cards, err := b.Offers.Personal(r.Ctx, m.ID, want+1)
		if err != nil {
			return err
		}
		for _, c := range cards {
			if !c.Locked && c.Offer != nil {
				offers = append(offers, c.Offer)
			}
		}
	} else {
		p, err := b.Offers.Search(r.Ctx, m.ID, catalog.Filter{CategoryID: catID, Limit: min(want+1, catalog.MaxLimit)})
		if err != nil && !errors.Is(err, catalog.ErrBadFilter) {
			return err
		}
		offers = p.Offers
	}
	more := len(offers) > want
	if start := page * catalogPage; start < len(offers) {
		offers = offers[start:min(len(offers), want)]
	} else {
		offers = nil
	}
	title := r.T("bot.catalog.personal")
	choices, err := b.Offers.FilterChoices(r.Ctx)
	if err != nil {
		return err
	}
	for _, c := range choices.Categories {
		if c.ID == catID {
			title = i18n.Name(r.Lang, c.NameRu, c.NameEn, c.NameKk)
		}
	}
	var text strings.Builder
	fmt.Fprintf(&text, "<b>%s</b>", E(title))
	if page > 0 {
		fmt.Fprintf(&text, " · %s", E(r.T("bot.catalog.page", page+1)))
	}
	kb := &tgapi.Keyboard{}
	if len(offers) == 0 {
		text.WriteString("\n\n" + E(r.T("bot.catalog.empty")))
	}
	for _, o := range offers {
		label := o.Title
		if o.Edges.Partner != nil {
			label += " — " + o.Edges.Partner.Name
		}
		kb.Rows = append(kb.Rows, Row(Data(clipRunes(label, 60), "of:"+strconv.Itoa(o.ID))))
	}
	var nav []tgapi.Button
	if page > 0 {
		nav = append(nav, Data("‹ "+r.T("bot.catalog.prev"), fmt.Sprintf("cat:%d:%d", catID, page-1)))
	}
	if more {
		nav = append(nav, Data(r.T("bot.catalog.next")+" ›", fmt.Sprintf("cat:%d:%d", catID, page+1)))
	}
	if len(nav) > 0 {
		kb.Rows = append(kb.Rows, nav)
	}
	// Categories, two a row; the current one is marked.
	var row []tgapi.Button
	addCat := func(id int, name string) {
		if id == catID {
			name = "• " + name
		}
		row = append(row, Data(name, fmt.Sprintf("cat:%d:0", id)))
		if len(row) == 2 {
			kb.Rows = append(kb.Rows, row)
			row = nil
		}
	}
	addCat(0, r.T("bot.catalog.for_you"))
	for _, c := range choices.Categories {
		addCat(c.ID, i18n.Name(r.Lang, c.NameRu, c.NameEn, c.NameKk))
	}
	if len(row) > 0 {
		kb.Rows = append(kb.Rows, row)
	}
	kb.Rows = append(kb.Rows, backRow(r))
	return r.Show(text.String(), kb)
}

// offerCard shows one offer: its cover as a photo with the essentials in the caption,
// and the Book button. An offer the member may not see is "not found", as on the web.
func (b *Bot) offerCard(r *Req) error {
	m, err := r.NeedMember()
	if err != nil {
		return err
	}
	id, _ := strconv.Atoi(r.Arg)
	o, err := b.Offers.Offer(r.Ctx, m.ID, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return r.Refuse("bot.offer.gone")
	}
	if err != nil {
		return err
	}
	caption := b.offerText(r, o)
	kb := Buttons(
		Row(Data(r.T("bot.offer.book"), "bn:"+strconv.Itoa(o.ID))),
		Row(App(r.T("bot.offer.open"), b.MiniAppURL("/app/offers/"+strconv.Itoa(o.ID)))),
		Row(Data(r.T("bot.menu.catalog"), "cat:0:0"), Data(r.T("bot.menu.back"), "menu")),
	)
	if len(o.Edges.Media) > 0 {
		key := o.Edges.Media[0].Key
		rc, _, err := b.Offers.Image(r.Ctx, m.ID, key)
		if err == nil {
			defer rc.Close()
			return r.SendPhoto(Photo{Name: "offer.jpg", Data: rc}, caption, kb)
		}
		b.Log.Warn("bot offer photo unavailable", "offer_id", o.ID, "err", err)
	}
	return r.Send(caption, kb)
}

// offerText is an offer's card text (under 1024 characters, a photo caption's limit).
func (b *Bot) offerText(r *Req, o *ent.Offer) string {
	var s strings.Builder
	fmt.Fprintf(&s, "<b>%s</b>", E(o.Title))
	if o.Edges.Partner != nil {
		fmt.Fprintf(&s, "\n%s", E(o.Edges.Partner.Name))
	}
	if o.Summary != "" {
		fmt.Fprintf(&s, "\n\n%s", E(clipRunes(o.Summary, 300)))
	} else if o.Description != "" {
		fmt.Fprintf(&s, "\n\n%s", E(clipRunes(o.Description, 300)))
	}
	if o.CashbackBp > 0 {
		fmt.Fprintf(&s, "\n\n%s", E(r.T("bot.offer.cashback", percent(o.CashbackBp))))
	}
	if o.PriceBonus > 0 {
		fmt.Fprintf(&s, "\n%s", E(r.T("bot.offer.price_bonus", o.PriceBonus)))
	}
	if o.ValidUntil != nil {
		fmt.Fprintf(&s, "\n%s", E(r.T("bot.offer.until", o.ValidUntil.In(almaty).Format("02.01.2006"))))
	}
	if o.Capacity > 0 {
		fmt.Fprintf(&s, "\n%s", E(r.T("bot.offer.places", max(0, int64(o.Capacity)-o.BookingsCount))))
	}
	return s.String()
}

// percent shows basis points as a percentage: 550 → "5,5".
func percent(bp int) string {
	s := strconv.Itoa(bp / 100)
	if r := bp % 100; r != 0 {
		s += "," + strings.TrimRight(fmt.Sprintf("%02d", r), "0")
	}
	return s
}

// bookNote is what the member wrote while booking: an optional date first, then the
// comment. The state keeps "offerID|YYYY-MM-DD|comment".
type bookNote struct {
	OfferID int
	Date    string
	Comment string
}

func parseNote(s string) bookNote {
	parts := strings.SplitN(s, "|", 3)
	n := bookNote{}
	n.OfferID, _ = strconv.Atoi(parts[0])
	if len(parts) > 1 {
		n.Date = parts[1]
	}
	if len(parts) > 2 {
		n.Comment = parts[2]
	}
	return n
}

func (n bookNote) String() string { return fmt.Sprintf("%d|%s|%s", n.OfferID, n.Date, n.Comment) }

// bookAsk is the confirmation before booking: the offer, the comment and date so far,
// and Confirm, Add a comment or date, Back.
func (b *Bot) bookAsk(r *Req) error {
	m, err := r.NeedMember()
	if err != nil {
		return err
	}
	id, _ := strconv.Atoi(r.Arg)
	o, err := b.Offers.Offer(r.Ctx, m.ID, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return r.Refuse("bot.offer.gone")
	}
	if err != nil {
		return err
	}
	note := bookNote{OfferID: id}
	if kind, data := r.State(); kind == "book" {
		if n := parseNote(data); n.OfferID == id {
			note = n
		}
	}
	return b.showBookAsk(r, o, note)
}

func (b *Bot) showBookAsk(r *Req, o *ent.Offer, note bookNote) error {
	var s strings.Builder
	fmt.Fprintf(&s, "%s\n<b>%s</b>", E(r.T("bot.book.ask")), E(o.Title))
	if o.PriceBonus > 0 {
		fmt.Fprintf(&s, "\n%s", E(r.T("bot.offer.price_bonus", o.PriceBonus)))
	}
	if note.Date != "" {
		d, _ := time.Parse("2006-01-02", note.Date)
		fmt.Fprintf(&s, "\n%s", E(r.T("bot.book.date", d.Format("02.01.2006"))))
	}
	if note.Comment != "" {
		fmt.Fprintf(&s, "\n%s", E(r.T("bot.book.comment", note.Comment)))
	}
	fmt.Fprintf(&s, "\n\n<i>%s</i>", E(r.T("bot.book.note_hint")))
	id := strconv.Itoa(o.ID)
	return r.Show(s.String(), Buttons(
		Row(Data(r.T("bot.book.confirm"), "bo:"+id)),
		Row(Data(r.T("bot.book.add_note"), "bc:"+id)),
		Row(Data(r.T("bot.menu.back"), "of:"+id)),
	))
}

// bookComment waits for the member's comment (and date) for the offer.
func (b *Bot) bookComment(r *Req) error {
	if _, err := r.NeedMember(); err != nil {
		return err
	}
	id, _ := strconv.Atoi(r.Arg)
	if err := r.Expect("book", bookNote{OfferID: id}.String()); err != nil {
		b.Log.Warn("bot booking note not awaited", "err", err)
		return r.Refuse("bot.try_again")
	}
	return r.Send(E(r.T("bot.book.note_prompt")), Buttons(Row(Data(r.T("bot.book.skip_note"), "bn:"+strconv.Itoa(id)))))
}

// bookNote takes the typed comment: a leading date (25.12, 25.12.2026 or 2026-12-25)
// is the wished day, the rest the comment. A date in the past is refused.
func (b *Bot) bookNote(r *Req) error {
	m, err := r.NeedMember()
	if err != nil {
		return err
	}
	note := parseNote(r.StateData)
	text := r.Text
	if first, rest, _ := strings.Cut(text, " "); first != "" {
		if d, ok := wishedDate(first, time.Now()); ok {
			if _, valid := bookings.ParseDate(d, time.Now()); !valid {
				return r.Plain(r.T("form.date_invalid"))
			}
			note.Date, text = d, strings.TrimSpace(rest)
		}
	}
	note.Comment = clipRunes(strings.ReplaceAll(text, "|", "/"), bookings.MaxComment)
	o, err := b.Offers.Offer(r.Ctx, m.ID, note.OfferID)
	if errors.Is(err, catalog.ErrNotFound) {
		r.ClearState()
		return r.Plain(r.T("bot.offer.gone"))
	}
	if err != nil {
		return err
	}
	if err := r.Expect("book", note.String()); err != nil {
		return err
	}
	return b.showBookAsk(r, o, note)
}

// wishedDate reads a date as a member types it into "YYYY-MM-DD"; a day and month
// without a year is the next such day.
func wishedDate(s string, now time.Time) (string, bool) {
	now = now.In(almaty)
	for _, layout := range []string{"2006-01-02", "02.01.2006", "2.1.2006"} {
		if t, err := time.ParseInLocation(layout, s, almaty); err == nil {
			return t.Format("2006-01-02"), true
		}
	}
	for _, layout := range []string{"02.01", "2.1"} {
		if t, err := time.ParseInLocation(layout, s, almaty); err == nil {
			d := time.Date(now.Year(), t.Month(), t.Day(), 0, 0, 0, 0, almaty)
			if d.Before(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, almaty)) {
				d = d.AddDate(1, 0, 0)
			}
			return d.Format("2006-01-02"), true
		}
	}
	return "", false
}

// bookConfirm books the offer with the comment and date given. The key is the
// confirmation message's, so a second tap on the same button books nothing more.
func (b *Bot) bookConfirm(r *Req) error {
	m, err := r.NeedMember()
	if err != nil {
		return err
	}
	id, _ := strconv.Atoi(r.Arg)
	note := bookNote{OfferID: id}
	if kind, data := r.State(); kind == "book" {
		if n := parseNote(data); n.OfferID == id {
			note = n
		}
	}
	date, ok := bookings.ParseDate(note.Date, time.Now())
	if !ok {
		return r.Refuse("form.date_invalid")
	}
	key := fmt.Sprintf("bot:%d:%d:%d", r.ChatID, r.MessageID, id)
	bk, err := b.Bookings.Request(r.Ctx, m.ID, id, "bot", note.Comment, date, key)
	var refusal string
	switch {
	case errors.Is(err, bookings.ErrNotFound):
		refusal = "bot.offer.gone"
	case errors.Is(err, bookings.ErrFull):
		refusal = "flash.booking_full"
	case errors.Is(err, bookings.ErrLimit):
		refusal = "flash.booking_limit"
	case errors.Is(err, bookings.ErrInsufficient):
		refusal = "flash.bonuses_insufficient"
	case errors.Is(err, ledger.ErrConflict):
		refusal = "bot.try_again"
	case err != nil:
		return err
	}
	if refusal != "" {
		return r.Refuse(refusal)
	}
	r.ClearState()
	r.Toast(r.T("flash.booked"))
	return r.Show(E(r.T("bot.book.done"))+"\n\n"+r.T("bot.book.code", "<code>"+E(bk.Code)+"</code>"), Buttons(
		Row(Data(r.T("bot.bookings.qr"), "qr:"+strconv.Itoa(bk.ID))),
		Row(Data(r.T("bot.menu.bookings"), "bl"), Data(r.T("bot.menu.back"), "menu")),
	))
}

// bookingList shows the member's recent bookings with their codes and statuses, with a
// QR button for each that is still to be used.
func (b *Bot) bookingList(r *Req) error {
	m, err := r.NeedMember()
	if err != nil {
		return err
	}
	list, err := b.Bookings.MemberList(r.Ctx, m.ID, 10)
	if err != nil {
		return err
	}
	var s strings.Builder
	s.WriteString("<b>" + E(r.T("bot.bookings.title")) + "</b>")
	kb := &tgapi.Keyboard{}
	if len(list) == 0 {
		s.WriteString("\n\n" + E(r.T("bot.bookings.empty")))
		kb.Rows = append(kb.Rows, Row(Data(r.T("bot.menu.catalog"), "cat:0:0")))
	}
	for _, bk := range list {
		title := ""
		if bk.Edges.Offer != nil {
			title = bk.Edges.Offer.Title
		}
		fmt.Fprintf(&s, "\n\n<b>%s</b>\n<code>%s</code> · %s", E(title), E(bk.Code), E(r.T("booking.status."+string(bk.Status))))
		if st := string(bk.Status); st == "requested" || st == "confirmed" {
			kb.Rows = append(kb.Rows, Row(Data(r.T("bot.bookings.qr_of", bk.Code), "qr:"+strconv.Itoa(bk.ID))))
		}
	}
	kb.Rows = append(kb.Rows, Row(App(r.T("bot.offer.open"), b.MiniAppURL("/app/bookings"))), backRow(r))
	return r.Show(s.String(), kb)
}

// bookingQR sends the QR of one of the member's bookings as a photo: the link a
// cashier's camera opens, as on the web.
func (b *Bot) bookingQR(r *Req) error {
	m, err := r.NeedMember()
	if err != nil {
		return err
	}
	id, _ := strconv.Atoi(r.Arg)
	bk, err := b.Bookings.ForMember(r.Ctx, m.ID, id)
	if errors.Is(err, bookings.ErrNotFound) {
		return r.Refuse("bot.offer.gone")
	}
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(b.BaseURL+"/partner/bookings/"+bk.Code, qrcode.Medium, 320)
	if err != nil {
		return err
	}
	r.Toast("")
	return r.SendPhoto(Photo{Name: "booking-" + bk.Code + ".png", Data: bytes.NewReader(png)},
		r.T("bot.book.code", "<code>"+E(bk.Code)+"</code>"), Buttons(Row(Data(r.T("bot.menu.bookings"), "bl"))))
}

// balance shows the bonuses available, pending and reserved, and the latest movements.
func (b *Bot) balance(r *Req) error {
	m, err := r.NeedMember()
	if err != nil {
		return err
	}
	lg := b.Loyalty.Ledger()
	bal, err := lg.Balance(r.Ctx, m.ID)
	if err != nil {
		return err
	}
	var s strings.Builder
	fmt.Fprintf(&s, "<b>%s</b>\n%s\n%s\n%s", E(r.T("bot.balance.title")),
		E(r.T("bot.balance.available", bal.Available)), E(r.T("bot.balance.pending", bal.Pending)), E(r.T("bot.balance.reserved", bal.Reserved)))
	lines, _, err := b.History.Page(r.Ctx, lg, m.ID, r.Lang, 0)
	if err != nil {
		return err
	}
	if len(lines) > 0 {
		s.WriteString("\n\n<b>" + E(r.T("bot.balance.recent")) + "</b>")
	}
	for i, l := range lines {
		if i == 5 {
			break
		}
		sign := ""
		if l.Amount > 0 {
			sign = "+"
		}
		fmt.Fprintf(&s, "\n%s · %s%d · %s", l.CreatedAt.In(almaty).Format("02.01"), sign, l.Amount, E(l.Text))
	}
	return r.Show(s.String(), Buttons(Row(App(r.T("bot.balance.all"), b.MiniAppURL("/app/bonuses"))), backRow(r)))
}

// invite shows the member's personal link with Telegram's share button.
func (b *Bot) invite(r *Req) error {
	m, err := r.NeedMember()
	if err != nil {
		return err
	}
	info, err := b.Loyalty.Referrals(r.Ctx, m.ID)
	if err != nil {
		return err
	}
	link := b.BaseURL + "/r/" + info.Code
	if b.BotUsername != "" {
		link = "https://t.me/" + b.BotUsername + "?start=ref_" + info.Code
	}
	share := "https://t.me/share/url?url=" + url.QueryEscape(link) + "&text=" + url.QueryEscape(r.T("app.invite.share_text"))
	text := fmt.Sprintf("<b>%s</b>\n\n%s\n<code>%s</code>\n\n%s", E(r.T("bot.invite.title")), E(r.T("bot.invite.text")),
		E(link), E(r.T("bot.invite.stats", len(info.Invitees), info.Earned)))
	return r.Show(text, Buttons(Row(Link(r.T("app.invite.share"), share)), backRow(r)))
}

// langChoice offers the interface languages.
func (b *Bot) langChoice(r *Req) error {
	var row []tgapi.Button
	for _, l := range i18n.Languages {
		name := r.T("lang." + l)
		if l == r.Lang {
			name = "• " + name
		}
		row = append(row, Data(name, "lg:"+l))
	}
	return r.Show(E(r.T("bot.lang.choose")), Buttons(row, backRow(r)))
}

// setLang keeps the member's language; the bot answers in it from now on.
func (b *Bot) setLang(r *Req) error {
	m, err := r.NeedMember()
	if err != nil {
		return err
	}
	lang := i18n.Supported(r.Arg)
	if lang == "" {
		r.Toast("")
		return nil
	}
	if err := b.Members.SetLanguage(r.Ctx, m.ID, lang); err != nil {
		return err
	}
	r.Lang = lang
	r.Toast(r.T("bot.lang.saved"))
	return r.Show(E(r.T("bot.menu.title")), b.menuKeyboard(r))
}

// supportPrompt waits for the member's question for the care service.
func (b *Bot) supportPrompt(r *Req) error {
	if _, err := r.NeedMember(); err != nil {
		return err
	}
	if err := r.Expect("support", ""); err != nil {
		b.Log.Warn("bot support question not awaited", "err", err)
		return r.Plain(r.T("bot.support_usage"))
	}
	return r.Send(E(r.T("bot.support.prompt")), Buttons(backRow(r)))
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
// text goes to the active thread, and without one the help is shown. Staff replies come
// back as notifications, delivered to this chat. Once the message is stored a failed
// answer is only logged: Telegram delivering the update again would store it twice.
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

func clipRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
