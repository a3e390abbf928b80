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

// A property: random sequences of operations (including exact retries, conflicting
// reuses of a key and concurrent bursts) do exactly what a simple model of the rules
// predicts — every operation that should succeed succeeds, every refusal is the one
// the model expects — and keep every member's cached balance equal to the sum of
// entries and to the model, reserved equal to the open reservations, nothing negative.
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

			// The model: what each balance must be, and the state of what can be settled.
			want := map[int]*ledger.Balance{}
			for _, m := range members {
				want[m] = &ledger.Balance{}
			}
			type reservation struct {
				member int
				key    string
				amount int64
				open   bool
			}
			type pendingCredit struct {
				member      int
				id          int
				amount      int64
				availableAt time.Time
				open        bool // neither matured nor reversed
			}
			// done is a request that succeeded: replay runs it again, exactly, and must
			// get the same entry back (0 when the operation returns none).
			type done struct {
				name   string
				key    string
				member int
				entry  int
				replay func() (int, error)
			}
			var reserves []*reservation
			var pendings []*pendingCredit
			var history []done
			id := func(e *ent.LedgerEntry, err error) (int, error) {
				if err != nil {
					return 0, err
				}
				return e.ID, nil
			}
			expect := func(step int, what string, err, wantErr error) {
				t.Helper()
				if wantErr == nil && err != nil {
					t.Fatalf("step %d: %s failed: %v", step, what, err)
				}
				if wantErr != nil && !errors.Is(err, wantErr) {
					t.Fatalf("step %d: %s: got %v, want %v", step, what, err, wantErr)
				}
			}
			steps := 300
			if d.Name == "postgres" {
				steps = 200
			}
			for step := 0; step < steps; step++ {
				m := members[rng.IntN(len(members))]
				b := want[m]
				key := fmt.Sprintf("k%d", step)
				amount := int64(1 + rng.IntN(200))
				switch op := rng.IntN(10); op {
				case 0, 1:
					run := func() (int, error) { return id(l.Credit(ctx, credit(m, amount, key))) }
					e, err := run()
					expect(step, "credit", err, nil)
					b.Available += amount
					history = append(history, done{"credit", key, m, e, run})
				case 2:
					at := now.Add(time.Duration(rng.IntN(3)) * time.Hour)
					run := func() (int, error) {
						return id(l.Credit(ctx, ledger.Op{MemberID: m, Amount: amount, Kind: ledger.KindCashback, Key: key, Pending: true, AvailableAt: at}))
					}
					e, err := run()
					expect(step, "pending credit", err, nil)
					b.Pending += amount
					pendings = append(pendings, &pendingCredit{member: m, id: e, amount: amount, availableAt: at, open: true})
					history = append(history, done{"pending credit", key, m, e, run})
				case 3:
					run := func() (int, error) {
						return id(l.Debit(ctx, ledger.Op{MemberID: m, Amount: amount, Kind: ledger.KindSpend, Key: key}))
					}
					e, err := run()
					if b.Available < amount {
						expect(step, "debit beyond the balance", err, ledger.ErrInsufficient)
						break
					}
					expect(step, "debit", err, nil)
					b.Available -= amount
					history = append(history, done{"debit", key, m, e, run})
				case 4:
					run := func() (int, error) {
						return id(l.Reserve(ctx, ledger.Op{MemberID: m, Amount: amount, RefType: "booking", RefID: key, Key: key}))
					}
					e, err := run()
					if b.Available < amount {
						expect(step, "reserve beyond the balance", err, ledger.ErrInsufficient)
						break
					}
					expect(step, "reserve", err, nil)
					b.Available -= amount
					b.Reserved += amount
					reserves = append(reserves, &reservation{member: m, key: key, amount: amount, open: true})
					history = append(history, done{"reserve", key, m, e, run})
				case 5:
					if len(reserves) == 0 {
						break
					}
					r := reserves[rng.IntN(len(reserves))]
					settle, name := l.Capture, "capture"
					if rng.IntN(2) == 0 {
						settle, name = l.Release, "release"
					}
					run := func() (int, error) { return id(settle(ctx, r.member, r.key, key, nil)) }
					e, err := run()
					if !r.open {
						expect(step, name+" of a settled reservation", err, ledger.ErrClosed)
						break
					}
					expect(step, name, err, nil)
					r.open = false
					want[r.member].Reserved -= r.amount
					if name == "release" {
						want[r.member].Available += r.amount
					}
					history = append(history, done{name, key, r.member, e, run})
				case 6:
					if len(pendings) == 0 {
						break
					}
					p := pendings[rng.IntN(len(pendings))]
					run := func() (int, error) { return 0, l.Reverse(ctx, p.id, key, "reversed", nil) }
					_, err := run()
					if !p.open {
						expect(step, "reversal of a settled credit", err, ledger.ErrClosed)
						break
					}
					expect(step, "reversal", err, nil)
					p.open = false
					want[p.member].Pending -= p.amount
					history = append(history, done{"reversal", key, p.member, 0, run})
				case 7:
					clock.Lock()
					now = now.Add(time.Hour)
					clock.Unlock()
					due := 0
					for _, p := range pendings {
						if p.open && !p.availableAt.After(now) {
							p.open = false
							want[p.member].Pending -= p.amount
							want[p.member].Available += p.amount
							due++
						}
					}
					n, err := l.MatureDue(ctx, 100)
					expect(step, "maturing", err, nil)
					if n != due {
						t.Fatalf("step %d: matured %d credits, want %d", step, n, due)
					}
				case 8: // a client retrying an earlier request: the same key, the same parameters
					if len(history) == 0 {
						break
					}
					h := history[rng.IntN(len(history))]
					e, err := h.replay()
					expect(step, "retry of "+h.name+" "+h.key, err, nil)
					if e != h.entry {
						t.Fatalf("step %d: retry of %s %s returned entry %d, first %d", step, h.name, h.key, e, h.entry)
					}
				case 9:
					if rng.IntN(2) == 0 && len(history) > 0 {
						// An earlier key with other parameters: a conflict that writes nothing.
						h := history[rng.IntN(len(history))]
						_, err := l.Credit(ctx, credit(h.member, amount+1000, h.key))
						expect(step, "reuse of "+h.key, err, ledger.ErrConflict)
						break
					}
					// A concurrent burst of debits on one member: exactly as many succeed
					// as the balance covers.
					var ok, short atomic.Int32
					var wg sync.WaitGroup
					for i := range 8 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							_, err := l.Debit(ctx, ledger.Op{MemberID: m, Amount: amount, Kind: ledger.KindSpend, Key: fmt.Sprintf("%s-%d", key, i)})
							switch {
							case err == nil:
								ok.Add(1)
							case errors.Is(err, ledger.ErrInsufficient):
								short.Add(1)
							default:
								t.Errorf("burst debit: %v", err)
							}
						}()
					}
					wg.Wait()
					fit := min(8, b.Available/amount)
					if int64(ok.Load()) != fit || int64(short.Load()) != 8-fit {
						t.Fatalf("step %d: burst: %d debits succeeded, %d refused; want %d and %d", step, ok.Load(), short.Load(), fit, 8-fit)
					}
					b.Available -= fit * amount
				}
				for _, mm := range members {
					got := checkInvariants(t, l, d.Client, mm)
					if w := want[mm]; got.Available != w.Available || got.Pending != w.Pending || got.Reserved != w.Reserved {
						t.Fatalf("step %d: member %d balance %+v, model %+v", step, mm, got, *w)
					}
				}
			}
		})
	}
}
