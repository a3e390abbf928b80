package loyalty

import (
	"context"
	"strconv"

	"ikra/app/i18n"
	"ikra/app/ledger"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
	"ikra/ent/tier"
)

// HistoryPage is how many ledger entries one page of history shows.
const HistoryPage = 50

// History explains ledger entries in a reader's language: what each one was for.
// The cabinet, the JSON API, the bot and the back office share it.
type History struct {
	db  *ent.Client
	cat *i18n.Catalog
}

// NewHistory returns the explainer of ledger entries.
func NewHistory(db *ent.Client, cat *i18n.Catalog) *History {
	return &History{db: db, cat: cat}
}

// Line is a ledger entry with its explanation.
type Line struct {
	*ent.LedgerEntry
	Text    string // what the entry was for, in the reader's language
	Pending bool   // a credit still waiting for its deal's reversal window to close
}

// Lines explains entries in lang. Bookings and tiers they refer to are loaded in one
// query each, whatever the number of entries.
func (h *History) Lines(ctx context.Context, lang string, entries []*ent.LedgerEntry) ([]Line, error) {
	var bookingIDs []int
	var slugs []string
	for _, e := range entries {
		switch e.RefType {
		case "booking":
			if id, err := strconv.Atoi(e.RefID); err == nil {
				bookingIDs = append(bookingIDs, id)
			}
		case "tier":
			slugs = append(slugs, e.RefID)
		}
	}
	bookings := map[int]*ent.Booking{}
	if len(bookingIDs) > 0 {
		list, err := h.db.Booking.Query().Where(booking.IDIn(bookingIDs...)).WithOffer().All(ctx)
		if err != nil {
			return nil, err
		}
		for _, b := range list {
			bookings[b.ID] = b
		}
	}
	tiers := map[string]*ent.Tier{}
	if len(slugs) > 0 {
		list, err := h.db.Tier.Query().Where(tier.SlugIn(slugs...)).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range list {
			tiers[t.Slug] = t
		}
	}
	t := func(key string, args ...any) string { return h.cat.T(lang, key, args...) }
	out := make([]Line, 0, len(entries))
	for _, e := range entries {
		l := Line{LedgerEntry: e, Pending: e.Bucket == ledgerentry.BucketPending && e.Amount > 0}
		l.Text = explain(t, lang, e, bookings, tiers)
		out = append(out, l)
	}
	return out, nil
}

// Page is one page of a member's own history as the member reads it, newest first:
// the mirror halves of moves between buckets are left out (see Mirror). next is the
// cursor (?before=) of the following page, 0 when this is the last. The cabinet and
// the JSON API both show this.
func (h *History) Page(ctx context.Context, lg *ledger.Ledger, memberID int, lang string, before int) (lines []Line, next int, err error) {
	entries, err := lg.History(ctx, memberID, before, HistoryPage)
	if err != nil {
		return nil, 0, err
	}
	shown := make([]*ent.LedgerEntry, 0, len(entries))
	for _, e := range entries {
		if !Mirror(e) {
			shown = append(shown, e)
		}
	}
	if lines, err = h.Lines(ctx, lang, shown); err != nil {
		return nil, 0, err
	}
	if len(entries) == HistoryPage {
		next = entries[len(entries)-1].ID
	}
	return lines, next, nil
}

// explain is one entry's text. A booking is named only to the member who made it: a
// referrer's share and its reversal point at the invitee's booking, which is theirs.
func explain(t func(string, ...any) string, lang string, e *ent.LedgerEntry, bookings map[int]*ent.Booking, tiers map[string]*ent.Tier) string {
	own := ""
	if e.RefType == "booking" {
		id, _ := strconv.Atoi(e.RefID)
		if b, ok := bookings[id]; ok && b.MemberID == e.MemberID {
			title := ""
			if b.Edges.Offer != nil {
				title = b.Edges.Offer.Title
			}
			own = " — " + t("bonus.booking", title, b.Code)
		}
	}
	switch string(e.Kind) {
	case ledger.KindWelcome:
		return t("bonus.reason.welcome")
	case ledger.KindCashback:
		return t("bonus.reason.cashback") + own
	case ledger.KindReferral:
		return t("bonus.reason.referral")
	case ledger.KindReserve:
		return t("bonus.reason.reserve") + own
	case ledger.KindRelease:
		return t("bonus.reason.release") + own
	case ledger.KindCapture:
		return t("bonus.reason.capture") + own
	case ledger.KindSpend:
		return t("bonus.reason.spend") + own
	case ledger.KindTierPurchase:
		name := e.RefID
		if tr, ok := tiers[e.RefID]; ok {
			name = i18n.Name(lang, tr.NameRu, tr.NameEn, tr.NameKk)
		}
		return t("bonus.reason.tier_purchase", name)
	case ledger.KindAnnulment:
		return t("bonus.reason.annulment", e.Reason)
	case ledger.KindReversal:
		return t("bonus.reason.reversal") + own
	case ledger.KindMature:
		what := t("bonus.source.cashback")
		if e.Reason == ledger.KindReferral {
			what = t("bonus.source.referral")
		}
		return t("bonus.reason.mature", what) + own
	case ledger.KindAdjustment:
		return t("bonus.reason.adjustment")
	case ledger.KindRefund:
		return t("bonus.reason.refund") + own
	}
	return string(e.Kind)
}

// Mirror reports whether an entry is the second half of a move between two buckets of
// the same balance, which a member reads as one line: the reserved half of a
// reservation, the reserved half of a release, the pending half of a maturing credit.
func Mirror(e *ent.LedgerEntry) bool {
	switch string(e.Kind) {
	case ledger.KindReserve, ledger.KindRelease:
		return e.Bucket == ledgerentry.BucketReserved
	case ledger.KindMature:
		return e.Bucket == ledgerentry.BucketPending
	}
	return false
}
