package members

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"ikra/app/audit"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/consent"
	"ikra/ent/member"
	"ikra/ent/notification"
)

// Delete carries out a member's leaving the club (§6.1.3). In one transaction it
// anonymises the account (names, username, photo and interests cleared, the Telegram
// ID unlinked, the referral code replaced by an unusable one), cancels the member's
// open bookings (through the booking service when one is set, which releases their
// reservations), withdraws their consents, deletes their notifications (whose text
// may greet them by name) and records the action in the audit log. Ledger entries,
// the balance, terms acceptances, referrals, support threads and claims stay, tied to
// the anonymous account, for the integrity of the books and the legal record; the
// welcome-bonus register (a one-way hash of the Telegram ID) is not touched. Then
// every session of the member ends. A deleted or unknown member is ErrNotFound.
func (s *Service) Delete(ctx context.Context, memberID int, channel string) error {
	code, err := deletedCode()
	if err != nil {
		return err
	}
	err = store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		m, err := tx.Member.Query().Where(member.ID(memberID), member.StatusNEQ(member.StatusDeleted)).Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := s.now()
		// The status condition makes a concurrent second deletion change nothing.
		n, err := tx.Member.Update().
			Where(member.ID(memberID), member.StatusNEQ(member.StatusDeleted)).
			ClearTelegramID().
			SetFirstName("").
			SetLastName("").
			SetUsername("").
			SetPhotoURL("").
			SetBlockedReason("").
			SetReferralCode(code).
			SetStatus(member.StatusDeleted).
			SetDeletedAt(now).
			ClearInterests().ClearCityID().
			Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		var cancelled int
		if s.cancelOpen != nil {
			cancelled, err = s.cancelOpen(ctx, tx, memberID)
		} else {
			cancelled, err = tx.Booking.Update().
				Where(booking.MemberID(memberID), booking.StatusIn(booking.StatusRequested, booking.StatusConfirmed)).
				SetStatus(booking.StatusCancelled).
				SetCancelledAt(now).
				Save(ctx)
		}
		if err != nil {
			return err
		}
		withdrawn, err := tx.Consent.Update().
			Where(consent.MemberID(memberID), consent.WithdrawnAtIsNil()).
			SetWithdrawnAt(now).
			Save(ctx)
		if err != nil {
			return err
		}
		removed, err := tx.Notification.Delete().Where(notification.MemberID(memberID)).Exec(ctx)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{
			ActorID:    &memberID,
			ActorRole:  "member",
			Action:     "member.delete",
			TargetType: "member",
			TargetID:   fmt.Sprint(memberID),
			// No personal data here: the log must not undo the anonymisation.
			Before: map[string]any{"status": string(m.Status)},
			After: map[string]any{"status": string(member.StatusDeleted), "channel": channel,
				"bookings_cancelled": cancelled, "consents_withdrawn": withdrawn, "notifications_deleted": removed},
		})
	})
	if err != nil {
		return err
	}
	// After the commit: the session store's cache lives outside the database. Should
	// this fail, the sessions still die within the cache's minute, since a session's
	// database check requires an active member.
	if err := s.revokeAll(ctx, memberID); err != nil {
		return fmt.Errorf("members: account %d deleted, sessions not revoked: %w", memberID, err)
	}
	return nil
}

// deletedCode is a referral code nobody can type or guess: its alphabet (lower-case
// hex and a hyphen) is not the one real codes use, and it carries 128 random bits.
func deletedCode() (string, error) {
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return "DELETED-" + hex.EncodeToString(buf), nil
}
