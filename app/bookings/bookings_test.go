package bookings_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/bookings"
	"ikra/app/ledger"
	"ikra/app/members"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
	"ikra/ent/notification"
	"ikra/ent/offer"
)

type world struct {
	t     *testing.T
	env   *apptest.Env
	ctx   context.Context
	svc   *bookings.Service
	place apptest.Place
	p     *ent.Partner
	tg    int64
}

func newWorld(t *testing.T) *world {
	env := apptest.New(t)
	w := &world{t: t, env: env, ctx: context.Background(), svc: env.App.Bookings, tg: 700_000}
	w.place = env.Place()
	w.p = env.Partner(w.place, "Partner A")
	return w
}

// member registers a member (with the welcome bonus), optionally invited by referrer.
func (w *world) member(name string, referrer ...*ent.Member) *ent.Member {
	w.t.Helper()
	w.tg++
	start := ""
	if len(referrer) > 0 {
		start = "ref_" + referrer[0].ReferralCode
	}
	m, _, err := w.env.App.Members.SignIn(w.ctx, members.Identity{TelegramID: w.tg, FirstName: name, Language: "en"}, "web", start)
	apptest.Must(w.t, err)
	return m
}

func (w *world) staff(p *ent.Partner, role string) *ent.Member {
	w.t.Helper()
	m := w.member(role)
	_, err := w.env.App.Staff.Grant(w.ctx, audit.Entry{ActorRole: "test"}, m.ID, role, &p.ID)
	apptest.Must(w.t, err)
	return m
}

func (w *world) offer(edit ...func(*ent.OfferCreate)) *ent.Offer {
	return w.env.Offer(w.place, w.p.ID, "Dinner for two", edit...)
}

func (w *world) balance(m *ent.Member) ledger.Balance {
	w.t.Helper()
	b, err := w.env.App.Ledger.Balance(w.ctx, m.ID)
	apptest.Must(w.t, err)
	sum, err := w.env.App.Ledger.Sum(w.ctx, m.ID)
	apptest.Must(w.t, err)
	if sum.Available != b.Available || sum.Pending != b.Pending || sum.Reserved != b.Reserved {
		w.t.Fatalf("cached balance %+v differs from the entries %+v", b, sum)
	}
	return b
}

func (w *world) count(where ...func(*ent.BookingQuery)) int {
	q := w.env.App.DB.Booking.Query()
	for _, f := range where {
		f(q)
	}
	n, err := q.Count(w.ctx)
	apptest.Must(w.t, err)
	return n
}

// hammer runs n requests at once and returns how many succeeded and the errors.
func hammer(n int, req func(i int) error) (int, map[string]int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok, errs := 0, map[string]int{}
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			err := req(i)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else {
				errs[err.Error()]++
			}
		})
	}
	close(start)
	wg.Wait()
	return ok, errs
}

