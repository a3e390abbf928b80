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
			var u Update
			if err := json.Unmarshal(raw, &u); err != nil {
				b.log.Warn("bot update undecodable", "err", err)
				continue
			}
			for try := 0; try < 3; try++ {
				if err = b.Handle(ctx, u); err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
			}
			if err != nil {
				b.log.Error("bot update failed", "update_id", u.UpdateID, "err", err)
			}
			offset = u.UpdateID + 1
		}
	}
}
