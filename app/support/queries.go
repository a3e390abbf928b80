package support

import (
	"context"
	"slices"
	"time"

	"ikra/ent"
	"ikra/ent/predicate"
	"ikra/ent/staff"
	"ikra/ent/supportmessage"
	"ikra/ent/supportthread"
)

// MaxList is the most threads a list shows.
const MaxList = 200

// MemberThreads lists the member's threads, the latest activity first.
func (s *Service) MemberThreads(ctx context.Context, memberID int) ([]*ent.SupportThread, error) {
	return s.db.SupportThread.Query().Where(supportthread.MemberID(memberID)).
		Order(ent.Desc(supportthread.FieldUpdatedAt), ent.Desc(supportthread.FieldID)).Limit(MaxList).All(ctx)
}

// MemberThread is the member's thread with the messages they may see (never an internal
// note), oldest first; another member's thread is ErrNotFound.
func (s *Service) MemberThread(ctx context.Context, memberID, id int) (*ent.SupportThread, error) {
	th, err := s.db.SupportThread.Query().Where(supportthread.ID(id), supportthread.MemberID(memberID)).
		WithMessages(func(q *ent.SupportMessageQuery) {
			q.Where(supportmessage.Internal(false)).Order(ent.Asc(supportmessage.FieldCreatedAt), ent.Asc(supportmessage.FieldID))
		}).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return th, err
}

// tabWhere is the filter of a queue tab for the staff member.
func tabWhere(tab string, staffID int) predicate.SupportThread {
	switch tab {
	case TabUnassigned:
		return supportthread.And(supportthread.StatusNEQ(supportthread.StatusClosed), supportthread.AssigneeIDIsNil())
	case TabMine:
		return supportthread.And(supportthread.StatusNEQ(supportthread.StatusClosed), supportthread.AssigneeID(staffID))
	case TabWaiting:
		return supportthread.StatusEQ(supportthread.StatusAnswered)
	case TabResolved:
		return supportthread.StatusEQ(supportthread.StatusClosed)
	}
	return supportthread.StatusNEQ(supportthread.StatusClosed)
}

// ValidTab is tab when it names a queue tab, else TabUnassigned.
func ValidTab(tab string) string {
	if slices.Contains(Tabs, tab) {
		return tab
	}
	return TabUnassigned
}

// Queue lists the threads of a kind in a tab for the staff member (who must hold the
// kind's read permission), with their members and assignees: open ones oldest first
// (who waits longest comes first), resolved ones latest first.
func (s *Service) Queue(ctx context.Context, staffID int, kind, tab string) ([]*ent.SupportThread, error) {
	kind = kindOf(kind)
	if !s.can(staffID, ReadPerm(kind)) {
		return nil, ErrForbidden
	}
	tab = ValidTab(tab)
	order := ent.Asc(supportthread.FieldUpdatedAt)
	if tab == TabResolved {
		order = ent.Desc(supportthread.FieldUpdatedAt)
	}
	return s.db.SupportThread.Query().
		Where(supportthread.KindEQ(supportthread.Kind(kind)), tabWhere(tab, staffID)).
		WithMember().WithAssignee().Order(order, ent.Asc(supportthread.FieldID)).Limit(MaxList).All(ctx)
}

// Counts is how many threads of a kind each queue tab holds for the staff member.
func (s *Service) Counts(ctx context.Context, staffID int, kind string) (map[string]int, error) {
	kind = kindOf(kind)
	if !s.can(staffID, ReadPerm(kind)) {
		return nil, ErrForbidden
	}
	out := map[string]int{}
	for _, tab := range Tabs {
		n, err := s.db.SupportThread.Query().Where(supportthread.KindEQ(supportthread.Kind(kind)), tabWhere(tab, staffID)).Count(ctx)
		if err != nil {
			return nil, err
		}
		out[tab] = n
	}
	return out, nil
}

// StaffThread is a thread the staff member may read, with its member, assignee and
// every message (internal notes included) with its author, oldest first. A thread of
// a kind they do not handle is ErrForbidden.
func (s *Service) StaffThread(ctx context.Context, staffID, id int) (*ent.SupportThread, error) {
	if _, err := s.staffThread(ctx, s.db, staffID, id, ReadPerm); err != nil {
		return nil, err
	}
	return s.db.SupportThread.Query().Where(supportthread.ID(id)).WithMember().WithAssignee().
		WithMessages(func(q *ent.SupportMessageQuery) {
			q.WithAuthor().Order(ent.Asc(supportmessage.FieldCreatedAt), ent.Asc(supportmessage.FieldID))
		}).Only(ctx)
}

