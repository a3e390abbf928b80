package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// TypeMakeThumbnail makes the thumbnail of an uploaded offer image.
const TypeMakeThumbnail = "images:thumbnail"

// MakeThumbnail is the payload of TypeMakeThumbnail.
type MakeThumbnail struct {
	MediaID int `json:"media_id"`
}

// NewMakeThumbnail returns the thumbnail task of an offer image. Its ID is
// "thumb:<id>", so enqueuing it while one is waiting or running is a no-op.
func NewMakeThumbnail(mediaID int) *asynq.Task {
	payload, _ := json.Marshal(MakeThumbnail{MediaID: mediaID}) // cannot fail
	return asynq.NewTask(TypeMakeThumbnail, payload,
		asynq.TaskID("thumb:"+strconv.Itoa(mediaID)),
		asynq.MaxRetry(5),
		asynq.Timeout(2*time.Minute),
	)
}

// EnqueueThumbnail schedules the thumbnail of an offer image; see NewMakeThumbnail.
// It is the images.Enqueuer of the app.
func (q *Queue) EnqueueThumbnail(ctx context.Context, mediaID int) error {
	_, err := q.Enqueue(ctx, NewMakeThumbnail(mediaID))
	return err
}

type makeThumbnail struct {
	make func(ctx context.Context, mediaID int) error
}

// ProcessTask makes the thumbnail through the images service.
func (h *makeThumbnail) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p MakeThumbnail
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.MediaID <= 0 {
		return fmt.Errorf("%s: bad payload: %w", t.Type(), asynq.SkipRetry)
	}
	if h.make == nil {
		return fmt.Errorf("%s: no images service: %w", t.Type(), asynq.SkipRetry)
	}
	return h.make(ctx, p.MediaID)
}
