package bot

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"ikra/app/authz"
	"ikra/app/bookings"
	"ikra/app/i18n"
	"ikra/app/partners"
	"ikra/app/tgapi"
	"ikra/ent"
	"ikra/ent/booking"
)

// permAnswer is the permission the portal's confirm, decline and complete routes
// require (app/web/routes.go): the bot asks Casbin for the same one.
const permAnswer = "bookings:redeem"

// Conversation inputs of staff flows.
const (
	inCode   = "st_code"   // the code of a booking to redeem
	inAmount = "st_amount" // the deal amount of booking <id>
	inReason = "st_reason" // the reason for declining booking <id>
)

// Actions on a booking's buttons: "st:bk:<id>:<action>".
const (
	actConfirm  = "ok"
	actDecline  = "no" // asks for a reason
	actNoReason = "nd" // declines with the default reason
	actView     = "v"  // the card again, with its buttons
)

// staffRoutes are partner staff's commands and buttons: /partner (or /staff) lists the
// sender's partner roles, /redeem completes a booking by its code and amount, and the
// buttons under a new request's notification confirm or decline it.
func (b *Bot) staffRoutes() {
	if !b.staffOn() {
		return
	}
	b.commands["/partner"] = b.partnerRoles
	b.commands["/staff"] = b.partnerRoles
	b.commands["/redeem"] = b.redeem
	b.callbacks["st"] = b.staffButton
	b.inputs[inCode] = b.redeemCode
	b.inputs[inAmount] = b.redeemAmount
	b.inputs[inReason] = b.declineReason
}

func (b *Bot) staffOn() bool { return b.Staff != nil && b.Bookings != nil && b.Authz != nil }

// NotificationButtons is the delivery job's hook (jobs.Deps.Buttons): a staff
// member's notification of a new booking request gets Confirm and Decline buttons.
func (b *Bot) NotificationButtons(n *ent.Notification, lang string) [][]tgapi.Button {
	id, ok := bookings.NewRequestOf(n)
	if !ok || !b.staffOn() {
		return nil
	}
	if lang = i18n.Supported(lang); lang == "" {
		lang = i18n.Default
	}
	return [][]tgapi.Button{answerRow(id, func(key string) string { return b.Catalog.T(lang, key) })}
}

func answerRow(id int, t func(string) string) []tgapi.Button {
	return Row(Data(t("bot.staff.button_confirm"), bookingData(id, actConfirm)),
		Data(t("bot.staff.button_decline"), bookingData(id, actDecline)))
}

func bookingData(id int, act string) string { return "st:bk:" + strconv.Itoa(id) + ":" + act }

// desk is the sender as partner staff: their membership, their partner roles and the
// partners where Casbin lets them answer and redeem bookings.
type desk struct {
	member  *ent.Member
	roles   []partners.Role
	allowed []int
}

// desk finds the sender's partner roles; someone with none, or whose roles do not
// carry the permission, is told so and the flow stops.
func (b *Bot) desk(r *Req) (*desk, error) {
	if r.Member == nil {
		return nil, r.refuse(r.T("bot.staff.none"))
	}
	roles, err := b.Staff.RolesOf(r.Ctx, r.Member.ID)
	if err != nil {
		return nil, fmt.Errorf("bot staff roles: %w", err)
	}
	if len(roles) == 0 {
		return nil, r.refuse(r.T("bot.staff.none"))
	}
	d := &desk{member: r.Member, roles: roles}
	for _, ro := range roles {
		if !slices.Contains(d.allowed, ro.PartnerID) && b.Authz.Can(r.Member.ID, authz.PartnerDomain(ro.PartnerID), permAnswer) {
			d.allowed = append(d.allowed, ro.PartnerID)
		}
	}
	return d, nil
}

// may stops the flow unless the sender may answer bookings at some partner.
func (d *desk) may(r *Req) error {
	if len(d.allowed) == 0 {
		return r.refuse(r.T("bot.staff.no_permission"))
	}
	return nil
}

// refuse answers with text (an alert under a button) and stops the flow.
func (r *Req) refuse(text string) error {
	if r.Callback != nil {
		r.Alert(text)
		return errReplied
	}
	if err := r.Send(E(text), nil); err != nil {
		return err
	}
	return errReplied
}

// byCode finds a booking by its code among the partners the sender may answer for;
// codes are unique, so at most one matches.
func (b *Bot) byCode(r *Req, d *desk, code string) (*ent.Booking, int, error) {
	for _, pid := range d.allowed {
		bk, err := b.Bookings.ByCode(r.Ctx, pid, code)
		if errors.Is(err, bookings.ErrNotFound) {
			continue
		}
		return bk, pid, err
	}
	return nil, 0, bookings.ErrNotFound
}

