// Package offers is the partner's side of privileges and their moderation (PRODUCT.md
// §2 "Privileges"): a partner's staff create and edit offers, submit them for review
// and archive them; platform moderators approve or reject new offers and revisions of
// published ones. Every function that reads or changes a partner's offer takes the
// partner's ID and filters by it, so another partner's offer is ErrNotFound.
package offers

import (
	"context"
	"errors"
	"fmt"
	"ikra/app/cache"
	"sort"
	"time"

	"ikra/app/notify"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/offer"
	"ikra/ent/offermedia"
	"ikra/ent/offerrevision"
)

// Errors a caller can tell apart.
var (
	// ErrNotFound means no such offer (or revision) for this partner.
	ErrNotFound = errors.New("offers: not found")
	// ErrState means the offer's status does not allow the action (editing an offer
	// under review, submitting a published one, deciding on one already decided).
	ErrState = errors.New("offers: not allowed in this status")
	// ErrReasonRequired means a rejection came without a reason.
	ErrReasonRequired = errors.New("offers: a reason is required")
)

// ValidationError carries field errors as message keys, by field name.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string { return fmt.Sprintf("offers: invalid input: %v", e.Fields) }

// Texts translates a message key into a language (the i18n catalog's T).
type Texts func(lang, key string, args ...any) string

// Service keeps partners' offers and moderates them.
type Service struct {
	db     *ent.Client
	notify *notify.Service
	texts  Texts
	now    func() time.Time
	rows   *cache.Rows
}

// New returns the offers service; moderation results are notified through n.
func New(db *ent.Client, n *notify.Service, t Texts) *Service {
	return &Service{db: db, notify: n, texts: t, now: time.Now, rows: cache.NewRows(nil, db)}
}

// SetRows makes the service read categories, cities and tiers through the shared cache.
func (s *Service) SetRows(r *cache.Rows) { s.rows = r }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) text(lang, key string, args ...any) string {
	if s.texts == nil {
		return key
	}
	return s.texts(lang, key, args...)
}

// Choices loads the categories, cities and tiers an offer may name.
func (s *Service) Choices(ctx context.Context) (Choices, error) {
	var ch Choices
	var err error
	if ch.Categories, err = s.rows.Categories(ctx); err != nil {
		return ch, err
	}
	if ch.Cities, err = s.rows.Cities(ctx); err != nil {
		return ch, err
	}
	ch.Tiers, err = s.rows.Tiers(ctx)
	return ch, err
}

// check normalises and validates the input.
func (s *Service) check(ctx context.Context, in *OfferInput) error {
	in.Normalize()
	ch, err := s.Choices(ctx)
	if err != nil {
		return err
	}
	if errs := in.Validate(ch); len(errs) > 0 {
		return &ValidationError{Fields: errs}
	}
	return nil
}

// withRevisions loads an offer's revisions, newest first.
func withRevisions(q *ent.OfferRevisionQuery) {
	q.Order(ent.Desc(offerrevision.FieldCreatedAt), ent.Desc(offerrevision.FieldID))
}

// List returns the partner's offers, last changed first, with category, city,
// revisions (newest first) and the IDs of their images loaded.
func (s *Service) List(ctx context.Context, partnerID int) ([]*ent.Offer, error) {
	return s.db.Offer.Query().Where(offer.PartnerID(partnerID)).
		WithCategory().WithCity().WithRevisions(withRevisions).
		WithMedia(func(q *ent.OfferMediaQuery) { q.Select(offermedia.FieldID, offermedia.FieldOfferID) }).
		Order(ent.Desc(offer.FieldUpdatedAt), ent.Desc(offer.FieldID)).Limit(200).All(ctx)
}

