package jobs

import "github.com/hibiken/asynq"

// TypeExpireBookings ends booking requests the partner did not answer before their
// expiry (their reservations are released, the members told); it runs periodically.
const TypeExpireBookings = "bookings:expire"

// TypeRemindBookings reminds members of confirmed bookings whose wished day is today or
// tomorrow, once each; it runs periodically.
const TypeRemindBookings = "bookings:remind"

// NewRemindBookings returns a reminder task to run now.
func NewRemindBookings() *asynq.Task {
	return asynq.NewTask(TypeRemindBookings, nil, asynq.MaxRetry(3))
}

// NewExpireBookings returns an expiry task to run now.
func NewExpireBookings() *asynq.Task {
	return asynq.NewTask(TypeExpireBookings, nil, asynq.MaxRetry(3))
}
