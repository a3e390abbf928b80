package offers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"ikra/app/audit"
	"ikra/app/notify"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/offer"
	"ikra/ent/offermedia"
	"ikra/ent/offerrevision"
	"ikra/ent/staff"
)

// What a moderation item is.
const (
	KindOffer    = "offer"    // a new offer awaiting its first publication
	KindRevision = "revision" // a change to a published offer
)

// MaxReason is the longest rejection reason kept, in characters.
const MaxReason = 1000

// Item is one thing awaiting (or having had) a moderator's decision.
type Item struct {
	Kind  string // KindOffer or KindRevision
	ID    int    // the offer's or the revision's ID
	Since time.Time
	// Offer is the offer (the live version, for a revision) with partner, category,
	// city, minimum tier and every image (live, pending or rejected) loaded.
	Offer *ent.Offer
	// Revision is the proposed change; nil for KindOffer.
	Revision *ent.OfferRevision
}

func withModerationDetails(q *ent.OfferQuery) *ent.OfferQuery {
	return q.WithPartner().WithCategory().WithCity().WithMinTier().
		WithMedia(func(q *ent.OfferMediaQuery) { q.Order(ent.Asc(offermedia.FieldSort), ent.Asc(offermedia.FieldID)) })
}

// Queue lists what awaits moderation, oldest first: offers under review and pending
// revisions of published offers.
func (s *Service) Queue(ctx context.Context) ([]Item, error) {
	os, err := withModerationDetails(s.db.Offer.Query().Where(offer.StatusEQ(offer.StatusPending))).
		Order(ent.Asc(offer.FieldUpdatedAt)).Limit(500).All(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := s.db.OfferRevision.Query().
		Where(offerrevision.StatusEQ(offerrevision.StatusPending), offerrevision.HasOfferWith(offer.StatusEQ(offer.StatusPublished))).
		WithOffer(func(q *ent.OfferQuery) { withModerationDetails(q) }).
		Order(ent.Asc(offerrevision.FieldCreatedAt)).Limit(500).All(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(os)+len(rs))
	for _, o := range os {
		items = append(items, Item{Kind: KindOffer, ID: o.ID, Since: o.UpdatedAt, Offer: o})
	}
	for _, r := range rs {
		items = append(items, Item{Kind: KindRevision, ID: r.ID, Since: r.CreatedAt, Offer: r.Edges.Offer, Revision: r})
	}
	sortQueue(items)
	return items, nil
}

// QueueLen counts what awaits moderation.
func (s *Service) QueueLen(ctx context.Context) (int, error) {
	n, err := s.db.Offer.Query().Where(offer.StatusEQ(offer.StatusPending)).Count(ctx)
	if err != nil {
		return 0, err
	}
	m, err := s.db.OfferRevision.Query().
		Where(offerrevision.StatusEQ(offerrevision.StatusPending), offerrevision.HasOfferWith(offer.StatusEQ(offer.StatusPublished))).
		Count(ctx)
	return n + m, err
}

// Review returns one moderation item by kind and ID, whatever its status.
func (s *Service) Review(ctx context.Context, kind string, id int) (Item, error) {
	switch kind {
	case KindOffer:
		o, err := withModerationDetails(s.db.Offer.Query().Where(offer.ID(id))).Only(ctx)
		if ent.IsNotFound(err) {
			return Item{}, ErrNotFound
		}
		if err != nil {
			return Item{}, err
		}
		return Item{Kind: kind, ID: o.ID, Since: o.UpdatedAt, Offer: o}, nil
	case KindRevision:
		r, err := s.db.OfferRevision.Query().Where(offerrevision.ID(id)).
			WithOffer(func(q *ent.OfferQuery) { withModerationDetails(q) }).Only(ctx)
		if ent.IsNotFound(err) {
			return Item{}, ErrNotFound
		}
		if err != nil {
			return Item{}, err
		}
		return Item{Kind: kind, ID: r.ID, Since: r.CreatedAt, Offer: r.Edges.Offer, Revision: r}, nil
	}
	return Item{}, ErrNotFound
}

// Pending reports whether the item still awaits a decision.
func (it Item) Pending() bool {
	if it.Kind == KindRevision {
		return it.Revision.Status == offerrevision.StatusPending && it.Offer.Status == offer.StatusPublished
	}
	return it.Offer.Status == offer.StatusPending
}

// Approve publishes a pending offer, or applies a pending revision to its live offer;
// audited, and notified to the partner's owners and managers, in one transaction.
// Anything not pending is ErrState.
func (s *Service) Approve(ctx context.Context, actor audit.Entry, kind string, id int) error {
	return s.decide(ctx, actor, kind, id, true, "")
}

// Reject sends a pending offer back to its partner with a reason, or refuses a pending
// revision (the live version stays as it is); audited and notified like Approve.
func (s *Service) Reject(ctx context.Context, actor audit.Entry, kind string, id int, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ErrReasonRequired
	}
	if r := []rune(reason); len(r) > MaxReason {
		reason = string(r[:MaxReason])
	}
	return s.decide(ctx, actor, kind, id, false, reason)
}

