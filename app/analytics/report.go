package analytics

import (
	"context"
	"errors"
	"strconv"
	"time"

	"entgo.io/ent/dialect/sql"

	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
	"ikra/ent/offer"
	"ikra/ent/offerview"
)

// ErrNotFound is an offer the partner does not have.
var ErrNotFound = errors.New("analytics: not found")

// MaxDays is the longest period a report covers.
const MaxDays = 366

// Range is a period of whole days in Asia/Almaty, First to Last inclusive; each is
// that day's midnight in Almaty.
type Range struct{ First, Last time.Time }

// LastDays is the n days ending with today (in Almaty, at now).
func LastDays(now time.Time, n int) Range {
	last := midnight(now)
	return Range{First: last.AddDate(0, 0, -(n - 1)), Last: last}
}

// Days is the period from first to last (days as "YYYY-MM-DD", in Almaty).
func Days(first, last string) (Range, error) {
	f, err := time.ParseInLocation(dayLayout, first, Almaty)
	if err != nil {
		return Range{}, err
	}
	l, err := time.ParseInLocation(dayLayout, last, Almaty)
	if err != nil {
		return Range{}, err
	}
	return Range{First: f, Last: l}, nil
}

func midnight(t time.Time) time.Time {
	y, m, d := t.In(Almaty).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Almaty)
}

// Start is the first instant of the period.
func (r Range) Start() time.Time { return r.First }

// End is the first instant after the period.
func (r Range) End() time.Time { return r.Last.AddDate(0, 0, 1) }

// Len is the number of days in the period.
func (r Range) Len() int {
	n := 0
	for d := r.First; !d.After(r.Last) && n <= MaxDays+1; d = d.AddDate(0, 0, 1) {
		n++
	}
	return n
}

// Filter chooses what a report covers: one offer (0: all) over a period.
type Filter struct {
	OfferID int
	Range   Range
}

// Rate is a share, Num of Den.
type Rate struct{ Num, Den int }

// Permille is the share in tenths of a percent, rounded down; 0 when Den is 0.
func (r Rate) Permille() int {
	if r.Den == 0 {
		return 0
	}
	return r.Num * 1000 / r.Den
}

// Percent is the share as a percentage with one decimal ("66.6"), or "" when Den is 0.
func (r Rate) Percent() string {
	if r.Den == 0 {
		return ""
	}
	p := r.Permille()
	return strconv.Itoa(p/10) + "." + strconv.Itoa(p%10)
}

// Row is one offer's numbers for the period (or the totals). Bookings count by the
// day they were requested, with the status they have now.
type Row struct {
	OfferID  int // 0 on the totals row
	Title    string
	Views    int // openings of the offer's page
	Viewers  int // distinct members who opened it (on the totals row: distinct across all offers)
	Requests int // bookings requested
	// Confirmed counts requests the partner confirmed, whatever came next: confirmed,
	// completed, no-show or reversed.
	Confirmed int
	Completed int   // requests whose deal was recorded and stands (not reversed)
	NoShow    int   // confirmed requests the member did not come to
	DealTiyn  int64 // deal amounts of the completed requests, in tiyn
	Cashback  int64 // cashback credited to members for the completed requests, in bonuses
}

// ConfirmationRate is confirmed (or later) requests of all requests.
func (r Row) ConfirmationRate() Rate { return Rate{r.Confirmed, r.Requests} }

// CompletionRate is completed requests of all requests.
func (r Row) CompletionRate() Rate { return Rate{r.Completed, r.Requests} }

// NoShowRate is no-shows of confirmed (or later) requests.
func (r Row) NoShowRate() Rate { return Rate{r.NoShow, r.Confirmed} }

// Day is one day of the time series.
type Day struct {
	Date        time.Time // midnight in Almaty
	Views       int       // openings of offer pages that day
	Requests    int       // bookings requested that day
	Completions int       // deals recorded that day (and not reversed)
}

// Report is the partner's analytics for a filter.
type Report struct {
	Filter Filter
	Rows   []Row // one per offer, by offer ID
	Total  Row
	Days   []Day // every day of the period, oldest first
}

