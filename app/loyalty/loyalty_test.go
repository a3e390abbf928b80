package loyalty_test

import (
	"golang.org/x/sync/errgroup"

	"context"
	"errors"
	"math"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/members"
	"ikra/app/settings"
	"ikra/app/terms"
	"ikra/ent"
	"ikra/ent/ledgerentry"
)

type world struct {
	db      *ent.Client
	members *members.Service
	loyalty *loyalty.Service
	ledger  *ledger.Ledger
	now     time.Time
}

func newWorld(t *testing.T, d apptest.Database) *world {
	ctx := context.Background()
	apptest.Must(t, terms.EnsureInitial(ctx, d.Client))
	w := &world{db: d.Client, now: time.Now()}
	w.ledger = ledger.New(d.Client, d.Dialect)
	w.ledger.SetClock(func() time.Time { return w.now })
	w.loyalty = loyalty.New(d.Client, w.ledger, settings.New(d.Client), nil)
	apptest.Must(t, w.loyalty.Init(ctx))
	w.members = members.New(d.Client, nil, func(context.Context, int) error { return nil })
	w.members.OnRegister(w.loyalty.OnRegister)
	return w
}

func (w *world) register(t *testing.T, tg int64, start string) *ent.Member {
	t.Helper()
	m, created, err := w.members.SignIn(context.Background(), members.Identity{TelegramID: tg, FirstName: "M"}, "web", start)
	apptest.Must(t, err)
	if !created {
		t.Fatalf("member %d was not new", tg)
	}
	return m
}

func (w *world) balance(t *testing.T, id int) ledger.Balance {
	t.Helper()
	b, err := w.ledger.Balance(context.Background(), id)
	apptest.Must(t, err)
	s, err := w.ledger.Sum(context.Background(), id)
	apptest.Must(t, err)
	if b.Available != s.Available || b.Pending != s.Pending || b.Reserved != s.Reserved {
		t.Fatalf("cached %+v != entries %+v", b, s)
	}
	return b
}

func (w *world) deal(t *testing.T, memberID, bookingID int, tiyn int64, rate int) *ent.LedgerEntry {
	t.Helper()
	var e *ent.LedgerEntry
	apptest.Must(t, w.ledger.InTx(context.Background(), func(tx *ent.Tx) (err error) {
		e, err = w.loyalty.Cashback(context.Background(), tx, loyalty.Deal{MemberID: memberID, BookingID: bookingID, AmountTiyn: tiyn, RateBP: rate})
		return
	}))
	return e
}

func TestCashbackAmount(t *testing.T) {
	tests := []struct {
		tiyn       int64
		rate, mult int
		want       int64
	}{
		{10_000_000, 500, 10000, 5000},                    // 100 000 ₸ at 5% → 5 000
		{12_345, 500, 10000, 6},                           // 123,45 ₸ at 5% = 6,17 → 6
		{99, 10000, 10000, 0},                             // 0,99 ₸ at 100% → 0
		{10_000_000, 500, 12500, 6250},                    // gold ×1.25
		{10_000_000, 333, 11000, 3663},                    // 3 663,0
		{10_000_001, 333, 11000, 3663},                    // never rounds up
		{0, 500, 10000, 0},                                // no deal
		{-100, 500, 10000, 0},                             // nonsense
		{math.MaxInt64, 10000, 50000, 461168601842738790}, // exact beyond 64-bit intermediates
	}
	for _, tt := range tests {
		if got := loyalty.CashbackAmount(tt.tiyn, tt.rate, tt.mult); got != tt.want {
			t.Errorf("CashbackAmount(%d, %d, %d) = %d, want %d", tt.tiyn, tt.rate, tt.mult, got, tt.want)
		}
	}
	if got := loyalty.Share(5001, 1000); got != 500 {
		t.Errorf("Share = %d", got)
	}
}

// The welcome bonus is paid once per Telegram ID for ever, also after the account is
// deleted and registered again.
func TestWelcomeOncePerTelegramID(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			w := newWorld(t, d)
			first := w.register(t, 501, "")
			if b := w.balance(t, first.ID); b.Available != 3000 {
				t.Fatalf("welcome %+v", b)
			}
			apptest.Must(t, w.members.Delete(context.Background(), first.ID, "web"))
			second := w.register(t, 501, "")
			if second.ID == first.ID {
				t.Fatal("re-registration reused the deleted account")
			}
			if b := w.balance(t, second.ID); b.Available != 0 {
				t.Fatalf("welcome paid twice: %+v", b)
			}
			// The deleted account's ledger rows stay, anonymised.
			if b := w.balance(t, first.ID); b.Available != 3000 {
				t.Fatalf("deleted account's entries: %+v", b)
			}
		})
	}
}