// TestCapacityUnderConcurrency: 100 members ask at once for the last 3 places.
func TestCapacityUnderConcurrency(t *testing.T) {
	w := newWorld(t)
	o := w.offer(func(c *ent.OfferCreate) { c.SetCapacity(5) })
	early := []*ent.Member{w.member("Early 1"), w.member("Early 2")}
	for _, m := range early {
		_, err := w.svc.Request(w.ctx, m.ID, o.ID, "web", "", nil, "")
		apptest.Must(t, err)
	}
	people := make([]*ent.Member, 100)
	for i := range people {
		people[i] = w.member(fmt.Sprint("M", i))
	}
	ok, errs := hammer(100, func(i int) error {
		_, err := w.svc.Request(w.ctx, people[i].ID, o.ID, "web", "", nil, "")
		if err != nil && !errors.Is(err, bookings.ErrFull) {
			return fmt.Errorf("unexpected: %w", err)
		}
		return err
	})
	if ok != 3 || errs[bookings.ErrFull.Error()] != 97 {
		t.Fatalf("%d booked, errors %v; want 3 booked and 97 full", ok, errs)
	}
	if n := w.count(func(q *ent.BookingQuery) { q.Where(booking.OfferID(o.ID)) }); n != 5 {
		t.Fatalf("%d bookings of the offer, want 5", n)
	}
	// A cancellation frees a place again.
	b, err := w.svc.Request(w.ctx, early[0].ID, o.ID, "web", "", nil, "")
	if !errors.Is(err, bookings.ErrFull) {
		t.Fatalf("sixth booking: %v, %v", b, err)
	}
	first, err := w.env.App.DB.Booking.Query().Where(booking.MemberID(early[0].ID)).Only(w.ctx)
	apptest.Must(t, err)
	_, err = w.svc.CancelByMember(w.ctx, early[0].ID, first.ID)
	apptest.Must(t, err)
	_, err = w.svc.Request(w.ctx, early[1].ID, o.ID, "web", "", nil, "")
	if !errors.Is(err, bookings.ErrLimit) {
		t.Fatalf("second booking of a member with limit 1: %v", err)
	}
	_, err = w.svc.Request(w.ctx, people[99].ID, o.ID, "web", "", nil, "")
	if err != nil && !errors.Is(err, bookings.ErrLimit) {
		t.Fatalf("booking the freed place: %v", err)
	}
}

// TestPerMemberLimitUnderConcurrency: one member sends 100 requests at once; the
// offer allows 2 per member.
func TestPerMemberLimitUnderConcurrency(t *testing.T) {
	w := newWorld(t)
	o := w.offer(func(c *ent.OfferCreate) { c.SetPerMemberLimit(2) })
	m := w.member("Greedy")
	ok, errs := hammer(100, func(i int) error {
		_, err := w.svc.Request(w.ctx, m.ID, o.ID, "web", "", nil, fmt.Sprint("key-", i))
		if err != nil && !errors.Is(err, bookings.ErrLimit) {
			return fmt.Errorf("unexpected: %w", err)
		}
		return err
	})
	if ok != 2 || errs[bookings.ErrLimit.Error()] != 98 {
		t.Fatalf("%d booked, errors %v; want 2 and 98 over the limit", ok, errs)
	}
	if n := w.count(func(q *ent.BookingQuery) { q.Where(booking.MemberID(m.ID)) }); n != 2 {
		t.Fatalf("%d bookings stored, want 2", n)
	}
}

// TestBonusPriceUnderConcurrency: an offer priced at 1000 bonuses, members holding the
// 3000 welcome bonuses send 20 requests each at once: each gets exactly 3, every
// reservation is in the ledger, no balance goes below zero.
func TestBonusPriceUnderConcurrency(t *testing.T) {
	w := newWorld(t)
	o := w.offer(func(c *ent.OfferCreate) { c.SetPriceBonus(1000).SetPerMemberLimit(0) })
	people := []*ent.Member{w.member("A"), w.member("B"), w.member("C"), w.member("D"), w.member("E")}
	ok, errs := hammer(100, func(i int) error {
		_, err := w.svc.Request(w.ctx, people[i%5].ID, o.ID, "web", "", nil, "")
		if err != nil && !errors.Is(err, bookings.ErrInsufficient) {
			return fmt.Errorf("unexpected: %w", err)
		}
		return err
	})
	if ok != 15 || errs[bookings.ErrInsufficient.Error()] != 85 {
		t.Fatalf("%d booked, errors %v; want 15 and 85 insufficient", ok, errs)
	}
	for _, m := range people {
		if n := w.count(func(q *ent.BookingQuery) { q.Where(booking.MemberID(m.ID)) }); n != 3 {
			t.Errorf("%s holds %d bookings, want 3", m.FirstName, n)
		}
		if b := w.balance(m); b.Available != 0 || b.Reserved != 3000 {
			t.Errorf("%s balance %+v, want 0 available and 3000 reserved", m.FirstName, b)
		}
	}
}