// byID is byCode by the booking's ID (a button's or a conversation's data).
func (b *Bot) byID(r *Req, d *desk, id int) (*ent.Booking, int, error) {
	for _, pid := range d.allowed {
		bk, err := b.Bookings.ForPartner(r.Ctx, pid, id)
		if errors.Is(err, bookings.ErrNotFound) {
			continue
		}
		return bk, pid, err
	}
	return nil, 0, bookings.ErrNotFound
}

// partnerRoles lists the sender's partner roles and what the bot does for them.
func (b *Bot) partnerRoles(r *Req) error {
	d, err := b.desk(r)
	if err != nil {
		return err
	}
	var s strings.Builder
	s.WriteString("<b>" + E(r.T("bot.staff.roles_title")) + "</b>")
	for _, ro := range d.roles {
		line := r.T("bot.staff.role_line", ro.Partner, r.T("role."+ro.Role))
		if ro.Suspended {
			line += " " + r.T("bot.staff.suspended")
		}
		s.WriteString("\n" + E(line))
	}
	if len(d.allowed) == 0 {
		s.WriteString("\n\n" + E(r.T("bot.staff.no_permission")))
		return r.Send(s.String(), nil)
	}
	s.WriteString("\n\n" + E(r.T("bot.staff.roles_hint")))
	return r.Send(s.String(), Buttons(Row(Data(r.T("bot.staff.button_redeem"), "st:rd"))))
}

// staffButton routes the "st:" buttons.
func (b *Bot) staffButton(r *Req) error {
	parts := strings.Split(r.Arg, ":")
	switch {
	case parts[0] == "rd":
		return b.askCode(r)
	case parts[0] == "x":
		r.ClearState()
		return r.Show(E(r.T("bot.staff.cancelled")), nil)
	case parts[0] == "bk" && len(parts) == 3:
		id, err := strconv.Atoi(parts[1])
		if err != nil || id <= 0 {
			break
		}
		return b.answer(r, id, parts[2])
	}
	r.Toast(r.T("bot.stale_button"))
	return nil
}

// redeem starts redeeming: "/redeem CODE" looks the code up at once, "/redeem" asks
// for it.
func (b *Bot) redeem(r *Req) error {
	if r.Arg != "" {
		return b.redeemCode(r)
	}
	return b.askCode(r)
}

func (b *Bot) askCode(r *Req) error {
	d, err := b.desk(r)
	if err != nil {
		return err
	}
	if err := d.may(r); err != nil {
		return err
	}
	if !b.keep(r, inCode, "") {
		return r.Send(E(r.T("bot.staff.no_state")), nil)
	}
	return r.Send(E(r.T("bot.staff.ask_code")), Buttons(Row(Data(r.T("bot.staff.button_cancel"), "st:x"))))
}

// keep sets the chat's conversation state; without Redis it is logged and false, and
// the flow offers the one-line "/redeem CODE AMOUNT" instead.
func (b *Bot) keep(r *Req, kind, data string) bool {
	if err := r.Expect(kind, data); err != nil {
		b.Log.Warn("bot staff conversation not kept", "kind", kind, "err", err)
		return false
	}
	return true
}

// redeemCode finds the booking of a typed (or scanned) code and asks for the deal's
// amount; a booking that cannot be completed shows its status instead.
func (b *Bot) redeemCode(r *Req) error {
	d, err := b.desk(r)
	if err != nil {
		return err
	}
	if err := d.may(r); err != nil {
		return err
	}
	typed, amount := r.Text, ""
	if r.Cmd == "/redeem" {
		typed = r.Arg
		// "/redeem CODE AMOUNT" in one line (what works while Redis is down).
		if f := strings.Fields(typed); len(f) > 1 && len(bookings.NormaliseCode(f[0])) == bookings.CodeLength {
			if _, ok := bookings.ParseTenge(strings.Join(f[1:], " ")); ok {
				typed, amount = f[0], strings.Join(f[1:], " ")
			}
		}
	}
	cancel := Buttons(Row(Data(r.T("bot.staff.button_cancel"), "st:x")))
	code := bookings.NormaliseCode(typed)
	if code == "" {
		b.keep(r, inCode, "")
		return r.Send(E(r.T("bot.staff.bad_code")), cancel)
	}
	bk, pid, err := b.byCode(r, d, code)
	if errors.Is(err, bookings.ErrNotFound) {
		b.keep(r, inCode, "")
		return r.Send(E(r.T("bot.staff.code_not_found", code)), cancel)
	}
	if err != nil {
		return fmt.Errorf("bot redeem: %w", err)
	}
	if bk.Status != booking.StatusConfirmed {
		r.ClearState()
		note := E(r.T("bot.staff.not_redeemable", r.T("booking.status."+string(bk.Status))))
		if bk.Status == booking.StatusRequested {
			note += " " + E(r.T("bot.staff.confirm_first"))
		}
		return b.showCard(r, bk, bk.Status, note)
	}
	if amount != "" {
		tiyn, ok := bookings.ParseTenge(amount)
		if !ok {
			return r.Send(b.card(r, bk, bk.Status)+"\n\n"+E(r.T("bot.staff.bad_amount")), nil)
		}
		return b.complete(r, d, pid, bk, tiyn)
	}
	if !b.keep(r, inAmount, strconv.Itoa(bk.ID)) {
		return r.Send(b.card(r, bk, bk.Status)+"\n\n"+E(r.T("bot.staff.no_state")), nil)
	}
	return r.Send(b.card(r, bk, bk.Status)+"\n\n"+E(r.T("bot.staff.ask_amount")), cancel)
}

