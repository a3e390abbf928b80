package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/ledger"
	"ikra/ent"
	"ikra/ent/ledgerentry"
)

func newMember(t *testing.T, db *ent.Client, n int) int {
	t.Helper()
	m, err := db.Member.Create().SetTelegramID(int64(1000 + n)).SetFirstName(fmt.Sprint("m", n)).
		SetReferralCode(fmt.Sprintf("CODE%04d", n)).Save(context.Background())
	apptest.Must(t, err)
	return m.ID
}

func credit(member int, amount int64, key string) ledger.Op {
	return ledger.Op{MemberID: member, Amount: amount, Kind: ledger.KindAdjustment, Reason: "test", Key: key}
}

// checkInvariants: the cached balance equals the sum of entries, reserved equals the
// open reservations, nothing is negative.
func checkInvariants(t *testing.T, l *ledger.Ledger, db *ent.Client, member int) ledger.Balance {
	t.Helper()
	ctx := context.Background()
	cached, err := l.Balance(ctx, member)
	apptest.Must(t, err)
	sum, err := l.Sum(ctx, member)
	apptest.Must(t, err)
	if cached.Available != sum.Available || cached.Pending != sum.Pending || cached.Reserved != sum.Reserved {
		t.Fatalf("member %d: cached %+v, entries sum %+v", member, cached, sum)
	}
	if sum.Available < 0 || sum.Pending < 0 || sum.Reserved < 0 {
		t.Fatalf("member %d: negative balance %+v", member, sum)
	}
	open, err := db.LedgerEntry.Query().Where(ledgerentry.MemberID(member), ledgerentry.KindEQ(ledgerentry.KindReserve),
		ledgerentry.BucketEQ(ledgerentry.BucketReserved), ledgerentry.Not(ledgerentry.HasReversals())).All(ctx)
	apptest.Must(t, err)
	var reserved int64
	for _, e := range open {
		reserved += e.Amount
	}
	if reserved != sum.Reserved {
		t.Fatalf("member %d: reserved %d, open reservations %d", member, sum.Reserved, reserved)
	}
	return cached
}

// 100 concurrent debits on a balance that covers 10: exactly 10 succeed.
func TestConcurrentDebits(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			l := ledger.New(d.Client, d.Dialect)
			m := newMember(t, d.Client, 1)
			_, err := l.Credit(ctx, credit(m, 1000, "seed"))
			apptest.Must(t, err)
			var ok, short atomic.Int32
			var wg sync.WaitGroup
			for i := range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := l.Debit(ctx, ledger.Op{MemberID: m, Amount: 100, Kind: ledger.KindSpend, Key: fmt.Sprint("debit-", i)})
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, ledger.ErrInsufficient):
						short.Add(1)
					default:
						t.Errorf("debit %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 10 || short.Load() != 90 {
				t.Fatalf("%d debits succeeded, %d refused; want 10 and 90", ok.Load(), short.Load())
			}
			if b := checkInvariants(t, l, d.Client, m); b.Available != 0 {
				t.Fatalf("balance %+v", b)
			}
		})
	}
}

// 50 concurrent retries with one idempotency key write one entry and all get it back.
func TestConcurrentRetries(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			l := ledger.New(d.Client, d.Dialect)
			m := newMember(t, d.Client, 2)
			ids := make([]int, 50)
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e, err := l.Credit(ctx, credit(m, 300, "same-key"))
					if err != nil {
						t.Errorf("retry %d: %v", i, err)
						return
					}
					ids[i] = e.ID
				}()
			}
			wg.Wait()
			n, err := d.Client.LedgerEntry.Query().Where(ledgerentry.IdempotencyKey("same-key")).Count(ctx)
			apptest.Must(t, err)
			if n != 1 {
				t.Fatalf("%d entries for one key", n)
			}
			for _, id := range ids {
				if id != ids[0] {
					t.Fatalf("retries got different entries: %v", ids)
				}
			}
			if b := checkInvariants(t, l, d.Client, m); b.Available != 300 {
				t.Fatalf("balance %+v", b)
			}
			// The same key with other parameters is a conflict and writes nothing.
			if _, err := l.Credit(ctx, credit(m, 301, "same-key")); !errors.Is(err, ledger.ErrConflict) {
				t.Fatalf("reused key: %v", err)
			}
			other := newMember(t, d.Client, 3)
			if _, err := l.Credit(ctx, credit(other, 300, "same-key")); !errors.Is(err, ledger.ErrConflict) {
				t.Fatalf("key reused for another member: %v", err)
			}
			checkInvariants(t, l, d.Client, m)
		})
	}
}

