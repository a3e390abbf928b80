// Package dashboard answers the back office's overview: the club's figures over a
// period (members, partners, offers, bookings, deals, bonuses) and the platform's bonus
// liability over time, plus the open work of the care service, claims and fraud
// review that other packages count. Each figure is read from the database; a computed
// overview is kept for a minute per period.
package dashboard

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"ikra/app/ledger"
	"ikra/app/store"
	"ikra/app/zone"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/partner"
)

// Almaty is the zone whose calendar days the periods and the chart follow.
var Almaty = zone.Almaty

// Errors a caller can tell apart.
var (
	// ErrPeriod means the period is not one of Periods.
	ErrPeriod = errors.New("dashboard: unknown period")
	// ErrFilter means a list filter names an unknown status or kind.
	ErrFilter = errors.New("dashboard: unknown filter value")
)

// Period is a span the overview covers, ending today (Almaty), cut into chart steps.
type Period struct {
	Key   string // "7d", "30d", "90d", "365d"
	Days  int
	Steps int    // chart points
	Step  string // "day", "week" or "month"
}

// Periods are the spans the dashboard offers; the first is the default.
var Periods = []Period{
	{Key: "30d", Days: 30, Steps: 30, Step: "day"},
	{Key: "7d", Days: 7, Steps: 7, Step: "day"},
	{Key: "90d", Days: 91, Steps: 13, Step: "week"},
	{Key: "365d", Days: 365, Steps: 12, Step: "month"},
}

// PeriodOf returns the period with key, the default for "".
func PeriodOf(key string) (Period, error) {
	if key == "" {
		return Periods[0], nil
	}
	for _, p := range Periods {
		if p.Key == key {
			return p, nil
		}
	}
	return Period{}, ErrPeriod
}

// Bonuses are the ledger's movements over a period and the balances now, in whole
// bonuses.
type Bonuses struct {
	Issued   int64 // welcome, cashback, referral shares and positive adjustments
	Spent    int64 // spent on offers and status tiers, net of refunds
	Annulled int64 // annulled by staff
	Reversed int64 // cashback taken back with a reversed deal
	// Now: what members hold, and so what the platform owes (the liability).
	Available, Pending, Reserved int64
}

// Outstanding is the platform's bonus liability: every bonus members hold.
func (b Bonuses) Outstanding() int64 { return b.Available + b.Pending + b.Reserved }

// Point is one step of the chart: the liability at its end and what moved in it.
type Point struct {
	End       time.Time // exclusive
	Liability int64
	Issued    int64
	Spent     int64
}

// Overview is the dashboard for one period.
type Overview struct {
	Period   Period
	From, To time.Time // To is now
	Members  struct{ Total, New, Active, Blocked int64 }
	Partners struct{ Total, Active, Suspended int64 }
	Offers   struct{ Published, Pending int64 }
	// Bookings made in the period, by status.
	Bookings map[string]int64
	// Deals completed in the period and their amount in tiyn.
	Deals       int64
	DealsAmount int64
	Bonuses     Bonuses
	Chart       []Point
	// Work is what other packages count (open threads, claims near their deadline,
	// open fraud flags), by name.
	Work map[string]int64
	At   time.Time // when the overview was computed
}

// Counter adds figures of another package to the overview's Work.
type Counter func(ctx context.Context, from, to time.Time, into map[string]int64) error

// Service computes overviews.
type Service struct {
	db       *store.DB
	now      func() time.Time
	ttl      time.Duration
	counters []Counter

	mu   sync.Mutex
	kept map[string]*Overview
}

// New returns the dashboard service; counters add the figures of other packages.
func New(db *store.DB, counters ...Counter) *Service {
	return &Service{db: db, now: time.Now, ttl: time.Minute, counters: counters, kept: map[string]*Overview{}}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Overview returns the figures of period p, computed at most a minute ago.
func (s *Service) Overview(ctx context.Context, p Period) (*Overview, error) {
	now := s.now()
	s.mu.Lock()
	o := s.kept[p.Key]
	s.mu.Unlock()
	if o != nil && now.Sub(o.At) < s.ttl && !now.Before(o.At) {
		return o, nil
	}
	o, err := s.compute(ctx, p, now)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.kept[p.Key] = o
	s.mu.Unlock()
	return o, nil
}

// Forget drops the kept overviews: the next Overview computes afresh.
func (s *Service) Forget() {
	s.mu.Lock()
	clear(s.kept)
	s.mu.Unlock()
}

// steps returns the chart's step ends for p, ending at the start of tomorrow (Almaty).
func steps(p Period, now time.Time) []time.Time {
	local := now.In(Almaty)
	end := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, Almaty)
	out := make([]time.Time, p.Steps)
	for i := range p.Steps {
		back := p.Steps - 1 - i
		switch p.Step {
		case "week":
			out[i] = end.AddDate(0, 0, -7*back)
		case "month":
			first := time.Date(local.Year(), local.Month()+1, 1, 0, 0, 0, 0, Almaty)
			out[i] = first.AddDate(0, -back, 0)
		default:
			out[i] = end.AddDate(0, 0, -back)
		}
	}
	return out
}