// redeemAmount completes the booking of the conversation with the typed amount; the
// domain credits the member's cashback.
func (b *Bot) redeemAmount(r *Req) error {
	d, err := b.desk(r)
	if err != nil {
		return err
	}
	if err := d.may(r); err != nil {
		return err
	}
	id, _ := strconv.Atoi(r.StateData)
	tiyn, ok := bookings.ParseTenge(r.Text)
	if !ok {
		b.keep(r, inAmount, r.StateData)
		return r.Send(E(r.T("bot.staff.bad_amount")), Buttons(Row(Data(r.T("bot.staff.button_cancel"), "st:x"))))
	}
	bk, pid, err := b.byID(r, d, id)
	if errors.Is(err, bookings.ErrNotFound) {
		r.ClearState()
		return r.Send(E(r.T("bot.staff.not_found")), nil)
	}
	if err != nil {
		return fmt.Errorf("bot redeem: %w", err)
	}
	r.ClearState()
	return b.complete(r, d, pid, bk, tiyn)
}

// complete records the deal of bk; the domain credits the member's cashback.
func (b *Bot) complete(r *Req, d *desk, pid int, bk *ent.Booking, tiyn int64) error {
	done, err := b.Bookings.Complete(r.Ctx, pid, bk.ID, d.member.ID, tiyn)
	if err != nil {
		return b.failed(r, pid, bk, err, "bot.staff.not_redeemable")
	}
	b.Log.Info("bot booking completed", "booking_id", bk.ID, "partner_id", pid, "actor_id", d.member.ID)
	// Once the deal is recorded a lost answer is only logged: the update delivered
	// again would find the state gone.
	b.logErr("bot redeem answer not sent", r.Send(b.card(r, bk, done.Status)+"\n\n"+E(r.T("bot.staff.completed", tenge(tiyn))), nil))
	return nil
}

// answer carries out a button under a booking request.
func (b *Bot) answer(r *Req, id int, act string) error {
	d, err := b.desk(r)
	if err != nil {
		return err
	}
	if err := d.may(r); err != nil {
		return err
	}
	bk, pid, err := b.byID(r, d, id)
	if errors.Is(err, bookings.ErrNotFound) {
		return r.refuse(r.T("bot.staff.not_found"))
	}
	if err != nil {
		return fmt.Errorf("bot answer: %w", err)
	}
	switch act {
	case actConfirm:
		r.ClearState()
		done, err := b.Bookings.Confirm(r.Ctx, pid, id, d.member.ID)
		if err != nil {
			return b.failed(r, pid, bk, err, "bot.staff.already")
		}
		b.Log.Info("bot booking confirmed", "booking_id", id, "partner_id", pid, "actor_id", d.member.ID)
		r.Toast(r.T("bot.staff.toast_confirmed"))
		b.logErr("bot confirm answer not shown", b.showCard(r, bk, done.Status, E(r.T("bot.staff.confirmed_by", d.member.FirstName))))
		return nil
	case actDecline:
		if bk.Status != booking.StatusRequested {
			r.ClearState()
			return b.showCard(r, bk, bk.Status, E(r.T("bot.staff.already", r.T("booking.status."+string(bk.Status)))))
		}
		text := b.card(r, bk, bk.Status)
		if b.keep(r, inReason, strconv.Itoa(id)) {
			text += "\n\n" + E(r.T("bot.staff.ask_reason"))
		}
		return r.Show(text, Buttons(
			Row(Data(r.T("bot.staff.button_no_reason"), bookingData(id, actNoReason))),
			Row(Data(r.T("bot.staff.button_back"), bookingData(id, actView)))))
	case actNoReason:
		r.ClearState()
		lang := i18n.Default
		if m := bk.Edges.Member; m != nil && i18n.Supported(m.Language) != "" {
			lang = i18n.Supported(m.Language) // the member reads the reason
		}
		return b.decline(r, d, pid, bk, b.Catalog.T(lang, "bot.staff.default_reason"))
	case actView:
		r.ClearState()
		return b.showCard(r, bk, bk.Status, "")
	}
	r.Toast(r.T("bot.stale_button"))
	return nil
}

