package jobs

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
)

// Periodic is a task enqueued once per interval.
type Periodic struct {
	// Type is the task type; the task has no payload.
	Type string
	// Every is the interval, at least a second. Ticks are aligned to it on the UTC
	// clock: hourly runs at the top of each hour, daily at 00:00 UTC.
	Every time.Duration
}

// DefaultPeriodic lists the periodic tasks the app runs.
func DefaultPeriodic() []Periodic {
	return []Periodic{
		{Type: TypePurgeSessions, Every: time.Hour},
		{Type: TypeRedeliverNotifications, Every: 5 * time.Minute},
		{Type: TypeMatureBonuses, Every: 10 * time.Minute},
		{Type: TypeDowngradeTiers, Every: time.Hour},
		{Type: TypeExpireBookings, Every: 5 * time.Minute},
		{Type: TypeRemindBookings, Every: time.Hour},
		{Type: TypeArchiveOffers, Every: 10 * time.Minute},
		{Type: TypeRedeliverWebhooks, Every: time.Minute},
		{Type: TypePruneIdempotency, Every: time.Hour},
		{Type: TypeDetectFraud, Every: 15 * time.Minute},
		{Type: TypeRemindClaims, Every: 15 * time.Minute},
		{Type: TypeAnnounceTerms, Every: 5 * time.Minute},
	}
}

// periodicRetryWait is how soon a tick whose enqueue failed (Redis down) is tried again.
const periodicRetryWait = 5 * time.Second

// RunPeriodic enqueues each spec's task once per tick until ctx ends, starting with the
// current tick. Every node may run it: a tick's task has the ID "<type>:<tick unix
// seconds>" and is kept for an interval after it completes, so a tick is enqueued once
// however many nodes see it. now is the clock (time.Now in production).
func RunPeriodic(ctx context.Context, q *Queue, specs []Periodic, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	log := slog.Default().With("component", "jobs", "queue", q.Name())
	var wg sync.WaitGroup
	for _, p := range specs {
		if p.Every < time.Second || p.Type == "" {
			log.Error("periodic task ignored: needs a type and an interval of at least 1s", "type", p.Type, "every", p.Every)
			continue
		}
		wg.Go(func() { runTicker(ctx, q, p, now, log) })
	}
	wg.Wait()
}

func runTicker(ctx context.Context, q *Queue, p Periodic, now func() time.Time, log *slog.Logger) {
	var done time.Time // the last tick enqueued (or found enqueued)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		tick := now().Truncate(p.Every)
		failed := false
		if tick.After(done) {
			added, err := q.Enqueue(ctx, periodicTask(p, tick))
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				failed = true
				log.Warn("periodic task not enqueued", "type", p.Type, "tick", tick, "err", err)
			default:
				done = tick
				if added {
					log.Debug("periodic task enqueued", "type", p.Type, "tick", tick)
				}
			}
		}
		// Sleep until the next tick, but never longer than an interval (the clock may
		// have been set back), and retry a failed enqueue soon.
		wait := min(tick.Add(p.Every).Sub(now()), p.Every)
		if failed {
			wait = min(wait, periodicRetryWait)
		}
		timer.Reset(max(wait, 10*time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

// periodicTask is spec p's task for tick. Keeping the completed task for an interval
// (Retention) makes a node that sees the tick late find the ID taken.
func periodicTask(p Periodic, tick time.Time) *asynq.Task {
	return asynq.NewTask(p.Type, nil,
		asynq.TaskID(p.Type+":"+strconv.FormatInt(tick.Unix(), 10)),
		asynq.Retention(p.Every+time.Minute),
		asynq.MaxRetry(2),
		asynq.Timeout(min(p.Every, 10*time.Minute)),
	)
}
