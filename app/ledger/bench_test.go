package ledger_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"ikra/app/apptest"
	"ikra/app/ledger"
)

// BenchmarkCredit and BenchmarkDebit measure ledger throughput (one transaction, one
// row lock, one entry and one balance update per operation) with parallel clients on
// 64 members, on SQLite and, when IKRA_TEST_DATABASE_URL is set, PostgreSQL.
//
//	go test -run x -bench . -benchtime 5s ./app/ledger
func BenchmarkCredit(b *testing.B) { benchLedger(b, false) }

// BenchmarkDebit: see BenchmarkCredit.
func BenchmarkDebit(b *testing.B) { benchLedger(b, true) }

var benchRound atomic.Int64

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
			var seq atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
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
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
