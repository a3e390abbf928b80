package jobs

import "github.com/hibiken/asynq"

// TypePruneIdempotency deletes the POS/CRM API's stored first answers once they are
// past their retention (app/apikeys PruneIdempotency); it runs periodically.
const TypePruneIdempotency = "apikeys:prune-idempotency"

// NewPruneIdempotency returns a pruning task to run now.
func NewPruneIdempotency() *asynq.Task {
	return asynq.NewTask(TypePruneIdempotency, nil, asynq.MaxRetry(3))
}
