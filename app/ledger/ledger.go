// Package ledger is the append-only bonus ledger. Every change of a member's balance is
// an entry; an entry is never updated or deleted. Each entry moves one bucket of the
// member's balance (available, pending or reserved); a cached balance row is updated in
// the same transaction. Operations on one member serialise on that row (a row lock on
// PostgreSQL; SQLite transactions take the write lock up front), so a balance never
// goes below zero. Every operation carries an idempotency key: retried, it returns the
// first result and writes nothing; reused with other parameters, it is a conflict.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"ikra/app/metrics"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/balance"
	"ikra/ent/ledgerentry"
)

// Errors a caller can tell apart.
var (
	ErrInsufficient = errors.New("ledger: insufficient bonuses")
	ErrConflict     = errors.New("ledger: idempotency key reused with different parameters")
	ErrInvalid      = errors.New("ledger: invalid operation")
	ErrNotFound     = errors.New("ledger: entry not found")
	ErrClosed       = errors.New("ledger: already settled")
)

// Kinds of entries.
const (
	KindWelcome      = "welcome"
	KindCashback     = "cashback"
	KindReferral     = "referral"
	KindReserve      = "reserve"
	KindCapture      = "capture"
	KindRelease      = "release"
	KindSpend        = "spend"
	KindTierPurchase = "tier_purchase"
	KindAnnulment    = "annulment"
	KindReversal     = "reversal"
	KindAdjustment   = "adjustment"
	KindMature       = "mature"
	KindRefund       = "refund"
)

// MaxReason is how many characters of a reason an entry keeps.
const MaxReason = 300

// Buckets of a balance.
const (
	Available = "available"
	Pending   = "pending"
	Reserved  = "reserved"
)

// Op describes a credit, debit or reservation.
type Op struct {
	MemberID int
	Amount   int64  // whole bonuses, > 0
	Kind     string // one of the Kind constants
	Reason   string // shown to the member
	RefType  string // what caused it: "booking", "registration", "tier", …
	RefID    string
	ActorID  *int   // staff or member who caused it; nil for the system
	Key      string // idempotency key
	// Pending credits wait in the pending bucket until AvailableAt.
	Pending     bool
	AvailableAt time.Time
	// SourceID links a derived entry (a referral share) to its source.
	SourceID *int
}

// Balance is a member's cached balance.
type Balance struct {
	Available, Pending, Reserved, Earned int64
}

// Ledger writes and reads entries.
type Ledger struct {
	db      *ent.Client
	dialect string
	now     func() time.Time
	metrics *metrics.Metrics
}

// New returns the ledger on db; dialect is the database's (row locks on PostgreSQL).
func New(db *ent.Client, dialectName string) *Ledger {
	return &Ledger{db: db, dialect: dialectName, now: time.Now}
}

// SetMetrics counts operations in ikra_ledger_operations_total.
func (l *Ledger) SetMetrics(m *metrics.Metrics) { l.metrics = m }

// SetClock replaces the clock (tests).
func (l *Ledger) SetClock(now func() time.Time) { l.now = now }

// Now is the ledger's clock.
func (l *Ledger) Now() time.Time { return l.now() }

// InTx runs fn in a new transaction.
func (l *Ledger) InTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	return store.WithTx(ctx, l.db, fn)
}

// Credit adds bonuses to the available bucket, or to pending when op.Pending.
func (l *Ledger) Credit(ctx context.Context, op Op) (*ent.LedgerEntry, error) {
	var e *ent.LedgerEntry
	err := l.InTx(ctx, func(tx *ent.Tx) (err error) { e, err = l.CreditTx(ctx, tx, op); return })
	return e, err
}

// CreditTx is Credit inside the caller's transaction.
func (l *Ledger) CreditTx(ctx context.Context, tx *ent.Tx, op Op) (*ent.LedgerEntry, error) {
	e, err := l.creditTx(ctx, tx, op)
	l.observe(tx, op.Kind, err)
	return e, err
}

