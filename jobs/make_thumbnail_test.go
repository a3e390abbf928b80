package jobs

import (
	"context"
	"errors"
	"testing"

	"github.com/hibiken/asynq"
)

func TestMakeThumbnailCallsTheImagesService(t *testing.T) {
	var got []int
	h := &makeThumbnail{make: func(_ context.Context, id int) error { got = append(got, id); return nil }}
	task := NewMakeThumbnail(42)
	if err := h.ProcessTask(context.Background(), task); err != nil || len(got) != 1 || got[0] != 42 {
		t.Fatalf("ProcessTask: %v, calls %v", err, got)
	}
	for _, payload := range []string{"", "{", `{"media_id":0}`} {
		err := h.ProcessTask(context.Background(), asynq.NewTask(TypeMakeThumbnail, []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %q: %v, want a failure without retries", payload, err)
		}
	}
	if len(got) != 1 {
		t.Errorf("a bad payload reached the service: %v", got)
	}
	failing := &makeThumbnail{make: func(context.Context, int) error { return errors.New("store down") }}
	if err := failing.ProcessTask(context.Background(), task); err == nil || errors.Is(err, asynq.SkipRetry) {
		t.Errorf("a store failure must be retried: %v", err)
	}
}
