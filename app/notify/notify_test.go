package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/hook"
	"ikra/ent/member"
	"ikra/ent/notification"
)

// fakeQueue records enqueued notification IDs and fails while fail is set.
type fakeQueue struct {
	mu   sync.Mutex
	ids  []int
	fail bool
}

func (q *fakeQueue) EnqueueDelivery(_ context.Context, id int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail {
		return errors.New("queue down")
	}
	q.ids = append(q.ids, id)
	return nil
}

func (q *fakeQueue) enqueued() []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.ids)
}

func openDB(t *testing.T) *ent.Client {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// ent's migration rewrites package-level table descriptions: two at once in one
	// process race, so parallel tests take turns.
	migrateMu.Lock()
	err = db.Migrate(ctx)
	migrateMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return db.Client
}

var migrateMu sync.Mutex

var memberSeq int

func addMember(t *testing.T, db *ent.Client, telegramID int64, status member.Status) *ent.Member {
	t.Helper()
	memberSeq++
	c := db.Member.Create().SetReferralCode(fmt.Sprintf("REF%d", memberSeq)).SetStatus(status)
	if telegramID != 0 {
		c.SetTelegramID(telegramID)
	}
	m, err := c.Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func msg(memberID int, key string) Message {
	return Message{MemberID: memberID, Kind: "booking.answered", DedupKey: key, Title: "Booking", Body: "Answered", Link: "/app/bookings/1"}
}

func TestSendValidates(t *testing.T) {
	s := New(openDB(t), nil)
	tests := []struct {
		name    string
		m       Message
		missing string
	}{
		{"no member", Message{Kind: "k", DedupKey: "d", Body: "b"}, "member_id"},
		{"no kind", Message{MemberID: 1, DedupKey: "d", Body: "b"}, "kind"},
		{"no key", Message{MemberID: 1, Kind: "k", Body: "b"}, "dedup_key"},
		{"no text", Message{MemberID: 1, Kind: "k", DedupKey: "d", Title: " "}, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Send(context.Background(), tt.m)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.missing) {
				t.Fatalf("err = %v, want ErrInvalid naming %s", err, tt.missing)
			}
		})
	}
}

