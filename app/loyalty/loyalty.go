// Package loyalty carries out the bonus rules of PRODUCT.md §2 "Bonuses" on top of the
// ledger: the welcome bonus, cashback on completed deals, the referral share, status
// tiers, spending inside the ecosystem and annulment. Every way bonuses enter or leave
// a balance goes through here and the ledger.
package loyalty

import (
	"context"
	"errors"
	"fmt"
	"ikra/app/cache"
	"math/big"
	"strconv"
	"time"

	"ikra/app/ledger"
	"ikra/app/notify"
	"ikra/app/settings"
	"ikra/ent"
)

// Errors a caller can tell apart.
var (
	ErrSelfReferral    = errors.New("loyalty: a member cannot invite themselves")
	ErrAlreadyReferred = errors.New("loyalty: the member already has a referrer")
	ErrUnknownCode     = errors.New("loyalty: no such referral code")
	ErrNotForSale      = errors.New("loyalty: this status cannot be bought")
	ErrReasonRequired  = errors.New("loyalty: a reason is required")
	// ErrKeyReused means an idempotency key already names another request (another
	// tier, entry, amount or reason); it is a ledger.ErrConflict.
	ErrKeyReused = fmt.Errorf("loyalty: idempotency key reused with other parameters: %w", ledger.ErrConflict)
)

// Setting keys and their defaults.
const (
	KeyWelcome        = "bonus.welcome"         // whole bonuses, default 3000
	KeyReferralShare  = "bonus.referral_bp"     // basis points of an invitee's reward, default 1000 (10%)
	KeyReversalWindow = "bonus.reversal_days"   // days a completed deal can be reversed, default 14
	keyWelcomeSecret  = "secret.welcome_pepper" // keys the one-way hash of Telegram IDs
)

// Rules are the current, published bonus rules.
type Rules struct {
	Welcome         int64 // bonuses at registration
	ReferralShareBP int   // the referrer's share of each reward their invitee earns, in basis points
	ReversalDays    int   // cashback stays pending this many days after the deal
	Tiers           []*ent.Tier
}

// Service applies the rules.
type Service struct {
	db       *ent.Client
	ledger   *ledger.Ledger
	settings *settings.Store
	notify   *notify.Service
	texts    Texts
	rows     *cache.Rows
	earned   *cache.ByID[int64] // by member: bonuses earned over the last Year
}

// SetRows makes the service read tiers and members through the shared cache.
func (s *Service) SetRows(r *cache.Rows) { s.rows = r }

// EarnedTTL bounds how long a member's earned sum is kept: entries leave the year's
// window with time, not with a change.
const EarnedTTL = 30 * time.Second

// UseCache keeps each member's earned sum (their status) in memory, forgotten through b
// when a ledger entry of theirs is written on any node.
func (s *Service) UseCache(b *cache.Bus) {
	s.earned = cache.NewByID(b, EarnedTTL, 100_000, func(ctx context.Context, id int) (int64, error) {
		return s.earnedSum(ctx, s.db, id)
	}, "LedgerEntry.member_id")
}

// Texts translates a message key into a language (the i18n catalog's T).
type Texts func(lang, key string, args ...any) string

// SetTexts sets how notification texts are translated.
func (s *Service) SetTexts(t Texts) { s.texts = t }

func (s *Service) text(lang, key string, args ...any) string {
	if s.texts == nil {
		return key
	}
	return s.texts(lang, key, args...)
}

// New returns the loyalty service.
func New(db *ent.Client, l *ledger.Ledger, s *settings.Store, n *notify.Service) *Service {
	return &Service{db: db, ledger: l, settings: s, notify: n, rows: cache.NewRows(nil, db)}
}

// Ledger is the ledger the service writes to.
func (s *Service) Ledger() *ledger.Ledger { return s.ledger }

func (s *Service) now() time.Time { return s.ledger.Now() }

// Rules reads the live rules from the settings.
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	return s.rules(ctx, s.settings, s.rows)
}

// rulesTx reads the rules inside tx: a transaction never waits on a second connection
// of the pool (SQLite's writers hold theirs while they queue for the write lock).
func (s *Service) rulesTx(ctx context.Context, tx *ent.Tx) (Rules, error) {
	return s.rules(ctx, settings.New(tx.Client()), cache.NewRows(nil, tx.Client()))
}

func (s *Service) rules(ctx context.Context, st *settings.Store, rows *cache.Rows) (Rules, error) {
	var r Rules
	var err error
	if r.Welcome, err = intSetting(ctx, st, KeyWelcome, DefaultWelcome); err != nil {
		return r, err
	}
	share, err := intSetting(ctx, st, KeyReferralShare, DefaultReferralShareBP)
	if err != nil {
		return r, err
	}
	days, err := intSetting(ctx, st, KeyReversalWindow, DefaultReversalDays)
	if err != nil {
		return r, err
	}
	r.ReferralShareBP, r.ReversalDays = int(share), int(days)
	r.Tiers, err = rows.Tiers(ctx)
	return r, err
}

func intSetting(ctx context.Context, st *settings.Store, key string, def int64) (int64, error) {
	v, ok, err := st.Get(ctx, key)
	if err != nil || !ok {
		return def, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return def, fmt.Errorf("setting %s: %w", key, err)
	}
	return n, nil
}

// CashbackAmount is deal × rate × multiplier, rounded down to whole bonuses. The deal is
// in tiyn (1/100 tenge), one bonus per tenge; rate and multiplier are in basis points.
// The arithmetic is exact (no floating point, no overflow).
func CashbackAmount(dealTiyn int64, rateBP, multiplierBP int) int64 {
	if dealTiyn <= 0 || rateBP <= 0 || multiplierBP <= 0 {
		return 0
	}
	n := new(big.Int).Mul(big.NewInt(dealTiyn), big.NewInt(int64(rateBP)))
	n.Mul(n, big.NewInt(int64(multiplierBP)))
	n.Quo(n, big.NewInt(100*10000*10000))
	if !n.IsInt64() {
		return 0
	}
	return n.Int64()
}

// Share is amount × bp / 10000, rounded down.
func Share(amount int64, bp int) int64 {
	if amount <= 0 || bp <= 0 {
		return 0
	}
	n := new(big.Int).Mul(big.NewInt(amount), big.NewInt(int64(bp)))
	return n.Quo(n, big.NewInt(10000)).Int64()
}
