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