func TestRequestRules(t *testing.T) {
	w := newWorld(t)
	m := w.member("Aigerim")
	cashier := w.staff(w.p, "cashier")
	owner := w.staff(w.p, "owner")
	draft := w.offer(func(c *ent.OfferCreate) { c.SetStatus(offer.StatusDraft) })
	if _, err := w.svc.Request(w.ctx, m.ID, draft.ID, "web", "", nil, ""); !errors.Is(err, bookings.ErrNotFound) {
		t.Fatalf("booking a draft: %v", err)
	}
	if _, err := w.svc.Request(w.ctx, m.ID, 999999, "web", "", nil, ""); !errors.Is(err, bookings.ErrNotFound) {
		t.Fatalf("booking an unknown offer: %v", err)
	}
	o := w.offer(func(c *ent.OfferCreate) { c.SetPriceBonus(500).SetPerMemberLimit(3) })
	day := time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC)
	b, err := w.svc.Request(w.ctx, m.ID, o.ID, "tg", "  window seat  ", &day, "retry-1")
	apptest.Must(t, err)
	if len(b.Code) != bookings.CodeLength || strings.ContainsAny(b.Code, "0O1IL") || b.Status != booking.StatusRequested ||
		b.Note != "window seat" || b.Channel != booking.ChannelTg || b.BonusPrice != 500 || b.VisitAt == nil || b.ExpiresAt == nil {
		t.Fatalf("booking %+v", b)
	}
	if d := b.ExpiresAt.Sub(b.CreatedAt); d != bookings.DefaultAnswerWindow {
		t.Fatalf("expires after %v", d)
	}
	// The same key again returns the same booking and reserves nothing more.
	again, err := w.svc.Request(w.ctx, m.ID, o.ID, "tg", "window seat", &day, "retry-1")
	apptest.Must(t, err)
	if again.ID != b.ID || again.Code != b.Code {
		t.Fatalf("retry made booking %d (%s), first was %d (%s)", again.ID, again.Code, b.ID, b.Code)
	}
	if bal := w.balance(m); bal.Reserved != 500 || bal.Available != 2500 {
		t.Fatalf("balance after a retried request: %+v", bal)
	}
	other := w.offer()
	if _, err := w.svc.Request(w.ctx, m.ID, other.ID, "web", "", nil, "retry-1"); !errors.Is(err, bookings.ErrKeyReused) || !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("the key reused for another offer: %v", err)
	}
	// The partner's staff were told once each.
	for _, s := range []*ent.Member{cashier, owner} {
		n, err := w.env.App.DB.Notification.Query().Where(notification.MemberID(s.ID), notification.Kind("booking.new")).Count(w.ctx)
		apptest.Must(t, err)
		if n != 1 {
			t.Errorf("staff %d got %d new-request notifications, want 1", s.ID, n)
		}
	}
}

