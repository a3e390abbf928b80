// Package kv connects to Redis: the configured server, or an in-process Redis-compatible
// server when none is configured. It backs the job queue, sessions and rate limits.
package kv

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Redis is a connection to a Redis-compatible server.
type Redis struct {
	*redis.Client
	// Queue is how asynq reaches the same server.
	Queue    asynq.RedisConnOpt
	embedded *miniredis.Miniredis
	stop     chan struct{} // ends the embedded server's expiry clock
}

// expiryTick is how often the embedded server's TTLs advance with the wall clock.
const expiryTick = 500 * time.Millisecond

// Open connects to url, or starts an in-process server on loopback when url is empty.
func Open(ctx context.Context, url string) (*Redis, error) {
	r := &Redis{}
	if url == "" {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("embedded redis: %w", err)
		}
		r.embedded = m
		// Keys with a TTL (session cache, rate-limit windows, job locks) must expire
		// with the wall clock, as they do on a real server. Not with miniredis's
		// ClockTTL: it walks and sorts every key on every command, under the server's
		// one lock, so each command cost grew with the number of keys (queued jobs
		// among them); a write under load spent most of its time there. A tick
		// advances the TTLs instead, so a key outlives its TTL by at most expiryTick.
		r.stop = make(chan struct{})
		go tickExpiry(m, r.stop)
		url = "redis://" + m.Addr()
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	outageBounds(opt)
	r.Client = redis.NewClient(opt)
	if r.Queue, err = asynq.ParseRedisURI(url); err != nil {
		r.Close()
		return nil, fmt.Errorf("REDIS_URL for jobs: %w", err)
	}
	if err := r.Ping(ctx).Err(); err != nil {
		r.Close()
		return nil, fmt.Errorf("redis: %w", err)
	}
	return r, nil
}

// outageBounds keeps a command from waiting long on a server that is down. The
// defaults dial five times per connection and retry a failed command three times
// with a growing pause: with Redis down every call took about half a second, and a
// page that makes several (rate limit, session cache, cache announcements, the job)
// several seconds (a sign-up took 3.5 s in the Redis fault run). One dial per
// connection and one immediate retry of a failed command still ride out a dropped
// connection; a server that does not answer at all is given up after a second.
func outageBounds(opt *redis.Options) {
	opt.DialerRetries = 1
	opt.MaxRetries = 1
	opt.MinRetryBackoff, opt.MaxRetryBackoff = -1, -1
	opt.DialTimeout = time.Second
}

// Embedded reports whether the server runs inside this process.
func (r *Redis) Embedded() bool { return r.embedded != nil }

// Close closes the connection and stops an embedded server.
func (r *Redis) Close() error {
	var err error
	if r.Client != nil {
		err = r.Client.Close()
	}
	if r.embedded != nil {
		close(r.stop)
		r.embedded.Close()
	}
	return err
}

// tickExpiry advances the embedded server's TTLs by the wall-clock time that passed,
// every expiryTick, until stop is closed.
func tickExpiry(m *miniredis.Miniredis, stop <-chan struct{}) {
	t := time.NewTicker(expiryTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			m.FastForward(now.Sub(last))
			last = now
		}
	}
}
