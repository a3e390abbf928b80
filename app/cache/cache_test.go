package cache_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"ikra/app/apptest"
	"ikra/app/cache"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/ledgerentry"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// node is one web node's bus on the shared Redis, running until the test ends.
func node(t *testing.T, addr string) *cache.Bus {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	b := cache.NewBus(rdb, "t:", quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; rdb.Close() })
	waitFor(t, "the bus to come up", b.Up)
	return b
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// counted is a loader that says how often it ran and returns the current value.
type counted struct {
	loads atomic.Int64
	value atomic.Int64
}

func (c *counted) load(context.Context) (int64, error) {
	c.loads.Add(1)
	return c.value.Load(), nil
}

func TestValueIsReadOnceUntilItChangesOnAnyNode(t *testing.T) {
	srv := miniredis.RunT(t)
	a, b := node(t, srv.Addr()), node(t, srv.Addr())
	ctx := context.Background()
	var src counted
	src.value.Store(1)
	onA := cache.NewValue(a, time.Hour, src.load, "Tier")
	onB := cache.NewValue(b, time.Hour, src.load, "Tier")
	for range 3 {
		if v, _ := onA.Get(ctx); v != 1 {
			t.Fatalf("A reads %d", v)
		}
		if v, _ := onB.Get(ctx); v != 1 {
			t.Fatalf("B reads %d", v)
		}
	}
	if n := src.loads.Load(); n != 2 {
		t.Fatalf("6 reads on two nodes loaded %d times, want 2", n)
	}
	// The change happens on A; B forgets it through Redis.
	src.value.Store(2)
	a.Changed(ctx, "Tier", 0)
	if v, _ := onA.Get(ctx); v != 2 {
		t.Fatalf("A reads %d after its own change", v)
	}
	waitFor(t, "B to see the change", func() bool { v, _ := onB.Get(ctx); return v == 2 })
	// A change to another type forgets nothing.
	before := src.loads.Load()
	a.Changed(ctx, "City", 0)
	onA.Get(ctx)
	if src.loads.Load() != before {
		t.Fatal("a city change made the tiers reload")
	}
}

// A strict change made on one node is seen by another from its next Sync on, however
// slowly that node applies it; other changes do not make Sync wait.
func TestSyncCatchesUpWithStrictChanges(t *testing.T) {
	srv := miniredis.RunT(t)
	a, b := node(t, srv.Addr()), node(t, srv.Addr())
	for _, n := range []*cache.Bus{a, b} {
		n.Strict("Staff")
	}
	var applied atomic.Int64
	b.OnChange(func() {
		time.Sleep(200 * time.Millisecond) // a slow reload: longer than a round trip
		applied.Add(1)
	}, "Staff", "Tier")
	ctx := context.Background()
	apptest.Must(t, b.Sync(ctx)) // nothing strict changed yet
	for round := 1; round <= 2; round++ {
		a.Changed(ctx, "Staff", 0)
		apptest.Must(t, b.Sync(ctx))
		if got := applied.Load(); got != int64(round) {
			t.Fatalf("round %d: after Sync node B has applied %d changes", round, got)
		}
	}
	a.Changed(ctx, "Tier", 0) // not strict: Sync does not wait for it
	apptest.Must(t, b.Sync(ctx))
	if got := applied.Load(); got != 2 {
		t.Fatalf("Sync waited for a change that is not strict (%d applied)", got)
	}
	waitFor(t, "the tier change to arrive", func() bool { return applied.Load() == 3 })
}

// A read that began before a change returns what it read but does not keep it.
func TestReadOverlappingAChangeIsNotKept(t *testing.T) {
	b := cache.NewBus(nil, "t:", quiet)
	ctx := context.Background()
	var value atomic.Int64
	value.Store(1)
	var during func()
	c := cache.NewByID(b, time.Hour, 10, func(_ context.Context, id int) (int64, error) {
		v := value.Load()
		if during != nil {
			f := during
			during = nil
			f() // the row changes while this read is in flight
		}
		return v, nil
	}, "Member")
	during = func() { value.Store(2); b.Changed(ctx, "Member", 7) }
	if v, _ := c.Get(ctx, 7); v != 1 {
		t.Fatalf("the overlapping read returns %d", v)
	}
	if v, _ := c.Get(ctx, 7); v != 2 {
		t.Fatalf("after the change the cache serves %d: the stale read was kept", v)
	}
}

