package jobs

import "github.com/hibiken/asynq"

// TypeDetectFraud runs the fraud detectors (app/fraud): referral farms, unusual deal
// amounts, repeated completions, sign-up bursts; it runs periodically, and a second run
// over the same data updates the flags it raised rather than adding new ones.
const TypeDetectFraud = "fraud:detect"

// NewDetectFraud returns a detection task to run now.
func NewDetectFraud() *asynq.Task {
	return asynq.NewTask(TypeDetectFraud, nil, asynq.MaxRetry(3))
}
