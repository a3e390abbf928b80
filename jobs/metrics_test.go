package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"ikra/app/kv"
	"ikra/app/metrics"
	"ikra/ent/member"
)

// A delivery that fails once and succeeds on its retry is counted through the real
// worker as a retry then an ok run, a failed then a sent delivery, and one Bot API error.
func TestJobMetrics(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		ctx := context.Background()
		w := newWorld(t, r, queue)
		m := metrics.New()
		d := w.deps()
		d.Metrics = m
		bot := w.bot.client()
		bot.SetMetrics(m)
		d.Bot = bot
		cfg := serverConfig(queue, 2, w.log)
		cfg.TaskCheckInterval = 50 * time.Millisecond
		cfg.DelayedTaskCheckInterval = 100 * time.Millisecond
		cfg.RetryDelayFunc = func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond }
		srv := asynq.NewServer(r.Queue, cfg)
		if err := srv.Start(NewMux(d)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)

		w.bot.then(reply500)
		mb := addMember(t, w.db, 6101, member.StatusActive, "ru")
		n, err := w.notify.Send(ctx, bookingAnswered(mb.ID, "metrics"))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the delivery after its retry", func() bool { return w.reload(t, n.ID).TelegramSentAt != nil })
		eventually(t, "the runs counted", func() bool {
			return testutil.ToFloat64(m.JobCounter(TypeDeliverNotification, "ok")) == 1
		})
		want := `
# HELP ikra_jobs_total Job runs by task type and result: ok, retry (failed, will run again), failed (no retry left), postponed (waits for a limit).
# TYPE ikra_jobs_total counter
ikra_jobs_total{result="ok",type="notification:deliver"} 1
ikra_jobs_total{result="retry",type="notification:deliver"} 1
# HELP ikra_notifications_delivered_total Notification delivery attempts by channel and result: sent, failed (will retry), rejected (permanent), unreachable, in_doubt, deferred.
# TYPE ikra_notifications_delivered_total counter
ikra_notifications_delivered_total{channel="telegram",result="failed"} 1
ikra_notifications_delivered_total{channel="telegram",result="sent"} 1
# HELP ikra_telegram_api_errors_total Bot API calls that failed, by method and HTTP status (network: no answer).
# TYPE ikra_telegram_api_errors_total counter
ikra_telegram_api_errors_total{code="500",method="sendMessage"} 1
`
		if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want),
			"ikra_jobs_total", "ikra_notifications_delivered_total", "ikra_telegram_api_errors_total"); err != nil {
			t.Error(err)
		}
	})
}
