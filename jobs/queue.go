package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hibiken/asynq"

	"ikra/app/webhooks"
)

// Queue puts tasks on one named asynq queue. It is the notify.Enqueuer of the app.
type Queue struct {
	client *asynq.Client
	name   string
}

// NewQueue returns a queue that enqueues through client onto the queue called name.
func NewQueue(client *asynq.Client, name string) *Queue {
	return &Queue{client: client, name: name}
}

// Name is the asynq queue's name.
func (q *Queue) Name() string { return q.name }

// Enqueue puts t on the queue. It reports false, and no error, when a task with the
// same ID is already there (waiting, running, retrying, archived or kept after
// completion): enqueuing a task with a deterministic ID twice is a no-op.
func (q *Queue) Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (bool, error) {
	_, err := q.client.EnqueueContext(ctx, t, append(opts, asynq.Queue(q.name))...)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("enqueue %s: %w", t.Type(), err)
	}
	return true, nil
}

// EnqueueDelivery schedules the Telegram delivery of a notification; see
// NewDeliverNotification.
func (q *Queue) EnqueueDelivery(ctx context.Context, notificationID int) error {
	_, err := q.Enqueue(ctx, NewDeliverNotification(notificationID))
	return err
}

// EnqueueWebhook schedules a webhook delivery attempt; see NewDeliverWebhook. It is the
// webhooks.Enqueuer of the app.
func (q *Queue) EnqueueWebhook(ctx context.Context, a webhooks.Attempt) error {
	_, err := q.Enqueue(ctx, NewDeliverWebhook(a))
	return err
}

// QueueSizes counts the named queue's tasks by state (pending, active, scheduled,
// retry, archived, completed), for the metrics; an empty queue that Redis does not know
// yet counts zero everywhere. The inspector's calls take no context, so the answer is
// given up when ctx ends first.
func QueueSizes(ctx context.Context, in *asynq.Inspector, queue string) (map[string]int, error) {
	type answer struct {
		info *asynq.QueueInfo
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		// asynq's not-found error cannot be told apart from outside: ask for the list.
		queues, err := in.Queues()
		if err != nil || !slices.Contains(queues, queue) {
			ch <- answer{&asynq.QueueInfo{}, err}
			return
		}
		info, err := in.GetQueueInfo(queue)
		ch <- answer{info, err}
	}()
	var a answer
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case a = <-ch:
	}
	if a.err != nil {
		return nil, a.err
	}
	i := a.info
	return map[string]int{"pending": i.Pending, "active": i.Active, "scheduled": i.Scheduled,
		"retry": i.Retry, "archived": i.Archived, "completed": i.Completed}, nil
}