func TestSendDedup(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	q := &fakeQueue{}
	s := New(db, q)
	m := addMember(t, db, 1001, member.StatusActive)
	other := addMember(t, db, 1002, member.StatusActive)

	first, err := s.Send(ctx, msg(m.ID, "booking:1:answered"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Send(ctx, msg(m.ID, "booking:1:answered"))
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID {
		t.Errorf("second Send made notification %d, want the first %d", second.ID, first.ID)
	}
	if got := q.enqueued(); !slices.Equal(got, []int{first.ID}) {
		t.Errorf("enqueued %v, want [%d] once", got, first.ID)
	}
	if _, err := s.Send(ctx, msg(other.ID, "booking:1:answered")); !errors.Is(err, ErrDedupConflict) {
		t.Errorf("other member's Send with the same key: err = %v, want ErrDedupConflict", err)
	}
	if _, err := s.Send(ctx, msg(999999, "no-such-member")); err == nil {
		t.Error("Send to a missing member succeeded")
	}
	if n := db.Notification.Query().CountX(ctx); n != 1 {
		t.Errorf("%d notifications stored, want 1", n)
	}
}

// TestSendConcurrent races many Sends of one key: the unique constraint settles it.
func TestSendConcurrent(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	q := &fakeQueue{}
	s := New(db, q)
	m := addMember(t, db, 1003, member.StatusActive)

	const n = 8
	ids := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			nt, err := s.Send(ctx, msg(m.ID, "race"))
			errs[i] = err
			if nt != nil {
				ids[i] = nt.ID
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("Send %d: id %d err %v; want id %d", i, ids[i], errs[i], ids[0])
		}
	}
	if got := q.enqueued(); len(got) != 1 {
		t.Errorf("enqueued %v, want one", got)
	}
	if c := db.Notification.Query().CountX(ctx); c != 1 {
		t.Errorf("%d rows, want 1", c)
	}
}

// TestSendLosesRace makes another writer store the same key between Send's lookup and
// its insert: Send returns that row and enqueues nothing (its writer does).
func TestSendLosesRace(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	q := &fakeQueue{}
	s := New(db, q)
	m := addMember(t, db, 1005, member.StatusActive)

	var winner int
	db.Notification.Use(func(next ent.Mutator) ent.Mutator {
		return hook.NotificationFunc(func(ctx context.Context, mu *ent.NotificationMutation) (ent.Value, error) {
			if key, _ := mu.DedupKey(); mu.Op().Is(ent.OpCreate) && key == "contested" && winner == 0 {
				winner = -1 // the nested create below passes straight through
				n, err := db.Notification.Create().SetMemberID(m.ID).SetKind("k").SetDedupKey(key).SetBody("first").Save(ctx)
				if err != nil {
					return nil, err
				}
				winner = n.ID
			}
			return next.Mutate(ctx, mu)
		})
	})
	n, err := s.Send(ctx, msg(m.ID, "contested"))
	if err != nil {
		t.Fatal(err)
	}
	if winner <= 0 || n.ID != winner || n.Body != "first" {
		t.Errorf("Send returned %d (%q), want the winner %d", n.ID, n.Body, winner)
	}
	if got := q.enqueued(); len(got) != 0 {
		t.Errorf("loser enqueued %v", got)
	}
}

func TestSendEnqueueFailsThenRedeliver(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	q := &fakeQueue{fail: true}
	s := New(db, q)
	m := addMember(t, db, 1004, member.StatusActive)

	n, err := s.Send(ctx, msg(m.ID, "lost-enqueue"))
	if err == nil || n == nil {
		t.Fatalf("Send = %v, %v; want the row and an error", n, err)
	}
	if ids, _ := s.Pending(ctx, time.Minute, 10); len(ids) != 0 {
		t.Errorf("Pending lists %v before olderThan has passed", ids)
	}
	s.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	q.fail = false
	got, err := s.Redeliver(ctx, time.Minute, 10)
	if err != nil || got != 1 || !slices.Equal(q.enqueued(), []int{n.ID}) {
		t.Fatalf("Redeliver = %d, %v, enqueued %v; want 1 of [%d]", got, err, q.enqueued(), n.ID)
	}
}

func TestPending(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	s := New(db, nil)
	active := addMember(t, db, 2001, member.StatusActive)
	noChat := addMember(t, db, 0, member.StatusActive)
	blocked := addMember(t, db, 2002, member.StatusBlocked)

	add := func(memberID int, key string, set func(*ent.NotificationUpdateOne)) int {
		n, err := s.Send(ctx, msg(memberID, key))
		if err != nil {
			t.Fatal(err)
		}
		if set != nil {
			u := db.Notification.UpdateOneID(n.ID)
			set(u)
			u.ExecX(ctx)
		}
		return n.ID
	}
	want := []int{
		add(active.ID, "fresh", nil),
		add(active.ID, "retrying", func(u *ent.NotificationUpdateOne) {
			u.SetTelegramAttempts(MaxAttempts - 1).SetTelegramError("telegram: 500")
		}),
	}
	add(active.ID, "sent", func(u *ent.NotificationUpdateOne) { u.SetTelegramSentAt(time.Now()) })
	add(active.ID, "exhausted", func(u *ent.NotificationUpdateOne) { u.SetTelegramAttempts(MaxAttempts) })
	add(active.ID, "refused", func(u *ent.NotificationUpdateOne) { u.SetTelegramError(PermanentPrefix + "403") })
	add(noChat.ID, "no-chat", nil)
	add(blocked.ID, "blocked", nil)

	s.now = func() time.Time { return time.Now().Add(time.Hour) }
	got, err := s.Pending(ctx, time.Minute, 100)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Pending = %v, %v; want %v", got, err, want)
	}
	if got, _ := s.Pending(ctx, time.Minute, 1); !slices.Equal(got, want[:1]) {
		t.Errorf("Pending limit 1 = %v, want %v", got, want[:1])
	}
}

