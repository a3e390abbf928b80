package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"

	"ikra/app/apptest/tgfake"
	"ikra/app/kv"
	"ikra/app/members"
	"ikra/app/notify"
	"ikra/app/ratelimit"
	"ikra/app/tgapi"
	"ikra/ent"
	"ikra/ent/member"
)

// startDelivery runs a worker on the queue that delivers through the Bot API client
// to a fake Bot API, paced by limits on the shared Redis (redis_rate, as on several
// nodes; a zero limit takes the default).
func startDelivery(t *testing.T, r *kv.Redis, queue string, limits DeliveryLimits) (*world, *tgfake.Server) {
	t.Helper()
	w := newWorld(t, r, queue)
	f := tgfake.Start(t, testToken)
	if limits.Limiter == nil {
		limits.Limiter = redis_rate.NewLimiter(r.Client)
	}
	// Each test has buckets of its own on a shared Redis.
	limits.Limiter = prefixed{limits.Limiter, queue + ":"}
	d := w.deps()
	d.Bot = tgapi.New(f.URL, testToken, &http.Client{Timeout: 5 * time.Second})
	d.Limits = limits
	w.startWorker(t, r, queue, NewMux(d))
	return w, f
}

// prefixed puts a prefix before every key of a limiter.
type prefixed struct {
	l      ratelimit.Limiter
	prefix string
}

func (p prefixed) Allow(ctx context.Context, key string, limit redis_rate.Limit) (*redis_rate.Result, error) {
	return p.l.Allow(ctx, p.prefix+key, limit)
}

// sendsByChat returns the sendMessage calls' times by chat.
func sendsByChat(f *tgfake.Server) map[int64][]time.Time {
	out := map[int64][]time.Time{}
	for _, c := range f.Calls("sendMessage") {
		out[c.Int("chat_id")] = append(out[c.Int("chat_id")], c.At)
	}
	return out
}

// queueFailures is how many task runs on the queue counted as failures.
func queueFailures(t *testing.T, r *kv.Redis, queue string) int {
	t.Helper()
	info, err := asynq.NewInspectorFromRedisClient(r.Client).GetQueueInfo(queue)
	if err != nil {
		t.Fatal(err)
	}
	return info.FailedTotal
}

// send stores a notification for m and returns it.
func send(t *testing.T, w *world, m *ent.Member, key string) *ent.Notification {
	t.Helper()
	n, err := w.notify.Send(context.Background(), bookingAnswered(m.ID, key))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeliverRetryAfter: Telegram's 429 with retry_after 1 makes the task wait at
// least that long before the second call, which delivers; nothing is sent twice.
func TestDeliverRetryAfter(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		w, f := startDelivery(t, r, queue, DeliveryLimits{})
		f.Then("sendMessage", tgfake.Flood(1))
		m := addMember(t, w.db, 8001, member.StatusActive, "ru")
		n := send(t, w, m, "flood")

		eventually(t, "telegram_sent_at", func() bool { return w.reload(t, n.ID).TelegramSentAt != nil })
		eventually(t, "queue idle", func() bool { return queueIdle(t, r, queue) })
		calls := f.Calls("sendMessage")
		if len(calls) != 2 {
			t.Fatalf("%d sendMessage calls, want 2 (the refused one and the delivery)", len(calls))
		}
		if gap := calls[1].At.Sub(calls[0].At); gap < time.Second {
			t.Errorf("retried %v after the 429, before retry_after (1s)", gap)
		}
		if got := w.reload(t, n.ID); got.TelegramAttempts != 2 || got.TelegramError != "" || got.TelegramAttemptAt != nil {
			t.Errorf("attempts %d error %q attempt_at %v; want 2, none, none", got.TelegramAttempts, got.TelegramError, got.TelegramAttemptAt)
		}
	})
}

