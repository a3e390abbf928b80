package catalog

import (
	"context"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"ikra/app/cache"
	"ikra/app/loyalty"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/offer"
)

// What the catalog keeps in memory between requests, forgotten on every node when the
// rows behind it change (app/cache). Lifetimes bound what a missed change can cost, and
// what only time changes: an offer whose validity window opens appears within PoolTTL;
// one whose window closes leaves at once (the pools keep its end and check it on read).
// A member's first-stage ranking is kept for FirstTTL: freshness moves it by nothing a
// person could notice in that time, and a change to an offer, their status or their
// tastes forgets it.
const (
	PoolTTL    = 20 * time.Second // candidate pools and a member's invitations
	FirstTTL   = 10 * time.Second // a member's first-stage ranking (from the pools)
	TastesTTL  = time.Minute      // a member's declared interests and behaviour
	CountsTTL  = 15 * time.Second // an offer's bookings (popularity, places left)
	DetailsTTL = time.Minute      // an offer's row with its partner's name and images
)

// caches are the catalog's cached reads; nil fields read the database every time.
type caches struct {
	pools   *cache.ByID[[]poolOffer] // by poolKey: the same for every member of a status
	invited *cache.ByID[[]poolOffer] // by member: invite-only offers open to them
	tastes  *cache.ByID[tastes]      // by member
	first   *cache.ByID[[]poolOffer] // by member: their first-stage ranking
	counts  *cache.ByID[counts]      // by offer
	details *cache.ByID[*ent.Offer]  // by offer
}

// UseCache makes the service keep candidate pools, members' tastes, booking counts and
// offer details in memory, forgotten through b when they change on any node.
func (s *Service) UseCache(b *cache.Bus) {
	catalogRows := []string{"Offer", "Partner", "Tier"}
	s.cache = caches{
		pools:   cache.NewByID(b, PoolTTL, 4096, s.loadPool, "", catalogRows...),
		invited: cache.NewByID(b, PoolTTL, 100_000, s.loadInvited, "Member", catalogRows...).AlsoByID("LedgerEntry.member_id"),
		tastes:  cache.NewByID(b, TastesTTL, 100_000, s.loadTastes, "Member").AlsoByID("Booking.member_id", "OfferView.member_id"),
		first: cache.NewByID(b, FirstTTL, 100_000, s.firstStage, "Member", catalogRows...).
			AlsoByID("LedgerEntry.member_id", "Booking.member_id", "OfferView.member_id"),
		counts:  cache.NewByID(b, CountsTTL, 20_000, one(s.loadCounts), "Booking.offer_id"),
		details: cache.NewByID(b, DetailsTTL, 5000, one(s.loadDetails), "Offer", "OfferMedia", "Partner", "Category", "City"),
	}
}

// one makes a loader of one entry from a loader of many (the zero value when absent).
func one[V any](many func(ctx context.Context, ids []int) (map[int]V, error)) func(ctx context.Context, id int) (V, error) {
	return func(ctx context.Context, id int) (V, error) {
		m, err := many(ctx, []int{id})
		return m[id], err
	}
}

// poolOffer is a candidate with the end of its validity window (zero: none).
type poolOffer struct {
	Candidate
	ValidUntil time.Time
}

// A pool is the newest open offers for members of one status tier: of every category
// or of one, or those the tier does not open yet (locked). Its key packs the three.
func poolKey(tierID, categoryID int, locked bool) int {
	k := categoryID<<21 | tierID<<1
	if locked {
		k |= 1
	}
	return k
}

func unpackPool(k int) (tierID, categoryID int, locked bool) {
	return (k >> 1) & (1<<20 - 1), k >> 21, k&1 == 1
}

// pool returns one pool, without the offers whose window has closed since it was read.
func (s *Service) pool(ctx context.Context, tierID, categoryID int, locked bool) ([]poolOffer, error) {
	k := poolKey(tierID, categoryID, locked)
	var list []poolOffer
	var err error
	if s.cache.pools != nil {
		list, err = s.cache.pools.Get(ctx, k)
	} else {
		list, err = s.loadPool(ctx, k)
	}
	return s.current(list), err
}