func TestDeliveryState(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	s := New(db, nil)
	m := addMember(t, db, 3001, member.StatusActive)
	n, _ := s.Send(ctx, msg(m.ID, "state"))

	if ok, err := s.BeginAttempt(ctx, n.ID); !ok || err != nil {
		t.Fatalf("BeginAttempt = %v, %v", ok, err)
	}
	if err := s.MarkFailed(ctx, n.ID, "telegram: 403 Forbidden", true); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.MarkSent(ctx, n.ID); !ok || err != nil {
		t.Fatalf("MarkSent = %v, %v", ok, err)
	}
	if ok, _ := s.MarkSent(ctx, n.ID); ok {
		t.Error("second MarkSent counted")
	}
	if ok, _ := s.BeginAttempt(ctx, n.ID); ok {
		t.Error("BeginAttempt counted on a sent notification")
	}
	got, err := s.ForDelivery(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TelegramAttempts != 1 || got.TelegramSentAt == nil || got.TelegramError != "" || got.Edges.Member == nil {
		t.Errorf("after delivery: attempts %d sent %v error %q member %v", got.TelegramAttempts, got.TelegramSentAt, got.TelegramError, got.Edges.Member)
	}
	if _, err := s.ForDelivery(ctx, n.ID+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("ForDelivery(missing) err = %v", err)
	}
}

func TestCabinet(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	s := New(db, nil)
	ann := addMember(t, db, 4001, member.StatusActive)
	bob := addMember(t, db, 4002, member.StatusActive)
	base := time.Now()
	var annIDs []int
	for i := range 3 {
		s.now = func() time.Time { return base.Add(time.Duration(i) * time.Minute) }
		n, err := s.Send(ctx, msg(ann.ID, fmt.Sprintf("ann-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		annIDs = append(annIDs, n.ID)
	}
	bobN, _ := s.Send(ctx, msg(bob.ID, "bob-0"))
	s.now = time.Now

	list, err := s.List(ctx, ann.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != annIDs[2] || list[1].ID != annIDs[1] {
		t.Errorf("List = %v, want newest two of %v", ids(list), annIDs)
	}

	tests := []struct {
		name       string
		memberID   int
		id         int
		wantErr    error
		wantUnread int
	}{
		{"own notification", ann.ID, annIDs[0], nil, 2},
		{"again keeps it read", ann.ID, annIDs[0], nil, 2},
		{"another member's", ann.ID, bobN.ID, ErrNotFound, 2},
		{"missing", ann.ID, bobN.ID + 100, ErrNotFound, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.MarkRead(ctx, tt.memberID, tt.id); !errors.Is(err, tt.wantErr) {
				t.Fatalf("MarkRead err = %v, want %v", err, tt.wantErr)
			}
			if n, _ := s.UnreadCount(ctx, tt.memberID); n != tt.wantUnread {
				t.Errorf("UnreadCount = %d, want %d", n, tt.wantUnread)
			}
		})
	}
	if n, _ := s.UnreadCount(ctx, bob.ID); n != 1 {
		t.Errorf("bob's unread = %d, want 1 (ann cannot read his)", n)
	}
	if n, err := s.MarkAllRead(ctx, ann.ID); n != 2 || err != nil {
		t.Errorf("MarkAllRead = %d, %v; want 2", n, err)
	}
	if n, _ := s.UnreadCount(ctx, ann.ID); n != 0 {
		t.Errorf("unread after MarkAllRead = %d", n)
	}
	if n, _ := s.UnreadCount(ctx, bob.ID); n != 1 {
		t.Errorf("bob's unread after ann's MarkAllRead = %d, want 1", n)
	}
	if c := db.Notification.Query().Where(notification.ID(bobN.ID), notification.ReadAtIsNil()).CountX(ctx); c != 1 {
		t.Error("bob's notification got read")
	}
}

func ids(ns []*ent.Notification) []int {
	out := make([]int, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// AddTx writes the notification with the caller's transaction and enqueues its
// delivery only once that commits; a rolled-back event leaves neither.
func TestAddTxCommitsWithTheEvent(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	q := &fakeQueue{}
	s := New(db, q)
	m := addMember(t, db, 7001, member.StatusActive)
	inTx := func(fn func(tx *ent.Tx) error) error { return store.WithTx(ctx, db, fn) }

	boom := errors.New("the event failed")
	err := inTx(func(tx *ent.Tx) error {
		if _, err := s.AddTx(ctx, tx, msg(m.ID, "k1")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n, _ := db.Notification.Query().Count(ctx); n != 0 || len(q.enqueued()) != 0 {
		t.Fatalf("a rolled-back event left %d notifications, enqueued %v", n, q.enqueued())
	}

	var first *ent.Notification
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(inTx(func(tx *ent.Tx) (err error) {
		first, err = s.AddTx(ctx, tx, msg(m.ID, "k1"))
		if len(q.enqueued()) != 0 {
			t.Error("enqueued before the commit")
		}
		return err
	}))
	if got := q.enqueued(); !slices.Equal(got, []int{first.ID}) {
		t.Fatalf("enqueued %v after the commit, want [%d]", got, first.ID)
	}
	// The same key again: the stored row, enqueued again while unsent.
	var again *ent.Notification
	must(inTx(func(tx *ent.Tx) (err error) { again, err = s.AddTx(ctx, tx, msg(m.ID, "k1")); return }))
	if again.ID != first.ID || len(q.enqueued()) != 2 {
		t.Fatalf("second AddTx: %d (first %d), enqueued %v", again.ID, first.ID, q.enqueued())
	}
	if _, err := s.MarkSent(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	must(inTx(func(tx *ent.Tx) error { _, err := s.AddTx(ctx, tx, msg(m.ID, "k1")); return err }))
	if len(q.enqueued()) != 2 {
		t.Fatalf("a sent notification was enqueued again: %v", q.enqueued())
	}
	// Another member's key is refused; a queue that is down does not undo the event.
	other := addMember(t, db, 7002, member.StatusActive)
	if err := inTx(func(tx *ent.Tx) error { _, err := s.AddTx(ctx, tx, msg(other.ID, "k1")); return err }); !errors.Is(err, ErrDedupConflict) {
		t.Fatalf("another member's key: %v", err)
	}
	q.mu.Lock()
	q.fail = true
	q.mu.Unlock()
	must(inTx(func(tx *ent.Tx) error { _, err := s.AddTx(ctx, tx, msg(m.ID, "k2")); return err }))
	if n, _ := db.Notification.Query().Where(notification.DedupKey("k2")).Count(ctx); n != 1 {
		t.Fatal("the notification was lost with its enqueue")
	}
	if ids, err := s.Pending(ctx, -time.Hour, 10); err != nil || len(ids) != 1 {
		t.Fatalf("the sweep finds %v (%v)", ids, err)
	}
}