// TestDeliverBlockedMarksUnreachable: a 403 is not retried and marks the member's chat
// unreachable; their next notification is not attempted (the cabinet still lists it);
// once they write to the bot again, notifications reach them.
func TestDeliverBlockedMarksUnreachable(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		ctx := context.Background()
		w, f := startDelivery(t, r, queue, DeliveryLimits{})
		f.Then("sendMessage", tgfake.Blocked)
		m := addMember(t, w.db, 8101, member.StatusActive, "ru")
		first := send(t, w, m, "blocked:1")

		in := asynq.NewInspectorFromRedisClient(r.Client)
		eventually(t, "archived task", func() bool {
			ts, _ := in.ListArchivedTasks(queue)
			return len(ts) == 1 && ts[0].ID == fmt.Sprintf("notify:%d", first.ID)
		})
		if m := w.db.Member.GetX(ctx, m.ID); m.TelegramUnreachableAt == nil {
			t.Fatal("member not marked unreachable after a 403")
		}
		if got := w.reload(t, first.ID); got.TelegramAttempts != 1 || !strings.HasPrefix(got.TelegramError, notify.PermanentPrefix) {
			t.Errorf("first: attempts %d error %q", got.TelegramAttempts, got.TelegramError)
		}

		second := send(t, w, m, "blocked:2")
		eventually(t, "second given up", func() bool { return w.reload(t, second.ID).TelegramError != "" })
		eventually(t, "queue idle", func() bool { return queueIdle(t, r, queue) })
		if c := len(f.Calls("sendMessage")); c != 1 {
			t.Errorf("%d sendMessage calls, want only the refused one", c)
		}
		if got := w.reload(t, second.ID); got.TelegramAttempts != 0 || got.TelegramSentAt != nil ||
			!strings.HasPrefix(got.TelegramError, notify.PermanentPrefix) {
			t.Errorf("second: attempts %d sent %v error %q; want not attempted, given up", got.TelegramAttempts, got.TelegramSentAt, got.TelegramError)
		}
		if list, _ := w.notify.List(ctx, m.ID, 10); len(list) != 2 {
			t.Errorf("cabinet lists %d notifications, want 2", len(list))
		}
		if ids, _ := w.notify.Pending(ctx, -time.Hour, 10); len(ids) != 0 {
			t.Errorf("Pending lists %v for an unreachable member", ids)
		}

		// The member writes to the bot: the bot looks them up by their Telegram ID.
		if _, err := members.New(w.db, nil, nil).ByTelegramID(ctx, 8101); err != nil {
			t.Fatal(err)
		}
		if m := w.db.Member.GetX(ctx, m.ID); m.TelegramUnreachableAt != nil {
			t.Fatal("writing to the bot left the member unreachable")
		}
		third := send(t, w, m, "blocked:3")
		eventually(t, "third delivered", func() bool { return w.reload(t, third.ID).TelegramSentAt != nil })
		if c := len(f.Calls("sendMessage")); c != 2 {
			t.Errorf("%d sendMessage calls, want 2", c)
		}
	})
}

// TestDeliverChatLimit: three notifications to one chat leave at least a second apart
// (Telegram's limit in a chat), while those to other chats are not held up by them;
// waiting for the limit counts neither a failure nor an attempt.
func TestDeliverChatLimit(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		w, f := startDelivery(t, r, queue, DeliveryLimits{})
		one := addMember(t, w.db, 8201, member.StatusActive, "ru")
		others := []*ent.Member{
			addMember(t, w.db, 8202, member.StatusActive, "ru"),
			addMember(t, w.db, 8203, member.StatusActive, "en"),
			addMember(t, w.db, 8204, member.StatusActive, "kk"),
		}
		var ns []*ent.Notification
		for i := range 3 {
			ns = append(ns, send(t, w, one, fmt.Sprintf("chat:%d", i)))
		}
		for i, m := range others {
			ns = append(ns, send(t, w, m, fmt.Sprintf("other:%d", i)))
		}
		eventually(t, "all delivered", func() bool {
			for _, n := range ns {
				if w.reload(t, n.ID).TelegramSentAt == nil {
					return false
				}
			}
			return true
		})
		eventually(t, "queue idle", func() bool { return queueIdle(t, r, queue) })

		byChat := sendsByChat(f)
		same := byChat[8201]
		if len(same) != 3 {
			t.Fatalf("chat 8201 got %d messages, want 3", len(same))
		}
		slices.SortFunc(same, time.Time.Compare)
		// The limiter admits a message a second after the last; each reaches the fake
		// a little after its admission, by a delay that varies on a busy machine (the
		// race detector, parallel tests), which the margins allow for.
		for i := 1; i < len(same); i++ {
			if gap := same[i].Sub(same[i-1]); gap < 800*time.Millisecond {
				t.Errorf("messages %d and %d to one chat %v apart, want about 1s", i, i+1, gap)
			}
		}
		if span := same[2].Sub(same[0]); span < 1800*time.Millisecond {
			t.Errorf("three messages to one chat within %v, want about 2s", span)
		}
		var first, last time.Time
		for _, m := range others {
			ts := byChat[*m.TelegramID]
			if len(ts) != 1 {
				t.Fatalf("chat %d got %d messages, want 1", *m.TelegramID, len(ts))
			}
			if first.IsZero() || ts[0].Before(first) {
				first = ts[0]
			}
			if ts[0].After(last) {
				last = ts[0]
			}
		}
		if first.Before(same[0]) {
			first = same[0]
		}
		if spread := last.Sub(first); spread > 500*time.Millisecond {
			t.Errorf("messages to three other chats spread over %v: held up by one another or by the busy chat", spread)
		}
		for _, n := range ns {
			if got := w.reload(t, n.ID); got.TelegramAttempts != 1 {
				t.Errorf("notification %d: %d attempts, want 1", n.ID, got.TelegramAttempts)
			}
		}
		if c := queueFailures(t, r, queue); c != 0 {
			t.Errorf("%d task runs counted as failures, want none", c)
		}
	})
}

