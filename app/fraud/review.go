package fraud

import (
	"context"
	"strconv"
	"time"

	"ikra/app/audit"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/fraudflag"
	"ikra/ent/partner"
)

// Flag is a flag as staff see it: the row and the names of its member and partner.
type Flag struct {
	*ent.FraudFlag
	MemberName  string
	PartnerName string
}

// Filter narrows the list of flags.
type Filter struct {
	Open  bool   // open flags; otherwise the reviewed ones (dismissed or actioned)
	Kind  string // one of Kinds; empty for all
	Limit int    // at most this many (200 when zero)
}

// List returns flags, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]Flag, error) {
	q := s.db.FraudFlag.Query()
	if f.Open {
		q.Where(fraudflag.StatusEQ(fraudflag.StatusOpen))
	} else {
		q.Where(fraudflag.StatusNEQ(fraudflag.StatusOpen))
	}
	if f.Kind != "" {
		q.Where(fraudflag.Kind(f.Kind))
	}
	if f.Limit <= 0 {
		f.Limit = 200
	}
	rows, err := q.Order(ent.Desc(fraudflag.FieldCreatedAt), ent.Desc(fraudflag.FieldID)).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, err
	}
	return s.named(ctx, rows)
}

// Get returns one flag.
func (s *Service) Get(ctx context.Context, id int) (Flag, error) {
	row, err := s.db.FraudFlag.Get(ctx, id)
	if ent.IsNotFound(err) {
		return Flag{}, ErrNotFound
	}
	if err != nil {
		return Flag{}, err
	}
	out, err := s.named(ctx, []*ent.FraudFlag{row})
	if err != nil {
		return Flag{}, err
	}
	return out[0], nil
}

// named adds the member and partner names, in two queries.
func (s *Service) named(ctx context.Context, rows []*ent.FraudFlag) ([]Flag, error) {
	var mids, pids []int
	for _, r := range rows {
		if r.MemberID != nil {
			mids = append(mids, *r.MemberID)
		}
		if r.PartnerID != nil {
			pids = append(pids, *r.PartnerID)
		}
	}
	mn, err := memberNames(ctx, s.db, mids)
	if err != nil {
		return nil, err
	}
	pn := map[int]string{}
	if len(pids) > 0 {
		ps, err := s.db.Partner.Query().Where(partner.IDIn(pids...)).Select(partner.FieldID, partner.FieldName).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			pn[p.ID] = p.Name
		}
	}
	out := make([]Flag, len(rows))
	for i, r := range rows {
		out[i] = Flag{FraudFlag: r}
		if r.MemberID != nil {
			out[i].MemberName = mn[*r.MemberID]
		}
		if r.PartnerID != nil {
			out[i].PartnerName = pn[*r.PartnerID]
		}
	}
	return out, nil
}

// OpenCount returns how many flags wait for review (the dashboard's badge).
func (s *Service) OpenCount(ctx context.Context) (int, error) {
	return s.db.FraudFlag.Query().Where(fraudflag.StatusEQ(fraudflag.StatusOpen)).Count(ctx)
}

// Stats counts the flags raised in [from, to): by kind, and how many of them are still
// open, dismissed and actioned.
type Stats struct {
	Raised    int
	ByKind    map[string]int
	Open      int
	Dismissed int
	Actioned  int
}

// Stats returns the flags raised in [from, to), for the dashboard.
func (s *Service) Stats(ctx context.Context, from, to time.Time) (Stats, error) {
	var rows []struct {
		Kind   string `json:"kind"`
		Status string `json:"status"`
		Count  int    `json:"count"`
	}
	err := s.db.FraudFlag.Query().Where(fraudflag.CreatedAtGTE(from), fraudflag.CreatedAtLT(to)).
		GroupBy(fraudflag.FieldKind, fraudflag.FieldStatus).Aggregate(ent.Count()).Scan(ctx, &rows)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{ByKind: map[string]int{}}
	for _, r := range rows {
		st.Raised += r.Count
		st.ByKind[r.Kind] += r.Count
		switch fraudflag.Status(r.Status) {
		case fraudflag.StatusOpen:
			st.Open += r.Count
		case fraudflag.StatusDismissed:
			st.Dismissed += r.Count
		case fraudflag.StatusActioned:
			st.Actioned += r.Count
		}
	}
	return st, nil
}

