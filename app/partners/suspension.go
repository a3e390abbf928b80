package partners

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"

	"ikra/app/audit"
	"ikra/app/notify"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/partner"
	"ikra/ent/staff"
)

// Suspend stops an active partner with a reason (required): its offers leave every
// catalog at once (app/catalog shows only active partners' offers) and its staff see the
// reason on every portal page. Audited; the partner's owners are notified.
func (s *Service) Suspend(ctx context.Context, actor audit.Entry, partnerID int, reason string) error {
	reason, err := cleanReason(reason)
	if err != nil {
		return err
	}
	return s.setStatus(ctx, actor, partnerID, partner.StatusActive, partner.StatusSuspended, reason)
}

// Reactivate makes a suspended partner active again, with a reason (required).
func (s *Service) Reactivate(ctx context.Context, actor audit.Entry, partnerID int, reason string) error {
	reason, err := cleanReason(reason)
	if err != nil {
		return err
	}
	return s.setStatus(ctx, actor, partnerID, partner.StatusSuspended, partner.StatusActive, reason)
}

func (s *Service) setStatus(ctx context.Context, actor audit.Entry, partnerID int, from, to partner.Status, reason string) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		q := tx.Partner.Query().Where(partner.ID(partnerID))
		if s.dialect == dialect.Postgres {
			q.ForUpdate()
		}
		p, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if p.Status != from {
			return ErrState
		}
		kept := reason
		if to == partner.StatusActive {
			kept = ""
		}
		if err := tx.Partner.UpdateOne(p).SetStatus(to).SetSuspendedReason(kept).Exec(ctx); err != nil {
			return err
		}
		event := "suspend"
		if to == partner.StatusActive {
			event = "reactivate"
		}
		actor.Action, actor.TargetType, actor.TargetID = "partner."+event, "partner", strconv.Itoa(p.ID)
		actor.PartnerID = &p.ID
		actor.Before = map[string]any{"status": string(p.Status), "suspended_reason": p.SuspendedReason}
		actor.After = map[string]any{"status": string(to), "reason": reason}
		if err := audit.Record(ctx, tx.Client(), actor); err != nil {
			return err
		}
		owners, err := tx.Staff.Query().Where(staff.PartnerID(p.ID), staff.RoleEQ(staff.RoleOwner)).WithMember().All(ctx)
		if err != nil {
			return err
		}
		// One key per change: a partner may be suspended, reactivated and suspended again.
		n := s.now().UnixNano()
		for _, o := range owners {
			lang := o.Edges.Member.Language
			if _, err := s.notify.AddTx(ctx, tx, notify.Message{
				MemberID: o.MemberID, Kind: "partner." + event, DedupKey: fmt.Sprintf("partner:%d:%s:%d:%d", p.ID, event, n, o.MemberID),
				Title: s.text(lang, "notify.partner."+event+".title", p.Name),
				Body:  s.text(lang, "notify.partner."+event+".body", p.Name, reason),
				Link:  "/partner",
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// SuspendedMay reports whether staff of a suspended partner keep a permission: they
// may still read everything and finish the bookings members already hold (confirm,
// decline, complete, no-show, reverse); they may not change offers or staff, nor do
// anything else that writes (platform staff can still take a role away in /admin/staff).
func SuspendedMay(perm string) bool {
	switch perm {
	case "partner:view", "bookings:redeem":
		return true
	}
	return strings.HasSuffix(perm, ":read")
}
