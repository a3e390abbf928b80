package offers

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/predicate"
)

// Errors of the invite list.
var (
	// ErrNoSuchMember means no active member has that Telegram ID or username.
	ErrNoSuchMember = errors.New("offers: no such member")
	// ErrInviteListFull means the offer's invite list holds MaxInvited members already.
	ErrInviteListFull = errors.New("offers: the invite list is full")
)

// MaxInvited caps an offer's invite list.
const MaxInvited = 5000

// Invited lists the members invited to one of the partner's offers (an offer with
// visibility "invite" is shown only to them), by first name. Only the ID, the first
// name and the username are loaded: that is all the partner is shown.
func (s *Service) Invited(ctx context.Context, partnerID, offerID int) ([]*ent.Member, error) {
	ok, err := s.db.Offer.Query().Where(offer.ID(offerID), offer.PartnerID(partnerID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return s.db.Member.Query().
		Where(member.HasInvitedOffersWith(offer.ID(offerID), offer.PartnerID(partnerID))).
		Select(member.FieldID, member.FieldFirstName, member.FieldUsername).
		Order(ent.Asc(member.FieldFirstName), ent.Asc(member.FieldID)).
		Limit(MaxInvited).All(ctx)
}

// Invite adds an active member, named by numeric Telegram ID or by username ("@name"
// or "name", in any letter case), to the invite list of one of the partner's offers.
// Someone already on the list is left as is. The list is who may see the offer, not
// its content, so the change takes effect at once, published or not; an archived
// offer's list no longer changes (ErrState). Nobody matching is ErrNoSuchMember.
func (s *Service) Invite(ctx context.Context, partnerID, offerID int, telegramIDOrUsername string) error {
	who, ok := memberKey(telegramIDOrUsername)
	if !ok {
		return ErrNoSuchMember
	}
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		o, err := s.editableOffer(ctx, tx, partnerID, offerID)
		if err != nil {
			return err
		}
		// Usernames are not unique over time: of several accounts that once had the
		// name, the one updated last holds it now.
		m, err := tx.Member.Query().Where(who, member.StatusEQ(member.StatusActive)).
			Order(ent.Desc(member.FieldUpdatedAt), ent.Desc(member.FieldID)).First(ctx)
		if ent.IsNotFound(err) {
			return ErrNoSuchMember
		}
		if err != nil {
			return err
		}
		q := tx.Offer.Query().Where(offer.ID(o.ID)).QueryInvited()
		if in, err := q.Clone().Where(member.ID(m.ID)).Exist(ctx); err != nil || in {
			return err
		}
		n, err := q.Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxInvited {
			return ErrInviteListFull
		}
		return tx.Offer.UpdateOneID(o.ID).AddInvitedIDs(m.ID).Exec(ctx)
	})
}

// Uninvite takes a member off the invite list of one of the partner's offers; one not
// on it is left as is.
func (s *Service) Uninvite(ctx context.Context, partnerID, offerID, memberID int) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		o, err := s.editableOffer(ctx, tx, partnerID, offerID)
		if err != nil {
			return err
		}
		return tx.Offer.UpdateOneID(o.ID).RemoveInvitedIDs(memberID).Exec(ctx)
	})
}

// editableOffer loads one of the partner's offers whose invite list may change.
func (s *Service) editableOffer(ctx context.Context, tx *ent.Tx, partnerID, offerID int) (*ent.Offer, error) {
	o, err := tx.Offer.Query().Where(offer.ID(offerID), offer.PartnerID(partnerID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if o.Status == offer.StatusArchived {
		return nil, ErrState
	}
	return o, nil
}

// memberKey reads a Telegram ID or a username. Telegram usernames are Latin letters,
// digits and underscores (at most 32), so comparing them in any letter case is plain
// ASCII folding on every database.
func memberKey(s string) (predicate.Member, bool) {
	s = strings.TrimSpace(s)
	if id, err := strconv.ParseInt(s, 10, 64); err == nil {
		return member.TelegramID(id), id > 0
	}
	name := strings.TrimPrefix(s, "@")
	if name == "" || len(name) > 32 {
		return nil, false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return nil, false
		}
	}
	return member.UsernameEqualFold(name), true
}