// Dismiss closes a flag as a false alarm, with a note; audited.
func (s *Service) Dismiss(ctx context.Context, actor audit.Entry, id int, note string) error {
	note = clip(note, MaxNote)
	if note == "" {
		return ErrNoteRequired
	}
	return s.close(ctx, actor, id, fraudflag.StatusDismissed, ActionDismiss, note, nil)
}

// Annul takes amount bonuses back from the flag's member through the ledger's
// annulment (which checks the actor's rank, audits and notifies the member), then
// marks the flag actioned, audited. The annulment's idempotency key is the flag's: a
// flag annuls once, so two reviewers at once cannot both take bonuses back (the second
// gets loyalty.ErrKeyReused, or ErrReviewed), and a retry after a failure between the
// two steps replays the annulment and closes the flag.
func (s *Service) Annul(ctx context.Context, actor audit.Entry, id int, amount int64, reason string) error {
	f, err := s.open(ctx, id)
	if err != nil {
		return err
	}
	if f.MemberID == nil {
		return ErrNoMember
	}
	reason = clip(reason, MaxNote)
	e, err := s.annul.Annul(ctx, actor, *f.MemberID, nil, amount, reason, "fraud_flag:"+strconv.Itoa(id))
	if err != nil {
		return err
	}
	return s.close(ctx, actor, id, fraudflag.StatusActioned, ActionAnnul, reason, map[string]any{"entry_id": e.ID, "amount": -e.Amount})
}

// Block blocks the flag's member (members' rank rules apply) or, when target is
// "partner", suspends its partner; then marks the flag actioned, audited.
func (s *Service) Block(ctx context.Context, actor audit.Entry, id int, target, reason string) error {
	f, err := s.open(ctx, id)
	if err != nil {
		return err
	}
	reason = clip(reason, MaxNote)
	if reason == "" {
		return ErrNoteRequired
	}
	action := ActionBlock
	switch {
	case target == "partner":
		if f.PartnerID == nil {
			return ErrNoPartner
		}
		action = ActionSuspend
		err = s.suspend.Suspend(ctx, actor, *f.PartnerID, reason)
	case f.MemberID == nil:
		return ErrNoMember
	default:
		err = s.block.Block(ctx, actor, *f.MemberID, reason)
	}
	if err != nil {
		return err
	}
	return s.close(ctx, actor, id, fraudflag.StatusActioned, action, reason, nil)
}

// open returns the flag if it still waits for review.
func (s *Service) open(ctx context.Context, id int) (*ent.FraudFlag, error) {
	f, err := s.db.FraudFlag.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if f.Status != fraudflag.StatusOpen {
		return nil, ErrReviewed
	}
	return f, nil
}

// close records the review on an open flag and its audit entry in one transaction.
func (s *Service) close(ctx context.Context, actor audit.Entry, id int, status fraudflag.Status, action, note string, extra map[string]any) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		f, err := tx.FraudFlag.Get(ctx, id)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		// Conditional update: of two reviewers at once, one wins.
		n, err := tx.FraudFlag.Update().Where(fraudflag.ID(id), fraudflag.StatusEQ(fraudflag.StatusOpen)).
			SetStatus(status).SetAction(action).SetReviewNote(note).
			SetNillableReviewedByID(actor.ActorID).SetReviewedAt(s.now()).Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrReviewed
		}
		actor.Action, actor.TargetType, actor.TargetID = "fraud_flag."+action, "fraud_flag", strconv.Itoa(id)
		actor.PartnerID = f.PartnerID
		actor.Before = map[string]any{"status": string(f.Status)}
		actor.After = map[string]any{"status": string(status), "action": action, "note": note}
		for k, v := range extra {
			actor.After[k] = v
		}
		return audit.Record(ctx, tx.Client(), actor)
	})
}
