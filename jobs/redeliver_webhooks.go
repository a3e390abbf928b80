package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/webhooks"
)

// TypeRedeliverWebhooks re-enqueues webhook deliveries whose attempt is overdue (an
// enqueue after the commit that failed, a worker that died during an attempt); it runs
// periodically.
const TypeRedeliverWebhooks = "webhooks:redeliver"

// redeliverWebhooksGrace leaves a due attempt to its own job for this long.
const redeliverWebhooksGrace = time.Minute

// NewRedeliverWebhooks returns a sweep task to run now; the periodic ticker makes its own.
func NewRedeliverWebhooks() *asynq.Task {
	return asynq.NewTask(TypeRedeliverWebhooks, nil, asynq.MaxRetry(2))
}

type redeliverWebhooks struct {
	hooks *webhooks.Service
	log   *slog.Logger
}

// ProcessTask enqueues the overdue attempts; one whose job still exists keeps it (the
// task ID makes the enqueue a no-op).
func (h *redeliverWebhooks) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	if h.hooks == nil {
		return nil
	}
	n, err := h.hooks.Redeliver(ctx, redeliverWebhooksGrace, redeliverBatch)
	if err != nil {
		return fmt.Errorf("redeliver webhooks: %w", err)
	}
	if n > 0 {
		h.log.Info("overdue webhook deliveries swept", "count", n)
	}
	return nil
}