// TestDeliverGlobalLimit: with an overall limit of 2 a second, messages to different
// chats leave at least half a second apart, and all arrive once.
func TestDeliverGlobalLimit(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		limit := redis_rate.Limit{Rate: 2, Period: time.Second, Burst: 1}
		w, f := startDelivery(t, r, queue, DeliveryLimits{Global: limit})
		var ns []*ent.Notification
		for i := range 5 {
			m := addMember(t, w.db, int64(8301+i), member.StatusActive, "ru")
			ns = append(ns, send(t, w, m, fmt.Sprintf("global:%d", i)))
		}
		eventually(t, "all delivered", func() bool {
			for _, n := range ns {
				if w.reload(t, n.ID).TelegramSentAt == nil {
					return false
				}
			}
			return true
		})
		eventually(t, "queue idle", func() bool { return queueIdle(t, r, queue) })
		calls := f.Calls("sendMessage")
		if len(calls) != len(ns) {
			t.Fatalf("%d sendMessage calls for %d notifications", len(calls), len(ns))
		}
		times := make([]time.Time, len(calls))
		for i, c := range calls {
			times[i] = c.At
		}
		slices.SortFunc(times, time.Time.Compare)
		// As in TestDeliverChatLimit, the margins allow for the delay between a
		// message's admission and its arrival.
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap < 300*time.Millisecond {
				t.Errorf("messages %d and %d %v apart, want about 500ms at 2/s", i, i+1, gap)
			}
		}
		if span := times[len(times)-1].Sub(times[0]); span < 1800*time.Millisecond {
			t.Errorf("%d messages within %v, want about 2s at 2/s", len(times), span)
		}
		if c := queueFailures(t, r, queue); c != 0 {
			t.Errorf("%d task runs counted as failures, want none", c)
		}
	})
}

// failingLimiter is a limiter whose Redis is down.
type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string, redis_rate.Limit) (*redis_rate.Result, error) {
	return nil, errors.New("dial tcp 127.0.0.1:6379: connection refused")
}

// TestDeliverLimiterDown: when the limits cannot be read, messages go out unpaced.
func TestDeliverLimiterDown(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil, "")
	m := addMember(t, w.db, 8401, member.StatusActive, "ru")
	h := w.handler()
	h.pacer = newPacer(DeliveryLimits{Limiter: failingLimiter{}}, w.log)
	for i := range 2 {
		n := send(t, w, m, fmt.Sprintf("down:%d", i))
		if err := h.ProcessTask(ctx, NewDeliverNotification(n.ID)); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	if c := w.bot.callCount(); c != 2 {
		t.Errorf("Bot API called %d times, want 2", c)
	}
	if !strings.Contains(w.logs.String(), "rate limit unavailable") {
		t.Error("the limiter's failure is not logged")
	}
}

// crashingSender sends, then stops the worker before the handler can record it.
type crashingSender struct{ Sender }

type crash struct{}

func (c crashingSender) SendMessage(ctx context.Context, chatID int64, text string, opts tgapi.SendOptions) error {
	if err := c.Sender.SendMessage(ctx, chatID, text, opts); err != nil {
		return err
	}
	panic(crash{})
}

// TestDeliverWorkerDiesMidSend: a worker stops after Telegram accepted the message and
// before it was recorded. The task's next run neither sends nor counts an attempt:
// while the attempt may still be running it is postponed (not a failure), and after
// that the notification is given up as in doubt. Telegram got it once.
func TestDeliverWorkerDiesMidSend(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil, "")
	m := addMember(t, w.db, 8501, member.StatusActive, "ru")
	n := send(t, w, m, "crash")
	task := NewDeliverNotification(n.ID)

	dying := w.handler()
	dying.bot = crashingSender{dying.bot}
	func() {
		defer func() {
			if _, ok := recover().(crash); !ok {
				t.Fatal("the worker did not stop in the send")
			}
		}()
		dying.ProcessTask(ctx, task)
	}()
	if c := w.bot.callCount(); c != 1 {
		t.Fatalf("Bot API called %d times before the crash, want 1", c)
	}

	now := time.Now()
	h := w.handler()
	h.now = func() time.Time { return now }
	err := h.ProcessTask(ctx, task)
	if d, ok := waitOf(err); !ok || d <= 0 || d > inDoubtAfter || IsFailure(err) {
		t.Fatalf("run while the attempt may be in flight: %v; want a postponement that is no failure", err)
	}
	if d := RetryDelay(5, err, task); d > inDoubtAfter+time.Second {
		t.Errorf("postponed by %v", d)
	}

	now = now.Add(inDoubtAfter + time.Second)
	if err := h.ProcessTask(ctx, task); err != nil {
		t.Fatalf("run after the attempt's time: %v", err)
	}
	if err := h.ProcessTask(ctx, task); err != nil {
		t.Fatalf("another run: %v", err)
	}
	if c := w.bot.callCount(); c != 1 {
		t.Errorf("Bot API called %d times, want 1", c)
	}
	got := w.reload(t, n.ID)
	if got.TelegramAttempts != 1 || !strings.HasPrefix(got.TelegramError, notify.PermanentPrefix+"delivery in doubt") {
		t.Errorf("attempts %d error %q; want 1 and in doubt", got.TelegramAttempts, got.TelegramError)
	}
	if ids, _ := w.notify.Pending(ctx, -time.Hour, 10); len(ids) != 0 {
		t.Errorf("the sweep would deliver %v again", ids)
	}
}