// TestLifecycle walks every transition and tries the forbidden ones.
func TestLifecycle(t *testing.T) {
	w := newWorld(t)
	cashier := w.staff(w.p, "cashier")
	pB := w.env.Partner(w.place, "Partner B")
	o := w.offer(func(c *ent.OfferCreate) { c.SetPriceBonus(1000).SetPerMemberLimit(0).SetCashbackBp(1000) })
	m := w.member("Dana")
	book := func() *ent.Booking {
		t.Helper()
		b, err := w.svc.Request(w.ctx, m.ID, o.ID, "web", "", nil, "")
		apptest.Must(t, err)
		return b
	}
	status := func(b *ent.Booking) booking.Status {
		t.Helper()
		got, err := w.env.App.DB.Booking.Get(w.ctx, b.ID)
		apptest.Must(t, err)
		return got.Status
	}
	mustTransition := func(err error) {
		t.Helper()
		if !errors.Is(err, bookings.ErrTransition) {
			t.Fatalf("want ErrTransition, got %v", err)
		}
	}

	// requested → declined (reason required), reservation released.
	b := book()
	if _, err := w.svc.Decline(w.ctx, w.p.ID, b.ID, cashier.ID, "  "); !errors.Is(err, bookings.ErrReasonRequired) {
		t.Fatalf("decline without a reason: %v", err)
	}
	if _, err := w.svc.Decline(w.ctx, pB.ID, b.ID, cashier.ID, "full"); !errors.Is(err, bookings.ErrNotFound) {
		t.Fatalf("another partner declines: %v", err)
	}
	_, err := w.svc.Decline(w.ctx, w.p.ID, b.ID, cashier.ID, "We are closed that day")
	apptest.Must(t, err)
	if bal := w.balance(m); bal.Available != 3000 || bal.Reserved != 0 {
		t.Fatalf("after decline: %+v", bal)
	}
	_, err = w.svc.Complete(w.ctx, w.p.ID, b.ID, cashier.ID, 100_00)
	mustTransition(err) // completing a declined booking
	_, err = w.svc.CancelByMember(w.ctx, m.ID, b.ID)
	mustTransition(err)

	// requested → cancelled by the member; another member cannot.
	b = book()
	stranger := w.member("Stranger")
	if _, err := w.svc.CancelByMember(w.ctx, stranger.ID, b.ID); !errors.Is(err, bookings.ErrNotFound) {
		t.Fatalf("a stranger cancels: %v", err)
	}
	_, err = w.svc.CancelByMember(w.ctx, m.ID, b.ID)
	apptest.Must(t, err)
	_, err = w.svc.Confirm(w.ctx, w.p.ID, b.ID, cashier.ID)
	mustTransition(err)

	// requested → confirmed → cancelled by the member.
	b = book()
	_, err = w.svc.Confirm(w.ctx, w.p.ID, b.ID, cashier.ID)
	apptest.Must(t, err)
	_, err = w.svc.Confirm(w.ctx, w.p.ID, b.ID, cashier.ID)
	mustTransition(err)
	_, err = w.svc.CancelByMember(w.ctx, m.ID, b.ID)
	apptest.Must(t, err)

	// confirmed → no-show, reservation released.
	b = book()
	_, err = w.svc.Confirm(w.ctx, w.p.ID, b.ID, cashier.ID)
	apptest.Must(t, err)
	_, err = w.svc.NoShow(w.ctx, w.p.ID, b.ID, cashier.ID)
	apptest.Must(t, err)
	if s := status(b); s != booking.StatusNoShow {
		t.Fatalf("status %s", s)
	}

	// Completion needs a confirmed booking and a positive amount.
	b = book()
	_, err = w.svc.Complete(w.ctx, w.p.ID, b.ID, cashier.ID, 100_00)
	mustTransition(err) // still requested
	_, err = w.svc.Confirm(w.ctx, w.p.ID, b.ID, cashier.ID)
	apptest.Must(t, err)
	if _, err := w.svc.Complete(w.ctx, w.p.ID, b.ID, cashier.ID, 0); !errors.Is(err, bookings.ErrAmount) {
		t.Fatalf("complete with 0: %v", err)
	}
	if _, err := w.svc.Complete(w.ctx, pB.ID, b.ID, cashier.ID, 100_00); !errors.Is(err, bookings.ErrNotFound) {
		t.Fatalf("another partner completes: %v", err)
	}
	_, err = w.svc.Complete(w.ctx, w.p.ID, b.ID, cashier.ID, 20_000_00) // 20 000 ₸ at 10%: 2000
	apptest.Must(t, err)
	if bal := w.balance(m); bal.Available != 2000 || bal.Reserved != 0 || bal.Pending != 2000 {
		t.Fatalf("after completion: %+v (want 2000 available, 0 reserved, 2000 pending)", bal)
	}
	_, err = w.svc.CancelByMember(w.ctx, m.ID, b.ID)
	mustTransition(err) // cancelling a completed booking
	_, err = w.svc.NoShow(w.ctx, w.p.ID, b.ID, cashier.ID)
	mustTransition(err)

	// completed → reversed within the window: the cashback goes, and the bonus price
	// spent on the deal comes back.
	_, err = w.svc.Reverse(w.ctx, w.p.ID, b.ID, cashier.ID)
	apptest.Must(t, err)
	if bal := w.balance(m); bal.Pending != 0 || bal.Available != 3000 || bal.Reserved != 0 {
		t.Fatalf("after reversal: %+v (want 3000 available, nothing pending or reserved)", bal)
	}
	_, err = w.svc.Reverse(w.ctx, w.p.ID, b.ID, cashier.ID)
	mustTransition(err)
	if bal := w.balance(m); bal.Available != 3000 {
		t.Fatalf("a refused second reversal moved the balance: %+v", bal)
	}
	refunds, err := w.env.App.DB.LedgerEntry.Query().Where(ledgerentry.MemberID(m.ID), ledgerentry.KindEQ(ledgerentry.KindRefund)).All(w.ctx)
	apptest.Must(t, err)
	if len(refunds) != 1 || refunds[0].Amount != 1000 || refunds[0].RefID != fmt.Sprint(b.ID) {
		t.Fatalf("refund entries: %+v", refunds)
	}
	if n, _ := w.env.App.DB.Notification.Query().Where(notification.MemberID(m.ID), notification.Kind("booking.reversed"),
		notification.BodyContains("2\u202f000 bonuses of cashback"), notification.BodyContains("1\u202f000 bonuses you spent")).Count(w.ctx); n != 1 {
		bodies, _ := w.env.App.DB.Notification.Query().Where(notification.MemberID(m.ID), notification.Kind("booking.reversed")).Select(notification.FieldBody).Strings(w.ctx)
		t.Errorf("the reversal notice does not name the cashback taken back and the bonuses returned: %q", bodies)
	}

	// Reversing after the window is refused.
	b = book()
	_, err = w.svc.Confirm(w.ctx, w.p.ID, b.ID, cashier.ID)
	apptest.Must(t, err)
	_, err = w.svc.Complete(w.ctx, w.p.ID, b.ID, cashier.ID, 10_000_00)
	apptest.Must(t, err)
	w.env.App.Ledger.SetClock(func() time.Time { return time.Now().Add(15 * 24 * time.Hour) })
	defer w.env.App.Ledger.SetClock(time.Now)
	if _, err := w.svc.Reverse(w.ctx, w.p.ID, b.ID, cashier.ID); !errors.Is(err, bookings.ErrWindowClosed) || !errors.Is(err, bookings.ErrTransition) {
		t.Fatalf("reversal after the window: %v", err)
	}
	if s := status(b); s != booking.StatusCompleted {
		t.Fatalf("status %s", s)
	}

	// Notifications: one per event, in the member's language.
	for kind, want := range map[string]int{"booking.declined": 1, "booking.confirmed": 4, "booking.completed": 2, "booking.reversed": 1} {
		n, err := w.env.App.DB.Notification.Query().Where(notification.MemberID(m.ID), notification.Kind(kind)).Count(w.ctx)
		apptest.Must(t, err)
		if n != want {
			t.Errorf("%d %s notifications, want %d", n, kind, want)
		}
	}
	n, err := w.env.App.DB.Notification.Query().Where(notification.MemberID(m.ID), notification.Kind("booking.completed"),
		notification.BodyContains("2\u202f000 bonuses")).Count(w.ctx)
	apptest.Must(t, err)
	if n != 1 {
		bodies, _ := w.env.App.DB.Notification.Query().Where(notification.MemberID(m.ID)).Select(notification.FieldBody).Strings(w.ctx)
		t.Errorf("no completion notification with the cashback amount: %q", bodies)
	}
}

