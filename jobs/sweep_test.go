package jobs

import (
	"context"
	"errors"
	"testing"

	"github.com/hibiken/asynq"

	"ikra/app/notify"
)

// Each periodic sweep type reaches its own function, and a failure is returned so
// asynq retries it.
func TestSweepsRouted(t *testing.T) {
	calls := map[string]int{}
	fn := func(name string, err error) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { calls[name]++; return 1, err }
	}
	mux := NewMux(Deps{Notify: notify.New(nil, nil), Purge: fn("purge", nil), Mature: fn("mature", nil), Downgrade: fn("downgrade", errors.New("db down")), Archive: fn("archive", nil)})
	for _, tc := range []struct {
		task    *asynq.Task
		name    string
		wantErr bool
	}{{NewPurgeSessions(), "purge", false}, {NewMatureBonuses(), "mature", false}, {NewDowngradeTiers(), "downgrade", true}, {NewArchiveOffers(), "archive", false}} {
		err := mux.ProcessTask(context.Background(), tc.task)
		if (err != nil) != tc.wantErr || calls[tc.name] != 1 {
			t.Errorf("%s: err %v, calls %v", tc.task.Type(), err, calls)
		}
	}
}
