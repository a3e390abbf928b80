// Package jobs holds IKRA's background tasks on asynq: one file per task type with its
// payload, constructor and handler, plus the queue, the worker server and the periodic
// ticker that several nodes may run at once.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/i18n"
	"ikra/app/metrics"
	"ikra/app/notify"
	"ikra/app/tgapi"
	"ikra/app/webhooks"
	"ikra/ent"
)

// Sender sends a Telegram message; *tgapi.Client is one.
type Sender interface {
	SendMessage(ctx context.Context, chatID int64, text string, opts tgapi.SendOptions) error
}

// Deps is what the task handlers need.
type Deps struct {
	// DB is the database, for handlers that need it beyond the domain services.
	DB *ent.Client
	// Bot sends to Telegram; nil means Telegram is off and nothing is delivered.
	Bot Sender
	// Buttons adds action buttons to a notification's Telegram message (Confirm and
	// Decline under a partner's new booking, say); nil adds none.
	Buttons func(n *ent.Notification, lang string) [][]tgapi.Button
	// Limits paces notifications to Telegram's rate limits; its zero value sends unpaced.
	Limits DeliveryLimits
	// BaseURL is the site's public address, e.g. "https://ikra.kz"; notification links
	// are relative to it.
	BaseURL string
	// Purge deletes expired sessions and returns how many; nil skips the purge.
	Purge func(context.Context) (int, error)
	// Mature makes due pending bonuses available and returns how many; nil skips it.
	Mature func(context.Context) (int, error)
	// Downgrade ends bought status periods that are over; nil skips it.
	Downgrade func(context.Context) (int, error)
	// Thumbnail makes the thumbnail of an offer image (images.Service.MakeThumbnail);
	// nil fails those tasks without retrying.
	Thumbnail func(ctx context.Context, mediaID int) error
	// Expire ends booking requests the partner did not answer in time; nil skips it.
	Expire func(context.Context) (int, error)
	// Remind reminds members of bookings on their wished day; nil skips it.
	Remind func(context.Context) (int, error)
	// RemindClaims reminds staff of claims' deadlines (claims.Service.Remind); nil
	// skips it.
	RemindClaims func(context.Context) (int, error)
	// AnnounceTerms tells members about new terms versions (terms.Service.Announce);
	// nil skips it.
	AnnounceTerms func(context.Context) (int, error)
	// Archive archives offers past their validity and returns how many; nil skips it.
	Archive func(context.Context) (int, error)
	// Webhooks keeps partners' webhook deliveries; nil fails those tasks without
	// retrying and skips the sweep.
	Webhooks *webhooks.Service
	// Queue enqueues the retries of webhook deliveries; required with Webhooks.
	Queue *Queue
	// PruneIdempotency deletes the API's stored answers past their retention; nil
	// skips it.
	PruneIdempotency func(context.Context) (int, error)
	// DetectFraud runs the fraud detectors and returns how many flags were raised or
	// updated; nil skips it.
	DetectFraud func(context.Context) (int, error)
	// Notify stores notifications and their delivery state; required.
	Notify *notify.Service
	// Catalog translates what the jobs write themselves (the notification's button);
	// nil means the embedded catalogs.
	Catalog *i18n.Catalog
	// Log receives the handlers' logs; nil means slog.Default().
	Log *slog.Logger
	// Metrics counts job runs (ikra_jobs_total, ikra_job_duration_seconds) and
	// notification deliveries; nil counts nothing.
	Metrics *metrics.Metrics
}

// NewMux routes every task type to its handler.
func NewMux(d Deps) *asynq.ServeMux {
	if d.Notify == nil {
		panic("jobs: Deps.Notify is required")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Catalog == nil {
		cat, err := i18n.Load()
		if err != nil {
			panic("jobs: " + err.Error()) // the catalogs are embedded: a broken one fails every test
		}
		d.Catalog = cat
	}
	if c, ok := d.Bot.(*tgapi.Client); ok && c == nil {
		d.Bot = nil // a typed nil would pass the nil check and then panic
	}
	mux := asynq.NewServeMux()
	if d.Metrics != nil {
		mux.Use(observeJobs(d.Metrics))
	}
	mux.Handle(TypeDeliverNotification, &deliverNotification{
		notify: d.Notify, bot: d.Bot, catalog: d.Catalog, baseURL: d.BaseURL, log: d.Log, markTimeout: 10 * time.Second,
		buttons: d.Buttons, pacer: newPacer(d.Limits, d.Log), sendTimeout: sendTimeout, inDoubtAfter: inDoubtAfter, now: time.Now,
		metrics: d.Metrics,
	})
	mux.Handle(TypeRedeliverNotifications, &redeliverNotifications{notify: d.Notify, enabled: d.Bot != nil, log: d.Log})
	mux.Handle(TypePurgeSessions, &sweep{name: "expired sessions purged", run: d.Purge, log: d.Log})
	mux.Handle(TypeMatureBonuses, &sweep{name: "pending bonuses matured", run: d.Mature, log: d.Log})
	mux.Handle(TypeExpireBookings, &sweep{name: "unanswered bookings expired", run: d.Expire, log: d.Log})
	mux.Handle(TypeRemindBookings, &sweep{name: "booking reminders sent", run: d.Remind, log: d.Log})
	mux.Handle(TypeAnnounceTerms, &sweep{name: "terms notices written", run: d.AnnounceTerms, log: d.Log})
	mux.Handle(TypeRemindClaims, &sweep{name: "claim reminders sent", run: d.RemindClaims, log: d.Log})
	mux.Handle(TypeDowngradeTiers, &sweep{name: "bought tiers ended", run: d.Downgrade, log: d.Log})
	mux.Handle(TypeMakeThumbnail, &makeThumbnail{make: d.Thumbnail})
	if d.Webhooks != nil && d.Queue != nil {
		mux.Handle(TypeDeliverWebhook, &deliverWebhook{hooks: d.Webhooks, client: d.Webhooks.Guard().Client(webhooks.Timeout),
			log: d.Log, queue: d.Queue.EnqueueWebhook})
	} else {
		mux.HandleFunc(TypeDeliverWebhook, func(context.Context, *asynq.Task) error {
			return fmt.Errorf("webhooks are not configured: %w", asynq.SkipRetry)
		})
	}
	mux.Handle(TypeRedeliverWebhooks, &redeliverWebhooks{hooks: d.Webhooks, log: d.Log})
	mux.Handle(TypeArchiveOffers, &sweep{name: "expired offers archived", run: d.Archive, log: d.Log})
	mux.Handle(TypeDetectFraud, &sweep{name: "fraud flags raised or updated", run: d.DetectFraud, log: d.Log})
	mux.Handle(TypePruneIdempotency, &sweep{name: "API idempotency records pruned", run: d.PruneIdempotency, log: d.Log})
	return mux
}

// observeJobs counts every run of a task and its time, by type and result: ok, retry
// (failed, will run again), failed (no retry left, or not to be retried) or postponed
// (waits for a limit, which does not count as a failure).
func observeJobs(m *metrics.Metrics) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			start := time.Now()
			err := next.ProcessTask(ctx, t)
			m.Job(t.Type(), jobResult(ctx, err), time.Since(start))
			return err
		})
	}
}

