package loyalty

import (
	"context"
	"fmt"
	"ikra/app/cache"
	"strconv"
	"time"

	"ikra/app/audit"
	"ikra/app/ledger"
	"ikra/ent"
	"ikra/ent/ledgerentry"
	"ikra/ent/member"
	"ikra/ent/tier"
)

// Year is the rolling window over which earned bonuses count towards a status.
const Year = 365 * 24 * time.Hour

// Tiers lists the status tiers, lowest first.
func (s *Service) Tiers(ctx context.Context) ([]*ent.Tier, error) {
	return s.rows.Tiers(ctx)
}

// Status is a member's standing.
type Status struct {
	Tier       *ent.Tier  // effective tier; nil when no tier is configured
	Earned     int64      // bonuses earned over the last 12 months (cashback and referral, net of reversals)
	EarnedTier *ent.Tier  // the tier the earnings reach
	Bought     *ent.Tier  // a tier bought for a period, while it lasts
	Until      *time.Time // end of the bought period
	Next       *ent.Tier  // the next tier by earnings, if any
	Tiers      []*ent.Tier
}

// Multiplier is the cashback multiplier of the effective tier (10000 = ×1).
func (st Status) Multiplier() int {
	if st.Tier == nil || st.Tier.MultiplierBp <= 0 {
		return 10000
	}
	return st.Tier.MultiplierBp
}

// Status computes a member's tier: the higher of the one reached by earnings over a
// rolling 12 months and the one bought for a period that has not ended.
func (s *Service) Status(ctx context.Context, memberID int) (Status, error) {
	return s.statusTx(ctx, s.db, memberID)
}

// StatusOf is Status for a member the caller has already read.
func (s *Service) StatusOf(ctx context.Context, m *ent.Member) (Status, error) {
	return s.status(ctx, s.db, s.rows, m)
}

func (s *Service) statusTx(ctx context.Context, db *ent.Client, memberID int) (Status, error) {
	return s.statusTxOf(ctx, db, memberID, nil)
}

// statusTxOf is statusTx with the member already read through db (nil reads it).
func (s *Service) statusTxOf(ctx context.Context, db *ent.Client, memberID int, m *ent.Member) (Status, error) {
	// Outside a transaction the tiers and the member come from the shared cache;
	// inside one, from the transaction.
	rows := s.rows
	if db != s.db {
		rows = cache.NewRows(nil, db)
	}
	if m == nil || m.ID != memberID {
		var err error
		if m, err = rows.Member(ctx, memberID); err != nil {
			return Status{}, err
		}
	}
	return s.status(ctx, db, rows, m)
}

// earnedSum is what the member earned over the last Year (cashback, referral shares,
// less reversals), never below 0.
func (s *Service) earnedSum(ctx context.Context, db *ent.Client, memberID int) (int64, error) {
	var sum []struct {
		Sum int64 `json:"sum"`
	}
	err := db.LedgerEntry.Query().Where(ledgerentry.MemberID(memberID),
		ledgerentry.KindIn(ledgerentry.KindCashback, ledgerentry.KindReferral, ledgerentry.KindReversal),
		ledgerentry.CreatedAtGTE(s.now().Add(-Year))).
		Aggregate(ent.Sum(ledgerentry.FieldAmount)).Scan(ctx, &sum)
	if err != nil || len(sum) == 0 {
		return 0, err
	}
	return max(sum[0].Sum, 0), nil
}

func (s *Service) status(ctx context.Context, db *ent.Client, rows *cache.Rows, m *ent.Member) (Status, error) {
	var st Status
	memberID := m.ID
	tiers, err := rows.Tiers(ctx)
	if err != nil {
		return st, err
	}
	st.Tiers = tiers
	if db == s.db && s.earned != nil {
		st.Earned, err = s.earned.Get(ctx, memberID)
	} else {
		st.Earned, err = s.earnedSum(ctx, db, memberID)
	}
	if err != nil {
		return st, err
	}
	for _, t := range tiers {
		if t.MinEarned <= st.Earned {
			if st.EarnedTier == nil || t.MinEarned >= st.EarnedTier.MinEarned {
				st.EarnedTier = t
			}
		} else if st.Next == nil || t.MinEarned < st.Next.MinEarned {
			st.Next = t
		}
	}
	st.Tier = st.EarnedTier
	if m.TierID != nil && m.TierUntil != nil && m.TierUntil.After(s.now()) {
		for _, t := range tiers {
			if t.ID == *m.TierID {
				st.Bought, st.Until = t, m.TierUntil
				if st.Tier == nil || t.Sort > st.Tier.Sort || (t.Sort == st.Tier.Sort && t.MinEarned > st.Tier.MinEarned) {
					st.Tier = t
				}
			}
		}
	}
	return st, nil
}

// Shortfall is how many bonuses a member with available bonuses lacks to buy the
// tier: 0 when they can afford it or it is not for sale.
func Shortfall(t *ent.Tier, available int64) int64 {
	if t == nil || t.PriceBonus <= 0 || t.PeriodDays <= 0 || available >= t.PriceBonus {
		return 0
	}
	return t.PriceBonus - max(available, 0)
}

