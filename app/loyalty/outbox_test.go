package loyalty_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/i18n"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/members"
	"ikra/app/notify"
	"ikra/app/settings"
	"ikra/ent"
	"ikra/ent/hook"
	"ikra/ent/ledgerentry"
	"ikra/ent/member"
	"ikra/ent/notification"
)

// recorder is an Enqueuer that remembers what it was handed.
type recorder struct {
	mu  sync.Mutex
	ids []int
}

func (r *recorder) EnqueueDelivery(_ context.Context, id int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	return nil
}

func (r *recorder) take() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ids
	r.ids = nil
	return out
}

// outboxWorld is the loyalty world with notifications on, whose notification writes
// can be made to fail, as a process dying between two writes would.
type outboxWorld struct {
	*world
	queue *recorder
	fail  *atomic.Bool
}

func newOutboxWorld(t *testing.T, d apptest.Database) *outboxWorld {
	ctx := context.Background()
	w := newWorld(t, d)
	cat, err := i18n.Load()
	apptest.Must(t, err)
	q := &recorder{}
	w.loyalty = loyalty.New(d.Client, w.ledger, settings.New(d.Client), notify.New(d.Client, q))
	w.loyalty.SetTexts(cat.T)
	apptest.Must(t, w.loyalty.Init(ctx))
	w.members = members.New(d.Client, nil, func(context.Context, int) error { return nil })
	w.members.OnRegister(w.loyalty.OnRegister)
	fail := &atomic.Bool{}
	d.Client.Notification.Use(func(next ent.Mutator) ent.Mutator {
		return hook.NotificationFunc(func(ctx context.Context, m *ent.NotificationMutation) (ent.Value, error) {
			if fail.Load() {
				return nil, errors.New("notification store unavailable")
			}
			return next.Mutate(ctx, m)
		})
	})
	return &outboxWorld{world: w, queue: q, fail: fail}
}

func (w *outboxWorld) notes(t *testing.T, memberID int, kind string) []*ent.Notification {
	t.Helper()
	ns, err := w.db.Notification.Query().Where(notification.MemberID(memberID), notification.Kind(kind)).All(context.Background())
	apptest.Must(t, err)
	return ns
}

// A registration and its welcome notification commit together: when the notification
// cannot be written, nobody is registered and no bonus is paid; the retried sign-in
// registers once and greets once, in the member's language.
func TestWelcomeNotificationCommitsWithRegistration(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newOutboxWorld(t, d)
			id := members.Identity{TelegramID: 8101, FirstName: "Dana", Language: "en"}
			w.fail.Store(true)
			if _, _, err := w.members.SignIn(ctx, id, "web", ""); err == nil {
				t.Fatal("sign-in succeeded although its welcome notification was not written")
			}
			if n, _ := w.db.Member.Query().Where(member.TelegramID(8101)).Count(ctx); n != 0 {
				t.Fatalf("%d members registered without their welcome notification", n)
			}
			if n, _ := w.db.LedgerEntry.Query().Count(ctx); n != 0 {
				t.Fatalf("%d ledger entries written without the welcome notification", n)
			}
			if len(w.queue.take()) != 0 {
				t.Fatal("a delivery was enqueued for a rolled-back notification")
			}
			w.fail.Store(false)
			for range 2 {
				_, _, err := w.members.SignIn(ctx, id, "web", "")
				apptest.Must(t, err)
			}
			m, err := w.db.Member.Query().Where(member.TelegramID(8101)).Only(ctx)
			apptest.Must(t, err)
			ns := w.notes(t, m.ID, "welcome")
			if len(ns) != 1 || ns[0].Title != "Welcome to IKRA" || ns[0].Body == "" {
				t.Fatalf("welcome notifications %+v", ns)
			}
			if got := w.queue.take(); !slices.Equal(got, []int{ns[0].ID}) {
				t.Fatalf("enqueued %v, want the welcome %d once", got, ns[0].ID)
			}
			if b := w.balance(t, m.ID); b.Available != 3000 {
				t.Fatalf("welcome bonus %d", b.Available)
			}
		})
	}
}

// An annulment and its notification commit together; a retry with the same key writes
// no second notification but enqueues the one not yet sent.
func TestAnnulmentNotificationCommitsWithAnnulment(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newOutboxWorld(t, d)
			m := w.register(t, 8201, "")
			w.queue.take()
			staff := audit.Entry{ActorRole: "moderator"}
			w.fail.Store(true)
			if _, err := w.loyalty.Annul(ctx, staff, m.ID, nil, 500, "fraud", "k1"); err == nil {
				t.Fatal("annulment succeeded although its notification was not written")
			}
			if n, _ := w.db.LedgerEntry.Query().Where(ledgerentry.KindEQ(ledgerentry.KindAnnulment)).Count(ctx); n != 0 {
				t.Fatalf("%d annulments without a notification", n)
			}
			if n, _ := w.db.AuditLog.Query().Count(ctx); n != 0 {
				t.Fatalf("%d audit rows for a rolled-back annulment", n)
			}
			w.fail.Store(false)
			e, err := w.loyalty.Annul(ctx, staff, m.ID, nil, 500, "fraud", "k1")
			apptest.Must(t, err)
			ns := w.notes(t, m.ID, "bonus_annulled")
			if len(ns) != 1 || ns[0].DedupKey != "annul:"+apptest.Itoa(e.ID) || ns[0].Title != "Бонусы аннулированы" {
				t.Fatalf("annulment notifications %+v", ns)
			}
			if got := w.queue.take(); !slices.Equal(got, []int{ns[0].ID}) {
				t.Fatalf("enqueued %v", got)
			}
			// Retried: the same entry, no second notification, its delivery enqueued again.
			again, err := w.loyalty.Annul(ctx, staff, m.ID, nil, 500, "fraud", "k1")
			apptest.Must(t, err)
			if again.ID != e.ID || len(w.notes(t, m.ID, "bonus_annulled")) != 1 {
				t.Fatal("a retried annulment wrote again")
			}
			if got := w.queue.take(); !slices.Equal(got, []int{ns[0].ID}) {
				t.Fatalf("retry enqueued %v", got)
			}
			// Once sent, a retry enqueues nothing.
			_, err = w.db.Notification.UpdateOneID(ns[0].ID).SetTelegramSentAt(w.now).Save(ctx)
			apptest.Must(t, err)
			_, err = w.loyalty.Annul(ctx, staff, m.ID, nil, 500, "fraud", "k1")
			apptest.Must(t, err)
			if got := w.queue.take(); len(got) != 0 {
				t.Fatalf("a sent notification enqueued again: %v", got)
			}
			// The same key with another amount is a conflict and writes nothing.
			if _, err := w.loyalty.Annul(ctx, staff, m.ID, nil, 600, "fraud", "k1"); !errors.Is(err, ledger.ErrConflict) {
				t.Fatalf("another amount under the key: %v", err)
			}
			if b := w.balance(t, m.ID); b.Available != 2500 {
				t.Fatalf("available %d", b.Available)
			}
		})
	}
}
