package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/kv"
	"ikra/app/notify"
	"ikra/ent/member"
)

// TestRedeliverEndToEnd: a notification whose delivery was never enqueued (the enqueue
// failed, or the embedded queue died with its process) is delivered by the sweep, once
// however often the sweep runs.
func TestRedeliverEndToEnd(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		ctx := context.Background()
		w := newWorld(t, r, queue)
		w.startWorker(t, r, queue, NewMux(w.deps()))
		m := addMember(t, w.db, 8001, member.StatusActive, "ru")
		lost, err := notify.New(w.db, nil).Send(ctx, bookingAnswered(m.ID, "lost"))
		if err != nil {
			t.Fatal(err)
		}
		w.db.Notification.UpdateOneID(lost.ID).SetCreatedAt(time.Now().Add(-time.Hour)).ExecX(ctx)

		for range 3 {
			if _, err := w.queue.Enqueue(ctx, NewRedeliverNotifications()); err != nil {
				t.Fatal(err)
			}
			eventually(t, "sent", func() bool { return w.reload(t, lost.ID).TelegramSentAt != nil })
			eventually(t, "queue idle", func() bool { return queueIdle(t, r, queue) })
		}
		if msgs := w.bot.messages(); len(msgs) != 1 || msgs[0].ChatID != 8001 {
			t.Errorf("messages %+v, want one to 8001", msgs)
		}
	})
}

func TestRedeliverTelegramOff(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		ctx := context.Background()
		w := newWorld(t, r, queue)
		m := addMember(t, w.db, 8002, member.StatusActive, "ru")
		n, _ := notify.New(w.db, nil).Send(ctx, bookingAnswered(m.ID, "off"))
		w.db.Notification.UpdateOneID(n.ID).SetCreatedAt(time.Now().Add(-time.Hour)).ExecX(ctx)

		mux := NewMux(Deps{Notify: w.notify, Log: w.log})
		if err := mux.ProcessTask(ctx, NewRedeliverNotifications()); err != nil {
			t.Fatal(err)
		}
		ts, err := asynq.NewInspectorFromRedisClient(r.Client).ListPendingTasks(queue)
		if (err != nil && !errors.Is(err, asynq.ErrQueueNotFound)) || len(ts) != 0 {
			t.Errorf("with Telegram off the sweep enqueued %d tasks (%v)", len(ts), err)
		}
	})
}

func TestPurgeSessions(t *testing.T) {
	failure := errors.New("db down")
	tests := []struct {
		name    string
		purge   func(context.Context) (int, error)
		wantErr error
		wantLog string
	}{
		{"purged", func(context.Context) (int, error) { return 3, nil }, nil, "count=3"},
		{"nothing to purge", func(context.Context) (int, error) { return 0, nil }, nil, ""},
		{"purge fails", func(context.Context) (int, error) { return 0, failure }, failure, ""},
		{"no purge configured", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := testLogger()
			mux := NewMux(Deps{Purge: tt.purge, Notify: notify.New(nil, nil), Log: log})
			err := mux.ProcessTask(context.Background(), NewPurgeSessions())
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantLog != "" && !containsAll(logs.String(), "expired sessions purged", tt.wantLog) {
				t.Errorf("logs = %q", logs.String())
			}
		})
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func TestDefaultPeriodic(t *testing.T) {
	mux := NewMux(Deps{Notify: notify.New(nil, nil)})
	for _, p := range DefaultPeriodic() {
		if _, pattern := mux.Handler(asynq.NewTask(p.Type, nil)); pattern != p.Type {
			t.Errorf("periodic %s has no handler", p.Type)
		}
		if p.Every < time.Minute {
			t.Errorf("periodic %s every %v", p.Type, p.Every)
		}
	}
}