// TestExpire: a request the partner does not answer in time expires, its reservation
// is released and the member told; an answered one is left alone.
func TestExpire(t *testing.T) {
	w := newWorld(t)
	cashier := w.staff(w.p, "cashier")
	o := w.offer(func(c *ent.OfferCreate) { c.SetPriceBonus(700).SetPerMemberLimit(0) })
	m := w.member("Erlan")
	late, err := w.svc.Request(w.ctx, m.ID, o.ID, "web", "", nil, "")
	apptest.Must(t, err)
	answered, err := w.svc.Request(w.ctx, m.ID, o.ID, "web", "", nil, "")
	apptest.Must(t, err)
	_, err = w.svc.Confirm(w.ctx, w.p.ID, answered.ID, cashier.ID)
	apptest.Must(t, err)
	if n, err := w.svc.Expire(w.ctx, 100); err != nil || n != 0 {
		t.Fatalf("expired %d, %v before the window", n, err)
	}
	w.env.App.Ledger.SetClock(func() time.Time { return time.Now().Add(49 * time.Hour) })
	defer w.env.App.Ledger.SetClock(time.Now)
	if n, err := w.svc.Expire(w.ctx, 100); err != nil || n != 1 {
		t.Fatalf("expired %d, %v", n, err)
	}
	if n, err := w.svc.Expire(w.ctx, 100); err != nil || n != 0 {
		t.Fatalf("second run expired %d, %v", n, err)
	}
	got, err := w.env.App.DB.Booking.Get(w.ctx, late.ID)
	apptest.Must(t, err)
	if got.Status != booking.StatusExpired {
		t.Fatalf("status %s", got.Status)
	}
	if bal := w.balance(m); bal.Reserved != 700 || bal.Available != 2300 {
		t.Fatalf("balance %+v: only the confirmed booking's 700 stays reserved", bal)
	}
	n, err := w.env.App.DB.Notification.Query().Where(notification.MemberID(m.ID), notification.Kind("booking.expired")).Count(w.ctx)
	apptest.Must(t, err)
	if n != 1 {
		t.Fatalf("%d expiry notifications", n)
	}
}