// While the change channel is down every read goes to the database; when it is back
// the cache starts empty, so a change made meanwhile is never served stale.
func TestRedisOutageBypassesTheCache(t *testing.T) {
	srv := miniredis.RunT(t)
	a := node(t, srv.Addr())
	ctx := context.Background()
	var src counted
	src.value.Store(1)
	v := cache.NewValue(a, time.Hour, src.load, "Setting")
	v.Get(ctx)
	v.Get(ctx)
	if src.loads.Load() != 1 {
		t.Fatal("not cached while up")
	}
	srv.Close()
	waitFor(t, "the bus to notice the outage", func() bool { return !a.Up() })
	src.value.Store(2) // changed by a node whose announcement could not be sent
	if got, _ := v.Get(ctx); got != 2 {
		t.Fatalf("during the outage the cache served %d", got)
	}
	before := src.loads.Load()
	v.Get(ctx)
	if src.loads.Load() != before+1 {
		t.Fatal("during the outage a read did not go to the database")
	}
	apptest.Must(t, srv.Restart())
	waitFor(t, "the bus to come back", a.Up)
	src.value.Store(3)
	if got, _ := v.Get(ctx); got != 3 {
		t.Fatalf("after the outage the cache served %d", got)
	}
}

// The ent hook forgets a member when their row changes, on the node that wrote it and
// on another node with its own client on the same database, also when the change
// commits inside a transaction; a rolled-back change leaves the other node's cache
// as it was.
func TestHookForgetsChangedRowsOnEveryNode(t *testing.T) {
	type target struct{ name, url, dir string }
	targets := []target{{name: "sqlite", dir: t.TempDir()}}
	if _, ok := os.LookupEnv("IKRA_TEST_DATABASE_URL"); ok {
		targets = append(targets, target{name: "postgres", url: apptest.PostgresDatabase(t)})
	}
	for _, d := range targets {
		t.Run(d.name, func(t *testing.T) {
			srv := miniredis.RunT(t)
			ctx := context.Background()
			open := func() *store.DB {
				db, err := store.Open(ctx, d.url, d.dir)
				apptest.Must(t, err)
				t.Cleanup(func() { db.Close() })
				return db
			}
			mine, other := open(), open() // two nodes' handles on one database
			apptest.Must(t, mine.Migrate(ctx))
			a, b := node(t, srv.Addr()), node(t, srv.Addr())
			mine.Client.Use(a.Hook())
			other.Client.Use(b.Hook())
			rowsA, rowsB := cache.NewRows(a, mine.Client), cache.NewRows(b, other.Client)

			m := mine.Member.Create().SetTelegramID(4242).SetFirstName("Aigerim").SetReferralCode("cachetest").SaveX(ctx)
			for _, r := range []*cache.Rows{rowsA, rowsB} {
				if got, err := r.Member(ctx, m.ID); err != nil || got.FirstName != "Aigerim" {
					t.Fatalf("first read: %v %v", got, err)
				}
			}
			apptest.Must(t, store.WithTx(ctx, mine.Client, func(tx *ent.Tx) error {
				return tx.Member.UpdateOneID(m.ID).SetFirstName("Aigul").Exec(ctx)
			}))
			waitFor(t, "node B to forget the member", func() bool {
				got, err := rowsB.Member(ctx, m.ID)
				return err == nil && got.FirstName == "Aigul"
			})
			if got, _ := rowsA.Member(ctx, m.ID); got.FirstName != "Aigul" {
				t.Fatalf("node A serves %q", got.FirstName)
			}
			rollback := errors.New("rolled back")
			err := store.WithTx(ctx, mine.Client, func(tx *ent.Tx) error {
				if err := tx.Member.UpdateOneID(m.ID).SetFirstName("Never").Exec(ctx); err != nil {
					return err
				}
				return rollback
			})
			if !errors.Is(err, rollback) {
				t.Fatal(err)
			}
			if got, _ := rowsB.Member(ctx, m.ID); got.FirstName != "Aigul" {
				t.Fatalf("after a rollback node B serves %q", got.FirstName)
			}
		})
	}
}

