package loyalty

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"ikra/app/audit"
	"ikra/app/ledger"
	"ikra/app/members"
	"ikra/app/notify"
	"ikra/ent"
	"ikra/ent/ledgerentry"
)

// Annul takes bonuses back for fraud (§5.6): a reversing entry with a mandatory reason,
// never more than the balance holds, recorded in the audit log and notified to the
// member. With entryID it annuls that credit; otherwise amount from the available
// bonuses. key makes a repeated submission harmless; the same key with another member,
// entry, amount or reason is ErrKeyReused. The notification is written in the
// annulment's transaction, so an annulment never lacks it; a repeat makes sure it is
// on its way and writes nothing.
// The actor must outrank the member (members.CheckRank).
func (s *Service) Annul(ctx context.Context, actor audit.Entry, memberID int, entryID *int, amount int64, reason, key string) (*ent.LedgerEntry, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, ErrReasonRequired
	}
	var e *ent.LedgerEntry
	err := s.ledger.InTx(ctx, func(tx *ent.Tx) error {
		// Lock, then look for the key: a repeated submission is answered, not audited twice.
		if err := members.CheckRank(ctx, tx.Client(), actor.ActorID, memberID, members.ActAnnul); err != nil {
			return err
		}
		if err := s.ledger.LockTx(ctx, tx, memberID); err != nil {
			return err
		}
		prev, err := tx.LedgerEntry.Query().Where(ledgerentry.IdempotencyKey("annul:" + key)).Only(ctx)
		if err == nil {
			if !sameAnnulment(prev, memberID, entryID, amount, reason) {
				return ErrKeyReused
			}
			// Its notification committed with it; this makes sure it is on its way.
			e = prev
			return s.notifyAnnulled(ctx, tx, e)
		}
		if !ent.IsNotFound(err) {
			return err
		}
		if err := checkAnnullable(ctx, tx, memberID, entryID); err != nil {
			return err
		}
		before, err := s.ledger.Balance(ctx, memberID)
		if err != nil {
			return err
		}
		e, err = s.ledger.AnnulTx(ctx, tx, memberID, entryID, amount, "annul:"+key, reason, actor.ActorID)
		if err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "ledger.annul", "member", strconv.Itoa(memberID)
		actor.Before = map[string]any{"available": before.Available, "pending": before.Pending}
		actor.After = map[string]any{"entry_id": e.ID, "amount": e.Amount, "bucket": string(e.Bucket), "reason": reason}
		if entryID != nil {
			actor.After["annulled_entry_id"] = *entryID
		}
		if err := audit.Record(ctx, tx.Client(), actor); err != nil {
			return err
		}
		return s.notifyAnnulled(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// checkAnnullable refuses to annul by ID an entry that is not an annullable credit.
func checkAnnullable(ctx context.Context, tx *ent.Tx, memberID int, entryID *int) error {
	if entryID == nil {
		return nil
	}
	src, err := tx.LedgerEntry.Query().Where(ledgerentry.ID(*entryID), ledgerentry.MemberID(memberID)).Only(ctx)
	if ent.IsNotFound(err) {
		return ledger.ErrNotFound
	}
	if err != nil {
		return err
	}
	if !Annullable(src) {
		return fmt.Errorf("%w: a %s entry cannot be annulled", ledger.ErrInvalid, src.Kind)
	}
	return nil
}

// sameAnnulment reports whether prev, written under the key, is the annulment asked
// for now: the same member, the same entry (or amount) and the same reason.
func sameAnnulment(prev *ent.LedgerEntry, memberID int, entryID *int, amount int64, reason string) bool {
	if prev.MemberID != memberID || prev.Kind != ledgerentry.KindAnnulment || prev.Reason != clipRunes(reason, ledger.MaxReason) {
		return false
	}
	if entryID != nil {
		return prev.ReversesID != nil && *prev.ReversesID == *entryID
	}
	return prev.ReversesID == nil && -prev.Amount == amount
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// notifyAnnulled writes the annulment's notification in its transaction, once per
// annulment entry, in the member's language.
func (s *Service) notifyAnnulled(ctx context.Context, tx *ent.Tx, e *ent.LedgerEntry) error {
	if s.notify == nil {
		return nil
	}
	m, err := tx.Member.Get(ctx, e.MemberID)
	if err != nil {
		return err
	}
	_, err = s.notify.AddTx(ctx, tx, notify.Message{
		MemberID: e.MemberID, Kind: "bonus_annulled", DedupKey: fmt.Sprintf("annul:%d", e.ID),
		Title: s.text(m.Language, "notify.annul.title"), Body: s.text(m.Language, "notify.annul.body", -e.Amount, e.Reason),
		Link: "/app/bonuses",
	})
	return err
}

// annullableKinds are credits that bring bonuses in from outside the member's balance;
// only those can be annulled one by one.
var annullableKinds = map[ledgerentry.Kind]bool{
	ledgerentry.KindWelcome: true, ledgerentry.KindCashback: true, ledgerentry.KindReferral: true, ledgerentry.KindAdjustment: true,
}

// Annullable reports whether staff may annul the entry by its ID: a credit of an
// annullable kind, not a reservation. Whether it has been annulled or reversed already
// is the ledger's to say (ledger.ErrClosed).
func Annullable(e *ent.LedgerEntry) bool {
	return e.Amount > 0 && e.Bucket != ledgerentry.BucketReserved && annullableKinds[e.Kind]
}

// RulesInput is an admin's edit of the bonus rules.
type RulesInput struct {
	Welcome         int64
	ReferralShareBP int
	ReversalDays    int
}

// Validate returns field errors as message keys.
func (in RulesInput) Validate() map[string]string {
	errs := map[string]string{}
	if in.Welcome < 0 || in.Welcome > 1_000_000 {
		errs["welcome"] = "form.welcome_range"
	}
	if in.ReferralShareBP < 0 || in.ReferralShareBP > 5000 {
		errs["referral_bp"] = "form.share_range"
	}
	if in.ReversalDays < 1 || in.ReversalDays > 365 {
		errs["reversal_days"] = "form.days_range"
	}
	return errs
}

// SaveRules changes the welcome amount, referral share and reversal window, audited.
func (s *Service) SaveRules(ctx context.Context, actor audit.Entry, in RulesInput) error {
	if errs := in.Validate(); len(errs) > 0 {
		return fmt.Errorf("loyalty: invalid rules: %v", errs)
	}
	before, err := s.Rules(ctx)
	if err != nil {
		return err
	}
	for k, v := range map[string]int64{KeyWelcome: in.Welcome, KeyReferralShare: int64(in.ReferralShareBP), KeyReversalWindow: int64(in.ReversalDays)} {
		if err := s.settings.Set(ctx, k, strconv.FormatInt(v, 10), actor.ActorID); err != nil {
			return err
		}
	}
	actor.Action, actor.TargetType = "settings.bonus", "settings"
	actor.Before = map[string]any{"welcome": before.Welcome, "referral_bp": before.ReferralShareBP, "reversal_days": before.ReversalDays}
	actor.After = map[string]any{"welcome": in.Welcome, "referral_bp": in.ReferralShareBP, "reversal_days": in.ReversalDays}
	return audit.Record(ctx, s.db, actor)
}