func (l *Ledger) creditTx(ctx context.Context, tx *ent.Tx, op Op) (*ent.LedgerEntry, error) {
	if op.Amount <= 0 || op.Key == "" {
		return nil, fmt.Errorf("%w: credit of %d", ErrInvalid, op.Amount)
	}
	bucket := Available
	if op.Pending {
		bucket = Pending
		if op.AvailableAt.IsZero() {
			return nil, fmt.Errorf("%w: pending credit without a date", ErrInvalid)
		}
	}
	bal, err := l.lock(ctx, tx, op.MemberID)
	if err != nil {
		return nil, err
	}
	if e, err := l.replay(ctx, tx, op, bucket, op.Amount); e != nil || err != nil {
		return e, err
	}
	e, err := l.write(ctx, tx, bal, op, bucket, op.Amount, op.Key, nil)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Debit takes bonuses from the available bucket (spending inside the ecosystem only).
func (l *Ledger) Debit(ctx context.Context, op Op) (*ent.LedgerEntry, error) {
	var e *ent.LedgerEntry
	err := l.InTx(ctx, func(tx *ent.Tx) (err error) { e, err = l.DebitTx(ctx, tx, op); return })
	return e, err
}

// DebitTx is Debit inside the caller's transaction.
func (l *Ledger) DebitTx(ctx context.Context, tx *ent.Tx, op Op) (*ent.LedgerEntry, error) {
	e, err := l.debitTx(ctx, tx, op)
	l.observe(tx, op.Kind, err)
	return e, err
}

func (l *Ledger) debitTx(ctx context.Context, tx *ent.Tx, op Op) (*ent.LedgerEntry, error) {
	if op.Amount <= 0 || op.Key == "" {
		return nil, fmt.Errorf("%w: debit of %d", ErrInvalid, op.Amount)
	}
	bal, err := l.lock(ctx, tx, op.MemberID)
	if err != nil {
		return nil, err
	}
	if e, err := l.replay(ctx, tx, op, Available, -op.Amount); e != nil || err != nil {
		return e, err
	}
	if bal.Available < op.Amount {
		return nil, ErrInsufficient
	}
	return l.write(ctx, tx, bal, op, Available, -op.Amount, op.Key, nil)
}

// Reserve sets bonuses aside (a booking priced in bonuses): they leave the available
// bucket for the reserved one and cannot be spent until released. It returns the
// reserved-bucket entry, which Capture and Release name by op.Key.
func (l *Ledger) Reserve(ctx context.Context, op Op) (*ent.LedgerEntry, error) {
	var e *ent.LedgerEntry
	err := l.InTx(ctx, func(tx *ent.Tx) (err error) { e, err = l.ReserveTx(ctx, tx, op); return })
	return e, err
}

// ReserveTx is Reserve inside the caller's transaction.
func (l *Ledger) ReserveTx(ctx context.Context, tx *ent.Tx, op Op) (*ent.LedgerEntry, error) {
	e, err := l.reserveTx(ctx, tx, op)
	l.observe(tx, KindReserve, err)
	return e, err
}

func (l *Ledger) reserveTx(ctx context.Context, tx *ent.Tx, op Op) (*ent.LedgerEntry, error) {
	if op.Amount <= 0 || op.Key == "" {
		return nil, fmt.Errorf("%w: reserve of %d", ErrInvalid, op.Amount)
	}
	op.Kind = KindReserve
	bal, err := l.lock(ctx, tx, op.MemberID)
	if err != nil {
		return nil, err
	}
	if e, err := l.replay(ctx, tx, op, Available, -op.Amount); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return l.byKey(ctx, tx, op.Key+"/reserved")
	}
	if bal.Available < op.Amount {
		return nil, ErrInsufficient
	}
	if _, err := l.write(ctx, tx, bal, op, Available, -op.Amount, op.Key, nil); err != nil {
		return nil, err
	}
	return l.write(ctx, tx, bal, op, Reserved, op.Amount, op.Key+"/reserved", nil)
}

// Capture spends a reservation (the booking was completed).
func (l *Ledger) Capture(ctx context.Context, memberID int, reserveKey, key string, actor *int) (*ent.LedgerEntry, error) {
	return l.settle(ctx, memberID, reserveKey, key, actor, KindCapture)
}

// Release returns a reservation to the available bucket (cancelled, declined, expired).
func (l *Ledger) Release(ctx context.Context, memberID int, reserveKey, key string, actor *int) (*ent.LedgerEntry, error) {
	return l.settle(ctx, memberID, reserveKey, key, actor, KindRelease)
}

// CaptureTx is Capture inside the caller's transaction (a booking's completion).
func (l *Ledger) CaptureTx(ctx context.Context, tx *ent.Tx, memberID int, reserveKey, key string, actor *int) (*ent.LedgerEntry, error) {
	return l.settleTx(ctx, tx, memberID, reserveKey, key, actor, KindCapture)
}

