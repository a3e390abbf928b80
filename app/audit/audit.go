// Package audit records staff actions: who did what, when, to what, before and after.
package audit

import (
	"context"

	"ikra/ent"
)

// Entry is one staff action.
type Entry struct {
	ActorID    *int
	ActorRole  string
	PartnerID  *int
	Action     string // e.g. "member.block", "staff.grant"
	TargetType string
	TargetID   string
	Before     map[string]any
	After      map[string]any
	IP         string
	RequestID  string
}

// Record writes an entry with db, which may be a transaction's client so that the
// entry commits or rolls back with the action itself.
func Record(ctx context.Context, db *ent.Client, e Entry) error {
	return db.AuditLog.Create().
		SetNillableActorID(e.ActorID).
		SetActorRole(e.ActorRole).
		SetNillablePartnerID(e.PartnerID).
		SetAction(e.Action).
		SetTargetType(e.TargetType).
		SetTargetID(e.TargetID).
		SetBefore(e.Before).
		SetAfter(e.After).
		SetIP(e.IP).
		SetRequestID(e.RequestID).
		Exec(ctx)
}
