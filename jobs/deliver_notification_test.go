package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/kv"
	"ikra/app/notify"
	"ikra/app/tgapi"
	"ikra/ent"
	"ikra/ent/member"
)

func bookingAnswered(memberID int, key string) notify.Message {
	return notify.Message{
		MemberID: memberID, Kind: "booking.answered", DedupKey: key,
		Title: "Booking <answered>", Body: "Table & SECRET-BODY", Link: "/app/bookings/1",
	}
}

const wantText = "<b>Booking &lt;answered&gt;</b>\n\nTable &amp; SECRET-BODY"

// queueIdle reports whether the queue has nothing left to run.
func queueIdle(t *testing.T, r *kv.Redis, queue string) bool {
	t.Helper()
	info, err := asynq.NewInspectorFromRedisClient(r.Client).GetQueueInfo(queue)
	if err != nil {
		return false
	}
	return info.Pending+info.Active+info.Scheduled+info.Retry == 0
}

// TestDeliverEndToEnd sends through the notification service, a real asynq client and
// server, and the Bot API client against a fake Bot API.
func TestDeliverEndToEnd(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		ctx := context.Background()
		w := newWorld(t, r, queue)
		srv := NewServer(r.Queue, queue, 2, w.log)
		if err := srv.Start(NewMux(w.deps())); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
		ann := addMember(t, w.db, 5001, member.StatusActive, "en")

		n, err := w.notify.Send(ctx, bookingAnswered(ann.ID, "booking:1:answered"))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "telegram_sent_at", func() bool { return w.reload(t, n.ID).TelegramSentAt != nil })
		msgs := w.bot.messages()
		if len(msgs) != 1 {
			t.Fatalf("fake Bot API got %d messages, want 1", len(msgs))
		}
		got := msgs[0]
		if got.ChatID != 5001 || got.Text != wantText || got.ParseMode != "HTML" {
			t.Errorf("sent chat %d text %q mode %q; want 5001 %q HTML", got.ChatID, got.Text, got.ParseMode, wantText)
		}
		if kb := got.ReplyMarkup.InlineKeyboard; len(kb) != 1 || len(kb[0]) != 1 ||
			kb[0][0].Text != "Open" || kb[0][0].URL != testBaseURL+"/app/bookings/1" {
			t.Errorf("button = %+v", kb)
		}
		if got := w.reload(t, n.ID); got.TelegramAttempts != 1 || got.TelegramError != "" {
			t.Errorf("attempts %d error %q, want 1 and none", got.TelegramAttempts, got.TelegramError)
		}

		t.Run("same dedup key again", func(t *testing.T) {
			again, err := w.notify.Send(ctx, bookingAnswered(ann.ID, "booking:1:answered"))
			if err != nil || again.ID != n.ID {
				t.Fatalf("Send again = %v, %v; want notification %d", again, err, n.ID)
			}
			if c := w.db.Notification.Query().CountX(ctx); c != 1 {
				t.Errorf("%d rows, want 1", c)
			}
		})
		t.Run("delivered notification enqueued again", func(t *testing.T) {
			for range 2 {
				if err := w.queue.EnqueueDelivery(ctx, n.ID); err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "queue idle", func() bool { return queueIdle(t, r, queue) })
		})
		t.Run("new notification enqueued twice", func(t *testing.T) {
			n2, err := w.notify.Send(ctx, bookingAnswered(ann.ID, "booking:2:answered"))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.queue.EnqueueDelivery(ctx, n2.ID); err != nil {
				t.Fatal(err)
			}
			eventually(t, "second notification sent", func() bool { return w.reload(t, n2.ID).TelegramSentAt != nil })
			eventually(t, "queue idle", func() bool { return queueIdle(t, r, queue) })
		})
		if msgs := w.bot.messages(); len(msgs) != 2 {
			t.Errorf("fake Bot API got %d messages for 2 notifications, want 2", len(msgs))
		}
		if !strings.Contains(w.logs.String(), "Starting processing") {
			t.Error("asynq's own logs do not reach slog")
		}
	})
}

// TestDeliverFloodControlEndToEnd: a 429 with retry_after is retried after that wait,
// not after the generic backoff, and delivered once.
func TestDeliverFloodControlEndToEnd(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		w := newWorld(t, r, queue)
		w.startWorker(t, r, queue, NewMux(w.deps()))
		m := addMember(t, w.db, 5002, member.StatusActive, "ru")
		w.bot.then(replyFlood)

		start := time.Now()
		n, err := w.notify.Send(context.Background(), bookingAnswered(m.ID, "flood"))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "telegram_sent_at", func() bool { return w.reload(t, n.ID).TelegramSentAt != nil })
		took := time.Since(start)
		if took < time.Second || took > 6*time.Second {
			t.Errorf("delivered after %v, want about retry_after (1s)", took)
		}
		got := w.reload(t, n.ID)
		if got.TelegramAttempts != 2 || got.TelegramError != "" {
			t.Errorf("attempts %d error %q, want 2 and cleared", got.TelegramAttempts, got.TelegramError)
		}
		if msgs := w.bot.messages(); len(msgs) != 1 || msgs[0].ReplyMarkup.InlineKeyboard[0][0].Text != "Открыть" {
			t.Errorf("messages = %+v, want one with a Russian button", msgs)
		}
	})
}

