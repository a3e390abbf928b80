package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

func TestLocalBurstThenRefill(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	l := NewLocal()
	l.now = func() time.Time { return at }
	limit := redis_rate.PerMinute(6) // a burst of 6, then one every 10 s
	ctx := context.Background()
	allow := func() *redis_rate.Result {
		t.Helper()
		r, err := l.Allow(ctx, "k", limit)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i := 0; i < 6; i++ {
		if r := allow(); r.Allowed != 1 || r.Remaining != 5-i {
			t.Fatalf("request %d of the burst: allowed %d remaining %d", i+1, r.Allowed, r.Remaining)
		}
	}
	r := allow()
	if r.Allowed != 0 || r.RetryAfter != 10*time.Second {
		t.Fatalf("seventh request: allowed %d retry after %v; want refused, retry after 10s", r.Allowed, r.RetryAfter)
	}
	at = at.Add(9 * time.Second)
	if r := allow(); r.Allowed != 0 || r.RetryAfter != time.Second {
		t.Fatalf("after 9 s: allowed %d retry after %v", r.Allowed, r.RetryAfter)
	}
	at = at.Add(time.Second)
	if r := allow(); r.Allowed != 1 {
		t.Fatal("after 10 s one more request is not admitted")
	}
	if r := allow(); r.Allowed != 0 {
		t.Fatal("two requests admitted after one interval")
	}
	// Another key has its own bucket.
	if r, _ := l.Allow(ctx, "other", limit); r.Allowed != 1 {
		t.Fatal("another key is limited by the first one's bucket")
	}
	// A full minute later the bucket is full again, and the sweep forgets the old keys.
	at = at.Add(2 * time.Minute)
	for i := 0; i < 6; i++ {
		if r := allow(); r.Allowed != 1 {
			t.Fatalf("request %d after the refill refused", i+1)
		}
	}
	if _, ok := l.tat["other"]; ok {
		t.Error("a refilled bucket was kept after the sweep")
	}
}

// Local admits what redis_rate admits for the same sequence of requests in one second.
func TestLocalNeverAdmitsMoreThanTheLimit(t *testing.T) {
	l := NewLocal()
	limit := redis_rate.PerMinute(100)
	n := 0
	for i := 0; i < 1000; i++ {
		r, _ := l.Allow(context.Background(), "k", limit)
		n += r.Allowed
	}
	if n < 100 || n > 102 {
		t.Fatalf("admitted %d of 1000 immediate requests; want the burst of 100 (plus at most the refill)", n)
	}
}
