package ledger_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"ikra/app/apptest"
	"ikra/app/ledger"
)

// BenchmarkCredit and BenchmarkDebit measure ledger throughput (one transaction, one
// row lock, one entry and one balance update per operation) with a fixed number of
// goroutines on 64 members, on SQLite and, when IKRA_TEST_DATABASE_URL is set,
// PostgreSQL. The number of goroutines is IKRA_BENCH_CLIENTS (default 8, as many as
// pgbench's clients in .ci/bench-ledger), whatever GOMAXPROCS is; it is reported as the
// "goroutines" metric.
//
//	IKRA_BENCH_CLIENTS=8 go test -run x -bench . -benchtime 5s ./app/ledger
func BenchmarkCredit(b *testing.B) { benchLedger(b, false) }

// BenchmarkDebit: see BenchmarkCredit.
func BenchmarkDebit(b *testing.B) { benchLedger(b, true) }

var benchRound atomic.Int64

// benchClients is the number of goroutines that run operations at once.
func benchClients(b *testing.B) int {
	v := os.Getenv("IKRA_BENCH_CLIENTS")
	if v == "" {
		return 8
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("IKRA_BENCH_CLIENTS=%q: want a positive number", v)
	}
	return n
}

func benchLedger(b *testing.B, debit bool) {
	for _, d := range apptest.Databases(b) {
		b.Run(d.Name, func(b *testing.B) {
			ctx := context.Background()
			l := ledger.New(d.Client, d.Dialect)
			round := benchRound.Add(1) // the framework calls this body once per b.N it tries
			members := make([]int, 64)
			for i := range members {
				m, err := d.Client.Member.Create().SetTelegramID(round*1000 + int64(i)).SetReferralCode(fmt.Sprintf("B%d-%d", round, i)).Save(ctx)
				apptest.Must(b, err)
				members[i] = m.ID
				_, err = l.Credit(ctx, ledger.Op{MemberID: m.ID, Amount: 1 << 40, Kind: ledger.KindAdjustment, Key: fmt.Sprintf("seed-%d-%d", round, i)})
				apptest.Must(b, err)
			}
			clients := benchClients(b)
			// b.RunParallel would run SetParallelism × GOMAXPROCS goroutines; these
			// goroutines share the b.N operations among exactly clients of them.
			var seq atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range clients {
				wg.Go(func() {
					for {
						n := seq.Add(1)
						if n > int64(b.N) {
							return
						}
						op := ledger.Op{MemberID: members[n%int64(len(members))], Amount: 1, Key: fmt.Sprintf("op-%d-%d", round, n)}
						var err error
						if debit {
							op.Kind = ledger.KindSpend
							_, err = l.Debit(ctx, op)
						} else {
							op.Kind = ledger.KindAdjustment
							_, err = l.Credit(ctx, op)
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			b.ReportMetric(float64(clients), "goroutines")
		})
	}
}
