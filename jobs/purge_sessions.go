package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
)

// TypePurgeSessions deletes expired sessions; it runs periodically.
const TypePurgeSessions = "sessions:purge"

// NewPurgeSessions returns a purge task to run now; the periodic ticker makes its own.
func NewPurgeSessions() *asynq.Task {
	return asynq.NewTask(TypePurgeSessions, nil, asynq.MaxRetry(2))
}

type purgeSessions struct {
	purge func(context.Context) (int, error)
	log   *slog.Logger
}

// ProcessTask runs the purge; the task has no payload.
func (h *purgeSessions) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	if h.purge == nil {
		return nil
	}
	n, err := h.purge(ctx)
	if err != nil {
		return fmt.Errorf("purge sessions: %w", err)
	}
	if n > 0 {
		h.log.Info("expired sessions purged", "count", n)
	}
	return nil
}
