// Package catalog decides which privileges a member may see: one rule, used by the
// cabinet's list and offer page, by the offer images and by the API and the bot.
package catalog

import (
	"context"
	"entgo.io/ent/dialect/sql"
	"errors"
	"ikra/app/cache"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"ikra/app/images"
	"ikra/app/loyalty"
	"ikra/app/media"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/offermedia"
	"ikra/ent/partner"
	"ikra/ent/predicate"
)

// ErrNotFound means the offer or image does not exist for this member: unknown, closed
// or not open to them. The caller cannot tell which, on purpose.
var ErrNotFound = errors.New("catalog: not found")

// Service answers "may this member see this offer now".
type Service struct {
	db      *ent.Client
	loyalty *loyalty.Service
	objects media.Store
	rows    *cache.Rows
	cache   caches
	noPools bool // tests: every search page from the database
	now     func() time.Time

	cursorKey []byte
	keyOnce   sync.Once
}

// New returns the catalog service; the member's status tier comes from l, offer images
// from objects.
func New(db *ent.Client, l *loyalty.Service, objects media.Store) *Service {
	return &Service{db: db, loyalty: l, objects: objects, rows: cache.NewRows(nil, db), now: time.Now}
}

// SetRows makes the service read members, categories and cities through the shared
// cache.
func (s *Service) SetRows(r *cache.Rows) { s.rows = r }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Predicate is the rule itself, for the member at this moment. An offer is visible when
// it is published, its partner is active, its validity window has started and not
// ended, the member's status tier reaches its minimum tier, it is not invite-only or
// the member is invited, and the member is in good standing (active). A member who is
// not in good standing, or does not exist, sees nothing.
func (s *Service) Predicate(ctx context.Context, memberID int) (predicate.Offer, error) {
	_, st, ok, err := s.standing(ctx, memberID)
	if err != nil || !ok {
		return nothing(), err
	}
	suspended, err := s.rows.SuspendedPartners(ctx)
	if err != nil {
		return nothing(), err
	}
	return s.predicate(memberID, st, suspended), nil
}

// predicate is Predicate for a member in good standing whose status is st, with the
// suspended partners' IDs. Each term compares the offer's own columns (the tier and
// partner lists come from the cache), so the database checks a row without a
// subquery per row, except for invite-only offers.
func (s *Service) predicate(memberID int, st loyalty.Status, suspended []int) predicate.Offer {
	ps := append(s.open(suspended), offer.Or(offer.VisibilityNEQ(offer.VisibilityInvite), invited(memberID)), reaches(st))
	return offer.And(ps...)
}

// reaches: the offer has no minimum tier, or the status st reaches it.
func reaches(st loyalty.Status) predicate.Offer {
	if st.Tier == nil {
		return offer.MinTierIDIsNil()
	}
	return offer.Or(offer.MinTierIDIsNil(), offer.MinTierIDIn(tierIDs(st.Tiers, func(t *ent.Tier) bool { return t.Sort <= st.Tier.Sort })...))
}

// invited: the member is on the offer's invitation list (a lookup in offer_invited by
// member, on its index).
func invited(memberID int) predicate.Offer {
	return func(s *sql.Selector) {
		t := sql.Table(offer.InvitedTable)
		s.Where(sql.In(s.C(offer.FieldID),
			sql.Select(t.C(offer.InvitedPrimaryKey[0])).From(t).Where(sql.EQ(t.C(offer.InvitedPrimaryKey[1]), memberID))))
	}
}

// tierIDs are the IDs of the tiers keep accepts.
func tierIDs(tiers []*ent.Tier, keep func(*ent.Tier) bool) []int {
	var ids []int
	for _, t := range tiers {
		if keep(t) {
			ids = append(ids, t.ID)
		}
	}
	return ids
}

// standing loads the member and their status; ok is false when the member does not
// exist or is not in good standing, and then sees nothing.
func (s *Service) standing(ctx context.Context, memberID int) (*ent.Member, loyalty.Status, bool, error) {
	m, err := s.rows.Member(ctx, memberID)
	if ent.IsNotFound(err) {
		return nil, loyalty.Status{}, false, nil
	}
	if err != nil {
		return nil, loyalty.Status{}, false, err
	}
	if m.Status != member.StatusActive {
		return m, loyalty.Status{}, false, nil
	}
	st, err := s.loyalty.StatusOf(ctx, m)
	if err != nil {
		return nil, loyalty.Status{}, false, err
	}
	return m, st, true, nil
}

// open is the part of the rule that does not depend on the member: published, the
// partner not suspended, inside the validity window.
func (s *Service) open(suspended []int) []predicate.Offer {
	now := s.now()
	ps := []predicate.Offer{
		offer.StatusEQ(offer.StatusPublished),
		offer.Or(offer.ValidFromIsNil(), offer.ValidFromLTE(now)),
		offer.Or(offer.ValidUntilIsNil(), offer.ValidUntilGT(now)),
	}
	if len(suspended) > 0 {
		ps = append(ps, offer.PartnerIDNotIn(suspended...))
	}
	return ps
}

