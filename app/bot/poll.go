package bot

import (
	"context"
	"encoding/json"
	"time"
)

// Poller fetches updates by long polling (when no webhook is configured).
type Poller interface {
	GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]json.RawMessage, error)
}

// Poll receives updates by long polling and handles them one by one until ctx ends.
// A failing update is logged and skipped after a few tries, so one bad update cannot
// stall the bot; Telegram being unreachable only delays polling.
func (b *Bot) Poll(ctx context.Context, p Poller) {
	var offset int64
	backoff := time.Second
	for ctx.Err() == nil {
		raws, err := p.GetUpdates(ctx, offset, 30*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Warn("bot poll", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, time.Minute)
			continue
		}
		backoff = time.Second
		for _, raw := range raws {
			id, err := b.handleRaw(ctx, raw)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				b.log.Error("bot update failed", "update_id", id, "err", err)
			}
			// Past this update whatever happened to it, or Telegram sends it again forever.
			if id >= offset {
				offset = id + 1
			}
		}
	}
}

// retryWait is the pause before the nth retry of a failing update.
func retryWait(n int) time.Duration { return time.Duration(n) * time.Second }

// handleRaw decodes and handles one polled update, trying a failing one three times.
// It returns the update's ID, read on its own when the rest does not decode (such an
// update is logged and skipped), and the last error.
func (b *Bot) handleRaw(ctx context.Context, raw json.RawMessage) (int64, error) {
	var u Update
	if err := json.Unmarshal(raw, &u); err != nil {
		id := updateID(raw)
		b.log.Warn("bot update undecodable", "update_id", id, "err", err)
		return id, nil
	}
	var err error
	for try := 1; ; try++ {
		if err = b.Handle(ctx, u); err == nil || try == 3 {
			return u.UpdateID, err
		}
		select {
		case <-ctx.Done():
			return u.UpdateID, ctx.Err()
		case <-time.After(retryWait(try)):
		}
	}
}
