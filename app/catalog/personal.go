package catalog

import (
	"context"
	"slices"
	"time"

	"ikra/app/loyalty"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/offerview"
	"ikra/ent/predicate"
)

// Bounds of the personal first page's candidate set, so that its cost does not grow
// with the catalog: the newest open offers, the newest in the member's categories and
// the newest locked ones.
const (
	candidateCap = 120
	lockedCap    = 24
	lockedShown  = 4
	signalCap    = 2000
)

// holding are the booking states that take a place (as the booking service counts them).
var holding = []booking.Status{booking.StatusRequested, booking.StatusConfirmed, booking.StatusCompleted}

// Card is one card of the member's personal first page, with the one reason it is
// there. A locked card is an offer the member's status does not open yet: it carries
// only Title, PartnerName and UnlockTier, never the offer itself.
type Card struct {
	ID          int
	Title       string
	PartnerName string
	Offer       *ent.Offer // with WithDetails' edges; nil when Locked
	Locked      bool
	UnlockTier  *ent.Tier // the tier that opens a locked offer
	Reason      string    // an i18n key, Reason* in rank.go
	ReasonArg   any       // the *ent.Category, *ent.City, *ent.Tier or Tag naming the reason's %s; nil when none
}

// Personal is the member's first page of the catalog, at most limit cards ranked by
// Rank: the offers they may see now, then (penalised) those their status does not
// open yet. Its queries are bounded: aggregates with GROUP BY, never one per offer.
func (s *Service) Personal(ctx context.Context, memberID, limit int) ([]Card, error) {
	m, st, ok, err := s.standing(ctx, memberID)
	if err != nil || !ok {
		return nil, err
	}
	p, err := s.profile(ctx, m, st)
	if err != nil {
		return nil, err
	}
	// Two stages: rank every candidate on what its row says (firstStage), then count
	// bookings (popularity, places left) only for the best few and rank those again. The
	// counts then cost two small indexed lookups, not a scan of the bookings of every
	// candidate.
	first, err := s.firstStageOf(ctx, memberID)
	if err != nil {
		return nil, err
	}
	short := shortlist(s.current(first), shortlistOpen*min(limit, MaxLimit), 2*lockedShown)
	if err := s.withCounts(ctx, short); err != nil {
		return nil, err
	}
	return s.cards(ctx, st, pick(Rank(s.now(), p, short), limit))
}

// firstStageOf is the member's candidates ranked without booking counts, the best
// shortlistOpen×MaxLimit open and 2×lockedShown locked, best first: what shortlist
// keeps for any page size (it keeps a prefix of each).
func (s *Service) firstStageOf(ctx context.Context, memberID int) ([]poolOffer, error) {
	if s.cache.first != nil {
		return s.cache.first.Get(ctx, memberID)
	}
	return s.firstStage(ctx, memberID)
}

func (s *Service) firstStage(ctx context.Context, memberID int) ([]poolOffer, error) {
	m, st, ok, err := s.standing(ctx, memberID)
	if err != nil || !ok {
		return nil, err
	}
	p, err := s.profile(ctx, m, st)
	if err != nil {
		return nil, err
	}
	cands, err := s.candidates(ctx, memberID, st, p)
	if err != nil {
		return nil, err
	}
	plain := make([]Candidate, len(cands))
	until := make(map[int]time.Time, len(cands))
	for i, c := range cands {
		plain[i] = c.Candidate
		if !c.ValidUntil.IsZero() {
			until[c.OfferID] = c.ValidUntil
		}
	}
	open, locked := shortlistOpen*MaxLimit, 2*lockedShown
	out := make([]poolOffer, 0, open+locked)
	for _, r := range Rank(s.now(), p, plain) {
		if r.Locked && locked > 0 {
			locked--
		} else if !r.Locked && open > 0 {
			open--
		} else {
			continue
		}
		out = append(out, poolOffer{Candidate: r.Candidate, ValidUntil: until[r.OfferID]})
	}
	return out, nil
}

// profile is what ranking knows about the member: their declared tags, city and
// status from the member row, and their tastes (declared categories, behaviour).
func (s *Service) profile(ctx context.Context, m *ent.Member, st loyalty.Status) (Profile, error) {
	t, err := s.tastesOf(ctx, m.ID)
	if err != nil {
		return Profile{}, err
	}
	p := Profile{Categories: t.Categories, Behaviour: t.Behaviour, Tags: make(map[string]bool, len(m.InterestTags))}
	for _, tag := range m.InterestTags {
		p.Tags[tag] = true
	}
	if m.CityID != nil {
		p.CityID = *m.CityID
	}
	if st.Tier != nil {
		p.TierID = st.Tier.ID
	}
	return p, nil
}

