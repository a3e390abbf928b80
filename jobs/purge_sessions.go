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

// sweep runs one maintenance function that reports how many things it changed: the
// handler of the payload-less periodic tasks.
type sweep struct {
	name string
	run  func(context.Context) (int, error)
	log  *slog.Logger
}

// ProcessTask runs the sweep; the task has no payload. Each sweep is idempotent: it
// works on what is due now, so running a tick twice changes nothing more.
func (h *sweep) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	if h.run == nil {
		return nil
	}
	n, err := h.run(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", h.name, err)
	}
	if n > 0 {
		h.log.Info(h.name, "count", n)
	}
	return nil
}