func TestReserveCaptureRelease(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			l := ledger.New(d.Client, d.Dialect)
			m := newMember(t, d.Client, 4)
			_, err := l.Credit(ctx, credit(m, 500, "seed"))
			apptest.Must(t, err)
			_, err = l.Reserve(ctx, ledger.Op{MemberID: m, Amount: 400, RefType: "booking", RefID: "1", Key: "res-1"})
			apptest.Must(t, err)
			if b := checkInvariants(t, l, d.Client, m); b.Available != 100 || b.Reserved != 400 {
				t.Fatalf("after reserve %+v", b)
			}
			// Reserved bonuses are not spendable.
			if _, err := l.Debit(ctx, ledger.Op{MemberID: m, Amount: 200, Kind: ledger.KindSpend, Key: "spend"}); !errors.Is(err, ledger.ErrInsufficient) {
				t.Fatalf("spent reserved bonuses: %v", err)
			}
			_, err = l.Release(ctx, m, "res-1", "rel-1", nil)
			apptest.Must(t, err)
			if _, err := l.Capture(ctx, m, "res-1", "cap-1", nil); !errors.Is(err, ledger.ErrClosed) {
				t.Fatalf("captured a released reservation: %v", err)
			}
			// Retrying the release writes nothing more.
			_, err = l.Release(ctx, m, "res-1", "rel-1", nil)
			apptest.Must(t, err)
			if b := checkInvariants(t, l, d.Client, m); b.Available != 500 || b.Reserved != 0 {
				t.Fatalf("after release %+v", b)
			}
			_, err = l.Reserve(ctx, ledger.Op{MemberID: m, Amount: 300, RefType: "booking", RefID: "2", Key: "res-2"})
			apptest.Must(t, err)
			_, err = l.Capture(ctx, m, "res-2", "cap-2", nil)
			apptest.Must(t, err)
			if b := checkInvariants(t, l, d.Client, m); b.Available != 200 || b.Reserved != 0 {
				t.Fatalf("after capture %+v", b)
			}
		})
	}
}

func TestPendingMatureReverse(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Now()
			l := ledger.New(d.Client, d.Dialect)
			l.SetClock(func() time.Time { return now })
			m := newMember(t, d.Client, 5)
			a, err := l.Credit(ctx, ledger.Op{MemberID: m, Amount: 70, Kind: ledger.KindCashback, Key: "cb-a", Pending: true, AvailableAt: now.Add(time.Hour)})
			apptest.Must(t, err)
			b, err := l.Credit(ctx, ledger.Op{MemberID: m, Amount: 30, Kind: ledger.KindCashback, Key: "cb-b", Pending: true, AvailableAt: now.Add(time.Hour)})
			apptest.Must(t, err)
			if bal := checkInvariants(t, l, d.Client, m); bal.Pending != 100 || bal.Available != 0 {
				t.Fatalf("pending %+v", bal)
			}
			apptest.Must(t, l.Reverse(ctx, b.ID, "rev-b", "deal reversed", nil))
			apptest.Must(t, l.Reverse(ctx, b.ID, "rev-b", "deal reversed", nil)) // retried
			if n, _ := l.MatureDue(ctx, 10); n != 0 {
				t.Fatalf("matured %d before the date", n)
			}
			now = now.Add(2 * time.Hour)
			if n, err := l.MatureDue(ctx, 10); err != nil || n != 1 {
				t.Fatalf("matured %d (%v), want 1", n, err)
			}
			if n, _ := l.MatureDue(ctx, 10); n != 0 {
				t.Fatalf("matured again: %d", n)
			}
			if bal := checkInvariants(t, l, d.Client, m); bal.Available != 70 || bal.Pending != 0 {
				t.Fatalf("after maturing %+v", bal)
			}
			if err := l.Reverse(ctx, a.ID, "rev-a", "too late", nil); !errors.Is(err, ledger.ErrClosed) {
				t.Fatalf("reversed a matured credit: %v", err)
			}
		})
	}
}

