package support_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/support"
	"ikra/ent"
	"ikra/ent/notification"
	"ikra/ent/supportthread"
)

type world struct {
	env                             *apptest.Env
	svc                             *support.Service
	member, agent, concierge, other *ent.Member
	offer                           *ent.Offer
}

func newWorld(t *testing.T) *world {
	env := apptest.New(t)
	w := &world{env: env, svc: env.App.Support}
	ctx := context.Background()
	_, w.member = env.Member(7_700_001, "Member")
	_, w.agent = env.Member(7_700_002, "Agent")
	_, w.concierge = env.Member(7_700_003, "Concierge")
	_, w.other = env.Member(7_700_004, "Other")
	for m, role := range map[*ent.Member]string{w.agent: "support", w.concierge: "concierge"} {
		_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, m.ID, role, nil)
		apptest.Must(t, err)
	}
	place := env.Place()
	w.offer = env.Offer(place, env.Partner(place, "P").ID, "Offer", func(c *ent.OfferCreate) { c.SetPerMemberLimit(10) })
	return w
}

func as(m *ent.Member) audit.Entry { return audit.Entry{ActorID: &m.ID, ActorRole: "test"} }

func TestRulesOfThreads(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	db := w.env.App.DB.Client
	clock := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	w.svc.SetClock(func() time.Time { return clock })

	if _, _, err := w.svc.Open(ctx, support.OpenInput{MemberID: w.member.ID, Body: " "}); !isInvalid(err, "body") {
		t.Fatalf("empty body: %v", err)
	}
	if _, _, err := w.svc.Open(ctx, support.OpenInput{MemberID: w.member.ID, Body: "x", Kind: support.KindConcierge}); !errors.Is(err, support.ErrNotConcierge) {
		t.Fatalf("concierge request without an offer: %v", err)
	}
	th, ack, err := w.svc.Open(ctx, support.OpenInput{MemberID: w.member.ID, Body: "Помогите\nподробности", Channel: "nonsense"})
	apptest.Must(t, err)
	if !ack.Automatic || !ack.FromStaff || th.Subject != "Помогите" || th.Channel != supportthread.ChannelWeb {
		t.Fatalf("thread %+v ack %+v", th, ack)
	}

	// Staff of the other kind cannot act on it; an assignee must be able to answer it.
	if _, err := w.svc.Reply(ctx, as(w.concierge), th.ID, "x", nil); !errors.Is(err, support.ErrForbidden) {
		t.Fatalf("concierge replies to support: %v", err)
	}
	if err := w.svc.Assign(ctx, as(w.agent), th.ID, w.other.ID); !errors.Is(err, support.ErrAssignee) {
		t.Fatalf("assigned to a member: %v", err)
	}
	if err := w.svc.Assign(ctx, as(w.agent), th.ID, w.concierge.ID); !errors.Is(err, support.ErrAssignee) {
		t.Fatalf("assigned to the concierge: %v", err)
	}
	if _, err := w.svc.StaffThread(ctx, w.concierge.ID, th.ID); !errors.Is(err, support.ErrForbidden) {
		t.Fatalf("concierge reads a support thread: %v", err)
	}
	if _, err := w.svc.MemberThread(ctx, w.other.ID, th.ID); !errors.Is(err, support.ErrNotFound) {
		t.Fatalf("another member reads the thread: %v", err)
	}

	// A note notifies nobody; the first reply sets the first response time, a later one
	// does not move it.
	if _, err := w.svc.Note(ctx, as(w.agent), th.ID, "internal", nil); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(90 * time.Second)
	apptest.Must(t, ignore(w.svc.Reply(ctx, as(w.agent), th.ID, "first", nil)))
	clock = clock.Add(time.Hour)
	apptest.Must(t, ignore(w.svc.Reply(ctx, as(w.agent), th.ID, "second", nil)))
	th, err = db.SupportThread.Get(ctx, th.ID)
	apptest.Must(t, err)
	if d, ok := support.FirstResponse(th); !ok || d != 90*time.Second {
		t.Fatalf("first response %v %v", d, ok)
	}
	if n := db.Notification.Query().Where(notification.MemberID(w.member.ID), notification.Kind("support.reply")).CountX(ctx); n != 2 {
		t.Fatalf("%d reply notifications, want 2", n)
	}
	mt, err := w.svc.MemberThread(ctx, w.member.ID, th.ID)
	apptest.Must(t, err)
	for _, m := range mt.Edges.Messages {
		if m.Internal {
			t.Fatal("the member's thread holds an internal note")
		}
	}

	clock = clock.Add(time.Hour)
	apptest.Must(t, w.svc.Resolve(ctx, as(w.agent), th.ID))
	if err := w.svc.Resolve(ctx, as(w.agent), th.ID); !errors.Is(err, support.ErrClosed) {
		t.Fatalf("resolved twice: %v", err)
	}
	st, err := w.svc.Stats(ctx, clock.Add(-24*time.Hour), clock.Add(time.Second))
	apptest.Must(t, err)
	want := support.Stats{Answered: 1, FirstResponseMedian: 90, FirstResponseAvg: 90, Resolved: 1,
		ResolutionMedian: 90 + 7200, ResolutionAvg: 90 + 7200}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}

	// Plain bot text without an active thread goes nowhere; /support opens one; the
	// member writing again reopens the resolved thread with the channel they used.
	if _, _, err := w.svc.FromBot(ctx, w.member.ID, "hello", false); !errors.Is(err, support.ErrNotFound) {
		t.Fatalf("plain text without a thread: %v", err)
	}
	apptest.Must(t, ignore(w.svc.Write(ctx, w.member.ID, th.ID, "still broken", support.ChannelTG, nil)))
	th, err = db.SupportThread.Get(ctx, th.ID)
	apptest.Must(t, err)
	if th.Status != supportthread.StatusOpen || th.Channel != supportthread.ChannelTg || th.ResolvedAt != nil {
		t.Fatalf("reopened %+v", th)
	}
	bt, _, err := w.svc.FromBot(ctx, w.member.ID, "from the bot", true)
	apptest.Must(t, err)
	if bt.ID != th.ID {
		t.Fatal("/support opened a second thread beside the active one")
	}
}