// ReleaseTx is Release inside the caller's transaction (a booking's other endings).
func (l *Ledger) ReleaseTx(ctx context.Context, tx *ent.Tx, memberID int, reserveKey, key string, actor *int) (*ent.LedgerEntry, error) {
	return l.settleTx(ctx, tx, memberID, reserveKey, key, actor, KindRelease)
}

func (l *Ledger) settle(ctx context.Context, memberID int, reserveKey, key string, actor *int, kind string) (*ent.LedgerEntry, error) {
	var out *ent.LedgerEntry
	err := l.InTx(ctx, func(tx *ent.Tx) (err error) {
		out, err = l.settleTx(ctx, tx, memberID, reserveKey, key, actor, kind)
		return err
	})
	return out, err
}

func (l *Ledger) settleTx(ctx context.Context, tx *ent.Tx, memberID int, reserveKey, key string, actor *int, kind string) (*ent.LedgerEntry, error) {
	var out *ent.LedgerEntry
	err := func() error {
		bal, err := l.lock(ctx, tx, memberID)
		if err != nil {
			return err
		}
		res, err := tx.LedgerEntry.Query().Where(ledgerentry.IdempotencyKey(reserveKey+"/reserved"),
			ledgerentry.MemberID(memberID), ledgerentry.BucketEQ(ledgerentry.BucketReserved)).Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		op := Op{MemberID: memberID, Amount: res.Amount, Kind: kind, Reason: res.Reason, RefType: res.RefType, RefID: res.RefID, ActorID: actor, Key: key}
		if e, err := l.replay(ctx, tx, op, Reserved, -res.Amount); e != nil || err != nil {
			out = e
			return err
		}
		closed, err := tx.LedgerEntry.Query().Where(ledgerentry.ReversesID(res.ID)).Exist(ctx)
		if err != nil {
			return err
		}
		if closed {
			return ErrClosed
		}
		if out, err = l.write(ctx, tx, bal, op, Reserved, -res.Amount, key, &res.ID); err != nil {
			return err
		}
		if kind == KindRelease {
			_, err = l.write(ctx, tx, bal, op, Available, res.Amount, key+"/available", &res.ID)
		}
		return err
	}()
	l.observe(tx, kind, err)
	return out, err
}

// Reverse takes back a pending credit (its deal was reversed within the window), and
// every pending entry derived from it (the referrer's share), in one transaction.
// A credit that has already matured cannot be reversed: the window has closed.
func (l *Ledger) Reverse(ctx context.Context, entryID int, key, reason string, actor *int) error {
	return l.InTx(ctx, func(tx *ent.Tx) error { return l.ReverseTx(ctx, tx, entryID, key, reason, actor) })
}

// ReverseTx is Reverse inside the caller's transaction.
func (l *Ledger) ReverseTx(ctx context.Context, tx *ent.Tx, entryID int, key, reason string, actor *int) error {
	err := l.reverseTx(ctx, tx, entryID, key, reason, actor)
	l.observe(tx, KindReversal, err)
	return err
}

func (l *Ledger) reverseTx(ctx context.Context, tx *ent.Tx, entryID int, key, reason string, actor *int) error {
	src, err := tx.LedgerEntry.Get(ctx, entryID)
	if ent.IsNotFound(err) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := l.reverseOne(ctx, tx, src, key, reason, actor); err != nil {
		return err
	}
	derived, err := tx.LedgerEntry.Query().Where(ledgerentry.SourceID(src.ID), ledgerentry.KindEQ(ledgerentry.KindReferral)).All(ctx)
	if err != nil {
		return err
	}
	for _, d := range derived {
		if err := l.reverseOne(ctx, tx, d, fmt.Sprintf("%s/derived/%d", key, d.ID), reason, actor); err != nil {
			return err
		}
	}
	return nil
}

