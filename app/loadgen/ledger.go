package loadgen

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"ikra/ent"
	"ikra/ent/ledgerentry"
)

// reversalWindow is how long generated cashback stays pending (the platform's default
// reversal window).
const reversalWindow = 14 * 24 * time.Hour

// entry is one generated ledger entry before it is written. ref is the index (within
// the member's own list) of the entry it settles or derives from: a mature pair names
// its pending credit (source), a capture or release the reservation (reverses).
type entry struct {
	kind        ledgerentry.Kind
	bucket      ledgerentry.Bucket
	amount      int64
	at          time.Time
	availableAt time.Time
	ref         int  // -1: none
	source      bool // ref is the source (mature), else what it reverses
}

// memberLedger is one member's generated history and the balance it sums to.
type memberLedger struct {
	member                               int
	entries                              []entry
	available, pending, reserved, earned int64
}

// makeLedger writes about Options.Ledger entries over the generated members, each
// member's history a plausible sequence over the last year (a welcome grant; cashback
// and referral shares, pending for the reversal window and then matured; spending,
// reservations captured or released, status purchases, annulments, adjustments), and
// each member's balance row equal to the sum of their entries, bucket by bucket.
func (g *gen) makeLedger(ctx context.Context) error {
	if g.opt.Ledger <= 0 || len(g.members) == 0 {
		return nil
	}
	// How many entries each member gets: a fifth of them go to the busiest tenth.
	counts := make([]int, len(g.members))
	heavy := max(1, len(g.members)/10)
	for range g.opt.Ledger {
		if g.rnd.IntN(5) == 0 {
			counts[g.rnd.IntN(heavy)]++
		} else {
			counts[g.rnd.IntN(len(g.members))]++
		}
	}
	var pendingBatch []memberLedger
	size := 0
	flush := func() error {
		if len(pendingBatch) == 0 {
			return nil
		}
		tx, err := g.db.Tx(ctx)
		if err != nil {
			return err
		}
		if err := g.writeLedger(ctx, tx, pendingBatch); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		pendingBatch, size = pendingBatch[:0], 0
		return nil
	}
	for i, id := range g.members {
		if counts[i] == 0 {
			continue
		}
		ml := g.history(id, counts[i])
		pendingBatch = append(pendingBatch, ml)
		size += len(ml.entries)
		if size >= Batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// history makes a member's n entries (a settling pair may make it n+1), oldest first,
// keeping every bucket at or above zero at every step, as the ledger itself does.
func (g *gen) history(memberID, n int) memberLedger {
	ml := memberLedger{member: memberID}
	start := g.opt.Now.Add(-365 * 24 * time.Hour)
	times := make([]time.Time, n)
	for i := range times {
		times[i] = start.Add(time.Duration(g.rnd.Int64N(int64(365 * 24 * time.Hour))))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	add := func(e entry) int {
		ml.entries = append(ml.entries, e)
		switch e.bucket {
		case ledgerentry.BucketAvailable:
			ml.available += e.amount
		case ledgerentry.BucketPending:
			ml.pending += e.amount
		case ledgerentry.BucketReserved:
			ml.reserved += e.amount
		}
		switch {
		case (e.kind == ledgerentry.KindCashback || e.kind == ledgerentry.KindReferral) && e.amount > 0:
			ml.earned += e.amount
		case e.kind == ledgerentry.KindReversal:
			ml.earned = max(0, ml.earned+e.amount)
		}
		return len(ml.entries) - 1
	}
	var credits []int  // pending credits not yet matured or reversed
	var reserves []int // reservations (reserved-bucket halves) not yet settled
	// matureDue matures every pending credit whose window has closed by t.
	matureDue := func(t time.Time) {
		kept := credits[:0]
		for _, i := range credits {
			c := ml.entries[i]
			if c.availableAt.After(t) || len(ml.entries)+2 > n {
				kept = append(kept, i)
				continue
			}
			add(entry{kind: ledgerentry.KindMature, bucket: ledgerentry.BucketPending, amount: -c.amount, at: c.availableAt, ref: i, source: true})
			add(entry{kind: ledgerentry.KindMature, bucket: ledgerentry.BucketAvailable, amount: c.amount, at: c.availableAt, ref: i, source: true})
		}
		credits = kept
	}
	for k := 0; len(ml.entries) < n; k++ {
		t := times[min(k, n-1)]
		matureDue(t)
		if len(ml.entries) >= n {
			break
		}
		if len(ml.entries) == 0 {
			add(entry{kind: ledgerentry.KindWelcome, bucket: ledgerentry.BucketAvailable, amount: 500, at: t, ref: -1})
			continue
		}
		switch r := g.rnd.IntN(100); {
		case r < 40: // cashback of a deal, pending for the window
			credits = append(credits, add(entry{kind: ledgerentry.KindCashback, bucket: ledgerentry.BucketPending,
				amount: 50 + g.rnd.Int64N(3000), at: t, availableAt: t.Add(reversalWindow), ref: -1}))
		case r < 45: // a referrer's share
			credits = append(credits, add(entry{kind: ledgerentry.KindReferral, bucket: ledgerentry.BucketPending,
				amount: 10 + g.rnd.Int64N(300), at: t, availableAt: t.Add(reversalWindow), ref: -1}))
		case r < 48 && len(credits) > 0: // a deal reversed within the window
			i := credits[len(credits)-1]
			credits = credits[:len(credits)-1]
			add(entry{kind: ledgerentry.KindReversal, bucket: ledgerentry.BucketPending, amount: -ml.entries[i].amount, at: t, ref: i})
		case r < 63 && ml.available >= 100: // spending inside the ecosystem
			add(entry{kind: ledgerentry.KindSpend, bucket: ledgerentry.BucketAvailable, amount: -(100 + g.rnd.Int64N(ml.available-99)), at: t, ref: -1})
		case r < 75 && ml.available >= 200: // a booking priced in bonuses: reserved
			amt := 100 * (1 + g.rnd.Int64N(ml.available/100))
			add(entry{kind: ledgerentry.KindReserve, bucket: ledgerentry.BucketAvailable, amount: -amt, at: t, ref: -1})
			reserves = append(reserves, add(entry{kind: ledgerentry.KindReserve, bucket: ledgerentry.BucketReserved, amount: amt, at: t, ref: -1}))
		case r < 87 && len(reserves) > 0: // the reservation settled: captured at the deal, or released
			i := reserves[0]
			reserves = reserves[1:]
			amt := ml.entries[i].amount
			if g.rnd.IntN(3) > 0 {
				add(entry{kind: ledgerentry.KindCapture, bucket: ledgerentry.BucketReserved, amount: -amt, at: t, ref: i})
			} else {
				add(entry{kind: ledgerentry.KindRelease, bucket: ledgerentry.BucketReserved, amount: -amt, at: t, ref: i})
				add(entry{kind: ledgerentry.KindRelease, bucket: ledgerentry.BucketAvailable, amount: amt, at: t, ref: i})
			}
		case r < 90 && ml.available >= 2000: // a paid status tier
			add(entry{kind: ledgerentry.KindTierPurchase, bucket: ledgerentry.BucketAvailable, amount: -2000, at: t, ref: -1})
		case r < 92 && ml.available >= 50: // fraud: bonuses taken back
			add(entry{kind: ledgerentry.KindAnnulment, bucket: ledgerentry.BucketAvailable, amount: -min(ml.available, 50+g.rnd.Int64N(500)), at: t, ref: -1})
		default: // a manual adjustment by the back office
			add(entry{kind: ledgerentry.KindAdjustment, bucket: ledgerentry.BucketAvailable, amount: 10 + g.rnd.Int64N(1000), at: t, ref: -1})
		}
	}
	return ml
}

// writeLedger inserts the members' entries and balance rows in tx: first the entries
// that name no other, then those that do (with the IDs the first insert returned).
func (g *gen) writeLedger(ctx context.Context, tx *ent.Tx, ms []memberLedger) error {
	ids := make([][]int, len(ms))
	for pass := range 2 {
		var bs []*ent.LedgerEntryCreate
		var at [][2]int // member index, entry index of each create
		for mi, ml := range ms {
			if ids[mi] == nil {
				ids[mi] = make([]int, len(ml.entries))
			}
			for ei, e := range ml.entries {
				if (e.ref < 0) != (pass == 0) {
					continue
				}
				c := tx.LedgerEntry.Create().SetMemberID(ml.member).SetKind(e.kind).SetBucket(e.bucket).SetAmount(e.amount).
					SetReason(string(e.kind)).SetRefType("load").SetRefID(fmt.Sprintf("%d:%d", ml.member, ei)).
					SetIdempotencyKey(fmt.Sprintf("load:%d:%d", ml.member, ei)).SetCreatedAt(e.at)
				if !e.availableAt.IsZero() {
					c.SetAvailableAt(e.availableAt)
				}
				if e.ref >= 0 {
					if e.source {
						c.SetSourceID(ids[mi][e.ref])
					} else {
						c.SetReversesID(ids[mi][e.ref])
					}
				}
				bs = append(bs, c)
				at = append(at, [2]int{mi, ei})
			}
		}
		for from := 0; from < len(bs); from += Batch {
			to := min(len(bs), from+Batch)
			made, err := tx.LedgerEntry.CreateBulk(bs[from:to]...).Save(ctx)
			if err != nil {
				return err
			}
			for i, e := range made {
				ids[at[from+i][0]][at[from+i][1]] = e.ID
			}
			g.res.Ledger += len(made)
		}
	}
	bals := make([]*ent.BalanceCreate, 0, len(ms))
	for _, ml := range ms {
		bals = append(bals, tx.Balance.Create().SetMemberID(ml.member).SetAvailable(ml.available).SetPending(ml.pending).
			SetReserved(ml.reserved).SetEarnedTotal(ml.earned).SetUpdatedAt(g.opt.Now))
	}
	return tx.Balance.CreateBulk(bals...).Exec(ctx)
}

// Mismatches counts the members whose balance row differs from the sum of their ledger
// entries in any bucket (a member with entries but no row counts too): the ledger's
// invariant, checked over the whole database in one query.
func Mismatches(ctx context.Context, db *sql.DB) (int, error) {
	const q = `SELECT COUNT(*) FROM (
  SELECT s.member_id FROM (
    SELECT member_id,
      SUM(CASE WHEN bucket = 'available' THEN amount ELSE 0 END) AS a,
      SUM(CASE WHEN bucket = 'pending' THEN amount ELSE 0 END) AS p,
      SUM(CASE WHEN bucket = 'reserved' THEN amount ELSE 0 END) AS r
    FROM ledger_entries GROUP BY member_id) s
  LEFT JOIN balances b ON b.member_id = s.member_id
  WHERE b.member_id IS NULL OR b.available <> s.a OR b.pending <> s.p OR b.reserved <> s.r
  UNION ALL
  SELECT b.member_id FROM balances b
  WHERE (b.available <> 0 OR b.pending <> 0 OR b.reserved <> 0)
    AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.member_id = b.member_id)
) bad`
	var n int
	err := db.QueryRowContext(ctx, q).Scan(&n)
	return n, err
}