// declineReason declines the booking of the conversation with the typed reason.
func (b *Bot) declineReason(r *Req) error {
	d, err := b.desk(r)
	if err != nil {
		return err
	}
	if err := d.may(r); err != nil {
		return err
	}
	id, _ := strconv.Atoi(r.StateData)
	bk, pid, err := b.byID(r, d, id)
	r.ClearState()
	if errors.Is(err, bookings.ErrNotFound) {
		return r.Send(E(r.T("bot.staff.not_found")), nil)
	}
	if err != nil {
		return fmt.Errorf("bot decline: %w", err)
	}
	return b.decline(r, d, pid, bk, r.Text)
}

func (b *Bot) decline(r *Req, d *desk, pid int, bk *ent.Booking, reason string) error {
	done, err := b.Bookings.Decline(r.Ctx, pid, bk.ID, d.member.ID, reason)
	if errors.Is(err, bookings.ErrReasonRequired) {
		b.keep(r, inReason, strconv.Itoa(bk.ID))
		return r.Send(E(r.T("bot.staff.ask_reason")), nil)
	}
	if err != nil {
		return b.failed(r, pid, bk, err, "bot.staff.already")
	}
	b.Log.Info("bot booking declined", "booking_id", bk.ID, "partner_id", pid, "actor_id", d.member.ID)
	r.Toast(r.T("bot.staff.toast_declined"))
	b.logErr("bot decline answer not shown",
		b.showCard(r, bk, done.Status, E(r.T("bot.staff.declined_by", d.member.FirstName, done.DeclineReason))))
	return nil
}

// failed answers a refused transition: a booking no longer in the status the action
// needs shows the status it is in now (key explains it).
func (b *Bot) failed(r *Req, pid int, bk *ent.Booking, err error, key string) error {
	switch {
	case errors.Is(err, bookings.ErrTransition):
		cur, lerr := b.Bookings.ForPartner(r.Ctx, pid, bk.ID)
		if lerr != nil {
			return fmt.Errorf("bot booking %d: %w", bk.ID, lerr)
		}
		return b.showCard(r, cur, cur.Status, E(r.T(key, r.T("booking.status."+string(cur.Status)))))
	case errors.Is(err, bookings.ErrNotFound):
		return r.refuse(r.T("bot.staff.not_found"))
	case errors.Is(err, bookings.ErrAmount):
		return r.refuse(r.T("bot.staff.bad_amount"))
	}
	return fmt.Errorf("bot booking %d: %w", bk.ID, err)
}

// showCard shows the booking with a note under it; a request still waiting gets its
// Confirm and Decline buttons.
func (b *Bot) showCard(r *Req, bk *ent.Booking, status booking.Status, note string) error {
	text := b.card(r, bk, status)
	if note != "" {
		text += "\n\n" + note
	}
	var kb *tgapi.Keyboard
	if status == booking.StatusRequested {
		kb = Buttons(answerRow(bk.ID, func(key string) string { return r.T(key) }))
	}
	return r.Show(text, kb)
}

// card is a booking as staff see it: the offer, the code, the member's first name, the
// status, and the wished date and comment when given.
func (b *Bot) card(r *Req, bk *ent.Booking, status booking.Status) string {
	title, name := "", ""
	if o := bk.Edges.Offer; o != nil {
		title = o.Title
	}
	if m := bk.Edges.Member; m != nil {
		name = m.FirstName
	}
	s := "<b>" + E(title) + "</b>\n" + E(r.T("bot.staff.card", bk.Code, name, r.T("booking.status."+string(status))))
	if bk.VisitAt != nil {
		s += "\n" + E(r.T("bot.staff.card_date", bk.VisitAt.In(almaty).Format("02.01.2006")))
	}
	if bk.Note != "" {
		s += "\n" + E(r.T("bot.staff.card_note", bk.Note))
	}
	return s
}

// tenge shows an amount in tiyn as tenge: "12 500 ₸", "12 500,50 ₸".
func tenge(tiyn int64) string {
	s := i18n.Count(tiyn / 100).String()
	if c := tiyn % 100; c != 0 {
		s += fmt.Sprintf(",%02d", c)
	}
	return s + " ₸"
}
