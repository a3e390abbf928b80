package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/store"
	"ikra/app/webhooks"
	"ikra/ent"
	"ikra/ent/webhookdelivery"
)

// recorder is an Enqueuer that remembers the attempts it was handed.
type recorder struct {
	mu sync.Mutex
	a  []webhooks.Attempt
}

func (r *recorder) EnqueueWebhook(_ context.Context, a webhooks.Attempt) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.a = append(r.a, a)
	return nil
}

func (r *recorder) take() []webhooks.Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.a
	r.a = nil
	return out
}

type world struct {
	db     *ent.Client
	q      *recorder
	s      *webhooks.Service
	pa, pb int
}

func newWorld(t *testing.T, d apptest.Database) *world {
	ctx := context.Background()
	w := &world{db: d.Client, q: &recorder{}}
	w.s = webhooks.New(d.Client, w.q, webhooks.Guard{AllowPrivate: true})
	for i, p := range []*int{&w.pa, &w.pb} {
		row, err := d.Client.Partner.Create().SetName(fmt.Sprint("P", i)).SetSlug(fmt.Sprint("p", i)).SetBin(fmt.Sprintf("%012d", i)).Save(ctx)
		apptest.Must(t, err)
		*p = row.ID
	}
	return w
}

func (w *world) endpoint(t *testing.T, partnerID int, events ...string) *ent.WebhookEndpoint {
	t.Helper()
	e, err := w.s.Create(context.Background(), partnerID, webhooks.EndpointInput{URL: "http://127.0.0.1:9/hook", Events: events})
	apptest.Must(t, err)
	return e
}

// event writes an event of partnerID in a transaction that commits unless fail is set.
func (w *world) event(t *testing.T, partnerID int, typ string, fail bool) (int, error) {
	t.Helper()
	var n int
	err := store.WithTx(context.Background(), w.db, func(tx *ent.Tx) (err error) {
		n, err = w.s.AddTx(context.Background(), tx, partnerID, typ, webhooks.BookingData{Booking: webhooks.Booking{Code: "ABCDEFG"}})
		if err == nil && fail {
			err = errors.New("the booking change failed")
		}
		return err
	})
	return n, err
}

// An event is written with the change that causes it, one delivery per active endpoint
// subscribed to its type, and enqueued only once the transaction has committed.
func TestEventsAreAnOutbox(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, d)
			all := w.endpoint(t, w.pa, webhooks.EventTypes...)
			w.endpoint(t, w.pa, webhooks.BookingRequested)
			off := w.endpoint(t, w.pa, webhooks.BookingCompleted)
			apptest.Must(t, w.s.SetActive(ctx, w.pa, off.ID, false))
			w.endpoint(t, w.pb, webhooks.EventTypes...)

			if _, err := w.event(t, w.pa, webhooks.BookingCompleted, true); err == nil {
				t.Fatal("the failing change committed")
			}
			if n, _ := w.db.WebhookEvent.Query().Count(ctx); n != 0 || len(w.q.take()) != 0 {
				t.Fatalf("a rolled-back change left %d events or enqueued deliveries", n)
			}
			n, err := w.event(t, w.pa, webhooks.BookingCompleted, false)
			apptest.Must(t, err)
			got := w.q.take()
			if n != 1 || len(got) != 1 || got[0].Number != 1 {
				t.Fatalf("%d deliveries, enqueued %+v; want one, to the active endpoint subscribed to completions", n, got)
			}
			dl, err := w.db.WebhookDelivery.Query().Where(webhookdelivery.ID(got[0].DeliveryID)).WithEvent().Only(ctx)
			apptest.Must(t, err)
			if dl.EndpointID != all.ID || dl.PartnerID != w.pa || dl.Status != webhookdelivery.StatusPending {
				t.Fatalf("delivery %+v", dl)
			}
			var env struct {
				ID, Type string
				Data     webhooks.BookingData
			}
			apptest.Must(t, json.Unmarshal([]byte(dl.Edges.Event.Payload), &env))
			if env.ID != dl.Edges.Event.EventID || env.Type != webhooks.BookingCompleted || env.Data.Booking.Code != "ABCDEFG" {
				t.Fatalf("payload %s", dl.Edges.Event.Payload)
			}
			if n, _ := w.event(t, w.pa, webhooks.BookingRequested, false); n != 2 {
				t.Fatalf("%d deliveries of a request, want 2", n)
			}
		})
	}
}

