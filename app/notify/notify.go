// Package notify keeps members' service notifications: it stores each one once, under
// its business key, shows them in the cabinet, and hands them to a background job for
// delivery to Telegram. A notification whose job was never enqueued is found again by
// the Redeliver sweep, so none is lost.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"ikra/app/cache"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/notification"
)

// MaxAttempts is how many delivery attempts a notification gets before the sweep gives up.
const MaxAttempts = 10

// PermanentPrefix starts telegram_error when Telegram refused the message for good
// (bot blocked, chat not found); such notifications are not swept again.
const PermanentPrefix = "permanent: "

// Errors a caller can tell apart.
var (
	// ErrNotFound means no such notification for this member.
	ErrNotFound = errors.New("notify: not found")
	// ErrInvalid means the message lacks a required field; the error names it.
	ErrInvalid = errors.New("notify: invalid message")
	// ErrDedupConflict means the dedup key is already used by another member's notification.
	ErrDedupConflict = errors.New("notify: dedup key belongs to another member")
)

// Message is a notification to create.
type Message struct {
	MemberID int
	// Kind names the event, e.g. "booking.answered"; the cabinet may pick an icon by it.
	Kind string
	// DedupKey is the business key: the same key never makes a second notification,
	// e.g. "booking:42:answered".
	DedupKey string
	Title    string
	Body     string
	// Link is a path inside the site ("/app/bookings/42") or empty.
	Link string
	// Delivered marks a message the member already has in their Telegram chat (the
	// bot answered there itself): it is stored for the cabinet and never sent again.
	Delivered bool
}

func (m Message) validate() error {
	var missing []string
	if m.MemberID <= 0 {
		missing = append(missing, "member_id")
	}
	if strings.TrimSpace(m.Kind) == "" {
		missing = append(missing, "kind")
	}
	if strings.TrimSpace(m.DedupKey) == "" {
		missing = append(missing, "dedup_key")
	}
	if strings.TrimSpace(m.Title) == "" && strings.TrimSpace(m.Body) == "" {
		missing = append(missing, "body")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrInvalid, strings.Join(missing, ", "))
	}
	return nil
}

// Enqueuer schedules the Telegram delivery of a stored notification. Enqueuing the
// same notification twice must be harmless.
type Enqueuer interface {
	EnqueueDelivery(ctx context.Context, notificationID int) error
}

// Service creates, lists and marks notifications.
type Service struct {
	db     *ent.Client
	q      Enqueuer
	log    *slog.Logger
	now    func() time.Time
	unread *cache.ByID[int] // by member
}

// UseCache keeps each member's unread count in memory, forgotten through b on every
// node when a notification of theirs is written (any change that does not name the
// member, such as marking read, forgets every count).
func (s *Service) UseCache(b *cache.Bus) {
	s.unread = cache.NewByID(b, time.Minute, 100_000, s.countUnread, "Notification.member_id")
}

// New returns the notification service. q may be nil when nothing delivers to Telegram.
func New(db *ent.Client, q Enqueuer) *Service {
	return &Service{db: db, q: q, log: slog.Default(), now: time.Now}
}

// SetLogger sets where failures to enqueue a delivery after a commit are logged.
func (s *Service) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}

// AddTx stores the notification inside the caller's transaction, so that it commits
// with the event that causes it (an outbox): once the event is there, so is its
// notification, and the Redeliver sweep finds it whatever happens after the commit.
// A message whose DedupKey is already stored returns the stored notification and
// writes nothing.
//
// Delivery is enqueued when the transaction commits, also for a stored notification
// that has not been sent yet (a retried event makes sure its notification is on its
// way). That enqueue is best effort: a failure is logged and the sweep covers it.
// Callers serialise events with the same key (the key names one event of one member,
// whose row lock or registration the transaction holds).
func (s *Service) AddTx(ctx context.Context, tx *ent.Tx, m Message) (*ent.Notification, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	n, err := tx.Notification.Query().Where(notification.DedupKey(m.DedupKey)).Only(ctx)
	switch {
	case err == nil:
		if n.MemberID != m.MemberID {
			return nil, ErrDedupConflict
		}
	case ent.IsNotFound(err):
		n, err = tx.Notification.Create().
			SetMemberID(m.MemberID).
			SetKind(m.Kind).
			SetDedupKey(m.DedupKey).
			SetTitle(m.Title).
			SetBody(m.Body).
			SetLink(m.Link).
			SetCreatedAt(s.now()).
			SetNillableTelegramSentAt(deliveredAt(m, s.now())).
			Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("notify: create: %w", err)
		}
	default:
		return nil, fmt.Errorf("notify: find %q: %w", m.DedupKey, err)
	}
	if s.q != nil && n.TelegramSentAt == nil {
		id := n.ID
		tx.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
				if err := next.Commit(ctx, tx); err != nil {
					return err
				}
				s.Enqueue(context.WithoutCancel(ctx), id)
				return nil
			})
		})
	}
	return n, nil
}

// deliveredAt is when a Delivered message reached Telegram (now), nil for the others.
func deliveredAt(m Message, now time.Time) *time.Time {
	if !m.Delivered {
		return nil
	}
	return &now
}

