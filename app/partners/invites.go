package partners

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"entgo.io/ent/dialect"

	"ikra/app/audit"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/partner"
	"ikra/ent/staff"
	"ikra/ent/staffinvite"
)

// InviteTTL is how long an invite link can be used.
const InviteTTL = 24 * time.Hour

// Why an invite link cannot be used.
var (
	ErrInviteUsed    = errors.New("partners: the invite was already used")
	ErrInviteExpired = errors.New("partners: the invite expired")
	ErrInviteRevoked = errors.New("partners: the invite was revoked")
	// ErrSuspended means the partner is suspended: it takes no new staff.
	ErrSuspended = errors.New("partners: the partner is suspended")
)

// InviteRoles are the roles an invite can give.
var InviteRoles = []string{"manager", "cashier"}

// hashInvite is what is stored of an invite token.
func hashInvite(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// lockPartner reads the partner within tx, holding its row on PostgreSQL, so that
// changes to one partner's staff happen one at a time (SQLite transactions already
// hold the write lock).
func lockPartner(ctx context.Context, tx *ent.Tx, d string, partnerID int) (*ent.Partner, error) {
	q := tx.Partner.Query().Where(partner.ID(partnerID))
	if d == dialect.Postgres {
		q.ForUpdate()
	}
	p, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return p, err
}

// Invite creates a one-time invite link to the partner in role (manager or cashier),
// valid for InviteTTL. The token is returned once; only its hash is kept.
func (s *Staff) Invite(ctx context.Context, actor audit.Entry, partnerID int, role string) (string, *ent.StaffInvite, error) {
	ok := false
	for _, r := range InviteRoles {
		ok = ok || r == role
	}
	if !ok {
		return "", nil, ErrBadRole
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(buf)
	var inv *ent.StaffInvite
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		p, err := lockPartner(ctx, tx, s.dialect, partnerID)
		if err != nil {
			return err
		}
		if p.Status != partner.StatusActive {
			return ErrSuspended
		}
		now := s.now()
		creator := 0
		if actor.ActorID != nil {
			creator = *actor.ActorID
		}
		inv, err = tx.StaffInvite.Create().SetPartnerID(partnerID).SetRole(staffinvite.Role(role)).
			SetTokenHash(hashInvite(token)).SetCreatedBy(creator).SetCreatedAt(now).SetExpiresAt(now.Add(InviteTTL)).Save(ctx)
		if err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "staff.invite", "staff_invite", strconv.Itoa(inv.ID)
		actor.PartnerID = &partnerID
		actor.After = map[string]any{"role": role, "expires_at": inv.ExpiresAt}
		return audit.Record(ctx, tx.Client(), actor)
	})
	if err != nil {
		return "", nil, err
	}
	return token, inv, nil
}

// Invites lists the partner's invites that can still be used, newest first.
func (s *Staff) Invites(ctx context.Context, partnerID int) ([]*ent.StaffInvite, error) {
	return s.db.StaffInvite.Query().
		Where(staffinvite.PartnerID(partnerID), staffinvite.UsedAtIsNil(), staffinvite.RevokedAtIsNil(), staffinvite.ExpiresAtGT(s.now())).
		Order(ent.Desc(staffinvite.FieldCreatedAt), ent.Desc(staffinvite.FieldID)).Limit(100).All(ctx)
}

// RevokeInvite makes one of the partner's unused invites unusable. Another partner's
// invite, or one already used or revoked, is ErrNotFound.
func (s *Staff) RevokeInvite(ctx context.Context, actor audit.Entry, partnerID, inviteID int) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		n, err := tx.StaffInvite.Update().
			Where(staffinvite.ID(inviteID), staffinvite.PartnerID(partnerID), staffinvite.UsedAtIsNil(), staffinvite.RevokedAtIsNil()).
			SetRevokedAt(s.now()).Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		actor.Action, actor.TargetType, actor.TargetID = "staff.invite_revoke", "staff_invite", strconv.Itoa(inviteID)
		actor.PartnerID = &partnerID
		return audit.Record(ctx, tx.Client(), actor)
	})
}

// InviteView is what the person opening an invite link sees.
type InviteView struct {
	Invite  *ent.StaffInvite
	Partner *ent.Partner
}

// usable says why an invite cannot be used now, or nil.
func (s *Staff) usable(inv *ent.StaffInvite) error {
	switch {
	case inv.RevokedAt != nil:
		return ErrInviteRevoked
	case inv.UsedAt != nil:
		return ErrInviteUsed
	case !inv.ExpiresAt.After(s.now()):
		return ErrInviteExpired
	}
	return nil
}

// InviteByToken finds the invite behind a link. An unknown token is ErrNotFound; a
// used, expired or revoked one comes back with its error, for a clear page.
func (s *Staff) InviteByToken(ctx context.Context, token string) (InviteView, error) {
	if token == "" || len(token) > 100 {
		return InviteView{}, ErrNotFound
	}
	inv, err := s.db.StaffInvite.Query().Where(staffinvite.TokenHash(hashInvite(token))).Only(ctx)
	if ent.IsNotFound(err) {
		return InviteView{}, ErrNotFound
	}
	if err != nil {
		return InviteView{}, err
	}
	p, err := s.db.Partner.Get(ctx, inv.PartnerID)
	if err != nil {
		return InviteView{}, err
	}
	v := InviteView{Invite: inv, Partner: p}
	if err := s.usable(inv); err != nil {
		return v, err
	}
	if p.Status != partner.StatusActive {
		return v, ErrSuspended
	}
	return v, nil
}

