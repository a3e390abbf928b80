// Package claims keeps members' formal written claims (§9.1): filing with a receipt,
// the 30-calendar-day deadline counted in Asia/Almaty, staff assignment and the written
// answer, the reminders before the deadline and the counts the dashboard shows.
package claims

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"

	"ikra/app/audit"
	"ikra/app/images"
	"ikra/app/media"
	"ikra/app/notify"
	"ikra/app/store"
	"ikra/app/zone"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/claim"
	"ikra/ent/member"
	"ikra/ent/partner"
	"ikra/ent/staff"
)

// Errors a caller can tell apart.
var (
	// ErrNotFound means no such claim (for this member, when a member asks).
	ErrNotFound = errors.New("claims: not found")
	// ErrAnswered means the claim has been answered already and is closed.
	ErrAnswered = errors.New("claims: already answered")
	// ErrNotStaff means the chosen assignee cannot handle claims.
	ErrNotStaff = errors.New("claims: the assignee is not claims staff")
)

// Invalid is a validation error: field names mapped to message keys.
type Invalid map[string]string

func (e Invalid) Error() string {
	var parts []string
	for f, k := range e {
		parts = append(parts, f+": "+k)
	}
	return "claims: invalid input (" + strings.Join(parts, ", ") + ")"
}

// Length limits of a claim and its answer, in characters.
const (
	MaxSubject = 200
	MaxBody    = 10000
	MaxAnswer  = 20000
)

// Days is the time a claim must be answered in: 30 calendar days (§9.1).
const Days = 30

// Almaty is the zone the deadline is counted in.
var Almaty = zone.Almaty

// DueAt is the deadline of a claim received at t: the end (23:59:59) of the 30th
// calendar day after the day of receipt, days counted on the Asia/Almaty calendar. The
// day of receipt itself does not count, as with any term counted in days: a claim
// received on 31 January 2026 (Almaty) is due by 2 March 2026 23:59:59 Almaty, one
// received at 00:30 Almaty on 1 March (still 28 February in UTC) by 31 March.
func DueAt(t time.Time) time.Time {
	y, m, d := t.In(Almaty).Date()
	return time.Date(y, m, d+Days+1, 0, 0, 0, 0, Almaty).Add(-time.Second)
}

// Number is the claim's receipt number the member and staff quote: "C-" and the ID
// with at least six digits (C-000123).
func Number(id int) string { return fmt.Sprintf("C-%06d", id) }

// ParseNumber reads a receipt number ("C-000123", "c123" or "123") back into an ID.
func ParseNumber(s string) (int, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(s, "C"), "c"), "-")
	id, err := strconv.Atoi(s)
	return id, err == nil && id > 0
}

// Texts translates a message key into a language (the i18n catalog's T).
type Texts func(lang, key string, args ...any) string

// Service files, assigns, answers and reminds of claims.
type Service struct {
	db      *ent.Client
	dialect string
	objects media.Store
	images  *images.Service
	log     *slog.Logger
	notify  *notify.Service
	texts   Texts
	now     func() time.Time
}

// New returns the claims service on a database of dialect (store.DB.Dialect); n writes
// the members' and staff's notifications, t translates them.
func New(db *ent.Client, d string, n *notify.Service, t Texts) *Service {
	return &Service{db: db, dialect: d, notify: n, texts: t, now: time.Now}
}

// SetMedia lets claims carry image attachments: checked and encoded again by im, kept
// in objects under "claims/<claim id>/<random>.jpg".
func (s *Service) SetMedia(objects media.Store, im *images.Service, log *slog.Logger) {
	s.objects, s.images, s.log = objects, im, log
}

// MaxAttachments is how many images one claim may carry.
const MaxAttachments = 3

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) t(lang, key string, args ...any) string {
	if s.texts == nil {
		return key
	}
	return s.texts(lang, key, args...)
}

// Filing is what a member files.
type Filing struct {
	MemberID  int
	Subject   string
	Body      string
	BookingID int    // 0: none; must be the member's own
	PartnerID int    // 0: none
	Channel   string // web, tg or bot
	// Attachments are the images' bytes as uploaded (at most MaxAttachments).
	Attachments [][]byte
}