func TestReferral(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, d)
			a := w.register(t, 601, "")
			b := w.register(t, 602, "ref_"+a.ReferralCode)
			// No reward for welcome bonuses.
			if bal := w.balance(t, a.ID); bal.Available != 3000 || bal.Pending != 0 {
				t.Fatalf("referrer after the invitee's welcome: %+v", bal)
			}
			if err := w.loyalty.Attribute(ctx, a.ID, a.ReferralCode); !errors.Is(err, loyalty.ErrSelfReferral) {
				t.Fatalf("self-referral: %v", err)
			}
			c := w.register(t, 603, "")
			if err := w.loyalty.Attribute(ctx, b.ID, c.ReferralCode); !errors.Is(err, loyalty.ErrAlreadyReferred) {
				t.Fatalf("second attribution: %v", err)
			}
			// A self-referral link at registration is ignored, registration succeeds.
			d2 := w.register(t, 604, "ref_NOSUCHCODE")
			if n, _ := w.db.Referral.Query().Count(ctx); n != 1 || d2 == nil {
				t.Fatalf("%d referrals", n)
			}

			// B's deal earns B cashback and A 10% of it, both pending.
			cb := w.deal(t, b.ID, 77, 10_000_000, 500)
			if bal := w.balance(t, b.ID); bal.Pending != 5000 {
				t.Fatalf("invitee %+v", bal)
			}
			if bal := w.balance(t, a.ID); bal.Pending != 500 {
				t.Fatalf("referrer %+v", bal)
			}
			share, err := w.db.LedgerEntry.Query().Where(ledgerentry.MemberID(a.ID), ledgerentry.KindEQ(ledgerentry.KindReferral)).Only(ctx)
			apptest.Must(t, err)
			if share.SourceID == nil || *share.SourceID != cb.ID {
				t.Fatalf("share not linked to its source: %+v", share)
			}
			// The deal is reversed: both are reversed with it.
			apptest.Must(t, w.ledger.InTx(ctx, func(tx *ent.Tx) error { return w.loyalty.ReverseCashback(ctx, tx, 77, nil) }))
			if bal := w.balance(t, b.ID); bal.Pending != 0 || bal.Available != 3000 {
				t.Fatalf("invitee after reversal %+v", bal)
			}
			if bal := w.balance(t, a.ID); bal.Pending != 0 || bal.Available != 3000 {
				t.Fatalf("referrer after reversal %+v", bal)
			}
			info, err := w.loyalty.Referrals(ctx, a.ID)
			apptest.Must(t, err)
			if len(info.Invitees) != 1 || info.Earned != 0 {
				t.Fatalf("referral info %+v", info)
			}

			// Another deal matures when its window closes, the share with it.
			w.deal(t, b.ID, 78, 2_000_000, 1000)
			w.now = w.now.Add(15 * 24 * time.Hour)
			n, err := w.ledger.MatureDue(ctx, 100)
			apptest.Must(t, err)
			if n != 2 {
				t.Fatalf("matured %d entries, want 2", n)
			}
			if bal := w.balance(t, b.ID); bal.Available != 5000 || bal.Pending != 0 {
				t.Fatalf("invitee after maturing %+v", bal)
			}
			if bal := w.balance(t, a.ID); bal.Available != 3200 {
				t.Fatalf("referrer after maturing %+v", bal)
			}
			if err := w.ledger.InTx(ctx, func(tx *ent.Tx) error { return w.loyalty.ReverseCashback(ctx, tx, 78, nil) }); !errors.Is(err, ledger.ErrClosed) {
				t.Fatalf("reversal after the window: %v", err)
			}
		})
	}
}

