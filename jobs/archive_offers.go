package jobs

import "github.com/hibiken/asynq"

// TypeArchiveOffers archives published and pending offers whose validity window has
// ended (app/offers ArchiveExpired); it runs periodically.
const TypeArchiveOffers = "offers:archive"

// NewArchiveOffers returns an archiving task to run now.
func NewArchiveOffers() *asynq.Task { return asynq.NewTask(TypeArchiveOffers, nil, asynq.MaxRetry(3)) }
