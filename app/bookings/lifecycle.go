package bookings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/notify"
	"ikra/app/store"
	"ikra/app/webhooks"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
	"ikra/ent/notification"
	"ikra/ent/predicate"
	"ikra/ent/staff"
)

// MaxReason is how many characters of a decline reason a booking keeps.
const MaxReason = 300

// change runs one transition of the booking id found within scope: it locks the row
// (PostgreSQL; SQLite transactions hold the write lock), checks that the status is one
// of from (else ErrTransition) and runs apply in the same transaction.
func (s *Service) change(ctx context.Context, scope predicate.Booking, id int, from []booking.Status,
	apply func(tx *ent.Tx, b *ent.Booking) (*ent.Booking, error)) (*ent.Booking, error) {
	var out *ent.Booking
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		q := tx.Booking.Query().Where(booking.ID(id), scope)
		if s.dialect == dialect.Postgres {
			q.ForUpdate()
		}
		b, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !slices.Contains(from, b.Status) {
			return fmt.Errorf("%w: %s", ErrTransition, b.Status)
		}
		out, err = apply(tx, b)
		return err
	})
	return out, err
}

func partnerScope(partnerID int) predicate.Booking { return booking.PartnerID(partnerID) }
func memberScope(memberID int) predicate.Booking   { return booking.MemberID(memberID) }

// release returns a booking's reservation, if it has one.
func (s *Service) release(ctx context.Context, tx *ent.Tx, b *ent.Booking, actor *int) error {
	if b.BonusPrice <= 0 {
		return nil
	}
	_, err := s.ledger.ReleaseTx(ctx, tx, b.MemberID, reserveKey(b.ID), fmt.Sprintf("booking:%d:release", b.ID), actor)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil // booked before the price was set: nothing was reserved
	}
	return err
}