func TestTiers(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, d)
			for i, tr := range []struct {
				slug      string
				min, mult int64
				price     int64
			}{{"base", 0, 10000, 0}, {"silver", 2000, 11000, 1500}, {"gold", 6000, 12500, 4000}} {
				apptest.Must(t, w.db.Tier.Create().SetSlug(tr.slug).SetNameRu(tr.slug).SetNameEn(tr.slug).SetMinEarned(tr.min).
					SetMultiplierBp(int(tr.mult)).SetPriceBonus(tr.price).SetPeriodDays(30).SetSort(i).Exec(ctx))
			}
			m := w.register(t, 701, "")
			st, err := w.loyalty.Status(ctx, m.ID)
			apptest.Must(t, err)
			if st.Tier.Slug != "base" || st.Next.Slug != "silver" {
				t.Fatalf("new member %s next %s", st.Tier.Slug, st.Next.Slug)
			}
			// Earning 2 500 over the year reaches silver, which multiplies the next cashback.
			w.deal(t, m.ID, 1, 5_000_000, 500) // 2 500
			st, _ = w.loyalty.Status(ctx, m.ID)
			if st.Tier.Slug != "silver" || st.Earned != 2500 {
				t.Fatalf("after earning: %s %d", st.Tier.Slug, st.Earned)
			}
			if e := w.deal(t, m.ID, 2, 1_000_000, 1000); e.Amount != 1100 {
				t.Fatalf("silver cashback %d, want 1100", e.Amount)
			}
			// Gold bought for a period with bonuses, then the period ends.
			if err := w.loyalty.BuyTier(ctx, m.ID, "base", "k0"); !errors.Is(err, loyalty.ErrNotForSale) {
				t.Fatalf("base bought: %v", err)
			}
			if err := w.loyalty.BuyTier(ctx, m.ID, "gold", "k1"); !errors.Is(err, ledger.ErrInsufficient) {
				t.Fatalf("bought with pending bonuses: %v", err)
			}
			_, err = w.ledger.Credit(ctx, ledger.Op{MemberID: m.ID, Amount: 2000, Kind: ledger.KindAdjustment, Key: "gift"})
			apptest.Must(t, err)
			apptest.Must(t, w.loyalty.BuyTier(ctx, m.ID, "gold", "k2"))
			apptest.Must(t, w.loyalty.BuyTier(ctx, m.ID, "gold", "k2")) // a double submit charges once
			if bal := w.balance(t, m.ID); bal.Available != 1000 {
				t.Fatalf("after buying gold: %+v", bal)
			}
			st, _ = w.loyalty.Status(ctx, m.ID)
			if st.Tier.Slug != "gold" || st.Bought == nil {
				t.Fatalf("after buying: %+v", st.Tier.Slug)
			}
			w.now = w.now.Add(31 * 24 * time.Hour)
			n, err := w.loyalty.DowngradeExpired(ctx)
			apptest.Must(t, err)
			st, _ = w.loyalty.Status(ctx, m.ID)
			if n != 1 || st.Tier.Slug != "silver" || st.Bought != nil {
				t.Fatalf("after the period: %d %s", n, st.Tier.Slug)
			}
		})
	}
}

func TestAnnul(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, d)
			m := w.register(t, 801, "")
			staff := 1
			actor := audit.Entry{ActorID: &staff, ActorRole: "moderator"}
			if _, err := w.loyalty.Annul(ctx, actor, m.ID, nil, 100, " ", "a"); !errors.Is(err, loyalty.ErrReasonRequired) {
				t.Fatalf("no reason: %v", err)
			}
			if _, err := w.loyalty.Annul(ctx, actor, m.ID, nil, 3001, "fraud", "b"); !errors.Is(err, ledger.ErrInsufficient) {
				t.Fatalf("more than available: %v", err)
			}
			_, err := w.loyalty.Annul(ctx, actor, m.ID, nil, 1000, "fraud", "c")
			apptest.Must(t, err)
			_, err = w.loyalty.Annul(ctx, actor, m.ID, nil, 1000, "fraud", "c") // retried
			apptest.Must(t, err)
			if bal := w.balance(t, m.ID); bal.Available != 2000 {
				t.Fatalf("after annulment %+v", bal)
			}
			n, _ := w.db.AuditLog.Query().Count(ctx)
			if n != 1 {
				t.Fatalf("%d audit rows", n)
			}
		})
	}
}

// A burst of registrations, more than the pool has connections, all get their welcome
// bonus: a registration's transaction reads the rules and the pepper through itself,
// never through a second connection that a queue of SQLite writers (each holding
// one while it waits for the write lock) would leave it waiting for.
func TestRegistrationBurstWithUncachedSettings(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			w := newWorld(t, d) // settings without a cache: every read goes to the database
			var g errgroup.Group
			start := time.Now()
			for i := range 24 {
				g.Go(func() error {
					_, _, err := w.members.SignIn(context.Background(), members.Identity{TelegramID: int64(77000 + i), FirstName: "B"}, "web", "")
					return err
				})
			}
			apptest.Must(t, g.Wait())
			n, err := w.db.LedgerEntry.Query().Where(ledgerentry.KindEQ(ledger.KindWelcome)).Count(context.Background())
			apptest.Must(t, err)
			if n != 24 {
				t.Fatalf("%d welcome credits for 24 registrations", n)
			}
			t.Logf("24 registrations in %s", time.Since(start).Round(time.Millisecond))
		})
	}
}