func (s *Service) decide(ctx context.Context, actor audit.Entry, kind string, id int, approve bool, reason string) error {
	now := s.now()
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		var o *ent.Offer
		var err error
		var before, after map[string]any
		switch kind {
		case KindOffer:
			if o, err = tx.Offer.Get(ctx, id); ent.IsNotFound(err) {
				return ErrNotFound
			} else if err != nil {
				return err
			}
			u := tx.Offer.Update().Where(offer.ID(id), offer.StatusEQ(offer.StatusPending)).SetUpdatedAt(now)
			if approve {
				u.SetStatus(offer.StatusPublished).SetPublishedAt(now).SetRejectReason("")
			} else {
				u.SetStatus(offer.StatusRejected).SetRejectReason(reason)
			}
			n, err := u.Save(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				return ErrState
			}
			before = map[string]any{"status": string(o.Status)}
			after = map[string]any{"status": string(offer.StatusRejected), "reason": reason}
			if approve {
				after = map[string]any{"status": string(offer.StatusPublished)}
			}
		case KindRevision:
			exists, err := tx.OfferRevision.Query().Where(offerrevision.ID(id)).Exist(ctx)
			if err != nil {
				return err
			}
			if !exists {
				return ErrNotFound
			}
			status := offerrevision.StatusRejected
			if approve {
				status = offerrevision.StatusApproved
			}
			// Decide first: the update locks the revision, so the proposal read next
			// is the one decided on, even if its author was saving a new one.
			n, err := tx.OfferRevision.Update().
				Where(offerrevision.ID(id), offerrevision.StatusEQ(offerrevision.StatusPending),
					offerrevision.HasOfferWith(offer.StatusEQ(offer.StatusPublished))).
				SetStatus(status).SetReason(reason).SetDecidedAt(now).SetNillableDecidedByID(actor.ActorID).Save(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				return ErrState
			}
			r, err := tx.OfferRevision.Query().Where(offerrevision.ID(id)).WithOffer().Only(ctx)
			if err != nil {
				return err
			}
			o = r.Edges.Offer
			before = map[string]any{"offer_id": o.ID, "status": string(offerrevision.StatusPending)}
			after = map[string]any{"status": string(status)}
			// Images added to the live offer since go with the revision's fate.
			media := offermedia.StatusRejected
			if approve {
				media = offermedia.StatusLive
			}
			images, err := tx.OfferMedia.Update().
				Where(offermedia.OfferID(o.ID), offermedia.StatusEQ(offermedia.StatusPending)).
				SetStatus(media).Save(ctx)
			if err != nil {
				return err
			}
			if images > 0 {
				after["images"] = images
			}
			if approve {
				in, err := RevisionInput(r)
				if err != nil {
					return err
				}
				live, _ := InputOf(o).data()
				before["live"] = live
				after["applied"] = r.Data
				u := tx.Offer.UpdateOneID(o.ID).SetUpdatedAt(now)
				apply(u.Mutation(), in)
				if err := u.Exec(ctx); err != nil {
					return err
				}
			} else {
				after["reason"] = reason
			}
		default:
			return ErrNotFound
		}
		verdict := "reject"
		if approve {
			verdict = "approve"
		}
		pid := o.PartnerID
		actor.Action, actor.TargetType, actor.TargetID = "moderation."+kind+"."+verdict, kind, strconv.Itoa(id)
		actor.PartnerID, actor.Before, actor.After = &pid, before, after
		if err := audit.Record(ctx, tx.Client(), actor); err != nil {
			return err
		}
		return s.notifyDecision(ctx, tx, o, kind, id, verdict, reason, now)
	})
}

// notifyDecision tells the partner's owners and managers the result, each in their
// language, inside the decision's transaction.
func (s *Service) notifyDecision(ctx context.Context, tx *ent.Tx, o *ent.Offer, kind string, id int, verdict, reason string, at time.Time) error {
	if s.notify == nil {
		return nil
	}
	people, err := tx.Staff.Query().
		Where(staff.PartnerID(o.PartnerID), staff.RoleIn(staff.RoleOwner, staff.RoleManager)).
		WithMember().All(ctx)
	if err != nil {
		return err
	}
	seen := map[int]bool{}
	prefix := "notify.moderation." + kind + "." + verdict
	for _, p := range people {
		m := p.Edges.Member
		if m == nil || seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		body := s.text(m.Language, prefix+".body", o.Title)
		if reason != "" {
			body = s.text(m.Language, prefix+".body", o.Title, reason)
		}
		_, err := s.notify.AddTx(ctx, tx, notify.Message{
			MemberID: m.ID, Kind: "offer_moderated",
			// One decision on one item: a revision is decided once, an offer once per
			// submission (the decision's instant tells submissions apart).
			DedupKey: fmt.Sprintf("moderation:%s:%d:%s:%d:m%d", kind, id, verdict, at.UnixNano(), m.ID),
			Title:    s.text(m.Language, prefix+".title"),
			Body:     body,
			Link:     "/partner/offers/" + strconv.Itoa(o.ID),
		})
		if err != nil {
			return err
		}
	}
	return nil
}