// Get returns one of the partner's offers with category, city, minimum tier, images
// and revisions (newest first) loaded; another partner's is ErrNotFound.
func (s *Service) Get(ctx context.Context, partnerID, id int) (*ent.Offer, error) {
	o, err := s.db.Offer.Query().Where(offer.ID(id), offer.PartnerID(partnerID)).
		WithCategory().WithCity().WithMinTier().WithMedia().WithRevisions(withRevisions).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return o, err
}

// OpenRevision is the offer's newest revision when it is still pending or was
// rejected after the last approval (what its editor works on); nil otherwise. The
// offer's revisions must be loaded newest first.
func OpenRevision(o *ent.Offer) *ent.OfferRevision {
	if len(o.Edges.Revisions) == 0 || o.Status != offer.StatusPublished {
		return nil
	}
	r := o.Edges.Revisions[0]
	if r.Status == offerrevision.StatusApproved {
		return nil
	}
	return r
}

// Editing is what the edit form starts from: the open revision's proposal if there
// is one, otherwise the offer itself.
func Editing(o *ent.Offer) (OfferInput, error) {
	if r := OpenRevision(o); r != nil {
		return RevisionInput(r)
	}
	return InputOf(o), nil
}

// Create saves a new draft offer of the partner.
func (s *Service) Create(ctx context.Context, partnerID int, in OfferInput) (*ent.Offer, error) {
	if err := s.check(ctx, &in); err != nil {
		return nil, err
	}
	c := s.db.Offer.Create().SetPartnerID(partnerID).SetStatus(offer.StatusDraft)
	apply(c.Mutation(), in)
	return c.Save(ctx)
}

// apply sets every edited field of an offer from the input.
func apply(m *ent.OfferMutation, in OfferInput) {
	m.SetTitle(in.Title)
	m.SetSummary(in.Summary)
	m.SetDescription(in.Description)
	m.SetTerms(in.Terms)
	m.SetKind(offer.Kind(in.Kind))
	m.SetCategoryID(in.CategoryID)
	m.SetTags(in.Tags)
	m.SetCityID(in.CityID)
	m.SetAddresses(in.Addresses)
	if in.ValidFrom != nil {
		m.SetValidFrom(*in.ValidFrom)
	} else {
		m.ClearValidFrom()
	}
	if in.ValidUntil != nil {
		m.SetValidUntil(*in.ValidUntil)
	} else {
		m.ClearValidUntil()
	}
	m.SetCapacity(in.Capacity)
	m.SetPerMemberLimit(in.PerMemberLimit)
	if in.MinTierID != nil {
		m.SetMinTierID(*in.MinTierID)
	} else {
		m.ClearMinTierID()
	}
	m.SetCashbackBp(in.CashbackBP)
	m.SetPriceBonus(in.PriceBonus)
	m.SetVisibility(offer.Visibility(in.Visibility))
}

// Update edits one of the partner's offers. A draft or rejected offer changes in
// place; a published one keeps its approved version live and gets a revision for
// review instead (its open revision is replaced, a rejected one gives way to a new
// one). An offer under review or archived is ErrState. authorID is who edits.
// It reports whether a revision was written.
func (s *Service) Update(ctx context.Context, partnerID, id, authorID int, in OfferInput) (revised bool, err error) {
	if err := s.check(ctx, &in); err != nil {
		return false, err
	}
	err = store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		o, err := tx.Offer.Query().Where(offer.ID(id), offer.PartnerID(partnerID)).
			WithRevisions(withRevisions).Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		switch o.Status {
		case offer.StatusDraft, offer.StatusRejected:
			// Only while still editable: a concurrent submission wins, and what a
			// moderator reviews is what was submitted.
			u := tx.Offer.Update().Where(offer.ID(o.ID), offer.StatusIn(offer.StatusDraft, offer.StatusRejected))
			apply(u.Mutation(), in)
			n, err := u.Save(ctx)
			if err == nil && n == 0 {
				err = ErrState
			}
			return err
		case offer.StatusPublished:
			revised = true
			data, err := in.data()
			if err != nil {
				return err
			}
			if r := OpenRevision(o); r != nil && r.Status == offerrevision.StatusPending {
				// Replace the proposal only while it is still pending; one decided
				// meanwhile keeps what the moderator saw, and the edit starts a new one.
				n, err := tx.OfferRevision.Update().
					Where(offerrevision.ID(r.ID), offerrevision.StatusEQ(offerrevision.StatusPending)).
					SetData(data).SetAuthorID(authorID).Save(ctx)
				if err != nil || n > 0 {
					return err
				}
			}
			return tx.OfferRevision.Create().SetOfferID(o.ID).SetAuthorID(authorID).SetData(data).
				SetCreatedAt(s.now()).Exec(ctx)
		default:
			return ErrState
		}
	})
	return revised, err
}