// TestCashbackAndReferral: completing credits exactly rate × amount pending, the
// referrer's share with it, both told once; reversal takes both back.
func TestCashbackAndReferral(t *testing.T) {
	w := newWorld(t)
	cashier := w.staff(w.p, "cashier")
	o := w.offer(func(c *ent.OfferCreate) { c.SetCashbackBp(500) })
	referrer := w.member("Referrer")
	m := w.member("Invitee", referrer)
	b, err := w.svc.Request(w.ctx, m.ID, o.ID, "web", "", nil, "")
	apptest.Must(t, err)
	_, err = w.svc.Confirm(w.ctx, w.p.ID, b.ID, cashier.ID)
	apptest.Must(t, err)
	_, err = w.svc.Complete(w.ctx, w.p.ID, b.ID, cashier.ID, 25_000_00)
	apptest.Must(t, err)
	if bal := w.balance(m); bal.Pending != 1250 {
		t.Fatalf("member pending %d, want 1250 (5%% of 25 000)", bal.Pending)
	}
	if bal := w.balance(referrer); bal.Pending != 125 {
		t.Fatalf("referrer pending %d, want 125", bal.Pending)
	}
	for who, kind := range map[int]string{m.ID: "booking.completed", referrer.ID: "referral.reward"} {
		n, err := w.env.App.DB.Notification.Query().Where(notification.MemberID(who), notification.Kind(kind)).Count(w.ctx)
		apptest.Must(t, err)
		if n != 1 {
			t.Errorf("member %d: %d %s notifications", who, n, kind)
		}
	}
	_, err = w.svc.Reverse(w.ctx, w.p.ID, b.ID, cashier.ID)
	apptest.Must(t, err)
	if bal := w.balance(m); bal.Pending != 0 {
		t.Fatalf("member pending after reversal %d", bal.Pending)
	}
	if bal := w.balance(referrer); bal.Pending != 0 {
		t.Fatalf("referrer pending after reversal %d", bal.Pending)
	}
}

