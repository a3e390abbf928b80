package loadgen_test

import (
	"context"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/ledger"
	"ikra/app/loadgen"
	"ikra/app/loyalty"
	"ikra/ent/balance"
	"ikra/ent/ledgerentry"
)

// A generated world's ledger is one the ledger itself could have written: every
// member's balance row equals the sum of their entries, bucket by bucket; the kinds
// vary and the entries span the last year; and the ledger's own maturing job, run on
// it, matures each due credit once and keeps the balances equal to the sums.
func TestGeneratedLedgerIsConsistent(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			db := d.DB.Client
			apptest.Must(t, loyalty.EnsureDefaults(ctx, db))
			now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
			res, err := loadgen.Generate(ctx, db, loadgen.Options{Offers: 40, Members: 120, Ledger: 1500, Now: now})
			apptest.Must(t, err)
			if res.Ledger < 1500 || res.Ledger > 1500+2*120 {
				t.Fatalf("%d ledger entries, want about 1500", res.Ledger)
			}
			if n := db.LedgerEntry.Query().CountX(ctx); n != res.Ledger {
				t.Fatalf("%d entries stored, %d reported", n, res.Ledger)
			}

			l := ledger.New(db, d.DB.Dialect)
			l.SetClock(func() time.Time { return now })
			check := func(when string) {
				t.Helper()
				members := db.Balance.Query().Select(balance.FieldMemberID).IntsX(ctx)
				if len(members) == 0 {
					t.Fatalf("%s: no balance rows", when)
				}
				for _, id := range members {
					sum, err := l.Sum(ctx, id)
					apptest.Must(t, err)
					bal, err := l.Balance(ctx, id)
					apptest.Must(t, err)
					if sum.Available != bal.Available || sum.Pending != bal.Pending || sum.Reserved != bal.Reserved {
						t.Fatalf("%s: member %d balance %+v, entries sum to %+v", when, id, bal, sum)
					}
				}
				withEntries := db.LedgerEntry.Query().GroupBy(ledgerentry.FieldMemberID).IntsX(ctx)
				if len(withEntries) != len(members) {
					t.Fatalf("%s: %d members with entries, %d balance rows", when, len(withEntries), len(members))
				}
				if n, err := loadgen.Mismatches(ctx, d.DB.SQL); err != nil || n != 0 {
					t.Fatalf("%s: Mismatches = %d, %v", when, n, err)
				}
			}
			check("generated")

			var kinds []string
			apptest.Must(t, db.LedgerEntry.Query().GroupBy(ledgerentry.FieldKind).Scan(ctx, &kinds))
			for _, k := range []string{ledger.KindWelcome, ledger.KindCashback, ledger.KindReferral, ledger.KindMature, ledger.KindSpend,
				ledger.KindReserve, ledger.KindCapture, ledger.KindRelease, ledger.KindAnnulment, ledger.KindAdjustment} {
				found := false
				for _, got := range kinds {
					found = found || got == k
				}
				if !found {
					t.Errorf("no %s entry among %v", k, kinds)
				}
			}
			if n := db.LedgerEntry.Query().Where(ledgerentry.Or(ledgerentry.CreatedAtLT(now.AddDate(-1, 0, 0)), ledgerentry.CreatedAtGT(now))).CountX(ctx); n != 0 {
				t.Errorf("%d entries outside the last year", n)
			}
			if db.LedgerEntry.Query().Where(ledgerentry.CreatedAtLT(now.AddDate(0, -6, 0))).CountX(ctx) == 0 ||
				db.LedgerEntry.Query().Where(ledgerentry.CreatedAtGT(now.AddDate(0, -1, 0))).CountX(ctx) == 0 {
				t.Error("the entries do not spread over the year")
			}

			// Credits still pending past their date are what the job must mature; the
			// matured ones name their source, so the job leaves them alone.
			due := db.LedgerEntry.Query().Where(ledgerentry.BucketEQ(ledgerentry.BucketPending), ledgerentry.AmountGT(0),
				ledgerentry.AvailableAtLTE(now), ledgerentry.Not(ledgerentry.HasReversals()),
				ledgerentry.Not(ledgerentry.HasDerivedWith(ledgerentry.KindEQ(ledgerentry.KindMature)))).CountX(ctx)
			matured := db.LedgerEntry.Query().Where(ledgerentry.KindEQ(ledgerentry.KindMature)).CountX(ctx)
			if matured == 0 {
				t.Fatal("no matured credit generated")
			}
			t.Logf("%d entries, %d matured credits, %d left due", res.Ledger, matured/2, due)
			n, err := l.MatureDue(ctx, 100000)
			apptest.Must(t, err)
			if n != due {
				t.Errorf("the job matured %d credits, want the %d left due", n, due)
			}
			check("after the maturing job")

			// The check can fail: a balance row off by one is found.
			id := db.Balance.Query().FirstX(ctx).ID
			db.Balance.UpdateOneID(id).AddAvailable(1).ExecX(ctx)
			if n, err := loadgen.Mismatches(ctx, d.DB.SQL); err != nil || n != 1 {
				t.Errorf("after tampering: Mismatches = %d, %v; want 1", n, err)
			}
		})
	}
}