func jobResult(ctx context.Context, err error) string {
	if err == nil {
		return "ok"
	}
	if _, wait := waitOf(err); wait {
		return "postponed"
	}
	if errors.Is(err, asynq.SkipRetry) || errors.Is(err, asynq.RevokeTask) {
		return "failed"
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if retried >= maxRetry {
		return "failed"
	}
	return "retry"
}

// NewServer returns a worker that processes only the named queue, concurrency tasks at
// a time (the number of CPUs when zero), logging through log. Stopping it waits up to
// 10 seconds for running tasks; those still running are retried later.
func NewServer(r asynq.RedisConnOpt, queue string, concurrency int, log *slog.Logger) *asynq.Server {
	return asynq.NewServer(r, serverConfig(queue, concurrency, log))
}

func serverConfig(queue string, concurrency int, log *slog.Logger) asynq.Config {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "jobs", "queue", queue)
	return asynq.Config{
		Concurrency:     concurrency,
		Queues:          map[string]int{queue: 1},
		RetryDelayFunc:  RetryDelay,
		IsFailure:       IsFailure,
		Logger:          asynqLogger{log},
		LogLevel:        asynq.DebugLevel, // the slog handler decides what is shown
		ShutdownTimeout: 10 * time.Second,
		// Retries are due seconds after a failure (flood control, a short outage), so
		// look for them more often than asynq's 5 s default.
		DelayedTaskCheckInterval: 2 * time.Second,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			if _, wait := waitOf(err); wait {
				log.Debug("task postponed", "type", t.Type(), "task_id", id, "reason", err)
				return
			}
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			log.Warn("task failed", "type", t.Type(), "task_id", id, "retried", retried, "max_retry", maxRetry, "err", err)
		}),
		HealthCheckFunc: func(err error) {
			if err != nil {
				log.Error("job queue unreachable", "err", err)
			}
		},
	}
}

// RetryDelay is how long a failed task waits: the wait a postponed task asked for (a
// rate limit, which IsFailure does not count), a little more than Telegram asked for when
// it throttled us (retry_after), otherwise exponential backoff from 10 s, capped at 10 minutes, with
// jitter so that many failures do not come back at once.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	if d, ok := waitOf(err); ok {
		// A little jitter spreads the tasks that waited for the same bucket.
		return d + time.Duration(rand.IntN(250))*time.Millisecond
	}
	if d := tgapi.RetryAfter(err); d > 0 {
		// asynq keeps retry times in whole seconds, rounding down: the extra second
		// keeps the retry from coming before Telegram's wait is over.
		return min(d, time.Hour) + time.Second + time.Duration(rand.IntN(500))*time.Millisecond
	}
	const base, ceiling = 10 * time.Second, 10 * time.Minute
	d := ceiling
	if n < 10 {
		d = min(base<<n, ceiling)
	}
	// ±20 %
	return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1))
}

// asynqLogger sends asynq's own logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) log(level slog.Level, args []any) {
	ctx := context.Background()
	if a.l.Enabled(ctx, level) {
		a.l.Log(ctx, level, fmt.Sprint(args...))
	}
}

// Debug logs at debug level.
func (a asynqLogger) Debug(args ...any) { a.log(slog.LevelDebug, args) }

// Info logs at info level.
func (a asynqLogger) Info(args ...any) { a.log(slog.LevelInfo, args) }

// Warn logs at warning level.
func (a asynqLogger) Warn(args ...any) { a.log(slog.LevelWarn, args) }

// Error logs at error level.
func (a asynqLogger) Error(args ...any) { a.log(slog.LevelError, args) }

// Fatal logs at error level and exits, as asynq's Logger contract requires.
func (a asynqLogger) Fatal(args ...any) {
	a.log(slog.LevelError, args)
	os.Exit(1)
}
