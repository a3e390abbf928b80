package bookings

import (
	"context"

	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/predicate"
)

// ByCode finds one of the partner's bookings by its code (as typed: NormaliseCode is
// applied), with the member and offer loaded; another partner's code is ErrNotFound.
func (s *Service) ByCode(ctx context.Context, partnerID int, code string) (*ent.Booking, error) {
	code = NormaliseCode(code)
	if code == "" {
		return nil, ErrNotFound
	}
	return s.one(ctx, booking.Code(code), booking.PartnerID(partnerID))
}

// ForPartner returns one of the partner's bookings by ID.
func (s *Service) ForPartner(ctx context.Context, partnerID, id int) (*ent.Booking, error) {
	return s.one(ctx, booking.ID(id), booking.PartnerID(partnerID))
}

// ForMember returns one of the member's bookings by ID.
func (s *Service) ForMember(ctx context.Context, memberID, id int) (*ent.Booking, error) {
	return s.one(ctx, booking.ID(id), booking.MemberID(memberID))
}

func (s *Service) one(ctx context.Context, where ...predicate.Booking) (*ent.Booking, error) {
	b, err := s.db.Booking.Query().Where(where...).WithMember().WithOffer().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return b, err
}

// PartnerList returns the partner's newest bookings, of one status when status is set,
// with the member's first name and the offer's title (the other columns of both empty).
func (s *Service) PartnerList(ctx context.Context, partnerID int, status string, limit int) ([]*ent.Booking, error) {
	q := s.db.Booking.Query().Where(booking.PartnerID(partnerID))
	if status != "" {
		if booking.StatusValidator(booking.Status(status)) != nil {
			return nil, ErrNotFound
		}
		q.Where(booking.StatusEQ(booking.Status(status)))
	}
	// The lists show the member's first name and the offer's title: only those load.
	return q.WithMember(func(q *ent.MemberQuery) { q.Select(member.FieldFirstName) }).
		WithOffer(func(q *ent.OfferQuery) { q.Select(offer.FieldTitle) }).
		Order(ent.Desc(booking.FieldCreatedAt), ent.Desc(booking.FieldID)).Limit(limit).All(ctx)
}

// MemberList returns the member's bookings, newest first, with their offers and partners.
func (s *Service) MemberList(ctx context.Context, memberID, limit int) ([]*ent.Booking, error) {
	return s.db.Booking.Query().Where(booking.MemberID(memberID)).
		WithOffer(func(q *ent.OfferQuery) { q.WithPartner() }).
		Order(ent.Desc(booking.FieldCreatedAt), ent.Desc(booking.FieldID)).Limit(limit).All(ctx)
}

// Cancellable reports whether the member may still cancel the booking.
func Cancellable(b *ent.Booking) bool {
	return b.Status == booking.StatusRequested || b.Status == booking.StatusConfirmed
}

// PartnerPage returns a page of the partner's bookings, newest first (by ID), of one
// status when status is set, starting after the booking beforeID when it is positive.
// An unknown status is ErrNotFound.
func (s *Service) PartnerPage(ctx context.Context, partnerID int, status string, beforeID, limit int) ([]*ent.Booking, error) {
	q := s.db.Booking.Query().Where(booking.PartnerID(partnerID))
	if status != "" {
		if booking.StatusValidator(booking.Status(status)) != nil {
			return nil, ErrNotFound
		}
		q.Where(booking.StatusEQ(booking.Status(status)))
	}
	if beforeID > 0 {
		q.Where(booking.IDLT(beforeID))
	}
	return q.WithMember().WithOffer().Order(ent.Desc(booking.FieldID)).Limit(limit).All(ctx)
}