// A failing endpoint is attempted MaxAttempts times with growing waits, then the
// delivery is failed; "send again" starts a new round for the same event, and the
// attempts of the old round are stale.
func TestRetriesBackoffAndResend(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, d)
			e := w.endpoint(t, w.pa, webhooks.BookingConfirmed)
			_, err := w.event(t, w.pa, webhooks.BookingConfirmed, false)
			apptest.Must(t, err)
			a := w.q.take()[0]
			var waits []time.Duration
			for i := 1; ; i++ {
				c, err := w.s.Claim(ctx, a)
				apptest.Must(t, err)
				if c == nil || c.Delivery.Attempts != i {
					t.Fatalf("attempt %d not claimed: %+v", i, c)
				}
				if again, _ := w.s.Claim(ctx, a); again != nil {
					t.Fatalf("attempt %d claimed twice", i)
				}
				before := time.Now()
				next, err := w.s.Failed(ctx, a, 500, "HTTP 500")
				apptest.Must(t, err)
				if next == nil {
					break
				}
				waits = append(waits, next.At.Sub(before))
				a = *next
			}
			if len(waits) != webhooks.MaxAttempts-1 {
				t.Fatalf("%d retries, want %d", len(waits), webhooks.MaxAttempts-1)
			}
			for i, want := range webhooks.DefaultSchedule {
				if waits[i] < want-time.Second || waits[i] > want+time.Second {
					t.Errorf("wait after attempt %d: %v, want %v", i+1, waits[i], want)
				}
				if i > 0 && want <= webhooks.DefaultSchedule[i-1] {
					t.Errorf("the schedule does not grow at %d", i)
				}
			}
			dl, err := w.db.WebhookDelivery.Get(ctx, a.DeliveryID)
			apptest.Must(t, err)
			if dl.Status != webhookdelivery.StatusFailed || dl.Attempts != webhooks.MaxAttempts || dl.LastStatus != 500 || dl.LastError != "HTTP 500" {
				t.Fatalf("after the last attempt: %+v", dl)
			}

			// Partner B cannot send partner A's delivery again.
			if err := w.s.Resend(ctx, w.pb, e.ID, dl.ID); !errors.Is(err, webhooks.ErrNotFound) {
				t.Fatalf("partner B resent A's delivery: %v", err)
			}
			apptest.Must(t, w.s.Resend(ctx, w.pa, e.ID, dl.ID))
			r := w.q.take()
			if len(r) != 1 || r[0] != (webhooks.Attempt{DeliveryID: dl.ID, Number: 1, Resends: 1}) {
				t.Fatalf("resend enqueued %+v", r)
			}
			if c, _ := w.s.Claim(ctx, webhooks.Attempt{DeliveryID: dl.ID, Number: 1}); c != nil {
				t.Fatal("an attempt of the old round was claimed")
			}
			c, err := w.s.Claim(ctx, r[0])
			apptest.Must(t, err)
			if c == nil || c.Delivery.Edges.Event.ID != dl.EventID {
				t.Fatal("the resend was not claimed, or not for the same event")
			}
			apptest.Must(t, w.s.Delivered(ctx, r[0], 204))
			dl, _ = w.db.WebhookDelivery.Get(ctx, dl.ID)
			if dl.Status != webhookdelivery.StatusDelivered || dl.DeliveredAt == nil || dl.LastStatus != 204 || dl.LastError != "" {
				t.Fatalf("after the resend: %+v", dl)
			}
		})
	}
}

// The sweep enqueues deliveries whose attempt is overdue (the enqueue after the commit
// was lost, or a worker died during the attempt), and not the others.
func TestRedeliverSweep(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, d)
			e := w.endpoint(t, w.pa, webhooks.BookingRequested)
			_, err := w.event(t, w.pa, webhooks.BookingRequested, false)
			apptest.Must(t, err)
			lost := w.q.take()[0] // never delivered
			if n, err := w.s.Redeliver(ctx, time.Hour, 100); err != nil || n != 0 {
				t.Fatalf("a fresh delivery was swept: %d %v", n, err)
			}
			if n, err := w.s.Redeliver(ctx, 0, 100); err != nil || n != 1 {
				t.Fatalf("the lost delivery was not swept: %d %v", n, err)
			}
			if got := w.q.take(); len(got) != 1 || got[0] != lost {
				t.Fatalf("swept %+v, want %+v", got, lost)
			}
			// A claimed attempt keeps the sweep away while it runs.
			if c, _ := w.s.Claim(ctx, lost); c == nil {
				t.Fatal("not claimed")
			}
			if n, _ := w.s.Redeliver(ctx, 0, 100); n != 0 {
				t.Fatal("an attempt in flight was swept")
			}
			// Disabled endpoints fail their pending deliveries instead of sending them.
			_, err = w.event(t, w.pa, webhooks.BookingRequested, false)
			apptest.Must(t, err)
			next := w.q.take()[0]
			apptest.Must(t, w.s.SetActive(ctx, w.pa, e.ID, false))
			if c, err := w.s.Claim(ctx, next); c != nil || err != nil {
				t.Fatalf("a disabled endpoint's delivery was claimed: %v", err)
			}
			if dl, _ := w.db.WebhookDelivery.Get(ctx, next.DeliveryID); dl.Status != webhookdelivery.StatusFailed {
				t.Fatalf("status %s", dl.Status)
			}
			// Deleting the endpoint takes its log and its events with it; B cannot delete it.
			if err := w.s.Delete(ctx, w.pb, e.ID); !errors.Is(err, webhooks.ErrNotFound) {
				t.Fatalf("partner B deleted A's endpoint: %v", err)
			}
			apptest.Must(t, w.s.Delete(ctx, w.pa, e.ID))
			if n, _ := w.db.WebhookEvent.Query().Count(ctx); n != 0 {
				t.Fatalf("%d events left", n)
			}
		})
	}
}