func clean(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// File records a claim received now and, in the same transaction, the member's receipt
// notification with its number and deadline. A booking named must be the member's own,
// a partner named must exist.
func (s *Service) File(ctx context.Context, f Filing) (*ent.Claim, error) {
	f.Subject, f.Body = clean(f.Subject), clean(f.Body)
	bad := Invalid{}
	switch n := utf8.RuneCountInString(f.Subject); {
	case n == 0:
		bad["subject"] = "claims.error.required"
	case n > MaxSubject:
		bad["subject"] = "claims.error.too_long"
	}
	switch n := utf8.RuneCountInString(f.Body); {
	case n == 0:
		bad["body"] = "claims.error.required"
	case n > MaxBody:
		bad["body"] = "claims.error.too_long"
	}
	switch f.Channel {
	case "web", "tg", "bot":
	default:
		f.Channel = "web"
	}
	var pics []images.Cleaned
	switch {
	case len(f.Attachments) > MaxAttachments:
		bad["files"] = "claims.error.too_many_files"
	case len(f.Attachments) > 0 && s.images == nil:
		bad["files"] = "claims.error.files_off"
	}
	for _, b := range f.Attachments {
		if _, dup := bad["files"]; dup {
			break
		}
		c, err := s.images.Clean(ctx, bytes.NewReader(b), int64(len(b)))
		var refused *images.Refusal
		if errors.As(err, &refused) {
			bad["files"] = refused.Key
			break
		}
		if err != nil {
			return nil, err
		}
		pics = append(pics, c)
	}
	var out *ent.Claim
	var stored []string
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		if f.BookingID != 0 {
			b, err := tx.Booking.Query().Where(booking.ID(f.BookingID), booking.MemberID(f.MemberID)).Only(ctx)
			switch {
			case ent.IsNotFound(err):
				bad["booking"] = "claims.error.booking"
			case err != nil:
				return err
			case f.PartnerID == 0:
				f.PartnerID = b.PartnerID
			}
		}
		if f.PartnerID != 0 {
			_, err := tx.Partner.Get(ctx, f.PartnerID)
			if ent.IsNotFound(err) {
				bad["partner"] = "claims.error.partner"
			} else if err != nil {
				return err
			}
		}
		if len(bad) > 0 {
			return bad
		}
		m, err := tx.Member.Get(ctx, f.MemberID)
		if err != nil {
			return err
		}
		now := s.now()
		c := tx.Claim.Create().SetMemberID(f.MemberID).SetSubject(f.Subject).SetBody(f.Body).
			SetDueAt(DueAt(now)).SetCreatedAt(now).SetChannel(claim.Channel(f.Channel))
		if f.BookingID != 0 {
			c.SetBookingID(f.BookingID)
		}
		if f.PartnerID != 0 {
			c.SetPartnerID(f.PartnerID)
		}
		if out, err = c.Save(ctx); err != nil {
			return err
		}
		for _, p := range pics {
			key, err := attachmentKey(out.ID, p.Ext)
			if err != nil {
				return err
			}
			if err := s.objects.Put(ctx, key, bytes.NewReader(p.Data), int64(len(p.Data)), p.ContentType); err != nil {
				return fmt.Errorf("claims: store attachment: %w", err)
			}
			stored = append(stored, key)
		}
		if len(stored) > 0 {
			if out, err = tx.Claim.UpdateOne(out).SetAttachments(stored).Save(ctx); err != nil {
				return err
			}
		}
		_, err = s.notify.AddTx(ctx, tx, notify.Message{
			MemberID: f.MemberID, Kind: "claim.received", DedupKey: fmt.Sprintf("claim:%d:received", out.ID),
			Title: s.t(m.Language, "notify.claim.received.title", Number(out.ID)),
			Body:  s.t(m.Language, "notify.claim.received.body", f.Subject, out.DueAt.In(Almaty).Format("02.01.2006")),
			Link:  "/app/claims/" + strconv.Itoa(out.ID),
		})
		return err
	})
	if err != nil {
		for _, key := range stored {
			if derr := s.objects.Delete(context.WithoutCancel(ctx), key); derr != nil && s.log != nil {
				s.log.Warn("orphan claim attachment not removed", "key", key, "err", derr)
			}
		}
		return nil, err
	}
	return out, nil
}

