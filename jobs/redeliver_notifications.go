package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/notify"
)

// TypeRedeliverNotifications re-enqueues notifications whose delivery job was lost (an
// enqueue that failed, an embedded queue that died with its process); it runs
// periodically.
const TypeRedeliverNotifications = "notifications:redeliver"

// Sweep bounds: notifications younger than redeliverAfter are still in their first
// job's hands; one sweep enqueues at most redeliverBatch.
const (
	redeliverAfter = 2 * time.Minute
	redeliverBatch = 500
)

// NewRedeliverNotifications returns a sweep task to run now; the periodic ticker makes
// its own.
func NewRedeliverNotifications() *asynq.Task {
	return asynq.NewTask(TypeRedeliverNotifications, nil, asynq.MaxRetry(2))
}

type redeliverNotifications struct {
	notify  *notify.Service
	enabled bool // Telegram is on
	log     *slog.Logger
}

// ProcessTask enqueues the pending notifications. A notification whose job still
// exists keeps it: the delivery task's ID makes the enqueue a no-op.
func (h *redeliverNotifications) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	if !h.enabled {
		return nil
	}
	n, err := h.notify.Redeliver(ctx, redeliverAfter, redeliverBatch)
	if err != nil {
		return fmt.Errorf("redeliver notifications: %w", err)
	}
	if n > 0 {
		h.log.Info("undelivered notifications swept", "count", n)
	}
	return nil
}