// AcceptInvite makes the member staff of the invite's partner in its role. The link
// works once: the invite is claimed by a conditional update, so of two accepts at once
// exactly one makes a staff row. A member who already works for the partner keeps the
// role they have (ErrAlreadyHeld) and the link stays unused.
func (s *Staff) AcceptInvite(ctx context.Context, actor audit.Entry, memberID int, token string) (*ent.Staff, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrNotFound
	}
	var row *ent.Staff
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		inv, err := tx.StaffInvite.Query().Where(staffinvite.TokenHash(hashInvite(token))).Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		p, err := lockPartner(ctx, tx, s.dialect, inv.PartnerID)
		if err != nil {
			return err
		}
		if err := s.usable(inv); err != nil {
			return err
		}
		if p.Status != partner.StatusActive {
			return ErrSuspended
		}
		if ok, err := tx.Member.Query().Where(member.ID(memberID), member.StatusEQ(member.StatusActive)).Exist(ctx); err != nil {
			return err
		} else if !ok {
			return ErrNotFound
		}
		if held, err := tx.Staff.Query().Where(staff.MemberID(memberID), staff.PartnerID(p.ID)).Exist(ctx); err != nil {
			return err
		} else if held {
			return ErrAlreadyHeld
		}
		now := s.now()
		n, err := tx.StaffInvite.Update().
			Where(staffinvite.ID(inv.ID), staffinvite.UsedAtIsNil(), staffinvite.RevokedAtIsNil(), staffinvite.ExpiresAtGT(now)).
			SetUsedAt(now).SetUsedBy(memberID).Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrInviteUsed // claimed by another accept meanwhile
		}
		row, err = tx.Staff.Create().SetMemberID(memberID).SetRole(staff.Role(inv.Role)).SetPartnerID(p.ID).SetCreatedAt(now).Save(ctx)
		if err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "staff.join", "member", strconv.Itoa(memberID)
		actor.PartnerID = &p.ID
		actor.After = map[string]any{"role": string(inv.Role), "staff_id": row.ID, "invite_id": inv.ID}
		return audit.Record(ctx, tx.Client(), actor)
	})
	if err != nil {
		return nil, err
	}
	return row, s.changed(ctx)
}

// ChangeRole gives a staff member of the partner another partner role. The last owner
// cannot be demoted (ErrLastOwner); another partner's staff row is ErrNotFound.
func (s *Staff) ChangeRole(ctx context.Context, actor audit.Entry, partnerID, staffID int, role string) error {
	pid := partnerID
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		if _, err := lockPartner(ctx, tx, s.dialect, partnerID); err != nil {
			return err
		}
		row, err := tx.Staff.Query().Where(staff.ID(staffID), staff.PartnerID(partnerID)).Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !fits(role, &pid) {
			return ErrBadRole
		}
		if string(row.Role) == role {
			return nil
		}
		if row.Role == staff.RoleOwner {
			if err := keepsOwner(ctx, tx, partnerID); err != nil {
				return err
			}
		}
		if err := tx.Staff.UpdateOne(row).SetRole(staff.Role(role)).Exec(ctx); err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "staff.role", "member", strconv.Itoa(row.MemberID)
		actor.PartnerID = &pid
		actor.Before = map[string]any{"role": string(row.Role), "staff_id": row.ID}
		actor.After = map[string]any{"role": role, "staff_id": row.ID}
		return audit.Record(ctx, tx.Client(), actor)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// Remove takes a staff member off the partner. The last owner stays (ErrLastOwner);
// another partner's staff row is ErrNotFound. The removed member's next request no
// longer carries the partner: roles are read from the database on every request and
// every node reloads its permissions.
func (s *Staff) Remove(ctx context.Context, actor audit.Entry, partnerID, staffID int) error {
	pid := partnerID
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		if _, err := lockPartner(ctx, tx, s.dialect, partnerID); err != nil {
			return err
		}
		row, err := tx.Staff.Query().Where(staff.ID(staffID), staff.PartnerID(partnerID)).Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if row.Role == staff.RoleOwner {
			if err := keepsOwner(ctx, tx, partnerID); err != nil {
				return err
			}
		}
		if err := tx.Staff.DeleteOne(row).Exec(ctx); err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "staff.remove", "member", strconv.Itoa(row.MemberID)
		actor.PartnerID = &pid
		actor.Before = map[string]any{"role": string(row.Role), "staff_id": row.ID}
		return audit.Record(ctx, tx.Client(), actor)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// keepsOwner refuses when the partner has one owner or fewer: taking one away would
// leave it without.
func keepsOwner(ctx context.Context, tx *ent.Tx, partnerID int) error {
	n, err := tx.Staff.Query().Where(staff.PartnerID(partnerID), staff.RoleEQ(staff.RoleOwner)).Count(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return ErrLastOwner
	}
	return nil
}

// List returns the partner's staff with their members, owners first.
func (s *Staff) List(ctx context.Context, partnerID int) ([]*ent.Staff, error) {
	return s.db.Staff.Query().Where(staff.PartnerID(partnerID)).WithMember().
		Order(ent.Asc(staff.FieldRole), ent.Asc(staff.FieldID)).All(ctx)
}
