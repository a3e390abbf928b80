package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"ikra/app/apptest"
	"ikra/app/ledger"
	"ikra/app/metrics"
	"ikra/ent"
)

// ikra_ledger_operations_total counts a success only once its transaction commits: a
// debit the caller's transaction rolls back is rolled_back, an overdraft is refused,
// a replayed credit is ok again (its outcome).
func TestLedgerMetrics(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			m := metrics.New()
			l := ledger.New(d.Client, d.Dialect)
			l.SetMetrics(m)
			member := newMember(t, d.Client, 1)
			_, err := l.Credit(ctx, credit(member, 100, "c1"))
			apptest.Must(t, err)
			_, err = l.Credit(ctx, credit(member, 100, "c1")) // replayed
			apptest.Must(t, err)
			debit := ledger.Op{MemberID: member, Amount: 500, Kind: ledger.KindSpend, Reason: "too much", Key: "d1"}
			if _, err := l.Debit(ctx, debit); !errors.Is(err, ledger.ErrInsufficient) {
				t.Fatalf("overdraft: %v", err)
			}
			debit.Amount, debit.Key = 50, "d2"
			abandon := errors.New("the caller's next step failed")
			err = l.InTx(ctx, func(tx *ent.Tx) error {
				if _, err := l.DebitTx(ctx, tx, debit); err != nil {
					return err
				}
				if got := testutil.ToFloat64(m.LedgerCounter(ledger.KindSpend, "ok")); got != 0 {
					t.Errorf("a debit counted ok before its commit: %v", got)
				}
				return abandon
			})
			if !errors.Is(err, abandon) {
				t.Fatalf("rolled back debit: %v", err)
			}
			for _, c := range []struct {
				kind, result string
				want         float64
			}{
				{ledger.KindAdjustment, "ok", 2},
				{ledger.KindSpend, "refused", 1},
				{ledger.KindSpend, "rolled_back", 1},
				{ledger.KindSpend, "ok", 0},
			} {
				if got := testutil.ToFloat64(m.LedgerCounter(c.kind, c.result)); got != c.want {
					t.Errorf("%s %s: %v, want %v", c.kind, c.result, got, c.want)
				}
			}
			if b := checkInvariants(t, l, d.Client, member); b.Available != 100 {
				t.Fatalf("balance %+v", b)
			}
		})
	}
}