// Enqueue hands stored notifications to the delivery queue, best effort: a failure is
// logged, and the Redeliver sweep enqueues the notification later.
func (s *Service) Enqueue(ctx context.Context, ids ...int) {
	if s.q == nil {
		return
	}
	for _, id := range ids {
		if err := s.q.EnqueueDelivery(ctx, id); err != nil {
			s.log.Warn("notification delivery not enqueued; the sweep will", "notification_id", id, "err", err)
		}
	}
}

// Send stores the notification and enqueues its delivery. A message whose DedupKey
// is already stored returns the stored notification and enqueues nothing. When the
// enqueue fails the notification is still stored and returned together with the error;
// the Redeliver sweep delivers it later.
//
// Send is for notifications that no transaction causes; an event that commits in a
// transaction writes its notification there with AddTx, so that it cannot be lost.
func (s *Service) Send(ctx context.Context, m Message) (*ent.Notification, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if n, err := s.byKey(ctx, m); err == nil || !ent.IsNotFound(err) {
		return n, err
	}
	n, err := s.db.Notification.Create().
		SetMemberID(m.MemberID).
		SetKind(m.Kind).
		SetDedupKey(m.DedupKey).
		SetTitle(m.Title).
		SetBody(m.Body).
		SetLink(m.Link).
		SetCreatedAt(s.now()).
		Save(ctx)
	if ent.IsConstraintError(err) {
		// Either a concurrent Send with the same key won the race (the row is there
		// now and its sender enqueues it), or the member does not exist.
		if n, kerr := s.byKey(ctx, m); kerr == nil || !ent.IsNotFound(kerr) {
			return n, kerr
		}
		return nil, fmt.Errorf("notify: create: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("notify: create: %w", err)
	}
	if s.q != nil {
		if err := s.q.EnqueueDelivery(ctx, n.ID); err != nil {
			return n, fmt.Errorf("notify: enqueue delivery of %d: %w", n.ID, err)
		}
	}
	return n, nil
}

// byKey returns the stored notification with m's dedup key, checking that it is m's
// member's.
func (s *Service) byKey(ctx context.Context, m Message) (*ent.Notification, error) {
	n, err := s.db.Notification.Query().Where(notification.DedupKey(m.DedupKey)).Only(ctx)
	if err != nil {
		return nil, err
	}
	if n.MemberID != m.MemberID {
		return nil, ErrDedupConflict
	}
	return n, nil
}

// Pending lists notifications that still await Telegram delivery: not sent, fewer than
// MaxAttempts attempts, not refused for good, created more than olderThan ago (so jobs
// in flight are left alone), for an active member whose Telegram chat is reachable. Oldest first.
func (s *Service) Pending(ctx context.Context, olderThan time.Duration, limit int) ([]int, error) {
	if limit <= 0 {
		limit = 100
	}
	ids, err := s.db.Notification.Query().
		Where(
			notification.TelegramSentAtIsNil(),
			notification.TelegramAttemptsLT(MaxAttempts),
			notification.Not(notification.TelegramErrorHasPrefix(PermanentPrefix)),
			notification.CreatedAtLTE(s.now().Add(-olderThan)),
			notification.HasMemberWith(member.TelegramIDNotNil(), member.StatusEQ(member.StatusActive),
				member.TelegramUnreachableAtIsNil()),
		).
		Order(ent.Asc(notification.FieldID)).
		Limit(limit).
		IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: pending: %w", err)
	}
	return ids, nil
}

// Redeliver enqueues the delivery of up to limit Pending notifications and returns how
// many it handed to the Enqueuer; for one that still has a job, that is a no-op.
func (s *Service) Redeliver(ctx context.Context, olderThan time.Duration, limit int) (int, error) {
	if s.q == nil {
		return 0, nil
	}
	ids, err := s.Pending(ctx, olderThan, limit)
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.q.EnqueueDelivery(ctx, id); err != nil {
			return i, fmt.Errorf("notify: enqueue delivery of %d: %w", id, err)
		}
	}
	return len(ids), nil
}

// List returns the member's latest notifications, newest first; limit is capped at 100.
func (s *Service) List(ctx context.Context, memberID, limit int) ([]*ent.Notification, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	ns, err := s.db.Notification.Query().
		Where(notification.MemberID(memberID)).
		Order(ent.Desc(notification.FieldCreatedAt), ent.Desc(notification.FieldID)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: list: %w", err)
	}
	return ns, nil
}

// UnreadCount counts the member's unread notifications.
func (s *Service) UnreadCount(ctx context.Context, memberID int) (int, error) {
	if s.unread != nil {
		return s.unread.Get(ctx, memberID)
	}
	return s.countUnread(ctx, memberID)
}

func (s *Service) countUnread(ctx context.Context, memberID int) (int, error) {
	n, err := s.db.Notification.Query().
		Where(notification.MemberID(memberID), notification.ReadAtIsNil()).
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("notify: unread count: %w", err)
	}
	return n, nil
}