// attachmentKey is "claims/<claim id>/<32 random hex digits><ext>".
func attachmentKey(claimID int, ext string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "claims/" + strconv.Itoa(claimID) + "/" + hex.EncodeToString(b) + ext, nil
}

// Attachment opens an image attached to a claim, by its file name: for the member who
// filed the claim (memberID), or for staff (memberID 0; the caller checks claims:read).
// Anything else, another member's claim included, is ErrNotFound.
func (s *Service) Attachment(ctx context.Context, memberID, claimID int, name string) (io.ReadCloser, media.Object, error) {
	if s.objects == nil {
		return nil, media.Object{}, ErrNotFound
	}
	q := s.db.Claim.Query().Where(claim.ID(claimID))
	if memberID != 0 {
		q.Where(claim.MemberID(memberID))
	}
	c, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, media.Object{}, ErrNotFound
	}
	if err != nil {
		return nil, media.Object{}, err
	}
	for _, key := range c.Attachments {
		if path.Base(key) == name {
			r, obj, err := s.objects.Get(ctx, key)
			if errors.Is(err, media.ErrNotFound) {
				return nil, media.Object{}, ErrNotFound
			}
			return r, obj, err
		}
	}
	return nil, media.Object{}, ErrNotFound
}

// Files are the file names of a claim's attachments, for links.
func Files(c *ent.Claim) []string {
	out := make([]string, len(c.Attachments))
	for i, key := range c.Attachments {
		out[i] = path.Base(key)
	}
	return out
}

// Mine lists the member's claims, newest first.
func (s *Service) Mine(ctx context.Context, memberID int) ([]*ent.Claim, error) {
	return s.db.Claim.Query().Where(claim.MemberID(memberID)).
		Order(ent.Desc(claim.FieldCreatedAt), ent.Desc(claim.FieldID)).Limit(200).All(ctx)
}

// MineOne returns the member's own claim; another member's is ErrNotFound.
func (s *Service) MineOne(ctx context.Context, memberID, id int) (*ent.Claim, error) {
	c, err := s.db.Claim.Query().Where(claim.ID(id), claim.MemberID(memberID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return c, err
}

// Views a staff list can show.
const (
	ViewOpen     = "open"     // not answered yet, the nearest deadline first
	ViewMine     = "mine"     // open and assigned to the viewer
	ViewOverdue  = "overdue"  // open past the deadline
	ViewAnswered = "answered" // answered, the latest first
)

// List is the staff's list of claims in one view (ViewOpen when unknown); me is the
// viewing staff member, for ViewMine.
func (s *Service) List(ctx context.Context, view string, me int) ([]*ent.Claim, error) {
	q := s.db.Claim.Query().WithMember()
	now := s.now()
	switch view {
	case ViewMine:
		q.Where(claim.StatusNEQ(claim.StatusAnswered), claim.AssigneeID(me)).Order(ent.Asc(claim.FieldDueAt))
	case ViewOverdue:
		q.Where(claim.StatusNEQ(claim.StatusAnswered), claim.DueAtLT(now)).Order(ent.Asc(claim.FieldDueAt))
	case ViewAnswered:
		q.Where(claim.StatusEQ(claim.StatusAnswered)).Order(ent.Desc(claim.FieldAnsweredAt))
	default:
		q.Where(claim.StatusNEQ(claim.StatusAnswered)).Order(ent.Asc(claim.FieldDueAt))
	}
	return q.Order(ent.Asc(claim.FieldID)).Limit(500).All(ctx)
}

// Get returns a claim for staff, with its member.
func (s *Service) Get(ctx context.Context, id int) (*ent.Claim, error) {
	c, err := s.db.Claim.Query().Where(claim.ID(id)).WithMember().WithAnsweredBy().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return c, err
}

// Handlers lists the staff who may be assigned claims: members holding the support or
// superadmin platform role.
func (s *Service) Handlers(ctx context.Context) ([]*ent.Member, error) {
	ids, err := s.handlerIDs(ctx, s.db, staff.RoleSupport, staff.RoleSuperadmin)
	if err != nil {
		return nil, err
	}
	return s.db.Member.Query().Where(member.IDIn(ids...)).All(ctx)
}

func (s *Service) handlerIDs(ctx context.Context, db *ent.Client, roles ...staff.Role) ([]int, error) {
	rows, err := db.Staff.Query().Where(staff.PartnerIDIsNil(), staff.RoleIn(roles...)).All(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[int]bool{}
	var ids []int
	for _, r := range rows {
		if !seen[r.MemberID] {
			seen[r.MemberID] = true
			ids = append(ids, r.MemberID)
		}
	}
	return ids, nil
}

// change runs fn on the claim locked for update (on PostgreSQL) and records the audit
// entry with before and after in the same transaction.
func (s *Service) change(ctx context.Context, actor audit.Entry, id int, action string, fn func(tx *ent.Tx, c *ent.Claim) (map[string]any, map[string]any, error)) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		q := tx.Claim.Query().Where(claim.ID(id))
		if s.dialect == dialect.Postgres {
			q.ForUpdate() // SQLite transactions hold the write lock already
		}
		c, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		before, after, err := fn(tx, c)
		if err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = action, "claim", strconv.Itoa(id)
		actor.Before, actor.After = before, after
		return audit.Record(ctx, tx.Client(), actor)
	})
}

func idOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// Assign gives the claim to a staff member who handles claims (support or superadmin);
// an answered claim stays as it is.
func (s *Service) Assign(ctx context.Context, actor audit.Entry, id, assigneeID int) error {
	return s.change(ctx, actor, id, "claim.assign", func(tx *ent.Tx, c *ent.Claim) (map[string]any, map[string]any, error) {
		if c.Status == claim.StatusAnswered {
			return nil, nil, ErrAnswered
		}
		ids, err := s.handlerIDs(ctx, tx.Client(), staff.RoleSupport, staff.RoleSuperadmin)
		if err != nil {
			return nil, nil, err
		}
		if !contains(ids, assigneeID) {
			return nil, nil, ErrNotStaff
		}
		if err := tx.Claim.UpdateOne(c).SetAssigneeID(assigneeID).Exec(ctx); err != nil {
			return nil, nil, err
		}
		return map[string]any{"assignee_id": idOrNil(c.AssigneeID)}, map[string]any{"assignee_id": assigneeID}, nil
	})
}

// Start marks a received claim in progress (taking it when nobody has it).
func (s *Service) Start(ctx context.Context, actor audit.Entry, id int) error {
	return s.change(ctx, actor, id, "claim.start", func(tx *ent.Tx, c *ent.Claim) (map[string]any, map[string]any, error) {
		if c.Status == claim.StatusAnswered {
			return nil, nil, ErrAnswered
		}
		u := tx.Claim.UpdateOne(c).SetStatus(claim.StatusInProgress)
		after := map[string]any{"status": string(claim.StatusInProgress)}
		if c.AssigneeID == nil && actor.ActorID != nil {
			u.SetAssigneeID(*actor.ActorID)
			after["assignee_id"] = *actor.ActorID
		}
		return map[string]any{"status": string(c.Status), "assignee_id": idOrNil(c.AssigneeID)}, after, u.Exec(ctx)
	})
}

// Answer keeps the written answer, closes the claim and, in the same transaction, sends
// the member the answer (cabinet and Telegram).
func (s *Service) Answer(ctx context.Context, actor audit.Entry, id int, text string) error {
	text = clean(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return Invalid{"answer": "claims.error.required"}
	case n > MaxAnswer:
		return Invalid{"answer": "claims.error.too_long"}
	}
	return s.change(ctx, actor, id, "claim.answer", func(tx *ent.Tx, c *ent.Claim) (map[string]any, map[string]any, error) {
		if c.Status == claim.StatusAnswered {
			return nil, nil, ErrAnswered
		}
		now := s.now()
		u := tx.Claim.UpdateOne(c).SetStatus(claim.StatusAnswered).SetAnswer(text).SetAnsweredAt(now)
		if actor.ActorID != nil {
			u.SetAnsweredByID(*actor.ActorID)
			if c.AssigneeID == nil {
				u.SetAssigneeID(*actor.ActorID)
			}
		}
		if err := u.Exec(ctx); err != nil {
			return nil, nil, err
		}
		m, err := tx.Member.Get(ctx, c.MemberID)
		if err != nil {
			return nil, nil, err
		}
		_, err = s.notify.AddTx(ctx, tx, notify.Message{
			MemberID: c.MemberID, Kind: "claim.answered", DedupKey: fmt.Sprintf("claim:%d:answered", c.ID),
			Title: s.t(m.Language, "notify.claim.answered.title", Number(c.ID)),
			Body:  text,
			Link:  "/app/claims/" + strconv.Itoa(c.ID),
		})
		return map[string]any{"status": string(c.Status)},
			map[string]any{"status": string(claim.StatusAnswered), "answer_chars": utf8.RuneCountInString(text)}, err
	})
}