// TestDeliverBlockedEndToEnd: a 403 is not retried; the task is archived, which also
// keeps its ID, so enqueuing it again does nothing.
func TestDeliverBlockedEndToEnd(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		ctx := context.Background()
		w := newWorld(t, r, queue)
		w.startWorker(t, r, queue, NewMux(w.deps()))
		m := addMember(t, w.db, 5003, member.StatusActive, "ru")
		w.bot.then(reply403)

		n, err := w.notify.Send(ctx, bookingAnswered(m.ID, "blocked"))
		if err != nil {
			t.Fatal(err)
		}
		in := asynq.NewInspectorFromRedisClient(r.Client)
		eventually(t, "archived task", func() bool {
			ts, _ := in.ListArchivedTasks(queue)
			return len(ts) == 1 && ts[0].ID == fmt.Sprintf("notify:%d", n.ID)
		})
		got := w.reload(t, n.ID)
		if got.TelegramSentAt != nil || got.TelegramAttempts != 1 || !strings.HasPrefix(got.TelegramError, notify.PermanentPrefix) {
			t.Errorf("sent %v attempts %d error %q", got.TelegramSentAt, got.TelegramAttempts, got.TelegramError)
		}
		if err := w.queue.EnqueueDelivery(ctx, n.ID); err != nil {
			t.Errorf("enqueue of an archived delivery: %v", err)
		}
		if ids, _ := w.notify.Pending(ctx, -time.Hour, 10); len(ids) != 0 {
			t.Errorf("Pending lists refused notifications %v", ids)
		}
		time.Sleep(300 * time.Millisecond)
		if c := w.bot.callCount(); c != 1 {
			t.Errorf("Bot API called %d times, want 1", c)
		}
	})
}

// TestDeliverTwice runs the handler twice on one task, as when a worker dies after
// sending but before asynq hears the task is done: the second run sends nothing.
func TestDeliverTwice(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil, "")
	m := addMember(t, w.db, 6001, member.StatusActive, "ru")
	n, err := w.notify.Send(ctx, bookingAnswered(m.ID, "twice"))
	if err != nil {
		t.Fatal(err)
	}
	task := NewDeliverNotification(n.ID)
	h := w.handler()
	for i := range 2 {
		if err := h.ProcessTask(ctx, task); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	if c := w.bot.callCount(); c != 1 {
		t.Errorf("Bot API called %d times, want 1", c)
	}
	if got := w.reload(t, n.ID); got.TelegramAttempts != 1 || got.TelegramSentAt == nil {
		t.Errorf("attempts %d sent %v", got.TelegramAttempts, got.TelegramSentAt)
	}
}

// TestDeliverBotDown: while the Bot API is unreachable, failing or hanging, each run
// fails fast with a retryable error and counts the attempt; once it is back, one run
// delivers and later runs send nothing.
func TestDeliverBotDown(t *testing.T) {
	tests := []struct {
		name     string
		failures int
		break_   func(*fakeBot)
		repair   func(*fakeBot)
	}{
		{"connection refused", 2, (*fakeBot).down, (*fakeBot).up},
		{"server error", 2, func(b *fakeBot) { b.then(reply500, reply500) }, func(*fakeBot) {}},
		{"no answer", 1, func(b *fakeBot) { b.then(replyHang) }, func(*fakeBot) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, nil, "")
			m := addMember(t, w.db, 6002, member.StatusActive, "ru")
			n, err := w.notify.Send(ctx, bookingAnswered(m.ID, "down"))
			if err != nil {
				t.Fatal(err)
			}
			task := NewDeliverNotification(n.ID)
			h := w.handler()

			tt.break_(w.bot)
			for i := range tt.failures {
				start := time.Now()
				err := h.ProcessTask(ctx, task)
				if err == nil || errors.Is(err, asynq.SkipRetry) {
					t.Fatalf("run %d: err = %v, want a retryable error", i+1, err)
				}
				if took := time.Since(start); took > fakeBotTimeout+2*time.Second {
					t.Errorf("run %d blocked for %v", i+1, took)
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("token in error %q", err)
				}
				if d := RetryDelay(i, err, task); d <= 0 || d > 10*time.Minute+2*time.Minute {
					t.Errorf("retry delay %v", d)
				}
				got := w.reload(t, n.ID)
				if got.TelegramAttempts != i+1 || got.TelegramError == "" ||
					strings.HasPrefix(got.TelegramError, notify.PermanentPrefix) || got.TelegramSentAt != nil {
					t.Errorf("run %d: attempts %d error %q sent %v", i+1, got.TelegramAttempts, got.TelegramError, got.TelegramSentAt)
				}
				if strings.Contains(got.TelegramError, testToken) {
					t.Errorf("token in telegram_error %q", got.TelegramError)
				}
			}

			tt.repair(w.bot)
			for i := range 2 {
				if err := h.ProcessTask(ctx, task); err != nil {
					t.Fatalf("run after repair %d: %v", i+1, err)
				}
			}
			if msgs := w.bot.messages(); len(msgs) != 1 {
				t.Errorf("%d messages delivered, want 1", len(msgs))
			}
			got := w.reload(t, n.ID)
			if got.TelegramSentAt == nil || got.TelegramAttempts != tt.failures+1 || got.TelegramError != "" {
				t.Errorf("after repair: sent %v attempts %d error %q", got.TelegramSentAt, got.TelegramAttempts, got.TelegramError)
			}
		})
	}
}