func (s *Service) compute(ctx context.Context, p Period, now time.Time) (*Overview, error) {
	ends := steps(p, now)
	from := now.UTC().AddDate(0, 0, -p.Days)
	// The chart starts one step before its first end.
	chartFrom := ends[0].AddDate(0, 0, -1)
	switch p.Step {
	case "week":
		chartFrom = ends[0].AddDate(0, 0, -7)
	case "month":
		chartFrom = ends[0].AddDate(0, -1, 0)
	}
	o := &Overview{Period: p, From: from, To: now, At: now, Bookings: map[string]int64{}, Work: map[string]int64{}}
	db := s.db.Client
	var err error
	count := func(dst *int64, q interface {
		Count(context.Context) (int, error)
	}) {
		if err == nil {
			var n int
			n, err = q.Count(ctx)
			*dst = int64(n)
		}
	}
	count(&o.Members.Total, db.Member.Query().Where(member.StatusNEQ(member.StatusDeleted)))
	count(&o.Members.New, db.Member.Query().Where(member.CreatedAtGTE(from), member.StatusNEQ(member.StatusDeleted)))
	count(&o.Members.Active, db.Member.Query().Where(member.LastSeenAtGTE(from), member.StatusNEQ(member.StatusDeleted)))
	count(&o.Members.Blocked, db.Member.Query().Where(member.StatusEQ(member.StatusBlocked)))
	count(&o.Partners.Total, db.Partner.Query())
	count(&o.Partners.Suspended, db.Partner.Query().Where(partner.StatusEQ(partner.StatusSuspended)))
	count(&o.Offers.Published, db.Offer.Query().Where(offer.StatusEQ(offer.StatusPublished)))
	count(&o.Offers.Pending, db.Offer.Query().Where(offer.StatusEQ(offer.StatusPending)))
	if err != nil {
		return nil, fmt.Errorf("dashboard: counts: %w", err)
	}
	o.Partners.Active = o.Partners.Total - o.Partners.Suspended

	var byStatus []struct {
		Status booking.Status `json:"status"`
		Count  int            `json:"count"`
	}
	if err := db.Booking.Query().Where(booking.CreatedAtGTE(from)).
		GroupBy(booking.FieldStatus).Aggregate(ent.Count()).Scan(ctx, &byStatus); err != nil {
		return nil, fmt.Errorf("dashboard: bookings: %w", err)
	}
	for _, b := range byStatus {
		o.Bookings[string(b.Status)] = int64(b.Count)
	}
	var deals []struct {
		Count int   `json:"count"`
		Sum   int64 `json:"sum"`
	}
	if err := db.Booking.Query().Where(booking.StatusEQ(booking.StatusCompleted), booking.CompletedAtGTE(from)).
		Aggregate(ent.Count(), ent.Sum(booking.FieldDealAmount)).Scan(ctx, &deals); err != nil {
		return nil, fmt.Errorf("dashboard: deals: %w", err)
	}
	if len(deals) == 1 {
		o.Deals, o.DealsAmount = int64(deals[0].Count), deals[0].Sum
	}
	if err := s.bonuses(ctx, o, from); err != nil {
		return nil, err
	}
	if o.Chart, err = s.chart(ctx, o.Bonuses.Outstanding(), chartFrom, ends); err != nil {
		return nil, err
	}
	for _, c := range s.counters {
		if err := c(ctx, from, now, o.Work); err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
	}
	return o, nil
}

// spentKinds are the entries that take bonuses out for something bought.
var spentKinds = map[string]bool{ledger.KindSpend: true, ledger.KindCapture: true, ledger.KindTierPurchase: true}

// issued says whether an entry of kind with amount gives a member new bonuses.
func issued(kind string, amount int64) bool {
	switch kind {
	case ledger.KindWelcome, ledger.KindCashback, ledger.KindReferral:
		return amount > 0
	case ledger.KindAdjustment:
		return amount > 0
	}
	return false
}