// OfferRef names one of the partner's offers, for the filter.
type OfferRef struct {
	ID    int
	Title string
}

// Service answers the partner's analytics.
type Service struct{ db *ent.Client }

// New returns the analytics service.
func New(db *ent.Client) *Service { return &Service{db: db} }

// Offers lists the partner's offers, for choosing one.
func (s *Service) Offers(ctx context.Context, partnerID int) ([]OfferRef, error) {
	list, err := s.db.Offer.Query().Where(offer.PartnerID(partnerID)).Order(ent.Asc(offer.FieldID)).
		Select(offer.FieldID, offer.FieldTitle).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]OfferRef, len(list))
	for i, o := range list {
		out[i] = OfferRef{ID: o.ID, Title: o.Title}
	}
	return out, nil
}

// countDistinctMembers counts the distinct members of the selected views.
func countDistinctMembers(alias string) ent.AggregateFunc {
	return func(s *sql.Selector) string {
		return sql.As(sql.Count(sql.Distinct(s.C(offerview.FieldMemberID))), alias)
	}
}

// Report computes the partner's analytics for the filter; an offer of another partner
// (or none) is ErrNotFound.
func (s *Service) Report(ctx context.Context, partnerID int, f Filter) (*Report, error) {
	offers, err := s.Offers(ctx, partnerID)
	if err != nil {
		return nil, err
	}
	if f.OfferID != 0 {
		var one []OfferRef
		for _, o := range offers {
			if o.ID == f.OfferID {
				one = append(one, o)
			}
		}
		if one == nil {
			return nil, ErrNotFound
		}
		offers = one
	}
	rep := &Report{Filter: f, Rows: make([]Row, len(offers))}
	index := map[int]*Row{}
	for i, o := range offers {
		rep.Rows[i] = Row{OfferID: o.ID, Title: o.Title}
		index[o.ID] = &rep.Rows[i]
	}
	start, end := f.Range.Start(), f.Range.End()

	views := func() *ent.OfferViewQuery {
		q := s.db.OfferView.Query().Where(offerview.PartnerID(partnerID), offerview.CreatedAtGTE(start), offerview.CreatedAtLT(end))
		if f.OfferID != 0 {
			q = q.Where(offerview.OfferID(f.OfferID))
		}
		return q
	}
	var perOffer []struct {
		OfferID int `json:"offer_id"`
		Views   int `json:"views"`
		Viewers int `json:"viewers"`
	}
	if err := views().GroupBy(offerview.FieldOfferID).
		Aggregate(ent.As(ent.Count(), "views"), countDistinctMembers("viewers")).Scan(ctx, &perOffer); err != nil {
		return nil, err
	}
	for _, v := range perOffer {
		if r := index[v.OfferID]; r != nil {
			r.Views, r.Viewers = v.Views, v.Viewers
			rep.Total.Views += v.Views
		}
	}
	var viewers []struct {
		Viewers int `json:"viewers"`
	}
	if err := views().Aggregate(countDistinctMembers("viewers")).Scan(ctx, &viewers); err != nil {
		return nil, err
	}
	if len(viewers) > 0 {
		rep.Total.Viewers = viewers[0].Viewers
	}

	bookings := func() *ent.BookingQuery {
		q := s.db.Booking.Query().Where(booking.PartnerID(partnerID))
		if f.OfferID != 0 {
			q = q.Where(booking.OfferID(f.OfferID))
		}
		return q
	}
	var perStatus []struct {
		OfferID int    `json:"offer_id"`
		Status  string `json:"status"`
		Count   int    `json:"count"`
		Sum     int64  `json:"sum"`
	}
	if err := bookings().Where(booking.CreatedAtGTE(start), booking.CreatedAtLT(end)).
		GroupBy(booking.FieldOfferID, booking.FieldStatus).
		Aggregate(ent.Count(), ent.Sum(booking.FieldDealAmount)).Scan(ctx, &perStatus); err != nil {
		return nil, err
	}
	for _, b := range perStatus {
		r := index[b.OfferID]
		if r == nil {
			continue
		}
		r.Requests += b.Count
		switch booking.Status(b.Status) {
		case booking.StatusConfirmed, booking.StatusNoShow, booking.StatusReversed:
			r.Confirmed += b.Count
		case booking.StatusCompleted:
			r.Confirmed += b.Count
			r.Completed += b.Count
			r.DealTiyn += b.Sum
		}
		if booking.Status(b.Status) == booking.StatusNoShow {
			r.NoShow += b.Count
		}
	}
	if err := s.cashback(ctx, bookings().Where(booking.CreatedAtGTE(start), booking.CreatedAtLT(end)), index); err != nil {
		return nil, err
	}
	for _, r := range rep.Rows {
		rep.Total.Requests += r.Requests
		rep.Total.Confirmed += r.Confirmed
		rep.Total.Completed += r.Completed
		rep.Total.NoShow += r.NoShow
		rep.Total.DealTiyn += r.DealTiyn
		rep.Total.Cashback += r.Cashback
	}
	if rep.Days, err = s.days(ctx, f.Range, views(), bookings); err != nil {
		return nil, err
	}
	return rep, nil
}

