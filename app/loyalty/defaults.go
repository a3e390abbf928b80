package loyalty

import (
	"context"
	"fmt"
	"strconv"

	"ikra/ent"
	"ikra/ent/setting"
	"ikra/ent/tier"
)

// Defaults of the bonus rules, used until an admin changes them.
const (
	DefaultWelcome         = 3000 // bonuses at registration
	DefaultReferralShareBP = 1000 // 10% of each reward an invitee earns
	DefaultReversalDays    = 14   // days cashback stays pending
)

// TierDef describes a status tier a fresh installation starts with.
type TierDef struct {
	Slug, NameRu, NameEn, NameKk string
	MinEarned                    int64 // bonuses earned over 12 months to reach it
	MultiplierBP                 int   // cashback multiplier, 10000 = ×1
	PriceBonus                   int64 // 0: cannot be bought
	PeriodDays                   int   // how long a bought tier lasts
	Sort                         int
}

// Slugs of the default tiers.
const (
	TierBase   = "base"
	TierSilver = "silver"
	TierGold   = "gold"
	TierBlack  = "black"
)

// DefaultTiers are Base, Silver, Gold and Black, lowest first. Black is reached by
// earning only.
var DefaultTiers = []TierDef{
	{TierBase, "Базовый", "Base", "Базалық", 0, 10000, 0, 30, 10},
	{TierSilver, "Серебряный", "Silver", "Күміс", 20000, 11000, 15000, 30, 20},
	{TierGold, "Золотой", "Gold", "Алтын", 60000, 12500, 40000, 30, 30},
	{TierBlack, "Black", "Black", "Black", 150000, 15000, 0, 30, 40},
}

// EnsureDefaults gives an empty installation its default status tiers and bonus
// settings. It is called at every start: tiers are created only while there are none
// at all, settings only while unset, so what an admin changed is never overwritten.
// Several nodes starting together agree on one set. Default tiers of an installation
// older than the Kazakh names get theirs (see kazakhNames).
func EnsureDefaults(ctx context.Context, db *ent.Client) error {
	if err := ensureTiers(ctx, db); err != nil {
		return fmt.Errorf("loyalty: default tiers: %w", err)
	}
	if err := kazakhNames(ctx, db); err != nil {
		return fmt.Errorf("loyalty: Kazakh tier names: %w", err)
	}
	for _, d := range []struct {
		key string
		val int64
	}{
		{KeyWelcome, DefaultWelcome},
		{KeyReferralShare, DefaultReferralShareBP},
		{KeyReversalWindow, DefaultReversalDays},
	} {
		ok, err := db.Setting.Query().Where(setting.Key(d.key)).Exist(ctx)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		err = db.Setting.Create().SetKey(d.key).SetValue(strconv.FormatInt(d.val, 10)).Exec(ctx)
		if err != nil && !ent.IsConstraintError(err) { // another node wrote it first
			return fmt.Errorf("loyalty: default setting %s: %w", d.key, err)
		}
	}
	return nil
}

// ensureTiers inserts the default tiers in one statement, so a crash leaves all or
// none, when there are no tiers at all.
func ensureTiers(ctx context.Context, db *ent.Client) error {
	n, err := db.Tier.Query().Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	rows := make([]*ent.TierCreate, len(DefaultTiers))
	for i, d := range DefaultTiers {
		rows[i] = db.Tier.Create().SetSlug(d.Slug).SetNameRu(d.NameRu).SetNameEn(d.NameEn).SetNameKk(d.NameKk).
			SetMinEarned(d.MinEarned).SetMultiplierBp(d.MultiplierBP).SetPriceBonus(d.PriceBonus).
			SetPeriodDays(d.PeriodDays).SetSort(d.Sort)
	}
	err = db.Tier.CreateBulk(rows...).Exec(ctx)
	if ent.IsConstraintError(err) {
		return nil // another node created them meanwhile
	}
	return err
}

// kazakhNames gives a default tier its Kazakh name when it has none and still bears its
// default Russian name: a tier an admin renamed keeps an empty Kazakh name (and shows
// its Russian one) rather than get a translation of a name it no longer has, and a
// Kazakh name an admin typed is never replaced.
func kazakhNames(ctx context.Context, db *ent.Client) error {
	for _, d := range DefaultTiers {
		err := db.Tier.Update().
			Where(tier.Slug(d.Slug), tier.NameRu(d.NameRu), tier.NameKk("")).
			SetNameKk(d.NameKk).Exec(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}
