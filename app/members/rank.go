package members

import (
	"context"
	"errors"
	"fmt"

	"ikra/ent"
	"ikra/ent/staff"
)

// ErrOutranked means the actor may not act on the target: the target holds a platform
// role equal to or above the actor's own, or the action needs a higher role.
var ErrOutranked = errors.New("members: the member's role is equal to or above yours")

// Rank orders the platform roles; a member without a platform role has rank 0.
// Partner roles (owner, manager, cashier) carry no platform rank.
var Rank = map[string]int{"concierge": 1, "support": 2, "moderator": 3, "superadmin": 4}

// RankSuperadmin is the top rank.
const RankSuperadmin = 4

// rankSystem is the rank of an action with no actor (configuration, start-up, jobs).
const rankSystem = RankSuperadmin + 1

// Action is a staff action on a member that the rank rule guards.
type Action string

// Guarded actions.
const (
	ActBlock Action = "block" // block or unblock
	ActAnnul Action = "annul" // annul bonuses
	ActRoles Action = "roles" // grant or revoke any role
)

// RankOf is the highest platform rank the member holds, read with db (a transaction's
// client inside one).
func RankOf(ctx context.Context, db *ent.Client, memberID int) (int, error) {
	roles, err := db.Staff.Query().Where(staff.MemberID(memberID), staff.PartnerIDIsNil()).
		Select(staff.FieldRole).Strings(ctx)
	if err != nil {
		return 0, fmt.Errorf("members: rank of %d: %w", memberID, err)
	}
	best := 0
	for _, r := range roles {
		best = max(best, Rank[r])
	}
	return best, nil
}

// MayAct is the rank rule itself: nobody blocks, annuls for, or changes the roles of a
// member who holds a platform role equal to or above their own, and blocking staff needs
// superadmin. A member without a platform role is fair game for any staff action.
func MayAct(actorRank, targetRank int, act Action) bool {
	if targetRank == 0 {
		return true
	}
	if act == ActBlock && actorRank < RankSuperadmin {
		return false
	}
	return actorRank > targetRank
}

// CheckRank applies MayAct to the actor and target as stored; a nil actor is the system
// and may act on anyone. It returns ErrOutranked when the action is refused.
func CheckRank(ctx context.Context, db *ent.Client, actorID *int, targetID int, act Action) error {
	actor := rankSystem
	if actorID != nil {
		var err error
		if actor, err = RankOf(ctx, db, *actorID); err != nil {
			return err
		}
	}
	target, err := RankOf(ctx, db, targetID)
	if err != nil {
		return err
	}
	if !MayAct(actor, target, act) {
		return ErrOutranked
	}
	return nil
}

// MayGrant reports whether an actor of actorRank may grant role: a platform role only
// strictly below their own, so nobody mints a peer or a superior; the superadmin role
// itself comes only from configuration (IKRA_SUPERADMINS). Partner roles carry no rank.
func MayGrant(actorRank int, role string) bool {
	r := Rank[role]
	return r == 0 || (r < actorRank && r < RankSuperadmin)
}

// CheckGrant applies MayGrant to the stored actor; a nil actor is the system.
func CheckGrant(ctx context.Context, db *ent.Client, actorID *int, role string) error {
	if actorID == nil {
		return nil
	}
	r, err := RankOf(ctx, db, *actorID)
	if err != nil {
		return err
	}
	if !MayGrant(r, role) {
		return ErrOutranked
	}
	return nil
}