// ProposeTx makes sure a published offer has a revision awaiting review, opening one
// that proposes the live fields unchanged when there is none: a change that is not a
// field (a new image) then reaches the moderation queue with it, and goes live only
// when the revision is approved. Offers not yet published are reviewed whole, so
// nothing is opened for them; the caller says whether it opened one.
func ProposeTx(ctx context.Context, tx *ent.Tx, o *ent.Offer, authorID int, at time.Time) (opened bool, err error) {
	if o.Status != offer.StatusPublished {
		return false, nil
	}
	pending, err := tx.OfferRevision.Query().
		Where(offerrevision.OfferID(o.ID), offerrevision.StatusEQ(offerrevision.StatusPending)).Exist(ctx)
	if err != nil || pending {
		return false, err
	}
	data, err := InputOf(o).data()
	if err != nil {
		return false, err
	}
	c := tx.OfferRevision.Create().SetOfferID(o.ID).SetData(data).SetCreatedAt(at)
	if authorID > 0 {
		c.SetAuthorID(authorID)
	}
	return true, c.Exec(ctx)
}

// Submit sends a draft or rejected offer of the partner for review.
func (s *Service) Submit(ctx context.Context, partnerID, id int) error {
	n, err := s.db.Offer.Update().
		Where(offer.ID(id), offer.PartnerID(partnerID), offer.StatusIn(offer.StatusDraft, offer.StatusRejected)).
		SetStatus(offer.StatusPending).SetRejectReason("").SetUpdatedAt(s.now()).Save(ctx)
	if err != nil || n > 0 {
		return err
	}
	return s.missingOrState(ctx, partnerID, id)
}

// Archive takes one of the partner's offers out of the catalog for good.
func (s *Service) Archive(ctx context.Context, partnerID, id int) error {
	n, err := s.db.Offer.Update().
		Where(offer.ID(id), offer.PartnerID(partnerID), offer.StatusNEQ(offer.StatusArchived)).
		SetStatus(offer.StatusArchived).SetUpdatedAt(s.now()).Save(ctx)
	if err != nil || n > 0 {
		return err
	}
	return s.missingOrState(ctx, partnerID, id)
}

// missingOrState tells a foreign or unknown offer (ErrNotFound) from one whose status
// refused the change (ErrState).
func (s *Service) missingOrState(ctx context.Context, partnerID, id int) error {
	ok, err := s.db.Offer.Query().Where(offer.ID(id), offer.PartnerID(partnerID)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	return ErrState
}

// ArchiveExpired archives published and pending offers whose validity window has
// ended, and returns how many; the periodic offers:archive job runs it.
func (s *Service) ArchiveExpired(ctx context.Context) (int, error) {
	now := s.now()
	return s.db.Offer.Update().
		Where(offer.StatusIn(offer.StatusPublished, offer.StatusPending), offer.ValidUntilNotNil(), offer.ValidUntilLTE(now)).
		SetStatus(offer.StatusArchived).SetUpdatedAt(now).Save(ctx)
}

// sortQueue orders queue items oldest first.
func sortQueue(items []Item) {
	sort.SliceStable(items, func(i, j int) bool { return items[i].Since.Before(items[j].Since) })
}
