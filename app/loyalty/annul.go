package loyalty

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"ikra/app/audit"
	"ikra/app/members"
	"ikra/app/notify"
	"ikra/ent"
	"ikra/ent/ledgerentry"
)

// Annul takes bonuses back for fraud (§5.6): a reversing entry with a mandatory reason,
// never more than the balance holds, recorded in the audit log and notified to the
// member. With entryID it annuls that credit; otherwise amount from the available
// bonuses. key makes a repeated submission harmless. The actor must outrank the member
// (members.CheckRank).
func (s *Service) Annul(ctx context.Context, actor audit.Entry, memberID int, entryID *int, amount int64, reason, key string) (*ent.LedgerEntry, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, ErrReasonRequired
	}
	var e *ent.LedgerEntry
	replayed := false
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
			e, replayed = prev, true
			return nil
		}
		if !ent.IsNotFound(err) {
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
		return audit.Record(ctx, tx.Client(), actor)
	})
	if err != nil {
		return nil, err
	}
	if s.notify != nil && !replayed {
		lang := "ru"
		if m, err := s.db.Member.Get(ctx, memberID); err == nil {
			lang = m.Language
		}
		_, nerr := s.notify.Send(ctx, notify.Message{
			MemberID: memberID, Kind: "bonus_annulled", DedupKey: fmt.Sprintf("annul:%d", e.ID),
			Title: s.text(lang, "notify.annul.title"), Body: s.text(lang, "notify.annul.body", -e.Amount, reason),
			Link: "/app/bonuses",
		})
		_ = nerr // the row is kept even when queueing fails; the sweep redelivers
	}
	return e, nil
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