// TestDeliverRefused: what Telegram refuses for good is not retried; flood control is.
func TestDeliverRefused(t *testing.T) {
	tests := []struct {
		name      string
		reply     reply
		permanent bool
		delay     time.Duration // the least retry delay wanted
	}{
		{"bot blocked", reply403, true, 0},
		{"chat not found", replyNoChat, true, 0},
		{"flood control", replyFlood, false, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, nil, "")
			m := addMember(t, w.db, 6003, member.StatusActive, "ru")
			n, _ := w.notify.Send(ctx, bookingAnswered(m.ID, "refused"))
			w.bot.then(tt.reply)

			task := NewDeliverNotification(n.ID)
			err := w.handler().ProcessTask(ctx, task)
			if err == nil || errors.Is(err, asynq.SkipRetry) != tt.permanent {
				t.Fatalf("err = %v, want SkipRetry %v", err, tt.permanent)
			}
			got := w.reload(t, n.ID)
			if got.TelegramAttempts != 1 || got.TelegramError == "" || got.TelegramSentAt != nil ||
				strings.HasPrefix(got.TelegramError, notify.PermanentPrefix) != tt.permanent {
				t.Errorf("attempts %d error %q sent %v", got.TelegramAttempts, got.TelegramError, got.TelegramSentAt)
			}
			if tt.delay > 0 {
				if d := RetryDelay(0, err, task); d < tt.delay || d > tt.delay+2*time.Second {
					t.Errorf("retry delay %v, want retry_after %v", d, tt.delay)
				}
			}
		})
	}
}