// cashback adds to each row the cashback credited for its completed bookings (the
// member's entry written by the completion; a referrer's share is not counted).
func (s *Service) cashback(ctx context.Context, cohort *ent.BookingQuery, index map[int]*Row) error {
	done, err := cohort.Where(booking.StatusEQ(booking.StatusCompleted)).Select(booking.FieldID, booking.FieldOfferID).All(ctx)
	if err != nil {
		return err
	}
	offerOf := make(map[string]int, len(done))
	refs := make([]string, 0, len(done))
	for _, b := range done {
		ref := strconv.Itoa(b.ID)
		offerOf[ref] = b.OfferID
		refs = append(refs, ref)
	}
	for len(refs) > 0 {
		chunk := refs[:min(len(refs), 500)]
		refs = refs[len(chunk):]
		entries, err := s.db.LedgerEntry.Query().Where(ledgerentry.KindEQ(ledgerentry.KindCashback),
			ledgerentry.RefType("booking"), ledgerentry.RefIDIn(chunk...)).
			Select(ledgerentry.FieldRefID, ledgerentry.FieldAmount).All(ctx)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if r := index[offerOf[e.RefID]]; r != nil {
				r.Cashback += e.Amount
			}
		}
	}
	return nil
}

// days counts views, requests and completions per day of the period.
func (s *Service) days(ctx context.Context, rg Range, views *ent.OfferViewQuery, bookings func() *ent.BookingQuery) ([]Day, error) {
	var out []Day
	at := map[string]*Day{}
	for d := rg.First; !d.After(rg.Last); d = d.AddDate(0, 0, 1) {
		out = append(out, Day{Date: d})
	}
	for i := range out {
		at[out[i].Date.Format(dayLayout)] = &out[i]
	}
	var perDay []struct {
		Day   string `json:"day"`
		Count int    `json:"count"`
	}
	if err := views.GroupBy(offerview.FieldDay).Aggregate(ent.Count()).Scan(ctx, &perDay); err != nil {
		return nil, err
	}
	for _, v := range perDay {
		if d := at[v.Day]; d != nil {
			d.Views += v.Count
		}
	}
	start, end := rg.Start(), rg.End()
	requested, err := bookings().Where(booking.CreatedAtGTE(start), booking.CreatedAtLT(end)).Select(booking.FieldCreatedAt).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range requested {
		if d := at[b.CreatedAt.In(Almaty).Format(dayLayout)]; d != nil {
			d.Requests++
		}
	}
	completed, err := bookings().Where(booking.StatusEQ(booking.StatusCompleted), booking.CompletedAtGTE(start), booking.CompletedAtLT(end)).
		Select(booking.FieldCompletedAt).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range completed {
		if b.CompletedAt == nil {
			continue
		}
		if d := at[b.CompletedAt.In(Almaty).Format(dayLayout)]; d != nil {
			d.Completions++
		}
	}
	return out, nil
}