// current drops the offers whose validity window has closed (a copy when any does).
func (s *Service) current(list []poolOffer) []poolOffer {
	now := s.now()
	for i, p := range list {
		if !p.ValidUntil.IsZero() && !p.ValidUntil.After(now) {
			out := slices.Clone(list[:i])
			for _, q := range list[i+1:] {
				if q.ValidUntil.IsZero() || q.ValidUntil.After(now) {
					out = append(out, q)
				}
			}
			return out
		}
	}
	return list
}

// statusOfTier is the part of a member's status the visibility rule reads.
func (s *Service) statusOfTier(ctx context.Context, tierID int) (loyalty.Status, error) {
	tiers, err := s.rows.Tiers(ctx)
	if err != nil {
		return loyalty.Status{}, err
	}
	st := loyalty.Status{Tiers: tiers}
	for _, t := range tiers {
		if t.ID == tierID {
			st.Tier = t
		}
	}
	return st, nil
}

// newest is the catalog's order: the latest published first, then the higher ID.
var newest = []offer.OrderOption{offer.ByPublishedAt(sql.OrderDesc()), offer.ByID(sql.OrderDesc())}

// poolFields are the columns a pool reads.
var poolFields = append(slices.Clone(candidateFields), offer.FieldValidUntil)

func (s *Service) loadPool(ctx context.Context, k int) ([]poolOffer, error) {
	tierID, categoryID, locked := unpackPool(k)
	st, err := s.statusOfTier(ctx, tierID)
	if err != nil {
		return nil, err
	}
	suspended, err := s.rows.SuspendedPartners(ctx)
	if err != nil {
		return nil, err
	}
	q := s.db.Offer.Query()
	limit := candidateCap
	if locked {
		q.Where(s.lockedByTier(st, suspended))
		limit = lockedCap
	} else {
		// Invite-only offers depend on the member: loadInvited reads them.
		q.Where(s.predicate(0, st, suspended), offer.VisibilityNEQ(offer.VisibilityInvite))
	}
	if categoryID > 0 {
		q.Where(offer.CategoryID(categoryID))
	}
	// Every way to publish sets published_at; the order needs it (and Search's cursor).
	q.Where(offer.PublishedAtNotNil())
	list, err := q.Order(newest...).Limit(limit).Select(poolFields...).All(ctx)
	if err != nil {
		return nil, err
	}
	return poolOffers(list, locked), nil
}

// loadInvited reads the invite-only offers open to the member (few).
func (s *Service) loadInvited(ctx context.Context, memberID int) ([]poolOffer, error) {
	_, st, ok, err := s.standing(ctx, memberID)
	if err != nil || !ok {
		return nil, err
	}
	suspended, err := s.rows.SuspendedPartners(ctx)
	if err != nil {
		return nil, err
	}
	// From the member's invitations (offer_invited by member), not from every offer.
	ps := append(s.open(suspended), offer.VisibilityEQ(offer.VisibilityInvite), invited(memberID), reaches(st),
		offer.PublishedAtNotNil())
	list, err := s.db.Offer.Query().Where(ps...).Order(newest...).Limit(candidateCap).Select(poolFields...).All(ctx)
	if err != nil {
		return nil, err
	}
	return poolOffers(list, false), nil
}

func poolOffers(list []*ent.Offer, locked bool) []poolOffer {
	out := make([]poolOffer, 0, len(list))
	for _, o := range list {
		c := Candidate{OfferID: o.ID, CategoryID: o.CategoryID, CityID: o.CityID, Tags: o.Tags, PlacesLeft: -1,
			Locked: locked, TierUnlocked: !locked && o.MinTierID != nil}
		if o.PublishedAt != nil {
			c.PublishedAt = *o.PublishedAt
		}
		if o.Capacity > 0 {
			c.PlacesLeft = o.Capacity
		}
		p := poolOffer{Candidate: c}
		if o.ValidUntil != nil {
			p.ValidUntil = *o.ValidUntil
		}
		out = append(out, p)
	}
	return out
}