// bonuses sums the period's movements by kind and the balances now.
func (s *Service) bonuses(ctx context.Context, o *Overview, from time.Time) error {
	rows, err := s.db.SQL.QueryContext(ctx, s.rebind(`SELECT kind, SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END), SUM(CASE WHEN amount < 0 THEN amount ELSE 0 END)
FROM ledger_entries WHERE created_at >= ? GROUP BY kind`), from.UTC())
	if err != nil {
		return fmt.Errorf("dashboard: ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var plus, minus sql.NullInt64
		if err := rows.Scan(&kind, &plus, &minus); err != nil {
			return fmt.Errorf("dashboard: ledger: %w", err)
		}
		switch {
		case kind == ledger.KindAnnulment:
			o.Bonuses.Annulled -= minus.Int64
		case kind == ledger.KindReversal:
			o.Bonuses.Reversed -= minus.Int64
		case kind == ledger.KindRefund:
			o.Bonuses.Spent -= plus.Int64
		case spentKinds[kind]:
			o.Bonuses.Spent -= minus.Int64
		}
		if issued(kind, plus.Int64) {
			o.Bonuses.Issued += plus.Int64
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dashboard: ledger: %w", err)
	}
	err = s.db.SQL.QueryRowContext(ctx, `SELECT COALESCE(SUM(available), 0), COALESCE(SUM(pending), 0), COALESCE(SUM(reserved), 0) FROM balances`).
		Scan(&o.Bonuses.Available, &o.Bonuses.Pending, &o.Bonuses.Reserved)
	if err != nil {
		return fmt.Errorf("dashboard: balances: %w", err)
	}
	return nil
}

// chart walks back from the liability now: the liability at the end of a step is the
// liability now less everything that moved after it. The entries are summed step by
// step, each a range of the created_at index: one query with a column per step end
// compared every entry's time with every end (SQLite converting the bound time for
// each comparison), 18 s for a year of a million entries.
func (s *Service) chart(ctx context.Context, now int64, from time.Time, ends []time.Time) ([]Point, error) {
	const sums = "SELECT COALESCE(SUM(amount), 0)," +
		" COALESCE(SUM(CASE WHEN kind IN ('welcome','cashback','referral','adjustment') AND amount > 0 THEN amount ELSE 0 END), 0)," +
		" COALESCE(SUM(CASE WHEN kind IN ('spend','capture','tier_purchase','refund') THEN -amount ELSE 0 END), 0)" +
		" FROM ledger_entries WHERE created_at >= ?"
	// Step i holds the entries from the previous end (from, for the first) to end i;
	// one more holds those after the last end.
	type step struct{ moved, issued, spent int64 }
	got := make([]step, len(ends)+1)
	for i := range got {
		// SQLite compares the stored text: the bound times must be in UTC like the rows.
		q, args := sums, []any{from.UTC()}
		if i > 0 {
			args[0] = ends[i-1].UTC()
		}
		if i < len(ends) {
			q += " AND created_at < ?"
			args = append(args, ends[i].UTC())
		}
		if err := s.db.SQL.QueryRowContext(ctx, s.rebind(q), args...).Scan(&got[i].moved, &got[i].issued, &got[i].spent); err != nil {
			return nil, fmt.Errorf("dashboard: chart: %w", err)
		}
	}
	points := make([]Point, len(ends))
	var after int64 // moved after end i
	for i := len(ends) - 1; i >= 0; i-- {
		after += got[i+1].moved
		points[i] = Point{End: ends[i], Liability: now - after, Issued: got[i].issued, Spent: got[i].spent}
	}
	return points, nil
}

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Service) rebind(q string) string {
	if s.db.Dialect != dialect.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PageSize is how many rows a list page shows.
const PageSize = 50

// ListFilter narrows the bookings and ledger lists the overview's figures open.
type ListFilter struct {
	Status string    // a booking status, or "" for all
	Kind   string    // a ledger entry kind, or "" for all
	Since  time.Time // zero: from the start
	Before int       // keyset: rows with a smaller ID; 0 for the first page
}

// Bookings lists bookings newest first, with the member, offer and partner.
func (s *Service) Bookings(ctx context.Context, f ListFilter) ([]*ent.Booking, error) {
	q := s.db.Client.Booking.Query()
	if f.Status != "" {
		if err := booking.StatusValidator(booking.Status(f.Status)); err != nil {
			return nil, ErrFilter
		}
		q.Where(booking.StatusEQ(booking.Status(f.Status)))
		if f.Status == string(booking.StatusCompleted) && !f.Since.IsZero() {
			q.Where(booking.CompletedAtGTE(f.Since))
		}
	}
	if !f.Since.IsZero() && f.Status != string(booking.StatusCompleted) {
		q.Where(booking.CreatedAtGTE(f.Since))
	}
	if f.Before > 0 {
		q.Where(booking.IDLT(f.Before))
	}
	return q.Order(ent.Desc(booking.FieldID)).Limit(PageSize).
		WithMember(func(q *ent.MemberQuery) { q.Select(member.FieldFirstName, member.FieldLastName) }).
		WithOffer(func(q *ent.OfferQuery) { q.Select(offer.FieldTitle) }).
		WithPartner(func(q *ent.PartnerQuery) { q.Select(partner.FieldName) }).
		All(ctx)
}

// Entries lists ledger entries of every member newest first, with the member.
func (s *Service) Entries(ctx context.Context, f ListFilter) ([]*ent.LedgerEntry, error) {
	q := s.db.Client.LedgerEntry.Query()
	if f.Kind != "" {
		if err := ledgerentry.KindValidator(ledgerentry.Kind(f.Kind)); err != nil {
			return nil, ErrFilter
		}
		q.Where(ledgerentry.KindEQ(ledgerentry.Kind(f.Kind)))
	}
	if !f.Since.IsZero() {
		q.Where(ledgerentry.CreatedAtGTE(f.Since))
	}
	if f.Before > 0 {
		q.Where(ledgerentry.IDLT(f.Before))
	}
	return q.Order(ent.Desc(ledgerentry.FieldID)).Limit(PageSize).
		WithMember(func(q *ent.MemberQuery) { q.Select(member.FieldFirstName, member.FieldLastName) }).
		All(ctx)
}