// TestDeliverSkips: nothing is sent, counted or retried when there is nobody to send to.
func TestDeliverSkips(t *testing.T) {
	tests := []struct {
		name    string
		member  func(t *testing.T, w *world) *ent.Member
		prepare func(w *world, n *ent.Notification) *asynq.Task
		noBot   bool
		wantErr error
	}{
		{name: "no telegram chat", member: func(t *testing.T, w *world) *ent.Member { return addMember(t, w.db, 0, member.StatusActive, "ru") }},
		{name: "blocked member", member: func(t *testing.T, w *world) *ent.Member { return addMember(t, w.db, 7001, member.StatusBlocked, "ru") }},
		{name: "deleted member", member: func(t *testing.T, w *world) *ent.Member { return addMember(t, w.db, 7002, member.StatusDeleted, "ru") }},
		{name: "telegram off", noBot: true},
		{name: "already sent", prepare: func(w *world, n *ent.Notification) *asynq.Task {
			w.db.Notification.UpdateOneID(n.ID).SetTelegramSentAt(time.Now()).ExecX(context.Background())
			return NewDeliverNotification(n.ID)
		}},
		{name: "notification gone", prepare: func(w *world, n *ent.Notification) *asynq.Task {
			return NewDeliverNotification(n.ID + 1000)
		}},
		{name: "bad payload", wantErr: asynq.SkipRetry, prepare: func(*world, *ent.Notification) *asynq.Task {
			return asynq.NewTask(TypeDeliverNotification, []byte("{"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, nil, "")
			var m *ent.Member
			if tt.member != nil {
				m = tt.member(t, w)
			} else {
				m = addMember(t, w.db, 7003, member.StatusActive, "ru")
			}
			n, err := w.notify.Send(ctx, bookingAnswered(m.ID, "skip"))
			if err != nil {
				t.Fatal(err)
			}
			task := NewDeliverNotification(n.ID)
			if tt.prepare != nil {
				task = tt.prepare(w, n)
			}
			h := w.handler()
			if tt.noBot {
				h = muxDeliverHandler(t, Deps{Notify: w.notify, Log: w.log, Bot: (*tgapi.Client)(nil)})
			}
			if err := h.ProcessTask(ctx, task); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if c := w.bot.callCount(); c != 0 {
				t.Errorf("Bot API called %d times", c)
			}
			if got := w.reload(t, n.ID); got.TelegramAttempts != 0 || got.TelegramError != "" {
				t.Errorf("attempts %d error %q, want untouched", got.TelegramAttempts, got.TelegramError)
			}
		})
	}
}

// muxDeliverHandler returns the delivery handler NewMux wires for d.
func muxDeliverHandler(t *testing.T, d Deps) *deliverNotification {
	t.Helper()
	mux := NewMux(d)
	h, pattern := mux.Handler(NewDeliverNotification(1))
	if pattern != TypeDeliverNotification {
		t.Fatalf("mux routes %s to %q", TypeDeliverNotification, pattern)
	}
	return h.(*deliverNotification)
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name       string
		base       string
		n          ent.Notification
		lang       string
		wantText   string
		wantButton string
		wantURL    string
	}{
		{"title and body", "https://ikra.example/", ent.Notification{Title: "A & B", Body: "x < y", Link: "/app/x"}, "en",
			"<b>A &amp; B</b>\n\nx &lt; y", "Open", "https://ikra.example/app/x"},
		{"body only", "https://ikra.example", ent.Notification{Body: "just body", Link: "app/y"}, "kk",
			"just body", "Ашу", "https://ikra.example/app/y"},
		{"title only, unknown language", "https://ikra.example", ent.Notification{Title: "T", Link: "/app"}, "de",
			"<b>T</b>", "Открыть", "https://ikra.example/app"},
		{"no link", "https://ikra.example", ent.Notification{Title: "T", Body: "B"}, "ru",
			"<b>T</b>\n\nB", "", ""},
		{"plain http site: no button", "http://127.0.0.1:8080", ent.Notification{Title: "T", Body: "B", Link: "/app"}, "ru",
			"<b>T</b>\n\nB", "", ""},
		{"absolute link kept", "http://127.0.0.1:8080", ent.Notification{Body: "B", Link: "https://t.me/ikra"}, "ru",
			"B", "Открыть", "https://t.me/ikra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &deliverNotification{catalog: catalog, baseURL: tt.base}
			text, opts := h.message(&tt.n, tt.lang)
			if text != tt.wantText || opts.ParseMode != tgapi.ParseHTML || opts.ButtonText != tt.wantButton || opts.ButtonURL != tt.wantURL {
				t.Errorf("message = %q %+v; want %q button %q %q", text, opts, tt.wantText, tt.wantButton, tt.wantURL)
			}
		})
	}
	long := strings.Repeat("я", maxBodyRunes+100)
	text, _ := (&deliverNotification{catalog: catalog}).message(&ent.Notification{Title: "T", Body: long}, "ru")
	if n := len([]rune(text)); n > 4096 {
		t.Errorf("long body gives %d characters", n)
	}
}

func TestRetryDelay(t *testing.T) {
	for n := range 15 {
		want := min(10*time.Second<<n, 10*time.Minute)
		if n >= 10 {
			want = 10 * time.Minute
		}
		for range 20 {
			if d := RetryDelay(n, errors.New("boom"), nil); d < want*8/10 || d > want*12/10 {
				t.Fatalf("RetryDelay(%d) = %v, want %v ±20%%", n, d, want)
			}
		}
	}
	flood := fmt.Errorf("deliver: %w", &tgapi.APIError{Code: 429, RetryAfter: 7})
	if d := RetryDelay(3, flood, nil); d < 8*time.Second || d > 9*time.Second {
		t.Errorf("RetryDelay with retry_after 7 = %v", d)
	}
}

func TestQueueIgnoresDuplicates(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		q := NewQueue(asynq.NewClientFromRedisClient(r.Client), queue)
		for range 3 {
			if err := q.EnqueueDelivery(context.Background(), 42); err != nil {
				t.Fatal(err)
			}
		}
		ts, err := asynq.NewInspectorFromRedisClient(r.Client).ListPendingTasks(queue)
		if err != nil || len(ts) != 1 || ts[0].ID != "notify:42" || ts[0].MaxRetry != notify.MaxAttempts {
			t.Fatalf("pending = %v, %v; want one notify:42", ts, err)
		}
	})
}
