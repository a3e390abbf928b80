package loyalty

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"ikra/app/ledger"
	"ikra/ent"
	"ikra/ent/ledgerentry"
	"ikra/ent/referral"
)

type timeT = time.Time

// Deal is a completed deal that earns cashback.
type Deal struct {
	MemberID   int
	BookingID  int
	AmountTiyn int64 // what the member paid the partner, in tiyn
	RateBP     int   // the offer's cashback rate
	ActorID    *int  // the partner staff member who recorded the deal
	// Rules are the loyalty rules read before the caller's transaction began; nil reads
	// them here. A caller holding SQLite's write lock passes them: a read through
	// another connection could wait for a pool that writers queued on the lock hold.
	Rules *Rules
	// Member is the member as the caller read them in its transaction; nil reads them.
	Member *ent.Member
}

// Cashback credits the member's cashback for a completed deal, pending until the
// reversal window closes, and the referrer's share of it as an entry of its own linked
// to it. It runs in the caller's transaction (the booking's completion). It returns
// the member's entry, or nil when the deal earns nothing.
func (s *Service) Cashback(ctx context.Context, tx *ent.Tx, d Deal) (*ent.LedgerEntry, error) {
	var rules Rules
	if d.Rules != nil {
		rules = *d.Rules
	} else {
		var err error
		if rules, err = s.rulesTx(ctx, tx); err != nil {
			return nil, err
		}
	}
	st, err := s.statusTxOf(ctx, tx.Client(), d.MemberID, d.Member)
	if err != nil {
		return nil, err
	}
	amount := CashbackAmount(d.AmountTiyn, d.RateBP, st.Multiplier())
	if amount <= 0 {
		return nil, nil
	}
	ref := strconv.Itoa(d.BookingID)
	until := s.now().Add(time.Duration(rules.ReversalDays) * 24 * time.Hour)
	e, err := s.ledger.CreditTx(ctx, tx, ledger.Op{
		MemberID: d.MemberID, Amount: amount, Kind: ledger.KindCashback, Reason: "cashback",
		RefType: "booking", RefID: ref, ActorID: d.ActorID, Key: "cashback:booking:" + ref,
		Pending: true, AvailableAt: until,
	})
	if err != nil {
		return nil, err
	}
	r, err := tx.Referral.Query().Where(referral.InviteeID(d.MemberID)).Only(ctx)
	if ent.IsNotFound(err) {
		return e, nil
	}
	if err != nil {
		return nil, err
	}
	share := Share(amount, rules.ReferralShareBP)
	if share <= 0 {
		return e, nil
	}
	_, err = s.ledger.CreditTx(ctx, tx, ledger.Op{
		MemberID: r.ReferrerID, Amount: share, Kind: ledger.KindReferral, Reason: "referral",
		RefType: "booking", RefID: ref, Key: fmt.Sprintf("referral:entry:%d", e.ID),
		Pending: true, AvailableAt: until, SourceID: &e.ID,
	})
	return e, err
}

// ReverseCashback takes back a deal's cashback and the referrer's share with it, while
// they are still pending (the deal is reversed within its window).
func (s *Service) ReverseCashback(ctx context.Context, tx *ent.Tx, bookingID int, actor *int) error {
	ref := strconv.Itoa(bookingID)
	e, err := tx.LedgerEntry.Query().Where(ledgerentry.IdempotencyKey("cashback:booking:" + ref)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil // the deal earned nothing
	}
	if err != nil {
		return err
	}
	return s.ledger.ReverseTx(ctx, tx, e.ID, "reversal:booking:"+ref, "deal reversed", actor)
}

func (s *Service) referralEarnings(ctx context.Context, memberID int) (earned, pending int64, err error) {
	var rows []struct {
		Kind   string `json:"kind"`
		Bucket string `json:"bucket"`
		Sum    int64  `json:"sum"`
	}
	err = s.db.LedgerEntry.Query().Where(ledgerentry.MemberID(memberID),
		ledgerentry.Or(ledgerentry.KindEQ(ledgerentry.KindReferral),
			ledgerentry.And(ledgerentry.KindEQ(ledgerentry.KindReversal), ledgerentry.RefType("booking"),
				ledgerentry.HasReversesWith(ledgerentry.KindEQ(ledgerentry.KindReferral))))).
		GroupBy(ledgerentry.FieldKind, ledgerentry.FieldBucket).Aggregate(ent.Sum(ledgerentry.FieldAmount)).Scan(ctx, &rows)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rows {
		earned += r.Sum
	}
	// Pending = referral credits still in the pending bucket and not yet matured.
	var prow []struct {
		Sum int64 `json:"sum"`
	}
	err = s.db.LedgerEntry.Query().Where(ledgerentry.MemberID(memberID), ledgerentry.KindEQ(ledgerentry.KindReferral),
		ledgerentry.Not(ledgerentry.HasReversals()),
		ledgerentry.Not(ledgerentry.HasDerivedWith(ledgerentry.KindEQ(ledgerentry.KindMature)))).
		Aggregate(ent.Sum(ledgerentry.FieldAmount)).Scan(ctx, &prow)
	if err != nil {
		return 0, 0, err
	}
	if len(prow) > 0 {
		pending = prow[0].Sum
	}
	return earned, pending, nil
}
