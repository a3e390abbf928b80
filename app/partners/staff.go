// Package partners manages partners (tenants) and the roles people hold: staff of a
// partner, and platform staff.
package partners

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ikra/app/audit"
	"ikra/app/members"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/partner"
	"ikra/ent/staff"
)

// Errors a caller can tell apart.
var (
	ErrNotFound    = errors.New("partners: not found")
	ErrBadRole     = errors.New("partners: role does not fit the place")
	ErrAlreadyHeld = errors.New("partners: role already held")
	ErrLastOwner   = errors.New("partners: a partner keeps at least one owner")
)

// PartnerRoles and PlatformRoles are the roles of each kind.
var (
	PartnerRoles  = []string{"owner", "manager", "cashier"}
	PlatformRoles = []string{"superadmin", "moderator", "support", "concierge"}
)

// Changed is told after grants change, so every node reloads its permissions.
type Changed func(ctx context.Context) error

// Staff grants and revokes roles.
type Staff struct {
	db      *ent.Client
	changed Changed
	dialect string
	now     func() time.Time
}

// NewStaff returns the staff service.
func NewStaff(db *ent.Client, changed Changed) *Staff {
	return &Staff{db: db, changed: changed, now: time.Now}
}

// SetDialect names the database dialect, so PostgreSQL takes row locks where SQLite
// already holds the write lock.
func (s *Staff) SetDialect(d string) { s.dialect = d }

// SetClock replaces the clock (tests).
func (s *Staff) SetClock(now func() time.Time) { s.now = now }

// Grant gives a member a role: in a partner when partnerID is set, on the platform
// otherwise. The rank rule applies (members.CheckGrant, members.CheckRank): nobody
// grants a platform role at or above their own, nor changes the roles of a member who
// outranks or equals them.
func (s *Staff) Grant(ctx context.Context, actor audit.Entry, memberID int, role string, partnerID *int) (*ent.Staff, error) {
	if !fits(role, partnerID) {
		return nil, ErrBadRole
	}
	var row *ent.Staff
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		if err := members.CheckGrant(ctx, tx.Client(), actor.ActorID, role); err != nil {
			return err
		}
		if err := members.CheckRank(ctx, tx.Client(), actor.ActorID, memberID, members.ActRoles); err != nil {
			return err
		}
		ok, err := tx.Member.Query().Where(member.ID(memberID), member.StatusNEQ(member.StatusDeleted)).Exist(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		if partnerID != nil {
			if ok, err := tx.Partner.Query().Where(partnerIDIs(*partnerID)).Exist(ctx); err != nil || !ok {
				if err == nil {
					err = ErrNotFound
				}
				return err
			}
		}
		q := tx.Staff.Query().Where(staff.MemberID(memberID), staff.RoleEQ(staff.Role(role)))
		if partnerID != nil {
			q.Where(staff.PartnerID(*partnerID))
		} else {
			q.Where(staff.PartnerIDIsNil())
		}
		if held, err := q.Exist(ctx); err != nil || held {
			if err == nil {
				err = ErrAlreadyHeld
			}
			return err
		}
		row, err = tx.Staff.Create().SetMemberID(memberID).SetRole(staff.Role(role)).SetNillablePartnerID(partnerID).Save(ctx)
		if err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "staff.grant", "member", fmt.Sprint(memberID)
		actor.After = map[string]any{"role": role, "partner_id": partnerID, "staff_id": row.ID}
		return audit.Record(ctx, tx.Client(), actor)
	})
	if err != nil {
		return nil, err
	}
	return row, s.changed(ctx)
}

// Revoke takes a role away, under the rank rule of Grant. With partnerID set, only a role in that partner can be
// revoked (an owner managing their own staff); the last owner of a partner stays.
func (s *Staff) Revoke(ctx context.Context, actor audit.Entry, staffID int, partnerID *int) error {
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		q := tx.Staff.Query().Where(staff.ID(staffID))
		if partnerID != nil {
			q.Where(staff.PartnerID(*partnerID))
		}
		row, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := members.CheckRank(ctx, tx.Client(), actor.ActorID, row.MemberID, members.ActRoles); err != nil {
			return err
		}
		if row.Role == staff.RoleOwner && row.PartnerID != nil {
			n, err := tx.Staff.Query().Where(staff.PartnerID(*row.PartnerID), staff.RoleEQ(staff.RoleOwner)).Count(ctx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return ErrLastOwner
			}
		}
		if err := tx.Staff.DeleteOneID(row.ID).Exec(ctx); err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "staff.revoke", "member", fmt.Sprint(row.MemberID)
		actor.Before = map[string]any{"role": string(row.Role), "partner_id": row.PartnerID, "staff_id": row.ID}
		return audit.Record(ctx, tx.Client(), actor)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

func fits(role string, partnerID *int) bool {
	list := PlatformRoles
	if partnerID != nil {
		list = PartnerRoles
	}
	for _, r := range list {
		if r == role {
			return true
		}
	}
	return false
}

// Role is one partner role a member holds, with the partner's name and status.
type Role struct {
	PartnerID int
	Partner   string
	Role      string
	Suspended bool
}

// RolesOf lists the partner roles of a member (platform roles are not included),
// ordered by partner. Staff of a suspended partner keep their roles, marked.
func (s *Staff) RolesOf(ctx context.Context, memberID int) ([]Role, error) {
	rows, err := s.db.Staff.Query().
		Where(staff.MemberID(memberID), staff.PartnerIDNotNil()).
		WithPartner().
		Order(ent.Asc(staff.FieldPartnerID), ent.Asc(staff.FieldRole)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Role, 0, len(rows))
	for _, r := range rows {
		p := r.Edges.Partner
		if p == nil {
			continue
		}
		out = append(out, Role{PartnerID: p.ID, Partner: p.Name, Role: string(r.Role), Suspended: p.Status == partner.StatusSuspended})
	}
	return out, nil
}