func contains(ids []int, id int) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Reminder windows before the deadline.
const (
	Window7d = 7 * 24 * time.Hour
	Window1d = 24 * time.Hour
)

// Remind sends the reminders due at now, once per claim and stage, and reports how many
// claims it reminded of. A claim not yet answered is reminded of when its deadline is
// within 7 days (while more than a day is left), and again within 1 day (also when
// already overdue and never reminded). The reminder goes to the assignee; an unassigned
// claim's goes to every member with the support role (to the superadmins when the
// platform has no support staff). Each stage is claimed by a conditional update
// (reminded_7d_at IS NULL) in the same transaction as its notifications, so two workers
// running at once, or a job run twice, send it once; the dedup keys
// (claim:<id>:remind7:<staff id>) make a replay harmless as well.
func (s *Service) Remind(ctx context.Context, now time.Time) (int, error) {
	n := 0
	stages := []struct {
		name   string
		window time.Duration
		query  func() *ent.ClaimQuery
	}{
		{"7", Window7d, func() *ent.ClaimQuery {
			return s.db.Claim.Query().Where(claim.StatusNEQ(claim.StatusAnswered), claim.Reminded7dAtIsNil(),
				claim.DueAtLTE(now.Add(Window7d)), claim.DueAtGT(now.Add(Window1d)))
		}},
		{"1", Window1d, func() *ent.ClaimQuery {
			return s.db.Claim.Query().Where(claim.StatusNEQ(claim.StatusAnswered), claim.Reminded1dAtIsNil(),
				claim.DueAtLTE(now.Add(Window1d)))
		}},
	}
	for _, st := range stages {
		due, err := st.query().Order(ent.Asc(claim.FieldDueAt)).Limit(1000).All(ctx)
		if err != nil {
			return n, err
		}
		for _, c := range due {
			sent, err := s.remindOne(ctx, c, st.name, now)
			if err != nil {
				return n, err
			}
			if sent {
				n++
			}
		}
	}
	return n, nil
}

func (s *Service) remindOne(ctx context.Context, c *ent.Claim, stage string, now time.Time) (bool, error) {
	sent := false
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		u := tx.Claim.Update().Where(claim.ID(c.ID), claim.StatusNEQ(claim.StatusAnswered))
		if stage == "7" {
			u.Where(claim.Reminded7dAtIsNil()).SetReminded7dAt(now)
		} else {
			u.Where(claim.Reminded1dAtIsNil()).SetReminded1dAt(now)
		}
		taken, err := u.Save(ctx)
		if err != nil || taken == 0 {
			return err // another worker has sent it, or the claim was answered meanwhile
		}
		var to []int
		if c.AssigneeID != nil {
			to = []int{*c.AssigneeID}
		} else {
			if to, err = s.handlerIDs(ctx, tx.Client(), staff.RoleSupport); err != nil {
				return err
			}
			if len(to) == 0 {
				if to, err = s.handlerIDs(ctx, tx.Client(), staff.RoleSuperadmin); err != nil {
					return err
				}
			}
		}
		for _, id := range to {
			m, err := tx.Member.Get(ctx, id)
			if err != nil {
				return err
			}
			_, err = s.notify.AddTx(ctx, tx, notify.Message{
				MemberID: id, Kind: "claim.reminder", DedupKey: fmt.Sprintf("claim:%d:remind%s:%d", c.ID, stage, id),
				Title: s.t(m.Language, "notify.claim.reminder.title", Number(c.ID)),
				Body:  s.t(m.Language, "notify.claim.reminder.body", c.Subject, c.DueAt.In(Almaty).Format("02.01.2006 15:04")),
				Link:  "/admin/claims/" + strconv.Itoa(c.ID),
			})
			if err != nil {
				return err
			}
		}
		sent = true
		return nil
	})
	return sent, err
}

