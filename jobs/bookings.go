package jobs

import "github.com/hibiken/asynq"

// TypeExpireBookings ends booking requests the partner did not answer before their
// expiry (their reservations are released, the members told); it runs periodically.
const TypeExpireBookings = "bookings:expire"

// NewExpireBookings returns an expiry task to run now.
func NewExpireBookings() *asynq.Task {
	return asynq.NewTask(TypeExpireBookings, nil, asynq.MaxRetry(3))
}