// TestDeleteAccountReleases: leaving the club cancels open bookings through the
// service, which releases their reservations.
func TestDeleteAccountReleases(t *testing.T) {
	w := newWorld(t)
	o := w.offer(func(c *ent.OfferCreate) { c.SetPriceBonus(1200) })
	m := w.member("Leaving")
	b, err := w.svc.Request(w.ctx, m.ID, o.ID, "web", "", nil, "")
	apptest.Must(t, err)
	apptest.Must(t, w.env.App.Members.Delete(w.ctx, m.ID, "web"))
	got, err := w.env.App.DB.Booking.Get(w.ctx, b.ID)
	apptest.Must(t, err)
	if got.Status != booking.StatusCancelled {
		t.Fatalf("status %s", got.Status)
	}
	if bal := w.balance(m); bal.Reserved != 0 || bal.Available != 3000 {
		t.Fatalf("balance after deletion %+v: the reservation must be released", bal)
	}
}

// TestFindByCode: a partner finds only its own bookings by code, as typed.
func TestFindByCode(t *testing.T) {
	w := newWorld(t)
	pB := w.env.Partner(w.place, "Partner B")
	o := w.offer()
	m := w.member("Gulnara")
	b, err := w.svc.Request(w.ctx, m.ID, o.ID, "web", "", nil, "")
	apptest.Must(t, err)
	typed := strings.ToLower(b.Code[:3]) + " - " + b.Code[3:]
	got, err := w.svc.ByCode(w.ctx, w.p.ID, typed)
	apptest.Must(t, err)
	if got.ID != b.ID || got.Edges.Member == nil || got.Edges.Offer == nil {
		t.Fatalf("found %+v", got)
	}
	if _, err := w.svc.ByCode(w.ctx, pB.ID, b.Code); !errors.Is(err, bookings.ErrNotFound) {
		t.Fatalf("partner B finds A's code: %v", err)
	}
	if _, err := w.svc.ForPartner(w.ctx, pB.ID, b.ID); !errors.Is(err, bookings.ErrNotFound) {
		t.Fatalf("partner B finds A's booking by ID: %v", err)
	}
}

// TestRemind: a confirmed booking for tomorrow is reminded once; one further off, or
// not confirmed, is not.
func TestRemind(t *testing.T) {
	w := newWorld(t)
	cashier := w.staff(w.p, "cashier")
	o := w.offer(func(c *ent.OfferCreate) { c.SetPerMemberLimit(0) })
	m := w.member("Madi")
	y, mo, d := time.Now().In(bookings.Almaty).Date()
	day := func(n int) *time.Time { t := time.Date(y, mo, d+n, 0, 0, 0, 0, bookings.Almaty); return &t }
	book := func(n int, confirm bool) *ent.Booking {
		b, err := w.svc.Request(w.ctx, m.ID, o.ID, "web", "", day(n), "")
		apptest.Must(t, err)
		if confirm {
			_, err = w.svc.Confirm(w.ctx, w.p.ID, b.ID, cashier.ID)
			apptest.Must(t, err)
		}
		return b
	}
	soon := book(1, true)
	book(5, true)
	book(1, false)
	for i, want := range []int{1, 0} {
		n, err := w.svc.Remind(w.ctx, 100)
		apptest.Must(t, err)
		if n != want {
			t.Fatalf("run %d reminded %d, want %d", i, n, want)
		}
	}
	list, err := w.env.App.DB.Notification.Query().Where(notification.MemberID(m.ID), notification.Kind("booking.reminder")).All(w.ctx)
	apptest.Must(t, err)
	if len(list) != 1 || !strings.Contains(list[0].Body, soon.Code) {
		t.Fatalf("reminders %v", list)
	}
}