// Assignees are the platform staff who can answer threads of the kind, by name.
func (s *Service) Assignees(ctx context.Context, kind string) ([]*ent.Member, error) {
	rows, err := s.db.Staff.Query().Where(staff.PartnerIDIsNil()).WithMember().All(ctx)
	if err != nil {
		return nil, err
	}
	perm := WritePerm(kind)
	seen := map[int]bool{}
	var out []*ent.Member
	for _, r := range rows {
		m := r.Edges.Member
		if m == nil || seen[m.ID] || !s.can(m.ID, perm) {
			continue
		}
		seen[m.ID] = true
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *ent.Member) int { return a.ID - b.ID })
	return out, nil
}

// FirstResponse is how long the member waited for the first answer; ok is false while
// nobody has answered.
func FirstResponse(th *ent.SupportThread) (d time.Duration, ok bool) {
	if th.FirstResponseAt == nil {
		return 0, false
	}
	return th.FirstResponseAt.Sub(th.CreatedAt), true
}

// Resolution is how long the thread took from opening to its resolution; ok is false
// while it is not resolved.
func Resolution(th *ent.SupportThread) (d time.Duration, ok bool) {
	if th.ResolvedAt == nil {
		return 0, false
	}
	return th.ResolvedAt.Sub(th.CreatedAt), true
}

// Stats are the care service's figures for the dashboard.
type Stats struct {
	// Open and Unassigned count the threads not resolved now (both kinds).
	Open, Unassigned int
	// Answered counts the threads opened in the period that got a first response, and
	// FirstResponseMedian / FirstResponseAvg are their first response times, seconds.
	Answered                              int
	FirstResponseMedian, FirstResponseAvg int64
	// Resolved counts the threads resolved in the period, and ResolutionMedian /
	// ResolutionAvg are their times from opening to resolution, seconds.
	Resolved                        int
	ResolutionMedian, ResolutionAvg int64
}

// Stats computes the figures for threads opened (first response) or resolved
// (resolution) in [from, to).
func (s *Service) Stats(ctx context.Context, from, to time.Time) (Stats, error) {
	var st Stats
	var err error
	open := supportthread.StatusNEQ(supportthread.StatusClosed)
	if st.Open, err = s.db.SupportThread.Query().Where(open).Count(ctx); err != nil {
		return st, err
	}
	if st.Unassigned, err = s.db.SupportThread.Query().Where(open, supportthread.AssigneeIDIsNil()).Count(ctx); err != nil {
		return st, err
	}
	cols := []string{supportthread.FieldID, supportthread.FieldCreatedAt, supportthread.FieldFirstResponseAt, supportthread.FieldResolvedAt}
	answered, err := s.db.SupportThread.Query().Where(supportthread.CreatedAtGTE(from), supportthread.CreatedAtLT(to),
		supportthread.FirstResponseAtNotNil()).Select(cols...).All(ctx)
	if err != nil {
		return st, err
	}
	var firsts []int64
	for _, th := range answered {
		if d, ok := FirstResponse(th); ok {
			firsts = append(firsts, int64(d/time.Second))
		}
	}
	st.Answered = len(firsts)
	st.FirstResponseMedian, st.FirstResponseAvg = medianAvg(firsts)
	resolved, err := s.db.SupportThread.Query().Where(supportthread.ResolvedAtGTE(from), supportthread.ResolvedAtLT(to)).
		Select(cols...).All(ctx)
	if err != nil {
		return st, err
	}
	var times []int64
	for _, th := range resolved {
		if d, ok := Resolution(th); ok {
			times = append(times, int64(d/time.Second))
		}
	}
	st.Resolved = len(times)
	st.ResolutionMedian, st.ResolutionAvg = medianAvg(times)
	return st, nil
}

// medianAvg is the median (the lower middle of an even count) and the mean, rounded
// down; zero for none.
func medianAvg(v []int64) (median, avg int64) {
	if len(v) == 0 {
		return 0, 0
	}
	slices.Sort(v)
	var sum int64
	for _, x := range v {
		sum += x
	}
	return v[(len(v)-1)/2], sum / int64(len(v))
}
