package scraping_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"ikra/app/apptest"
	"ikra/app/scraping"
)

func TestDelayGrowsAndIsCapped(t *testing.T) {
	if scraping.Delay(0) != 0 || scraping.Delay(-3) != 0 {
		t.Fatal("no delay at or under the limit")
	}
	if scraping.Delay(1) != scraping.MinDelay || scraping.Delay(2) <= scraping.Delay(1) {
		t.Fatalf("delay(1)=%v delay(2)=%v", scraping.Delay(1), scraping.Delay(2))
	}
	if scraping.Delay(10_000) != scraping.MaxDelay {
		t.Fatalf("delay is not capped: %v", scraping.Delay(10_000))
	}
}

// With Redis down the watch costs nothing: no flag, no delay, no error to the caller;
// when Redis is back, counting resumes and a new window's harvest is flagged once.
func TestRedisOutageDegrades(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, db := range apptest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			mr := miniredis.RunT(t)
			rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
			t.Cleanup(func() { rdb.Close() })
			s := scraping.New(db.Client, rdb, "t:", log)
			var slept []time.Duration
			s.SetSleep(func(_ context.Context, d time.Duration) { slept = append(slept, d) })
			now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
			s.SetClock(func() time.Time { return now })
			lim, err := s.Limits(ctx)
			apptest.Must(t, err)
			if lim.OffersPerHour != scraping.DefaultOffersPerHour || lim.PagesPer10Min != scraping.DefaultPagesPer10Min {
				t.Fatalf("defaults: %+v", lim)
			}

			mr.SetError("LOADING")
			for i := range lim.OffersPerHour + 10 {
				if d := s.Observe(ctx, scraping.Request{MemberID: 42, IP: "10.0.0.1", Kind: scraping.Offers, Item: strconv.Itoa(i)}); d != 0 {
					t.Fatalf("delay %v with Redis failing", d)
				}
			}
			if n := db.Client.ScrapeFlag.Query().CountX(ctx); n != 0 || len(slept) != 0 {
				t.Fatalf("with Redis failing: %d flags, slept %v", n, slept)
			}

			mr.SetError("")
			now = now.Add(time.Hour)
			for i := range lim.OffersPerHour + 3 {
				s.Observe(ctx, scraping.Request{MemberID: 42, IP: "10.0.0.1", Kind: scraping.Offers, Item: strconv.Itoa(i)})
			}
			if n := db.Client.ScrapeFlag.Query().CountX(ctx); n != 1 || len(slept) != 3 {
				t.Fatalf("after Redis is back: %d flags, slept %v", n, slept)
			}
		})
	}
}

// The counters in Redis and in the process's memory (a node that owns its Redis) count
// alike: distinct offers once, every page, a flag at the first request over the limit
// with the latest items as evidence, and a new window starting from nothing.
func TestCountersInRedisAndInMemoryAgree(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := apptest.Databases(t)[0]
	for _, store := range []string{"redis", "memory"} {
		t.Run(store, func(t *testing.T) {
			ctx := context.Background()
			_, err := db.Client.ScrapeFlag.Delete().Exec(ctx)
			apptest.Must(t, err)
			mr := miniredis.RunT(t)
			rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { rdb.Close() })
			s := scraping.New(db.Client, rdb, "t:", log)
			if store == "memory" {
				s.CountInMemory()
			}
			var slept []time.Duration
			s.SetSleep(func(_ context.Context, d time.Duration) { slept = append(slept, d) })
			now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
			s.SetClock(func() time.Time { return now })
			limit := scraping.DefaultOffersPerHour
			// The same offer again and again is one offer.
			for range limit * 2 {
				s.Observe(ctx, scraping.Request{MemberID: 7, IP: "10.0.0.2", Kind: scraping.Offers, Item: "1"})
			}
			if len(slept) != 0 {
				t.Fatalf("one offer opened repeatedly slowed the member: %v", slept)
			}
			for i := 2; i <= limit+2; i++ {
				s.Observe(ctx, scraping.Request{MemberID: 7, IP: "10.0.0.2", Kind: scraping.Offers, Item: strconv.Itoa(i)})
			}
			flags := db.Client.ScrapeFlag.Query().AllX(ctx)
			if len(flags) != 1 || flags[0].Count != limit+1 || len(slept) != 2 {
				t.Fatalf("after %d distinct offers: %d flags (%+v), slept %v", limit+2, len(flags), flags, slept)
			}
			if ev := flags[0].Evidence; len(ev) != 20 || ev[0] != strconv.Itoa(limit+1) {
				t.Fatalf("evidence %v: want the 20 latest, newest first", ev)
			}
			// Pages count every request; a new window starts from nothing.
			pages := scraping.DefaultPagesPer10Min
			for i := range pages + 1 {
				s.Observe(ctx, scraping.Request{MemberID: 8, IP: "10.0.0.3", Kind: scraping.Pages, Item: "/app?n=" + strconv.Itoa(i)})
			}
			if n := db.Client.ScrapeFlag.Query().CountX(ctx); n != 2 {
				t.Fatalf("%d flags after %d pages, want 2", n, pages+1)
			}
			now = now.Add(scraping.PageWindow)
			before := len(slept)
			s.Observe(ctx, scraping.Request{MemberID: 8, IP: "10.0.0.3", Kind: scraping.Pages, Item: "/app"})
			if len(slept) != before {
				t.Fatal("a new window inherited the old one's count")
			}
		})
	}
}
