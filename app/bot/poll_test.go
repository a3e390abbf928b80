package bot

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"ikra/app/i18n"
	"ikra/app/tgapi"
)

// script is a Poller that serves batches of raw updates and records the offsets asked for.
type script struct {
	mu      sync.Mutex
	batches [][]string
	offsets []int64
	done    chan struct{} // closed when the batches run out
}

func (s *script) GetUpdates(ctx context.Context, offset int64, _ time.Duration) ([]json.RawMessage, error) {
	s.mu.Lock()
	s.offsets = append(s.offsets, offset)
	if len(s.batches) == 0 {
		s.mu.Unlock()
		select {
		case <-s.done:
		default:
			close(s.done)
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	b := s.batches[0]
	s.batches = s.batches[1:]
	s.mu.Unlock()
	out := make([]json.RawMessage, len(b))
	for i, u := range b {
		out[i] = json.RawMessage(u)
	}
	return out, nil
}

// failingSender refuses every message and counts them.
type failingSender struct {
	calls chan struct{}
}

func (f *failingSender) SendMessage(context.Context, int64, string, tgapi.SendOptions) error {
	f.calls <- struct{}{}
	return errors.New("telegram unreachable")
}

func newTestBot(t *testing.T, send Sender) *Bot {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return New(nil, send, cat, "https://ikra.example", slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// An update the bot cannot decode is skipped: the next poll asks for the updates after it.
func TestPollSkipsUndecodableUpdate(t *testing.T) {
	s := &script{done: make(chan struct{}), batches: [][]string{
		{`{"update_id":41,"message":{"message_id":"not a number"}}`, `{"update_id":42,"message":{"chat":{"id":1,"type":"group"}}}`},
		{`{"update_id":43,"message":"wrong shape"}`},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { newTestBot(t, &failingSender{calls: make(chan struct{}, 10)}).Poll(ctx, s); close(stopped) }()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("polling stalled")
	}
	cancel()
	<-stopped
	s.mu.Lock()
	defer s.mu.Unlock()
	if want := []int64{0, 43, 44}; len(s.offsets) != 3 || s.offsets[1] != want[1] || s.offsets[2] != want[2] {
		t.Fatalf("offsets asked for %v, want %v", s.offsets, want)
	}
}

// A failing update is retried after a pause; cancelling the context ends the pause.
func TestPollRetryWaitEndsWithContext(t *testing.T) {
	send := &failingSender{calls: make(chan struct{}, 10)}
	s := &script{done: make(chan struct{}), batches: [][]string{
		{`{"update_id":7,"message":{"message_id":1,"from":{"id":5,"first_name":"A"},"chat":{"id":5,"type":"private"},"text":"/app"}}`},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { newTestBot(t, send).Poll(ctx, s); close(stopped) }()
	select {
	case <-send.calls: // the first try failed; the bot now waits before the next
	case <-time.After(5 * time.Second):
		t.Fatal("the update was not handled")
	}
	start := time.Now()
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("polling did not stop")
	}
	if d := time.Since(start); d > retryWait(1)/2 {
		t.Fatalf("polling stopped %v after cancellation, during a %v retry wait", d, retryWait(1))
	}
}