// Confirm accepts a request (partner side).
func (s *Service) Confirm(ctx context.Context, partnerID, id, actorID int) (*ent.Booking, error) {
	return s.change(ctx, partnerScope(partnerID), id, []booking.Status{booking.StatusRequested}, func(tx *ent.Tx, b *ent.Booking) (*ent.Booking, error) {
		b, err := b.Update().SetStatus(booking.StatusConfirmed).SetConfirmedAt(s.now()).Save(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.event(ctx, tx, b, nil, nil, webhooks.BookingConfirmed, "", 0); err != nil {
			return nil, err
		}
		return b, s.notifyMember(ctx, tx, b, nil, nil, "confirmed", func(lang, title string) (string, string) {
			return s.t(lang, "notify.booking.confirmed.title"), s.t(lang, "notify.booking.confirmed.body", title, b.Code)
		})
	})
}

// Decline refuses a request with a reason (partner side); the reservation is released.
func (s *Service) Decline(ctx context.Context, partnerID, id, actorID int, reason string) (*ent.Booking, error) {
	reason = clip(strings.TrimSpace(reason), MaxReason)
	if reason == "" {
		return nil, ErrReasonRequired
	}
	return s.change(ctx, partnerScope(partnerID), id, []booking.Status{booking.StatusRequested}, func(tx *ent.Tx, b *ent.Booking) (*ent.Booking, error) {
		if err := s.release(ctx, tx, b, &actorID); err != nil {
			return nil, err
		}
		b, err := b.Update().SetStatus(booking.StatusDeclined).SetDeclineReason(reason).SetCancelledAt(s.now()).Save(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.event(ctx, tx, b, nil, nil, webhooks.BookingCancelled, "declined", 0); err != nil {
			return nil, err
		}
		return b, s.notifyMember(ctx, tx, b, nil, nil, "declined", func(lang, title string) (string, string) {
			return s.t(lang, "notify.booking.declined.title"), s.t(lang, "notify.booking.declined.body", title, reason)
		})
	})
}

// CancelByMember cancels the member's own booking while it is requested or confirmed;
// the reservation is released.
func (s *Service) CancelByMember(ctx context.Context, memberID, id int) (*ent.Booking, error) {
	return s.change(ctx, memberScope(memberID), id, []booking.Status{booking.StatusRequested, booking.StatusConfirmed}, func(tx *ent.Tx, b *ent.Booking) (*ent.Booking, error) {
		return s.cancel(ctx, tx, b, &memberID)
	})
}

func (s *Service) cancel(ctx context.Context, tx *ent.Tx, b *ent.Booking, actor *int) (*ent.Booking, error) {
	if err := s.release(ctx, tx, b, actor); err != nil {
		return nil, err
	}
	b, err := b.Update().SetStatus(booking.StatusCancelled).SetCancelledAt(s.now()).Save(ctx)
	if err != nil {
		return nil, err
	}
	return b, s.event(ctx, tx, b, nil, nil, webhooks.BookingCancelled, "member", 0)
}

// CancelOpenTx cancels every open booking of a member inside the caller's transaction
// (the member is leaving the club), releasing their reservations, and reports how many.
func (s *Service) CancelOpenTx(ctx context.Context, tx *ent.Tx, memberID int) (int, error) {
	q := tx.Booking.Query().Where(booking.MemberID(memberID), booking.StatusIn(booking.StatusRequested, booking.StatusConfirmed))
	if s.dialect == dialect.Postgres {
		q.ForUpdate()
	}
	open, err := q.All(ctx)
	if err != nil {
		return 0, err
	}
	for _, b := range open {
		if _, err := s.cancel(ctx, tx, b, &memberID); err != nil {
			return 0, err
		}
	}
	return len(open), nil
}

// Expire ends the requests the partner has not answered before their expires_at,
// releasing reservations and telling the members, and reports how many. A periodic job
// calls it.
func (s *Service) Expire(ctx context.Context, limit int) (int, error) {
	due, err := s.db.Booking.Query().Where(booking.StatusEQ(booking.StatusRequested), booking.ExpiresAtLTE(s.now())).
		Order(ent.Asc(booking.FieldID)).Limit(limit).IDs(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range due {
		_, err := s.change(ctx, booking.ExpiresAtLTE(s.now()), id, []booking.Status{booking.StatusRequested}, func(tx *ent.Tx, b *ent.Booking) (*ent.Booking, error) {
			if err := s.release(ctx, tx, b, nil); err != nil {
				return nil, err
			}
			b, err := b.Update().SetStatus(booking.StatusExpired).SetCancelledAt(s.now()).Save(ctx)
			if err != nil {
				return nil, err
			}
			if err := s.event(ctx, tx, b, nil, nil, webhooks.BookingCancelled, "expired", 0); err != nil {
				return nil, err
			}
			return b, s.notifyMember(ctx, tx, b, nil, nil, "expired", func(lang, title string) (string, string) {
				return s.t(lang, "notify.booking.expired.title"), s.t(lang, "notify.booking.expired.body", title)
			})
		})
		if errors.Is(err, ErrTransition) || errors.Is(err, ErrNotFound) {
			continue // answered or cancelled meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Complete records the deal at the counter (partner side): the reservation is captured
// and the cashback (with the referrer's share) credited, pending for the reversal
// window, in the same transaction. dealTiyn is what the member paid, in tiyn.
func (s *Service) Complete(ctx context.Context, partnerID, id, actorID int, dealTiyn int64) (*ent.Booking, error) {
	if dealTiyn <= 0 {
		return nil, ErrAmount
	}
	rules, err := s.loyalty.Rules(ctx) // before the transaction: see loyalty.Deal.Rules
	if err != nil {
		return nil, err
	}
	return s.change(ctx, partnerScope(partnerID), id, []booking.Status{booking.StatusConfirmed}, func(tx *ent.Tx, b *ent.Booking) (*ent.Booking, error) {
		if b.BonusPrice > 0 {
			_, err := s.ledger.CaptureTx(ctx, tx, b.MemberID, reserveKey(b.ID), fmt.Sprintf("booking:%d:capture", b.ID), &actorID)
			if err != nil && !errors.Is(err, ledger.ErrNotFound) {
				return nil, err
			}
		}
		o, m, err := s.related(ctx, tx, b, nil, nil)
		if err != nil {
			return nil, err
		}
		b, err = b.Update().SetStatus(booking.StatusCompleted).SetDealAmount(dealTiyn).SetCompletedAt(s.now()).Save(ctx)
		if err != nil {
			return nil, err
		}
		e, err := s.loyalty.Cashback(ctx, tx, loyalty.Deal{MemberID: b.MemberID, BookingID: b.ID, AmountTiyn: dealTiyn, RateBP: o.CashbackBp, ActorID: &actorID, Rules: &rules, Member: m})
		if err != nil {
			return nil, err
		}
		var cashback int64
		if e != nil {
			cashback = e.Amount
		}
		if err := s.event(ctx, tx, b, o, m, webhooks.BookingCompleted, "", cashback); err != nil {
			return nil, err
		}
		err = s.notifyMember(ctx, tx, b, o, m, "completed", func(lang, title string) (string, string) {
			if cashback > 0 {
				return s.t(lang, "notify.booking.completed.title"), s.n(lang, "notify.booking.completed.body", cashback, title)
			}
			return s.t(lang, "notify.booking.completed.title"), s.t(lang, "notify.booking.completed.body_none", title)
		})
		if err != nil || e == nil {
			return b, err
		}
		return b, s.notifyReferrer(ctx, tx, b, e)
	})
}

// NoShow records that the member did not come to a confirmed booking (partner side);
// the reservation is released.
func (s *Service) NoShow(ctx context.Context, partnerID, id, actorID int) (*ent.Booking, error) {
	return s.change(ctx, partnerScope(partnerID), id, []booking.Status{booking.StatusConfirmed}, func(tx *ent.Tx, b *ent.Booking) (*ent.Booking, error) {
		if err := s.release(ctx, tx, b, &actorID); err != nil {
			return nil, err
		}
		b, err := b.Update().SetStatus(booking.StatusNoShow).SetCancelledAt(s.now()).Save(ctx)
		if err != nil {
			return nil, err
		}
		return b, s.event(ctx, tx, b, nil, nil, webhooks.BookingCancelled, "no_show", 0)
	})
}

// Reverse undoes a completed deal within the reversal window (partner side): its
// cashback is reversed, and the referrer's share with it. After the window it is
// ErrWindowClosed.
func (s *Service) Reverse(ctx context.Context, partnerID, id, actorID int) (*ent.Booking, error) {
	rules, err := s.loyalty.Rules(ctx)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, partnerScope(partnerID), id, []booking.Status{booking.StatusCompleted}, func(tx *ent.Tx, b *ent.Booking) (*ent.Booking, error) {
		if b.CompletedAt == nil || !s.now().Before(b.CompletedAt.Add(time.Duration(rules.ReversalDays)*24*time.Hour)) {
			return nil, ErrWindowClosed
		}
		cb, err := tx.LedgerEntry.Query().Where(ledgerentry.IdempotencyKey(fmt.Sprintf("cashback:booking:%d", b.ID))).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		if err := s.loyalty.ReverseCashback(ctx, tx, b.ID, &actorID); err != nil {
			if errors.Is(err, ledger.ErrClosed) {
				return nil, ErrWindowClosed
			}
			return nil, err
		}
		refund, err := s.refund(ctx, tx, b, actorID)
		if err != nil {
			return nil, err
		}
		b, err = b.Update().SetStatus(booking.StatusReversed).SetReversedAt(s.now()).Save(ctx)
		if err != nil {
			return nil, err
		}
		var reversed int64
		if cb != nil {
			reversed = cb.Amount
		}
		if err := s.event(ctx, tx, b, nil, nil, webhooks.BookingReversed, "", reversed); err != nil {
			return nil, err
		}
		if cb == nil && refund == 0 {
			return b, nil
		}
		return b, s.notifyMember(ctx, tx, b, nil, nil, "reversed", func(lang, title string) (string, string) {
			var body string
			if cb != nil {
				body = s.n(lang, "notify.booking.reversed.body", cb.Amount, title)
			} else {
				body = s.t(lang, "notify.booking.reversed.plain", title)
			}
			if refund > 0 {
				body += " " + s.n(lang, "notify.booking.reversed.refund", refund)
			}
			return s.t(lang, "notify.booking.reversed.title"), body
		})
	})
}

// refund gives back, in the reversal's transaction, the bonus price the member paid
// for a deal that is now reversed: the deal did not stand, so neither does what was
// spent on it. It returns the amount returned (0 for an offer without a bonus price).
func (s *Service) refund(ctx context.Context, tx *ent.Tx, b *ent.Booking, actorID int) (int64, error) {
	capture, err := tx.LedgerEntry.Query().Where(ledgerentry.IdempotencyKey(fmt.Sprintf("booking:%d:capture", b.ID)),
		ledgerentry.MemberID(b.MemberID)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	amount := -capture.Amount
	if amount <= 0 {
		return 0, nil
	}
	_, err = s.ledger.CreditTx(ctx, tx, ledger.Op{
		MemberID: b.MemberID, Amount: amount, Kind: ledger.KindRefund, RefType: "booking", RefID: strconv.Itoa(b.ID),
		ActorID: &actorID, Key: fmt.Sprintf("booking:%d:refund", b.ID),
	})
	return amount, err
}

// event writes the partner's webhook event about b in the transaction of its change:
// the booking as the counter shows it, with the member's first name only. reason says
// how a cancelled booking ended (member, declined, expired, no_show); cashback is what
// a completion credited or a reversal took back.
//
// o and m are the booking's offer and member when the caller has read them in tx
// already; nil reads them.
func (s *Service) event(ctx context.Context, tx *ent.Tx, b *ent.Booking, o *ent.Offer, m *ent.Member, typ, reason string, cashback int64) error {
	if s.webhooks == nil {
		return nil
	}
	o, m, err := s.related(ctx, tx, b, o, m)
	if err != nil {
		return err
	}
	wb := webhooks.Booking{
		Code: b.Code, Status: string(b.Status), OfferID: o.ID, OfferTitle: o.Title, MemberFirstName: m.FirstName,
		BonusPrice: b.BonusPrice, DealAmountTiyn: b.DealAmount, Cashback: cashback, Reason: reason,
		DeclineReason: b.DeclineReason, CreatedAt: b.CreatedAt.UTC().Truncate(time.Second),
	}
	if b.VisitAt != nil {
		wb.VisitDate = b.VisitAt.In(Almaty).Format("2006-01-02")
	}
	_, err = s.webhooks.AddTx(ctx, tx, b.PartnerID, typ, webhooks.BookingData{Booking: wb})
	return err
}

// notifyMember writes the member's notification about event in the transaction, in
// their language, once per booking and event. o and m as for event.
func (s *Service) notifyMember(ctx context.Context, tx *ent.Tx, b *ent.Booking, o *ent.Offer, m *ent.Member, event string, text func(lang, title string) (string, string)) error {
	if s.notify == nil {
		return nil
	}
	o, m, err := s.related(ctx, tx, b, o, m)
	if err != nil {
		return err
	}
	title, body := text(m.Language, o.Title)
	_, err = s.notify.AddTx(ctx, tx, notify.Message{
		MemberID: b.MemberID, Kind: "booking." + event, DedupKey: fmt.Sprintf("booking:%d:%s", b.ID, event),
		Title: title, Body: body, Link: "/app/bookings",
	})
	return err
}

// related returns the booking's offer and member, reading in tx those not given.
func (s *Service) related(ctx context.Context, tx *ent.Tx, b *ent.Booking, o *ent.Offer, m *ent.Member) (*ent.Offer, *ent.Member, error) {
	var err error
	if o == nil {
		if o, err = tx.Offer.Get(ctx, b.OfferID); err != nil {
			return nil, nil, err
		}
	}
	if m == nil {
		if m, err = tx.Member.Get(ctx, b.MemberID); err != nil {
			return nil, nil, err
		}
	}
	return o, m, nil
}

// notifyReferrer tells the referrer about their share of the deal's cashback.
func (s *Service) notifyReferrer(ctx context.Context, tx *ent.Tx, b *ent.Booking, cashback *ent.LedgerEntry) error {
	if s.notify == nil {
		return nil
	}
	share, err := tx.LedgerEntry.Query().Where(ledgerentry.SourceID(cashback.ID), ledgerentry.KindEQ(ledgerentry.KindReferral)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	m, err := tx.Member.Get(ctx, share.MemberID)
	if err != nil {
		return err
	}
	_, err = s.notify.AddTx(ctx, tx, notify.Message{
		MemberID: share.MemberID, Kind: "referral.reward", DedupKey: fmt.Sprintf("booking:%d:referral", b.ID),
		Title: s.t(m.Language, "notify.referral.title"), Body: s.n(m.Language, "notify.referral.body", share.Amount),
		Link: "/app/invite",
	})
	return err
}

// KindNewRequest is the kind of the notification telling staff about a new request.
const KindNewRequest = "booking.new"

func newRequestKey(bookingID, memberID int) string {
	return fmt.Sprintf("booking:%d:new:%d", bookingID, memberID)
}

// NewRequestOf returns the booking a staff member's notification of a new request is
// about (KindNewRequest); ok is false for any other notification.
func NewRequestOf(n *ent.Notification) (bookingID int, ok bool) {
	if n == nil || n.Kind != KindNewRequest {
		return 0, false
	}
	var id, memberID int
	if _, err := fmt.Sscanf(n.DedupKey, "booking:%d:new:%d", &id, &memberID); err != nil || id <= 0 ||
		newRequestKey(id, memberID) != n.DedupKey || memberID != n.MemberID {
		return 0, false
	}
	return id, true
}

// notifyStaff tells the partner's owners, managers and cashiers about a new request.
func (s *Service) notifyStaff(ctx context.Context, tx *ent.Tx, b *ent.Booking, o *ent.Offer) error {
	if s.notify == nil {
		return nil
	}
	rows, err := tx.Staff.Query().Where(staff.PartnerID(o.PartnerID), staff.RoleIn(staffRoles...)).WithMember().All(ctx)
	if err != nil {
		return err
	}
	seen := map[int]bool{}
	for _, r := range rows {
		if seen[r.MemberID] || r.Edges.Member == nil {
			continue
		}
		seen[r.MemberID] = true
		lang := r.Edges.Member.Language
		_, err := s.notify.AddTx(ctx, tx, notify.Message{
			MemberID: r.MemberID, Kind: KindNewRequest, DedupKey: newRequestKey(b.ID, r.MemberID),
			Title: s.t(lang, "notify.booking.new.title"), Body: s.t(lang, "notify.booking.new.body", o.Title, b.Code),
			Link: "/partner/bookings/" + b.Code,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Remind tells members about their confirmed bookings whose wished day is today or
// tomorrow (Asia/Almaty), once per booking, and reports how many it told. A periodic job
// calls it.
func (s *Service) Remind(ctx context.Context, limit int) (int, error) {
	now := s.now()
	y, m, d := now.In(Almaty).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, Almaty)
	due, err := s.db.Booking.Query().Where(booking.StatusEQ(booking.StatusConfirmed),
		booking.VisitAtGTE(today), booking.VisitAtLT(today.AddDate(0, 0, 2))).
		Order(ent.Asc(booking.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range due {
		key := fmt.Sprintf("booking:%d:reminder", b.ID)
		if done, err := s.db.Notification.Query().Where(notification.DedupKey(key)).Exist(ctx); err != nil || done {
			if err != nil {
				return n, err
			}
			continue
		}
		err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
			return s.notifyMember(ctx, tx, b, nil, nil, "reminder", func(lang, title string) (string, string) {
				day := b.VisitAt.In(Almaty).Format("02.01.2006")
				return s.t(lang, "notify.booking.reminder.title"), s.t(lang, "notify.booking.reminder.body", title, day, b.Code)
			})
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