// Overdue counts the claims not answered whose deadline has passed at now (the
// dashboard's flag).
func (s *Service) Overdue(ctx context.Context, now time.Time) (int, error) {
	return s.db.Claim.Query().Where(claim.StatusNEQ(claim.StatusAnswered), claim.DueAtLT(now)).Count(ctx)
}

// Stats are the dashboard's claim figures.
type Stats struct {
	Received  int // filed in [from, to)
	Answered  int // answered in [from, to)
	DueSoon   int // open now, deadline within 7 days and not passed
	Overdue   int // open now, deadline passed
	OpenTotal int // open now
}

// Stats counts claims received and answered in [from, to), and those open now that are
// due within 7 days or overdue.
func (s *Service) Stats(ctx context.Context, from, to time.Time) (Stats, error) {
	var st Stats
	var err error
	now := s.now()
	if st.Received, err = s.db.Claim.Query().Where(claim.CreatedAtGTE(from), claim.CreatedAtLT(to)).Count(ctx); err != nil {
		return st, err
	}
	if st.Answered, err = s.db.Claim.Query().Where(claim.AnsweredAtGTE(from), claim.AnsweredAtLT(to)).Count(ctx); err != nil {
		return st, err
	}
	open := claim.StatusNEQ(claim.StatusAnswered)
	if st.DueSoon, err = s.db.Claim.Query().Where(open, claim.DueAtGTE(now), claim.DueAtLTE(now.Add(Window7d))).Count(ctx); err != nil {
		return st, err
	}
	if st.Overdue, err = s.Overdue(ctx, now); err != nil {
		return st, err
	}
	st.OpenTotal, err = s.db.Claim.Query().Where(open).Count(ctx)
	return st, err
}

// DaysLeft is how many whole Almaty calendar days are left until the deadline at now:
// 0 on the last day, negative once overdue.
func DaysLeft(due, now time.Time) int {
	dy, dm, dd := due.In(Almaty).Date()
	ny, nm, nd := now.In(Almaty).Date()
	a := time.Date(dy, dm, dd, 12, 0, 0, 0, time.UTC)
	b := time.Date(ny, nm, nd, 12, 0, 0, 0, time.UTC)
	d := int(a.Sub(b).Hours() / 24)
	if d == 0 && now.After(due) {
		return -1
	}
	return d
}

// Choice is an option of the filing form: a booking or a partner the claim may be about.
type Choice struct {
	ID    int
	Label string
}

// Choices are what the member's filing form offers: their own latest bookings (code,
// offer and partner) and the active partners by name.
func (s *Service) Choices(ctx context.Context, memberID int) (bookings, partners []Choice, err error) {
	bs, err := s.db.Booking.Query().Where(booking.MemberID(memberID)).WithOffer().WithPartner().
		Order(ent.Desc(booking.FieldCreatedAt)).Limit(100).All(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, b := range bs {
		label := b.Code
		if b.Edges.Offer != nil {
			label += " · " + b.Edges.Offer.Title
		}
		if b.Edges.Partner != nil {
			label += " · " + b.Edges.Partner.Name
		}
		bookings = append(bookings, Choice{ID: b.ID, Label: label})
	}
	ps, err := s.db.Partner.Query().Where(partner.StatusEQ(partner.StatusActive)).
		Order(ent.Asc(partner.FieldName)).Limit(500).All(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range ps {
		partners = append(partners, Choice{ID: p.ID, Label: p.Name})
	}
	return bookings, partners, nil
}

// About names what the claim is about: the booking's code and the partner's name, each
// empty when the claim names none.
func (s *Service) About(ctx context.Context, c *ent.Claim) (bookingCode, partnerName string, err error) {
	if c.BookingID != nil {
		b, err := s.db.Booking.Get(ctx, *c.BookingID)
		if err != nil && !ent.IsNotFound(err) {
			return "", "", err
		}
		if b != nil {
			bookingCode = b.Code
		}
	}
	if c.PartnerID != nil {
		p, err := s.db.Partner.Get(ctx, *c.PartnerID)
		if err != nil && !ent.IsNotFound(err) {
			return "", "", err
		}
		if p != nil {
			partnerName = p.Name
		}
	}
	return bookingCode, partnerName, nil
}
