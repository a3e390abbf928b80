package apptest

import (
	"context"
	"strings"
	"testing"

	"ikra/app/catalog"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/ent/offer"
)

// Delivery is what a fake Bot API received: the number of messages sent to each chat.
type Delivery map[int64]int

// CheckInvariants checks, from the database, what no failure may break, and reports
// every breach as a test error:
//   - every member's stored balance (each bucket) equals the sum of their ledger
//     entries in that bucket, and no member has entries without a balance;
//   - no ledger idempotency key is used twice, no member has two welcome credits and
//     no booking two cashback credits;
//   - no offer holds more bookings than its capacity;
//   - with sent given (what the fake Bot API received), every notification that should
//     reach Telegram (its member active, with a Telegram ID, not marked unreachable)
//     reached it exactly once: each chat received as many messages as such
//     notifications, each of which is recorded as sent or, when the worker delivering
//     it was killed mid-send, has an attempt in doubt (begun, without an outcome).
//
// It returns the number of notifications in doubt.
func CheckInvariants(t testing.TB, ctx context.Context, db *ent.Client, sent Delivery) (inDoubt int) {
	t.Helper()
	// Balances against the entries.
	var sums []struct {
		MemberID int    `json:"member_id"`
		Bucket   string `json:"bucket"`
		Sum      int64  `json:"sum"`
	}
	Must(t, db.LedgerEntry.Query().GroupBy(ledgerentry.FieldMemberID, ledgerentry.FieldBucket).
		Aggregate(ent.Sum(ledgerentry.FieldAmount)).Scan(ctx, &sums))
	want := map[int]map[string]int64{}
	for _, s := range sums {
		if want[s.MemberID] == nil {
			want[s.MemberID] = map[string]int64{}
		}
		want[s.MemberID][s.Bucket] = s.Sum
	}
	balances, err := db.Balance.Query().All(ctx)
	Must(t, err)
	seen := map[int]bool{}
	for _, b := range balances {
		seen[b.MemberID] = true
		w := want[b.MemberID]
		if b.Available != w["available"] || b.Pending != w["pending"] || b.Reserved != w["reserved"] {
			t.Errorf("member %d: balance %d/%d/%d (available/pending/reserved), entries sum to %d/%d/%d",
				b.MemberID, b.Available, b.Pending, b.Reserved, w["available"], w["pending"], w["reserved"])
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("member %d has ledger entries and no balance", id)
		}
	}

	// Doubled entries.
	var dup []struct {
		Key   string `json:"idempotency_key"`
		Count int    `json:"count"`
	}
	Must(t, db.LedgerEntry.Query().GroupBy(ledgerentry.FieldIdempotencyKey).Aggregate(ent.Count()).Scan(ctx, &dup))
	for _, d := range dup {
		if d.Count > 1 {
			t.Errorf("ledger idempotency key %q used %d times", d.Key, d.Count)
		}
	}
	var perRef []struct {
		MemberID int    `json:"member_id"`
		Kind     string `json:"kind"`
		RefID    string `json:"ref_id"`
		Count    int    `json:"count"`
	}
	Must(t, db.LedgerEntry.Query().Where(ledgerentry.KindIn(ledgerentry.KindWelcome, ledgerentry.KindCashback), ledgerentry.AmountGT(0)).
		GroupBy(ledgerentry.FieldMemberID, ledgerentry.FieldKind, ledgerentry.FieldRefID).Aggregate(ent.Count()).Scan(ctx, &perRef))
	for _, r := range perRef {
		if r.Count > 1 {
			t.Errorf("member %d: %d %s credits for ref %q", r.MemberID, r.Count, r.Kind, r.RefID)
		}
	}

	// Capacity.
	offers, err := db.Offer.Query().Where(offer.CapacityGT(0)).All(ctx)
	Must(t, err)
	for _, o := range offers {
		n, err := db.Booking.Query().Where(booking.OfferID(o.ID), booking.StatusIn(catalog.HoldingStatuses...)).Count(ctx)
		Must(t, err)
		if n > o.Capacity {
			t.Errorf("offer %d holds %d bookings, capacity %d", o.ID, n, o.Capacity)
		}
	}

	if sent == nil {
		return 0
	}
	// Delivery: each chat got exactly its notifications.
	members, err := db.Member.Query().Where(member.TelegramIDNotNil(), member.StatusEQ(member.StatusActive),
		member.TelegramUnreachableAtIsNil()).WithNotifications().All(ctx)
	Must(t, err)
	chats := map[int64]bool{}
	for _, m := range members {
		chats[*m.TelegramID] = true
		due := 0
		for _, n := range m.Edges.Notifications {
			due++
			switch {
			case n.TelegramSentAt != nil:
			case n.TelegramAttemptAt != nil && n.TelegramError == "",
				strings.Contains(n.TelegramError, "delivery in doubt"):
				inDoubt++
			default:
				t.Errorf("notification %d (member %d, %s) not delivered: attempts %d, error %q", n.ID, m.ID, n.Kind,
					n.TelegramAttempts, n.TelegramError)
			}
		}
		if got := sent[*m.TelegramID]; got != due {
			t.Errorf("member %d: %d messages reached Telegram, want %d (one per notification)", m.ID, got, due)
		}
	}
	for chat, n := range sent {
		if !chats[chat] && n > 0 {
			t.Errorf("chat %d received %d messages and has no member to receive them", chat, n)
		}
	}
	unsent, err := db.Notification.Query().Where(notification.TelegramSentAtIsNil()).Count(ctx)
	Must(t, err)
	if unsent > inDoubt && !t.Failed() {
		t.Logf("%d notifications unsent, %d of them in doubt (the others are not due to Telegram)", unsent, inDoubt)
	}
	return inDoubt
}