// A cache keyed by a field of another table ("LedgerEntry.member_id") forgets only the
// entry the new row names, through the hook; GetMany loads the missing entries at once.
func TestFieldKeyedEntriesAndGetMany(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir())
	apptest.Must(t, err)
	t.Cleanup(func() { db.Close() })
	apptest.Must(t, db.Migrate(ctx))
	b := cache.NewBus(nil, "t:", quiet)
	db.Client.Use(b.Hook())
	var loads atomic.Int64
	entries := func(ctx context.Context, ids []int) (map[int]int, error) {
		loads.Add(1)
		out := map[int]int{}
		for _, id := range ids {
			n, err := db.LedgerEntry.Query().Where(ledgerentry.MemberID(id)).Count(ctx)
			if err != nil {
				return nil, err
			}
			out[id] = n
		}
		return out, nil
	}
	c := cache.NewByID(b, time.Hour, 10, func(ctx context.Context, id int) (int, error) {
		m, err := entries(ctx, []int{id})
		return m[id], err
	}, "LedgerEntry.member_id")
	a := db.Member.Create().SetTelegramID(1).SetFirstName("A").SetReferralCode("fielda").SaveX(ctx)
	z := db.Member.Create().SetTelegramID(2).SetFirstName("Z").SetReferralCode("fieldz").SaveX(ctx)
	got, err := c.GetMany(ctx, []int{a.ID, z.ID}, entries)
	apptest.Must(t, err)
	if loads.Load() != 1 || got[a.ID] != 0 || got[z.ID] != 0 {
		t.Fatalf("first GetMany: %v after %d loads", got, loads.Load())
	}
	db.LedgerEntry.Create().SetMemberID(a.ID).SetKind(ledgerentry.KindWelcome).SetAmount(5).SetIdempotencyKey("k1").ExecX(ctx)
	loads.Store(0)
	got, err = c.GetMany(ctx, []int{a.ID, z.ID}, entries)
	apptest.Must(t, err)
	if got[a.ID] != 1 || got[z.ID] != 0 {
		t.Fatalf("after A's new entry: %v", got)
	}
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads after A's entry; want one, for A only", n)
	}
	if v, _ := c.Get(ctx, z.ID); v != 0 || loads.Load() != 1 {
		t.Fatal("Z's entry was forgotten by A's ledger entry")
	}
}

// BenchmarkSync is what Sync adds to a request on the shared Redis
// (IKRA_TEST_REDIS_URL): one GET when nothing strict changed, a ping through the
// channel after each strict change of another node.
func BenchmarkSync(b *testing.B) {
	url := os.Getenv("IKRA_TEST_REDIS_URL")
	if url == "" {
		b.Skip("IKRA_TEST_REDIS_URL not set")
	}
	opt, err := redis.ParseURL(url)
	apptest.Must(b, err)
	prefix := "tbench" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	b.Cleanup(func() { apptest.DropKeys(url, prefix) })
	bus := func() *cache.Bus {
		rdb := redis.NewClient(opt)
		n := cache.NewBus(rdb, prefix, quiet)
		n.Strict("Staff")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { n.Run(ctx); close(done) }()
		b.Cleanup(func() { cancel(); <-done; rdb.Close() })
		for !n.Up() {
			time.Sleep(time.Millisecond)
		}
		return n
	}
	a, other := bus(), bus()
	ctx := context.Background()
	other.Changed(ctx, "Staff", 0)
	apptest.Must(b, a.Sync(ctx))
	plain := redis.NewClient(opt)
	defer plain.Close()
	b.Run("baseline: a plain GET", func(b *testing.B) {
		for b.Loop() {
			if err := plain.Get(ctx, prefix+"none").Err(); err != nil && err != redis.Nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			if err := a.Sync(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("after a strict change", func(b *testing.B) {
		for b.Loop() {
			other.Changed(ctx, "Staff", 0)
			if err := a.Sync(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