// MarkRead marks the member's notification id as read; reading it again keeps the first
// time. Another member's notification is ErrNotFound.
func (s *Service) MarkRead(ctx context.Context, memberID, id int) error {
	n, err := s.db.Notification.Update().
		Where(notification.ID(id), notification.MemberID(memberID), notification.ReadAtIsNil()).
		SetReadAt(s.now()).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("notify: mark read: %w", err)
	}
	if n > 0 {
		return nil
	}
	ok, err := s.db.Notification.Query().Where(notification.ID(id), notification.MemberID(memberID)).Exist(ctx)
	if err != nil {
		return fmt.Errorf("notify: mark read: %w", err)
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// MarkAllRead marks every unread notification of the member as read and returns how many.
func (s *Service) MarkAllRead(ctx context.Context, memberID int) (int, error) {
	n, err := s.db.Notification.Update().
		Where(notification.MemberID(memberID), notification.ReadAtIsNil()).
		SetReadAt(s.now()).
		Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("notify: mark all read: %w", err)
	}
	return n, nil
}

// ForDelivery returns notification id with its member loaded, for the delivery job.
func (s *Service) ForDelivery(ctx context.Context, id int) (*ent.Notification, error) {
	n, err := s.db.Notification.Query().Where(notification.ID(id)).WithMember().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("notify: load %d: %w", id, err)
	}
	return n, nil
}

// BeginAttempt counts a delivery attempt and notes when it began (telegram_attempt_at),
// until MarkSent or MarkFailed records its outcome. It reports false, counting nothing,
// when the notification has been sent meanwhile or another attempt is in flight (or
// was left without an outcome: the caller decides what to do with one in doubt).
func (s *Service) BeginAttempt(ctx context.Context, id int) (bool, error) {
	n, err := s.db.Notification.Update().
		Where(notification.ID(id), notification.TelegramSentAtIsNil(), notification.TelegramAttemptAtIsNil()).
		AddTelegramAttempts(1).
		SetTelegramAttemptAt(s.now()).
		Save(ctx)
	if err != nil {
		return false, fmt.Errorf("notify: count attempt of %d: %w", id, err)
	}
	return n > 0, nil
}

// CancelAttempt takes back the attempt BeginAttempt counted when nothing was sent in
// it (it had to wait for a rate limit): the attempt is neither counted nor in flight.
func (s *Service) CancelAttempt(ctx context.Context, id int) error {
	err := s.db.Notification.Update().
		Where(notification.ID(id), notification.TelegramSentAtIsNil(), notification.TelegramAttemptAtNotNil()).
		AddTelegramAttempts(-1).
		ClearTelegramAttemptAt().
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("notify: cancel attempt of %d: %w", id, err)
	}
	return nil
}

// MarkSent records that Telegram accepted the notification. Only the first call counts;
// it reports whether this call did.
func (s *Service) MarkSent(ctx context.Context, id int) (bool, error) {
	n, err := s.db.Notification.Update().
		Where(notification.ID(id), notification.TelegramSentAtIsNil()).
		SetTelegramSentAt(s.now()).
		SetTelegramError("").
		ClearTelegramAttemptAt().
		Save(ctx)
	if err != nil {
		return false, fmt.Errorf("notify: mark %d sent: %w", id, err)
	}
	return n > 0, nil
}

// MarkFailed records why the last attempt failed and ends it. A permanent failure takes
// the notification out of the Redeliver sweep; MarkFailed with permanent set also gives
// up on a notification that was never attempted (its member cannot be reached).
func (s *Service) MarkFailed(ctx context.Context, id int, reason string, permanent bool) error {
	return s.markFailed(ctx, s.db, id, reason, permanent)
}

func (s *Service) markFailed(ctx context.Context, db *ent.Client, id int, reason string, permanent bool) error {
	if permanent {
		reason = PermanentPrefix + reason
	}
	if len(reason) > 500 {
		reason = strings.ToValidUTF8(reason[:500], "")
	}
	err := db.Notification.Update().
		Where(notification.ID(id), notification.TelegramSentAtIsNil()).
		SetTelegramError(reason).
		ClearTelegramAttemptAt().
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("notify: mark %d failed: %w", id, err)
	}
	return nil
}

// GivenUp reports whether n's delivery to Telegram failed for good (MarkFailed with
// permanent set): it is not attempted again.
func GivenUp(n *ent.Notification) bool { return strings.HasPrefix(n.TelegramError, PermanentPrefix) }

// MarkUnreachable records that Telegram refused the notification because its member
// cannot be written to (they blocked the bot): the notification fails for good and the
// member's chat is marked unreachable (telegram_unreachable_at), so that their later
// notifications are not attempted until they write to the bot or sign in again.
func (s *Service) MarkUnreachable(ctx context.Context, id int, reason string) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		n, err := tx.Notification.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("notify: load %d: %w", id, err)
		}
		if err := s.markFailed(ctx, tx.Client(), id, reason, true); err != nil {
			return err
		}
		err = tx.Member.Update().
			Where(member.ID(n.MemberID), member.TelegramUnreachableAtIsNil()).
			SetTelegramUnreachableAt(s.now()).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("notify: mark member %d unreachable: %w", n.MemberID, err)
		}
		return nil
	})
}