// mergeNewest merges lists each in the catalog's order into the first n of their union,
// in that order, without repeats: what one query over all of them would return.
func mergeNewest(n int, lists ...[]poolOffer) []poolOffer {
	var only []poolOffer
	nonEmpty := 0
	for _, l := range lists {
		if len(l) > 0 {
			only, nonEmpty = l, nonEmpty+1
		}
	}
	if nonEmpty <= 1 {
		// One list is its own merge. Capped, so that appending to the result never
		// writes into a cached pool.
		m := min(n, len(only))
		return only[:m:m]
	}
	out := make([]poolOffer, 0, n)
	seen := make(map[int]bool, n)
	pos := make([]int, len(lists))
	for len(out) < n {
		best := -1
		for i, l := range lists {
			for pos[i] < len(l) && seen[l[pos[i]].OfferID] {
				pos[i]++
			}
			if pos[i] == len(l) {
				continue
			}
			if best < 0 || newer(l[pos[i]].Candidate, lists[best][pos[best]].Candidate) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		p := lists[best][pos[best]]
		seen[p.OfferID] = true
		out = append(out, p)
		pos[best]++
	}
	return out
}

func newer(a, b Candidate) bool {
	if !a.PublishedAt.Equal(b.PublishedAt) {
		return a.PublishedAt.After(b.PublishedAt)
	}
	return a.OfferID > b.OfferID
}

// tastes are a member's declared categories and their behaviour, read for ranking.
type tastes struct {
	Categories map[int]bool
	Behaviour  map[int]float64
}

func (s *Service) tastesOf(ctx context.Context, memberID int) (tastes, error) {
	if s.cache.tastes != nil {
		return s.cache.tastes.Get(ctx, memberID)
	}
	return s.loadTastes(ctx, memberID)
}

// counts are an offer's place-holding bookings: recent ones (popularity) and all.
type counts struct{ Recent, Taken int }

// countsOf returns the counts of the offers ids.
func (s *Service) countsOf(ctx context.Context, ids []int) (map[int]counts, error) {
	if s.cache.counts != nil {
		return s.cache.counts.GetMany(ctx, ids, s.loadCounts)
	}
	return s.loadCounts(ctx, ids)
}

func (s *Service) loadCounts(ctx context.Context, ids []int) (map[int]counts, error) {
	recent, err := s.bookingCounts(ctx, ids, booking.CreatedAtGTE(s.now().Add(-PopularWindow)))
	if err != nil {
		return nil, err
	}
	taken, err := s.bookingCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int]counts, len(ids))
	for _, id := range ids {
		out[id] = counts{Recent: recent[id], Taken: taken[id]}
	}
	return out, nil
}

// detailsOf returns the offers ids with what a card or the offer page shows (every
// column, the partner's name, the live images in order, the category and city). The
// rows are shared between requests: callers must not modify them. An ID that no
// longer exists is absent.
func (s *Service) detailsOf(ctx context.Context, ids []int) (map[int]*ent.Offer, error) {
	if len(ids) == 0 {
		return map[int]*ent.Offer{}, nil
	}
	if s.cache.details != nil {
		return s.cache.details.GetMany(ctx, ids, s.loadDetails)
	}
	return s.loadDetails(ctx, ids)
}

func (s *Service) loadDetails(ctx context.Context, ids []int) (map[int]*ent.Offer, error) {
	list, err := WithDetails(s.db.Offer.Query().Where(offer.IDIn(ids...))).All(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.attach(ctx, list...); err != nil {
		return nil, err
	}
	out := make(map[int]*ent.Offer, len(list))
	for _, o := range list {
		out[o.ID] = o
	}
	return out, nil
}

// inOrder lists the offers of ids found in details, in the order of ids.
func inOrder(ids []int, details map[int]*ent.Offer) []*ent.Offer {
	out := make([]*ent.Offer, 0, len(ids))
	for _, id := range ids {
		if o := details[id]; o != nil {
			out = append(out, o)
		}
	}
	return out
}
