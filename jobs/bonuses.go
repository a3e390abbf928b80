package jobs

import "github.com/hibiken/asynq"

// TypeMatureBonuses makes pending cashback and referral shares available once their
// deal's reversal window has closed; it runs periodically.
const TypeMatureBonuses = "bonuses:mature"

// TypeDowngradeTiers ends bought status periods that are over; it runs periodically.
const TypeDowngradeTiers = "tiers:downgrade"

// NewMatureBonuses returns a maturing task to run now.
func NewMatureBonuses() *asynq.Task { return asynq.NewTask(TypeMatureBonuses, nil, asynq.MaxRetry(3)) }

// NewDowngradeTiers returns a downgrade task to run now.
func NewDowngradeTiers() *asynq.Task {
	return asynq.NewTask(TypeDowngradeTiers, nil, asynq.MaxRetry(3))
}