func (l *Ledger) reverseOne(ctx context.Context, tx *ent.Tx, src *ent.LedgerEntry, key, reason string, actor *int) error {
	bal, err := l.lock(ctx, tx, src.MemberID)
	if err != nil {
		return err
	}
	op := Op{MemberID: src.MemberID, Amount: src.Amount, Kind: KindReversal, Reason: reason, RefType: src.RefType, RefID: src.RefID, ActorID: actor, Key: key}
	if e, err := l.replay(ctx, tx, op, Pending, -src.Amount); e != nil || err != nil {
		return err
	}
	if src.Bucket != ledgerentry.BucketPending || src.Amount <= 0 {
		return fmt.Errorf("%w: only a pending credit can be reversed", ErrInvalid)
	}
	settled, err := tx.LedgerEntry.Query().Where(ledgerentry.Or(
		ledgerentry.ReversesID(src.ID),
		ledgerentry.And(ledgerentry.SourceID(src.ID), ledgerentry.KindEQ(ledgerentry.KindMature)),
	)).Exist(ctx)
	if err != nil {
		return err
	}
	if settled {
		return ErrClosed
	}
	_, err = l.write(ctx, tx, bal, op, Pending, -src.Amount, key, &src.ID)
	return err
}

// MatureDue makes available every pending credit whose date has come, up to limit,
// and reports how many it moved. A scheduled job calls it.
func (l *Ledger) MatureDue(ctx context.Context, limit int) (int, error) {
	now := l.now()
	due, err := l.db.LedgerEntry.Query().Where(
		ledgerentry.BucketEQ(ledgerentry.BucketPending), ledgerentry.AmountGT(0),
		ledgerentry.AvailableAtLTE(now),
		ledgerentry.Not(ledgerentry.HasReversals()),
		ledgerentry.Not(ledgerentry.HasDerivedWith(ledgerentry.KindEQ(ledgerentry.KindMature))),
	).Order(ent.Asc(ledgerentry.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range due {
		err := l.InTx(ctx, func(tx *ent.Tx) error {
			err := l.mature(ctx, tx, e)
			l.observe(tx, KindMature, err)
			return err
		})
		if errors.Is(err, ErrClosed) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (l *Ledger) mature(ctx context.Context, tx *ent.Tx, e *ent.LedgerEntry) error {
	bal, err := l.lock(ctx, tx, e.MemberID)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("mature:%d", e.ID)
	if done, err := tx.LedgerEntry.Query().Where(ledgerentry.IdempotencyKey(key)).Exist(ctx); err != nil || done {
		if err == nil {
			err = ErrClosed
		}
		return err
	}
	reversed, err := tx.LedgerEntry.Query().Where(ledgerentry.ReversesID(e.ID)).Exist(ctx)
	if err != nil {
		return err
	}
	if reversed {
		return ErrClosed
	}
	op := Op{MemberID: e.MemberID, Amount: e.Amount, Kind: KindMature, Reason: e.Reason, RefType: e.RefType, RefID: e.RefID}
	if _, err := l.write(ctx, tx, bal, op, Pending, -e.Amount, key, nil, withSource(e.ID)); err != nil {
		return err
	}
	_, err = l.write(ctx, tx, bal, op, Available, e.Amount, key+"/available", nil, withSource(e.ID))
	return err
}

// AnnulTx takes bonuses back for fraud (§5.6): a reversing entry, never more than the
// bucket holds. With entryID set, it annuls that credit (from whichever bucket holds
// it now); otherwise amount from the available bucket.
func (l *Ledger) AnnulTx(ctx context.Context, tx *ent.Tx, memberID int, entryID *int, amount int64, key, reason string, actor *int) (*ent.LedgerEntry, error) {
	e, err := l.annulTx(ctx, tx, memberID, entryID, amount, key, reason, actor)
	l.observe(tx, KindAnnulment, err)
	return e, err
}

func (l *Ledger) annulTx(ctx context.Context, tx *ent.Tx, memberID int, entryID *int, amount int64, key, reason string, actor *int) (*ent.LedgerEntry, error) {
	bal, err := l.lock(ctx, tx, memberID)
	if err != nil {
		return nil, err
	}
	bucket := Available
	if entryID != nil {
		src, err := tx.LedgerEntry.Query().Where(ledgerentry.ID(*entryID), ledgerentry.MemberID(memberID)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		if src.Amount <= 0 || src.Bucket == ledgerentry.BucketReserved {
			return nil, fmt.Errorf("%w: only a credit can be annulled", ErrInvalid)
		}
		amount = src.Amount
		if src.Bucket == ledgerentry.BucketPending {
			matured, err := tx.LedgerEntry.Query().Where(ledgerentry.SourceID(src.ID), ledgerentry.KindEQ(ledgerentry.KindMature)).Exist(ctx)
			if err != nil {
				return nil, err
			}
			if !matured {
				bucket = Pending
			}
		}
	}
	if amount <= 0 || key == "" {
		return nil, fmt.Errorf("%w: annulment of %d", ErrInvalid, amount)
	}
	op := Op{MemberID: memberID, Amount: amount, Kind: KindAnnulment, Reason: reason, ActorID: actor, Key: key, RefType: "annulment"}
	if entryID != nil {
		op.RefType, op.RefID = "entry", fmt.Sprint(*entryID)
	}
	if e, err := l.replay(ctx, tx, op, bucket, -amount); e != nil || err != nil {
		return e, err
	}
	if entryID != nil {
		done, err := tx.LedgerEntry.Query().Where(ledgerentry.ReversesID(*entryID)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if done {
			return nil, ErrClosed
		}
	}
	have := bal.Available
	if bucket == Pending {
		have = bal.Pending
	}
	if have < amount {
		return nil, ErrInsufficient
	}
	return l.write(ctx, tx, bal, op, bucket, -amount, key, entryID)
}

// Balance returns the member's cached balance.
func (l *Ledger) Balance(ctx context.Context, memberID int) (Balance, error) {
	b, err := l.db.Balance.Query().Where(balance.MemberID(memberID)).Only(ctx)
	if ent.IsNotFound(err) {
		return Balance{}, nil
	}
	if err != nil {
		return Balance{}, err
	}
	return Balance{Available: b.Available, Pending: b.Pending, Reserved: b.Reserved, Earned: b.EarnedTotal}, nil
}

// Sum recomputes a member's balance from the entries alone (for checks and repairs).
func (l *Ledger) Sum(ctx context.Context, memberID int) (Balance, error) {
	var rows []struct {
		Bucket string `json:"bucket"`
		Sum    int64  `json:"sum"`
	}
	err := l.db.LedgerEntry.Query().Where(ledgerentry.MemberID(memberID)).
		GroupBy(ledgerentry.FieldBucket).Aggregate(ent.Sum(ledgerentry.FieldAmount)).Scan(ctx, &rows)
	if err != nil {
		return Balance{}, err
	}
	var b Balance
	for _, r := range rows {
		switch r.Bucket {
		case Available:
			b.Available = r.Sum
		case Pending:
			b.Pending = r.Sum
		case Reserved:
			b.Reserved = r.Sum
		}
	}
	return b, nil
}

// History lists a member's entries, newest first, before the entry ID before (0: from
// the newest), at most limit.
func (l *Ledger) History(ctx context.Context, memberID, before, limit int) ([]*ent.LedgerEntry, error) {
	q := l.db.LedgerEntry.Query().Where(ledgerentry.MemberID(memberID))
	if before > 0 {
		q.Where(ledgerentry.IDLT(before))
	}
	return q.Order(ent.Desc(ledgerentry.FieldID)).Limit(limit).All(ctx)
}

// LockTx takes the member's balance lock for the rest of the transaction, so a caller
// can check its own state (has this request been applied?) before writing.
func (l *Ledger) LockTx(ctx context.Context, tx *ent.Tx, memberID int) error {
	_, err := l.lock(ctx, tx, memberID)
	return err
}

// lock returns the member's balance row, created if missing, locked for the rest of the
// transaction on PostgreSQL (SQLite transactions already hold the write lock).
func (l *Ledger) lock(ctx context.Context, tx *ent.Tx, memberID int) (*ent.Balance, error) {
	// Insert-if-absent; on a conflict PostgreSQL returns no row, which is fine.
	err := tx.Balance.Create().SetMemberID(memberID).OnConflictColumns(balance.FieldMemberID).DoNothing().Exec(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("ledger: balance row: %w", err)
	}
	q := tx.Balance.Query().Where(balance.MemberID(memberID))
	if l.dialect == dialect.Postgres {
		q.ForUpdate()
	}
	b, err := q.Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: lock balance: %w", err)
	}
	return b, nil
}

// replay finds an entry already written under op.Key: the same operation retried gets
// it back; different parameters under the same key are a conflict.
func (l *Ledger) replay(ctx context.Context, tx *ent.Tx, op Op, bucket string, amount int64) (*ent.LedgerEntry, error) {
	e, err := tx.LedgerEntry.Query().Where(ledgerentry.IdempotencyKey(op.Key)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if e.MemberID != op.MemberID || string(e.Kind) != op.Kind || e.Amount != amount || string(e.Bucket) != bucket ||
		e.RefType != op.RefType || e.RefID != op.RefID {
		return nil, ErrConflict
	}
	return e, nil
}

func (l *Ledger) byKey(ctx context.Context, tx *ent.Tx, key string) (*ent.LedgerEntry, error) {
	return tx.LedgerEntry.Query().Where(ledgerentry.IdempotencyKey(key)).Only(ctx)
}

type writeOpt func(*ent.LedgerEntryCreate)

func withSource(id int) writeOpt { return func(c *ent.LedgerEntryCreate) { c.SetSourceID(id) } }

// write appends one entry and moves the cached balance with it.
func (l *Ledger) write(ctx context.Context, tx *ent.Tx, bal *ent.Balance, op Op, bucket string, amount int64, key string, reverses *int, opts ...writeOpt) (*ent.LedgerEntry, error) {
	next := map[string]int64{Available: bal.Available, Pending: bal.Pending, Reserved: bal.Reserved}
	next[bucket] += amount
	if next[bucket] < 0 {
		return nil, ErrInsufficient
	}
	earned := bal.EarnedTotal
	switch {
	case (op.Kind == KindCashback || op.Kind == KindReferral) && amount > 0:
		earned += amount
	case op.Kind == KindReversal:
		earned += amount // amount is negative
	}
	if earned < 0 {
		earned = 0
	}
	c := tx.LedgerEntry.Create().
		SetMemberID(op.MemberID).SetKind(ledgerentry.Kind(op.Kind)).SetAmount(amount).
		SetBucket(ledgerentry.Bucket(bucket)).SetReason(clip(op.Reason, MaxReason)).
		SetRefType(op.RefType).SetRefID(op.RefID).SetNillableActorID(op.ActorID).
		SetIdempotencyKey(key).SetNillableReversesID(reverses).SetNillableSourceID(op.SourceID).
		SetCreatedAt(l.now())
	if bucket == Pending && amount > 0 {
		c.SetAvailableAt(op.AvailableAt)
	}
	for _, o := range opts {
		o(c)
	}
	e, err := c.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, ErrConflict // the key was taken by another member's operation
	}
	if err != nil {
		return nil, err
	}
	// By its ID, not bal.Update(): updating one row reads it back (one more statement
	// on SQLite), and the row is locked by this transaction, so what it holds is known.
	at := time.Now()
	_, err = tx.Balance.Update().Where(balance.ID(bal.ID)).SetAvailable(next[Available]).SetPending(next[Pending]).
		SetReserved(next[Reserved]).SetEarnedTotal(earned).SetUpdatedAt(at).Save(ctx)
	if err != nil {
		return nil, err
	}
	bal.Available, bal.Pending, bal.Reserved, bal.EarnedTotal, bal.UpdatedAt = next[Available], next[Pending], next[Reserved], earned, at
	return e, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// observe counts one operation of kind with its outcome. A success is counted only
// when its transaction commits: the caller's transaction may still roll it back.
func (l *Ledger) observe(tx *ent.Tx, kind string, err error) {
	if l.metrics == nil {
		return
	}
	kind = metricKind(kind)
	switch {
	case err == nil:
		tx.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
				err := next.Commit(ctx, tx)
				if err != nil {
					l.metrics.LedgerOp(kind, "error")
				} else {
					l.metrics.LedgerOp(kind, "ok")
				}
				return err
			})
		})
		tx.OnRollback(func(next ent.Rollbacker) ent.Rollbacker {
			return ent.RollbackFunc(func(ctx context.Context, tx *ent.Tx) error {
				l.metrics.LedgerOp(kind, "rolled_back")
				return next.Rollback(ctx, tx)
			})
		})
	case errors.Is(err, ErrInsufficient), errors.Is(err, ErrConflict), errors.Is(err, ErrInvalid),
		errors.Is(err, ErrNotFound), errors.Is(err, ErrClosed):
		l.metrics.LedgerOp(kind, "refused")
	default:
		l.metrics.LedgerOp(kind, "error")
	}
}

// metricKind keeps the kind label to the known kinds: an operation's kind comes from
// the caller.
func metricKind(kind string) string {
	switch kind {
	case KindWelcome, KindCashback, KindReferral, KindReserve, KindCapture, KindRelease, KindSpend, KindTierPurchase,
		KindAnnulment, KindReversal, KindAdjustment, KindMature, KindRefund:
		return kind
	}
	return "other"
}