// A property: random sequences of operations (including retries, conflicts and
// concurrent bursts) keep every member's cached balance equal to the sum of entries,
// reserved equal to the open reservations, and nothing negative.
func TestRandomOperationsKeepInvariants(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 7))
			ctx := context.Background()
			now := time.Now()
			var clock sync.Mutex
			l := ledger.New(d.Client, d.Dialect)
			l.SetClock(func() time.Time { clock.Lock(); defer clock.Unlock(); return now })
			members := []int{newMember(t, d.Client, 10), newMember(t, d.Client, 11), newMember(t, d.Client, 12)}
			var keys []string
			var reserves, pendings []struct {
				member int
				key    string
				id     int
			}
			steps := 300
			if d.Name == "postgres" {
				steps = 200
			}
			for step := 0; step < steps; step++ {
				m := members[rng.IntN(len(members))]
				key := fmt.Sprintf("k%d", step)
				amount := int64(1 + rng.IntN(200))
				var err error
				switch op := rng.IntN(10); op {
				case 0, 1:
					_, err = l.Credit(ctx, credit(m, amount, key))
				case 2:
					var e *ent.LedgerEntry
					e, err = l.Credit(ctx, ledger.Op{MemberID: m, Amount: amount, Kind: ledger.KindCashback, Key: key, Pending: true, AvailableAt: now.Add(time.Duration(rng.IntN(3)) * time.Hour)})
					if err == nil {
						pendings = append(pendings, struct {
							member int
							key    string
							id     int
						}{m, key, e.ID})
					}
				case 3:
					_, err = l.Debit(ctx, ledger.Op{MemberID: m, Amount: amount, Kind: ledger.KindSpend, Key: key})
				case 4:
					var e *ent.LedgerEntry
					e, err = l.Reserve(ctx, ledger.Op{MemberID: m, Amount: amount, RefType: "booking", RefID: key, Key: key})
					if err == nil {
						reserves = append(reserves, struct {
							member int
							key    string
							id     int
						}{m, key, e.ID})
					}
				case 5:
					if len(reserves) > 0 {
						r := reserves[rng.IntN(len(reserves))]
						if rng.IntN(2) == 0 {
							_, err = l.Capture(ctx, r.member, r.key, key, nil)
						} else {
							_, err = l.Release(ctx, r.member, r.key, key, nil)
						}
					}
				case 6:
					if len(pendings) > 0 {
						p := pendings[rng.IntN(len(pendings))]
						err = l.Reverse(ctx, p.id, key, "reversed", nil)
					}
				case 7:
					clock.Lock()
					now = now.Add(time.Hour)
					clock.Unlock()
					_, err = l.MatureDue(ctx, 100)
				case 8:
					if len(keys) > 0 { // a retry of an earlier credit's key: replayed or conflict
						_, err = l.Credit(ctx, credit(m, amount, keys[rng.IntN(len(keys))]))
					}
				case 9: // a concurrent burst of debits on one member
					var wg sync.WaitGroup
					for i := range 8 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							_, err := l.Debit(ctx, ledger.Op{MemberID: m, Amount: amount, Kind: ledger.KindSpend, Key: fmt.Sprintf("%s-%d", key, i)})
							if err != nil && !errors.Is(err, ledger.ErrInsufficient) {
								t.Errorf("burst debit: %v", err)
							}
						}()
					}
					wg.Wait()
				}
				switch {
				case err == nil, errors.Is(err, ledger.ErrInsufficient), errors.Is(err, ledger.ErrConflict), errors.Is(err, ledger.ErrClosed), errors.Is(err, ledger.ErrInvalid):
				default:
					t.Fatalf("step %d: %v", step, err)
				}
				keys = append(keys, key)
				for _, mm := range members {
					checkInvariants(t, l, d.Client, mm)
				}
			}
		})
	}
}