// BuyTier buys a status for its period with bonuses (a debit). Buying the tier one
// already holds extends the period. key makes a repeated submission harmless; the same
// key for another tier (or member) is ErrKeyReused.
func (s *Service) BuyTier(ctx context.Context, memberID int, slug, key string) error {
	return s.ledger.InTx(ctx, func(tx *ent.Tx) error {
		t, err := tx.Tier.Query().Where(tier.Slug(slug)).Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotForSale
		}
		if err != nil {
			return err
		}
		if t.PriceBonus <= 0 || t.PeriodDays <= 0 {
			return ErrNotForSale
		}
		// Lock first, then look for the key: a replayed purchase must not extend twice.
		if err := s.ledger.LockTx(ctx, tx, memberID); err != nil {
			return err
		}
		prev, err := tx.LedgerEntry.Query().Where(ledgerentry.IdempotencyKey("tier:" + key)).Only(ctx)
		if err == nil {
			// The price may have changed since; the request is the member and the tier.
			if prev.MemberID != memberID || prev.Kind != ledgerentry.KindTierPurchase || prev.RefType != "tier" || prev.RefID != t.Slug {
				return ErrKeyReused
			}
			return nil
		}
		if !ent.IsNotFound(err) {
			return err
		}
		_, err = s.ledger.DebitTx(ctx, tx, ledger.Op{
			MemberID: memberID, Amount: t.PriceBonus, Kind: ledger.KindTierPurchase, Reason: "tier:" + t.Slug,
			RefType: "tier", RefID: t.Slug, ActorID: &memberID, Key: "tier:" + key,
		})
		if err != nil {
			return err
		}
		m, err := tx.Member.Get(ctx, memberID)
		if err != nil {
			return err
		}
		start := s.now()
		if m.TierID != nil && *m.TierID == t.ID && m.TierUntil != nil && m.TierUntil.After(start) {
			start = *m.TierUntil
		}
		return tx.Member.UpdateOneID(memberID).SetTierID(t.ID).SetTierUntil(start.Add(time.Duration(t.PeriodDays) * 24 * time.Hour)).Exec(ctx)
	})
}

// DowngradeExpired ends bought periods that are over; the member keeps the tier their
// earnings reach. A scheduled job calls it.
func (s *Service) DowngradeExpired(ctx context.Context) (int, error) {
	return s.db.Member.Update().
		Where(member.TierUntilNotNil(), member.TierUntilLT(s.now())).
		ClearTierID().ClearTierUntil().
		Save(ctx)
}

// TierInput is an admin's edit of a tier.
type TierInput struct {
	NameRu, NameEn string
	NameKk         string // may stay empty: the Russian name is shown instead
	MinEarned      int64
	MultiplierBP   int
	PriceBonus     int64
	PeriodDays     int
}

// Validate returns field errors as message keys.
func (in TierInput) Validate() map[string]string {
	errs := map[string]string{}
	if in.NameRu == "" || len([]rune(in.NameRu)) > 40 {
		errs["name_ru"] = "form.required"
	}
	if in.NameEn == "" || len([]rune(in.NameEn)) > 40 {
		errs["name_en"] = "form.required"
	}
	if len([]rune(in.NameKk)) > 40 {
		errs["name_kk"] = "form.max_40"
	}
	if in.MinEarned < 0 {
		errs["min_earned"] = "form.not_negative"
	}
	if in.MultiplierBP < 10000 || in.MultiplierBP > 50000 {
		errs["multiplier_bp"] = "form.multiplier_range"
	}
	if in.PriceBonus < 0 {
		errs["price_bonus"] = "form.not_negative"
	}
	if in.PeriodDays < 1 || in.PeriodDays > 3660 {
		errs["period_days"] = "form.period_range"
	}
	return errs
}

// UpdateTier changes a tier's name, threshold, multiplier, price and period, with its
// audit entry in the same transaction. A missing tier is an ent not-found error.
func (s *Service) UpdateTier(ctx context.Context, actor audit.Entry, id int, in TierInput) (*ent.Tier, error) {
	if errs := in.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("loyalty: invalid tier: %v", errs)
	}
	var after *ent.Tier
	err := s.ledger.InTx(ctx, func(tx *ent.Tx) error {
		before, err := tx.Tier.Get(ctx, id)
		if err != nil {
			return err
		}
		after, err = tx.Tier.UpdateOne(before).SetNameRu(in.NameRu).SetNameEn(in.NameEn).SetNameKk(in.NameKk).SetMinEarned(in.MinEarned).
			SetMultiplierBp(in.MultiplierBP).SetPriceBonus(in.PriceBonus).SetPeriodDays(in.PeriodDays).Save(ctx)
		if err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "tier.update", "tier", strconv.Itoa(id)
		actor.Before, actor.After = tierAudit(before), tierAudit(after)
		return audit.Record(ctx, tx.Client(), actor)
	})
	if err != nil {
		return nil, err
	}
	return after, nil
}

func tierAudit(t *ent.Tier) map[string]any {
	return map[string]any{"slug": t.Slug, "name_ru": t.NameRu, "name_en": t.NameEn, "name_kk": t.NameKk, "min_earned": t.MinEarned,
		"multiplier_bp": t.MultiplierBp, "price_bonus": t.PriceBonus, "period_days": t.PeriodDays}
}