// loadTastes reads the member's declared categories and their behaviour: views grouped
// by offer and day, and their own bookings, both within BehaviourWindow.
func (s *Service) loadTastes(ctx context.Context, memberID int) (tastes, error) {
	now := s.now()
	t := tastes{Categories: map[int]bool{}}
	declared, err := s.db.Member.Query().Where(member.ID(memberID)).QueryInterests().IDs(ctx)
	if err != nil {
		return t, err
	}
	for _, id := range declared {
		t.Categories[id] = true
	}
	since := now.Add(-BehaviourWindow)
	var views []struct {
		OfferID int    `json:"offer_id"`
		Day     string `json:"day"`
		Count   int    `json:"count"`
	}
	err = s.db.OfferView.Query().Where(offerview.MemberID(memberID), offerview.CreatedAtGTE(since)).
		GroupBy(offerview.FieldOfferID, offerview.FieldDay).Aggregate(ent.Count()).Scan(ctx, &views)
	if err != nil {
		return t, err
	}
	booked, err := s.db.Booking.Query().Where(booking.MemberID(memberID), booking.CreatedAtGTE(since)).
		Order(ent.Desc(booking.FieldCreatedAt)).Limit(signalCap).
		Select(booking.FieldOfferID, booking.FieldCreatedAt).All(ctx)
	if err != nil {
		return t, err
	}
	ids := make([]int, 0, len(views)+len(booked))
	for _, v := range views {
		ids = append(ids, v.OfferID)
	}
	for _, b := range booked {
		ids = append(ids, b.OfferID)
	}
	if len(ids) == 0 {
		return t, nil
	}
	if len(ids) > signalCap {
		ids = ids[:signalCap]
	}
	offers, err := s.db.Offer.Query().Where(offer.IDIn(ids...)).Select(offer.FieldCategoryID).All(ctx)
	if err != nil {
		return t, err
	}
	category := make(map[int]int, len(offers))
	for _, o := range offers {
		category[o.ID] = o.CategoryID
	}
	signals := make([]Signal, 0, len(ids))
	for _, v := range views {
		// The day is Almaty's calendar day; its middle is close enough for a 14-day half-life.
		at, err := time.Parse(time.DateOnly, v.Day)
		if c, ok := category[v.OfferID]; ok && err == nil {
			signals = append(signals, Signal{CategoryID: c, At: at.Add(12 * time.Hour), Weight: float64(v.Count)})
		}
	}
	for _, b := range booked {
		if c, ok := category[b.OfferID]; ok {
			signals = append(signals, Signal{CategoryID: c, At: b.CreatedAt, Weight: BookingWeight})
		}
	}
	t.Behaviour = BehaviourWeights(now, signals)
	return t, nil
}

// candidateFields are the columns ranking reads.
var candidateFields = []string{offer.FieldCategoryID, offer.FieldCityID, offer.FieldTags, offer.FieldPublishedAt, offer.FieldCapacity, offer.FieldMinTierID}

// candidates are the newest open offers the member may see, the newest in their
// categories (declared or used), and the newest locked by tier, from the pools members
// of their status share and the invite-only offers open to them; PlacesLeft is their
// capacity until withCounts subtracts the bookings.
func (s *Service) candidates(ctx context.Context, memberID int, st loyalty.Status, p Profile) ([]poolOffer, error) {
	tierID := 0
	if st.Tier != nil {
		tierID = st.Tier.ID
	}
	all, err := s.pool(ctx, tierID, 0, false)
	if err != nil {
		return nil, err
	}
	invited, err := s.invitedOf(ctx, memberID)
	if err != nil {
		return nil, err
	}
	cats := make([]int, 0, len(p.Categories)+len(p.Behaviour))
	for c := range p.Categories {
		cats = append(cats, c)
	}
	for c := range p.Behaviour {
		if !p.Categories[c] {
			cats = append(cats, c)
		}
	}
	slices.Sort(cats)
	open := mergeNewest(candidateCap, all, invited)
	if len(cats) > 0 {
		lists := make([][]poolOffer, 0, len(cats)+1)
		for _, c := range cats {
			l, err := s.pool(ctx, tierID, c, false)
			if err != nil {
				return nil, err
			}
			lists = append(lists, l)
		}
		var mine []poolOffer
		for _, o := range invited {
			if _, ok := slices.BinarySearch(cats, o.CategoryID); ok {
				mine = append(mine, o)
			}
		}
		open = append(open, mergeNewest(candidateCap, append(lists, mine)...)...)
	}
	locked, err := s.pool(ctx, tierID, 0, true)
	if err != nil {
		return nil, err
	}
	seen := make(map[int]bool, len(open)+len(locked))
	out := make([]poolOffer, 0, len(open)+len(locked))
	for _, o := range append(open, locked...) {
		if !seen[o.OfferID] {
			seen[o.OfferID] = true
			out = append(out, o)
		}
	}
	return out, nil
}