func TestConciergeBookingRule(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sup, _, err := w.svc.Open(ctx, support.OpenInput{MemberID: w.member.ID, Body: "x"})
	apptest.Must(t, err)
	if _, err := w.svc.Book(ctx, as(w.concierge), support.BookInput{ThreadID: sup.ID}); !errors.Is(err, support.ErrForbidden) {
		t.Fatalf("concierge books on a support thread: %v", err)
	}
	if _, err := w.svc.Book(ctx, as(w.agent), support.BookInput{ThreadID: sup.ID}); !errors.Is(err, support.ErrForbidden) {
		t.Fatalf("support staff books: %v", err)
	}
	req, _, err := w.svc.Open(ctx, support.OpenInput{MemberID: w.member.ID, Body: "book it", Kind: support.KindConcierge, OfferID: w.offer.ID})
	apptest.Must(t, err)
	b, err := w.svc.Book(ctx, as(w.concierge), support.BookInput{ThreadID: req.ID, Comment: "friday"})
	apptest.Must(t, err)
	if b.MemberID != w.member.ID || b.BookedByID == nil || *b.BookedByID != w.concierge.ID || b.Channel != "concierge" {
		t.Fatalf("booking %+v", b)
	}
	if _, err := w.svc.Book(ctx, as(w.concierge), support.BookInput{ThreadID: req.ID}); !errors.Is(err, support.ErrAlreadyBooked) {
		t.Fatalf("booked twice: %v", err)
	}
	closed, _, err := w.svc.Open(ctx, support.OpenInput{MemberID: w.member.ID, Body: "later", Kind: support.KindConcierge, OfferID: w.offer.ID})
	apptest.Must(t, err)
	apptest.Must(t, w.svc.Resolve(ctx, as(w.concierge), closed.ID))
	if _, err := w.svc.Book(ctx, as(w.concierge), support.BookInput{ThreadID: closed.ID}); !errors.Is(err, support.ErrClosed) {
		t.Fatalf("booked on a resolved request: %v", err)
	}
	if n := w.env.App.DB.Booking.Query().CountX(ctx); n != 1 {
		t.Fatalf("%d bookings", n)
	}
}

func isInvalid(err error, field string) bool {
	var inv *support.Invalid
	return errors.As(err, &inv) && inv.Field == field
}

func ignore[T any](_ T, err error) error { return err }