// lockedByTier matches the offers the member could open with a higher status: open
// (as above), not invite-only, with a minimum tier above the member's tier st. These
// are never visible (Predicate); the cabinet only names them and what unlocks them.
func (s *Service) lockedByTier(st loyalty.Status, suspended []int) predicate.Offer {
	ps := append(s.open(suspended), offer.VisibilityNEQ(offer.VisibilityInvite), offer.MinTierIDNotNil())
	if st.Tier != nil {
		ps = append(ps, offer.MinTierIDIn(tierIDs(st.Tiers, func(t *ent.Tier) bool { return t.Sort > st.Tier.Sort })...))
	}
	return offer.And(ps...)
}

// nothing matches no offer.
func nothing() predicate.Offer { return offer.IDIn() }

// Visible returns a query of the offers the member may see now; callers add order,
// eager loads and limits.
func (s *Service) Visible(ctx context.Context, memberID int) (*ent.OfferQuery, error) {
	p, err := s.Predicate(ctx, memberID)
	if err != nil {
		return nil, err
	}
	return s.db.Offer.Query().Where(p), nil
}

// Offer returns one offer the member may see, with its partner, category, city and
// live images (in order) loaded; any other is ErrNotFound. The row is shared between
// requests (see detailsOf): do not modify it.
func (s *Service) Offer(ctx context.Context, memberID, offerID int) (*ent.Offer, error) {
	q, err := s.Visible(ctx, memberID)
	if err != nil {
		return nil, err
	}
	id, err := q.Where(offer.ID(offerID)).OnlyID(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d, err := s.detailsOf(ctx, []int{id})
	if err != nil {
		return nil, err
	}
	if d[id] == nil {
		return nil, ErrNotFound // deleted since
	}
	return d[id], nil
}

// WithDetails eager-loads what a card or page shows from the offer's own rows: the
// partner's name and the live images in order. Category and city come from the cached
// tables (attach).
func WithDetails(q *ent.OfferQuery) *ent.OfferQuery {
	return q.WithPartner(func(q *ent.PartnerQuery) { q.Select(partner.FieldName) }).
		WithMedia(func(q *ent.OfferMediaQuery) {
			q.Where(offermedia.StatusEQ(offermedia.StatusLive)).Order(ent.Asc(offermedia.FieldSort)).
				Select(offermedia.FieldKey, offermedia.FieldWidth, offermedia.FieldHeight, offermedia.FieldSort)
		})
}

// attach sets the category and city edges of offers from the cached tables: the same
// rows an eager load would read, without its two queries.
func (s *Service) attach(ctx context.Context, list ...*ent.Offer) error {
	if len(list) == 0 {
		return nil
	}
	cats, err := s.rows.Categories(ctx)
	if err != nil {
		return err
	}
	cities, err := s.rows.Cities(ctx)
	if err != nil {
		return err
	}
	for _, o := range list {
		for _, c := range cats {
			if c.ID == o.CategoryID {
				o.Edges.Category = c
				break
			}
		}
		for _, c := range cities {
			if c.ID == o.CityID {
				o.Edges.City = c
				break
			}
		}
	}
	return nil
}

// MediaAllowed reports whether the image stored under key, or the image whose
// thumbnail it is (images.ThumbKey), is live (not awaiting or refused by a moderator)
// and belongs to an offer the member may see now. A malformed key is simply not
// allowed.
func (s *Service) MediaAllowed(ctx context.Context, memberID int, key string) (bool, error) {
	if media.ValidKey(key) != nil {
		return false, nil
	}
	p, err := s.Predicate(ctx, memberID)
	if err != nil {
		return false, err
	}
	return s.db.OfferMedia.Query().Where(offermedia.Key(images.OriginalKey(key)), offermedia.StatusEQ(offermedia.StatusLive),
		offermedia.HasOfferWith(p)).Exist(ctx)
}

// Image opens an offer image for the member, only when MediaAllowed says so; anything
// else, a missing object included, is ErrNotFound. The caller closes the reader.
func (s *Service) Image(ctx context.Context, memberID int, key string) (io.ReadCloser, media.Object, error) {
	ok, err := s.MediaAllowed(ctx, memberID, key)
	if err != nil {
		return nil, media.Object{}, err
	}
	if !ok {
		return nil, media.Object{}, ErrNotFound
	}
	r, obj, err := s.objects.Get(ctx, key)
	if errors.Is(err, media.ErrNotFound) {
		return nil, media.Object{}, ErrNotFound
	}
	return r, obj, err
}

// StartOffer reads the offer ID of a deep link's start payload "offer_<id>" (the bot's
// /start and the Mini App's startapp); ok is false for anything else.
func StartOffer(payload string) (id int, ok bool) {
	raw, ok := strings.CutPrefix(payload, "offer_")
	if !ok {
		return 0, false
	}
	id, err := strconv.Atoi(raw)
	if err != nil || id <= 0 || strconv.Itoa(id) != raw {
		return 0, false
	}
	return id, true
}