// invitedOf returns the invite-only offers open to the member.
func (s *Service) invitedOf(ctx context.Context, memberID int) ([]poolOffer, error) {
	var list []poolOffer
	var err error
	if s.cache.invited != nil {
		list, err = s.cache.invited.Get(ctx, memberID)
	} else {
		list, err = s.loadInvited(ctx, memberID)
	}
	return s.current(list), err
}

// withCounts fills in the recent bookings and places left of cands.
func (s *Service) withCounts(ctx context.Context, cands []Candidate) error {
	if len(cands) == 0 {
		return nil
	}
	ids := make([]int, len(cands))
	for i, c := range cands {
		ids[i] = c.OfferID
	}
	n, err := s.countsOf(ctx, ids)
	if err != nil {
		return err
	}
	for i := range cands {
		c := &cands[i]
		c.RecentBookings = n[c.OfferID].Recent
		if c.PlacesLeft > 0 {
			c.PlacesLeft = max(c.PlacesLeft-n[c.OfferID].Taken, 0)
		}
	}
	return nil
}

// shortlistOpen × the page size is how many open candidates the second stage ranks.
const shortlistOpen = 2

// shortlist keeps the first open and locked candidates of a ranked list.
func shortlist(ranked []poolOffer, open, locked int) []Candidate {
	out := make([]Candidate, 0, open+locked)
	for _, r := range ranked {
		if r.Locked && locked > 0 {
			locked--
			out = append(out, r.Candidate)
		} else if !r.Locked && open > 0 {
			open--
			out = append(out, r.Candidate)
		}
	}
	return out
}

// pick keeps the best limit open offers and, after them, the best lockedShown locked
// ones, so that a full page of open offers still shows what a higher status opens.
func pick(ranked []Ranked, limit int) []Ranked {
	out := make([]Ranked, 0, limit+lockedShown)
	var locked []Ranked
	for _, r := range ranked {
		switch {
		case r.Locked:
			if len(locked) < lockedShown {
				locked = append(locked, r)
			}
		case len(out) < limit:
			out = append(out, r)
		}
	}
	return append(out, locked...)
}

// bookingCounts counts the place-holding bookings of each offer, in one grouped query.
func (s *Service) bookingCounts(ctx context.Context, offerIDs []int, where ...predicate.Booking) (map[int]int, error) {
	var rows []struct {
		OfferID int `json:"offer_id"`
		Count   int `json:"count"`
	}
	q := s.db.Booking.Query().Where(booking.OfferIDIn(offerIDs...), booking.StatusIn(holding...)).Where(where...)
	if err := q.GroupBy(booking.FieldOfferID).Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	n := make(map[int]int, len(rows))
	for _, r := range rows {
		n[r.OfferID] = r.Count
	}
	return n, nil
}

// cards loads what the ranked cards show, open and locked at once (with the partner's
// name and the images). Of a locked offer only its title, partner name and
// minimum tier reach the Card.
func (s *Service) cards(ctx context.Context, st loyalty.Status, ranked []Ranked) ([]Card, error) {
	ids := make([]int, len(ranked))
	for i, r := range ranked {
		ids[i] = r.OfferID
	}
	details, err := s.detailsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	tiers := make(map[int]*ent.Tier, len(st.Tiers))
	for _, t := range st.Tiers {
		tiers[t.ID] = t
	}
	cards := make([]Card, 0, len(ranked))
	for _, r := range ranked {
		card := Card{ID: r.OfferID, Reason: r.Reason, Locked: r.Locked}
		if r.Locked {
			o := details[r.OfferID]
			if o == nil || o.Edges.Partner == nil || o.MinTierID == nil {
				continue // changed since the candidates were read
			}
			card.Title, card.PartnerName, card.UnlockTier = o.Title, o.Edges.Partner.Name, tiers[*o.MinTierID]
			card.ReasonArg = card.UnlockTier
		} else {
			o := details[r.OfferID]
			if o == nil {
				continue
			}
			card.Offer, card.Title = o, o.Title
			if o.Edges.Partner != nil {
				card.PartnerName = o.Edges.Partner.Name
			}
			switch r.Subject {
			case SubjectCategory:
				card.ReasonArg = o.Edges.Category
			case SubjectCity:
				card.ReasonArg = o.Edges.City
			case SubjectMemberTier:
				card.ReasonArg = st.Tier
			case SubjectTag:
				card.ReasonArg = r.Tag
			}
		}
		cards = append(cards, card)
	}
	return cards, nil
}
