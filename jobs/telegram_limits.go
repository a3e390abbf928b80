package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"

	"ikra/app/ratelimit"
)

// Telegram's limits for a bot: about 30 messages a second overall and one a second in a
// chat. The overall rate stays below 30 because the bot's own replies (app/bot) are not
// paced here.
var (
	// DefaultGlobalLimit is how fast notifications leave for Telegram altogether.
	DefaultGlobalLimit = redis_rate.Limit{Rate: 25, Period: time.Second, Burst: 1}
	// DefaultChatLimit is how fast notifications reach one chat.
	DefaultChatLimit = redis_rate.Limit{Rate: 1, Period: time.Second, Burst: 1}
)

// DefaultMaxWait is the longest wait for a rate limit that a delivery sleeps through
// holding its worker; after a longer one it is scheduled again instead.
const DefaultMaxWait = time.Second

// DeliveryLimits paces the delivery of notifications to Telegram.
type DeliveryLimits struct {
	// Limiter keeps the buckets. Every worker of every node must share it (redis_rate on
	// the shared Redis; a ratelimit.Local only with a Redis inside this process). Nil
	// sends unpaced.
	Limiter ratelimit.Limiter
	// Global limits all deliveries together; zero means DefaultGlobalLimit.
	Global redis_rate.Limit
	// Chat limits the deliveries to one chat; zero means DefaultChatLimit.
	Chat redis_rate.Limit
	// MaxWait is the longest wait slept through in the worker; zero means DefaultMaxWait.
	MaxWait time.Duration
}

// lastRunMaxWait bounds the in-process wait of a task's last run, which cannot be
// scheduled again without being archived (asynq archives a task that has used up its
// retries whatever its error).
const lastRunMaxWait = 20 * time.Second

// pacer takes a delivery's share of the limits.
type pacer struct {
	limits DeliveryLimits
	log    *slog.Logger
	// warned is when the limiter's failure was last logged (Unix seconds).
	warned atomic.Int64
}

func newPacer(l DeliveryLimits, log *slog.Logger) *pacer {
	if l.Global.Rate <= 0 {
		l.Global = DefaultGlobalLimit
	}
	if l.Chat.Rate <= 0 {
		l.Chat = DefaultChatLimit
	}
	if l.MaxWait <= 0 {
		l.MaxWait = DefaultMaxWait
	}
	return &pacer{limits: l, log: log}
}

// wait returns when a message to chatID may be sent now, sleeping through short waits.
// A longer wait comes back as a *waitError, which schedules the task again after it
// without counting a failure. When the limiter fails (Redis is down) the message is
// sent unpaced: Telegram's own flood control (429 retry_after) still holds.
func (p *pacer) wait(ctx context.Context, chatID int64) error {
	if p == nil || p.limits.Limiter == nil {
		return nil
	}
	maxWait := p.limits.MaxWait
	if lastRun(ctx) {
		maxWait = max(maxWait, lastRunMaxWait)
	}
	buckets := []struct {
		key   string
		limit redis_rate.Limit
	}{
		{"tg:chat:" + strconv.FormatInt(chatID, 10), p.limits.Chat},
		{"tg:bot", p.limits.Global},
	}
	for _, b := range buckets {
		for {
			res, err := p.limits.Limiter.Allow(ctx, b.key, b.limit)
			if err != nil {
				p.warn(err)
				return nil
			}
			if res.Allowed > 0 {
				break
			}
			d := res.RetryAfter
			if d > maxWait {
				return &waitError{wait: d, why: "telegram rate limit (" + b.key + ")"}
			}
			select {
			case <-ctx.Done():
				return &waitError{wait: d, why: "telegram rate limit (" + b.key + ")"}
			case <-time.After(d):
			}
		}
	}
	return nil
}

// warn logs the limiter's failure, at most once a minute.
func (p *pacer) warn(err error) {
	now := time.Now().Unix()
	if last := p.warned.Load(); now-last >= 60 && p.warned.CompareAndSwap(last, now) {
		p.log.Warn("telegram rate limit unavailable; sending unpaced", "err", err)
	}
}

// lastRun reports whether the running task has no retries left.
func lastRun(ctx context.Context) bool {
	retried, ok1 := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok1 && ok2 && retried >= maxRetry
}

// waitError schedules a task again after wait without counting a failure: the task
// could not run yet (a rate limit, another run still in flight), nothing went wrong.
type waitError struct {
	wait time.Duration
	why  string
}

func (e *waitError) Error() string {
	return fmt.Sprintf("%s: again in %v", e.why, e.wait.Round(time.Millisecond))
}

// waitOf returns the wait a *waitError asks for, and whether err is one.
func waitOf(err error) (time.Duration, bool) {
	var we *waitError
	if errors.As(err, &we) {
		return we.wait, true
	}
	return 0, false
}

// IsFailure reports whether a task's error counts against its retries: a wait does not.
func IsFailure(err error) bool {
	_, wait := waitOf(err)
	return err != nil && !wait
}
