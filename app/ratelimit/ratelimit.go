// Package ratelimit admits requests by the generic cell rate algorithm (GCRA): a bucket
// of Burst requests that refills at Rate per Period. Shared limits live in Redis
// (redis_rate, one Lua call per request, the same for every node); when Redis runs
// inside this process there is only one node, and Local keeps the same buckets in
// memory instead of paying for a script interpreter on every request.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// Limiter takes one request from the bucket of key.
type Limiter interface {
	Allow(ctx context.Context, key string, limit redis_rate.Limit) (*redis_rate.Result, error)
}

// Local is a Limiter in this process's memory, with the semantics of redis_rate's:
// a full bucket admits Burst requests at once, then one every Period/Rate.
type Local struct {
	now func() time.Time

	mu    sync.Mutex
	tat   map[string]time.Time // theoretical arrival time of the next request, per key
	swept time.Time
}

// NewLocal returns an empty in-memory limiter.
func NewLocal() *Local { return &Local{now: time.Now, tat: map[string]time.Time{}} }

// sweepEvery is how often buckets that have refilled completely are dropped.
const sweepEvery = time.Minute

// Allow takes one request from key's bucket. It never fails.
func (l *Local) Allow(_ context.Context, key string, limit redis_rate.Limit) (*redis_rate.Result, error) {
	now := l.now()
	res := &redis_rate.Result{Limit: limit, RetryAfter: -1}
	if limit.Rate <= 0 || limit.Period <= 0 {
		return res, nil
	}
	interval := limit.Period / time.Duration(limit.Rate) // one request's share of the bucket
	tolerance := interval * time.Duration(max(limit.Burst, 1))

	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > sweepEvery {
		for k, t := range l.tat {
			if !t.After(now) {
				delete(l.tat, k)
			}
		}
		l.swept = now
	}
	tat := l.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	// The bucket admits the request while its debt after it stays within the tolerance.
	if wait := next.Sub(now) - tolerance; wait > 0 {
		res.RetryAfter, res.ResetAfter = wait, tat.Sub(now)
		return res, nil
	}
	l.tat[key] = next
	res.Allowed = 1
	res.Remaining = int((tolerance - next.Sub(now)) / interval)
	res.ResetAfter = next.Sub(now)
	return res, nil
}
