package jobs

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/kv"
	"ikra/app/notify"
)

// runNodes runs one RunPeriodic per clock reading, all at once like several nodes, and
// stops them once each has made its first enqueue attempt.
func runNodes(t *testing.T, q *Queue, spec Periodic, clocks ...time.Time) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var attempted, stopped sync.WaitGroup
	for _, at := range clocks {
		var calls atomic.Int32
		attempted.Add(1)
		// The ticker reads the clock once for the tick and once more, after enqueuing,
		// to plan its sleep.
		now := func() time.Time {
			if calls.Add(1) == 2 {
				attempted.Done()
			}
			return at
		}
		stopped.Go(func() { RunPeriodic(ctx, q, []Periodic{spec}, now) })
	}
	attempted.Wait()
	cancel()
	stopped.Wait()
}

// taskIDs lists the IDs of the queue's pending and completed tasks.
func taskIDs(t *testing.T, r *kv.Redis, queue string) []string {
	t.Helper()
	in := asynq.NewInspectorFromRedisClient(r.Client)
	var ids []string
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){in.ListPendingTasks, in.ListCompletedTasks} {
		ts, err := list(queue)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range ts {
			ids = append(ids, ti.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestRunPeriodicOncePerTick(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		q := NewQueue(asynq.NewClientFromRedisClient(r.Client), queue)
		spec := Periodic{Type: TypePurgeSessions, Every: time.Hour}
		ten := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		eleven := ten.Add(time.Hour)
		id := func(tick time.Time) string { return fmt.Sprintf("%s:%d", TypePurgeSessions, tick.Unix()) }

		steps := []struct {
			name   string
			clocks []time.Time
			want   []string
		}{
			{"two nodes in one tick", []time.Time{ten.Add(17 * time.Minute), ten.Add(17 * time.Minute)}, []string{id(ten)}},
			{"a node later in the same tick", []time.Time{ten.Add(59 * time.Minute)}, []string{id(ten)}},
			{"the next tick on three nodes", []time.Time{eleven, eleven.Add(time.Second), eleven.Add(30 * time.Minute)}, []string{id(ten), id(eleven)}},
		}
		for _, st := range steps {
			runNodes(t, q, spec, st.clocks...)
			if got := taskIDs(t, r, queue); !slices.Equal(got, st.want) {
				t.Fatalf("%s: tasks %v, want %v", st.name, got, st.want)
			}
		}

		// Once a tick's task has run, a node that sees the tick late still finds its ID:
		// the completed task is kept for an interval.
		var purged atomic.Int32
		w := newWorld(t, r, queue)
		purge := func(context.Context) (int, error) { purged.Add(1); return 0, nil }
		w.startWorker(t, r, queue, NewMux(Deps{Purge: purge, Notify: notify.New(w.db, nil), Log: w.log}))
		eventually(t, "both ticks purged", func() bool { return purged.Load() == 2 && queueIdle(t, r, queue) })
		runNodes(t, q, spec, eleven.Add(45*time.Minute))
		time.Sleep(300 * time.Millisecond)
		if n := purged.Load(); n != 2 {
			t.Errorf("purged %d times for 2 ticks", n)
		}
		if got := taskIDs(t, r, queue); !slices.Equal(got, []string{id(ten), id(eleven)}) {
			t.Errorf("tasks after completion %v", got)
		}
	})
}

// TestRunPeriodicTicks runs the real clock on a one-second interval: it enqueues one
// task per tick and stops with its context.
func TestRunPeriodicTicks(t *testing.T) {
	eachRedis(t, func(t *testing.T, r *kv.Redis, queue string) {
		q := NewQueue(asynq.NewClientFromRedisClient(r.Client), queue)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			RunPeriodic(ctx, q, []Periodic{{Type: TypeRedeliverNotifications, Every: time.Second}, {Type: "bad", Every: 0}}, time.Now)
			close(done)
		}()
		time.Sleep(2500 * time.Millisecond)
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("RunPeriodic did not stop with its context")
		}
		if n := len(taskIDs(t, r, queue)); n < 2 || n > 4 {
			t.Errorf("%d tasks in 2.5 s at one a second", n)
		}
	})
}
