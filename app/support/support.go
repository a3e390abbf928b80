// Package support is the care service (PRODUCT.md §6.1.2, 24/7) and the concierge
// (§4.2): a member opens a thread from the cabinet, the Mini App or the bot and gets an
// automatic acknowledgement at any hour; support staff (concierge staff for concierge
// requests) take threads from a queue, assign them, reply, leave internal notes, attach
// images and resolve them. Every reply and resolution reaches the member as a
// notification written in the same transaction (cabinet and Telegram, delivered by the
// notification job); every staff action writes an audit entry in that transaction.
// A concierge books the offer of a member's request on their behalf through app/bookings,
// and only for a member who asked (Book).
package support

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"ikra/app/audit"
	"ikra/app/bookings"
	"ikra/app/catalog"
	"ikra/app/images"
	"ikra/app/media"
	"ikra/app/notify"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/supportmessage"
	"ikra/ent/supportthread"
)

// Kinds of thread.
const (
	KindSupport   = string(supportthread.KindSupport)
	KindConcierge = string(supportthread.KindConcierge)
)

// Channels a member writes from; a reply reaches them as a notification in the
// cabinet and in their Telegram chat whichever it is.
const (
	ChannelWeb = string(supportthread.ChannelWeb)
	ChannelTG  = string(supportthread.ChannelTg)
	ChannelBot = string(supportthread.ChannelBot)
)

// Queue tabs.
const (
	TabOpen       = "open"       // not resolved
	TabUnassigned = "unassigned" // not resolved, nobody assigned
	TabMine       = "mine"       // not resolved, assigned to the viewer
	TabWaiting    = "waiting"    // answered: waiting for the member
	TabResolved   = "resolved"   // closed
)

// Tabs are the queue's tabs in the order the back office shows them.
var Tabs = []string{TabUnassigned, TabMine, TabOpen, TabWaiting, TabResolved}

// Limits of what a member or staff member writes.
const (
	MaxSubject = 120
	MaxBody    = 4000
	// MaxAttachments is how many images one message may carry.
	MaxAttachments = 1
)

// Errors a caller can tell apart.
var (
	// ErrNotFound means no such thread (or attachment) for this member or staff member.
	ErrNotFound = errors.New("support: not found")
	// ErrForbidden means the staff member lacks the permission of the thread's kind.
	ErrForbidden = errors.New("support: not allowed for this kind of thread")
	// ErrClosed means the thread is resolved: staff cannot act on it until the member
	// writes again.
	ErrClosed = errors.New("support: the thread is resolved")
	// ErrNotConcierge means a booking on a member's behalf without a concierge request
	// about an offer.
	ErrNotConcierge = errors.New("support: not a concierge request about an offer")
	// ErrAlreadyBooked means the request already has its booking.
	ErrAlreadyBooked = errors.New("support: the request is already booked")
	// ErrAssignee means the chosen assignee cannot handle this kind of thread.
	ErrAssignee = errors.New("support: the assignee cannot take this thread")
)

// Invalid is a refused input: Field names the form field, Key the message shown.
type Invalid struct{ Field, Key string }

func (e *Invalid) Error() string { return "support: invalid " + e.Field + ": " + e.Key }

// ReadPerm is the permission that shows threads of a kind to staff.
func ReadPerm(kind string) string { return kindOf(kind) + ":read" }

// WritePerm is the permission to assign, answer, note and resolve threads of a kind.
func WritePerm(kind string) string { return kindOf(kind) + ":write" }

// BookPerm is the permission to book on a member's behalf.
const BookPerm = "bookings:on-behalf"

func kindOf(kind string) string {
	if kind == KindConcierge {
		return KindConcierge
	}
	return KindSupport
}

// Checker answers whether a member holds a platform permission (the enforcer).
type Checker func(memberID int, perm string) bool

// Upload is an image attached to a message: the bytes R yields, Size as declared (or -1).
type Upload struct {
	R    io.Reader
	Size int64
}

// NewUpload is the upload of r (size bytes as declared), or nil when nothing was sent.
func NewUpload(r io.Reader, size int64) *Upload {
	if r == nil {
		return nil
	}
	return &Upload{R: r, Size: size}
}

// Service runs the care service and the concierge.
type Service struct {
	db       *ent.Client
	notify   *notify.Service
	objects  media.Store
	images   *images.Service
	catalog  *catalog.Service
	bookings *bookings.Service
	can      Checker
	t        func(lang, key string, args ...any) string
	log      *slog.Logger
	now      func() time.Time
}

// New returns the service. can answers the staff's platform permissions.
func New(db *ent.Client, n *notify.Service, objects media.Store, im *images.Service, cat *catalog.Service, bk *bookings.Service, can Checker) *Service {
	return &Service{db: db, notify: n, objects: objects, images: im, catalog: cat, bookings: bk, can: can,
		t: func(_, key string, _ ...any) string { return key }, log: slog.Default(), now: time.Now}
}

// SetTexts sets how the acknowledgement and notifications are translated.
func (s *Service) SetTexts(t func(lang, key string, args ...any) string) {
	if t != nil {
		s.t = t
	}
}

// SetLogger sets the logger.
func (s *Service) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// OpenInput is a new thread.
type OpenInput struct {
	MemberID int
	Subject  string
	Body     string
	Channel  string // web, tg or bot
	Kind     string // support or concierge
	OfferID  int    // the offer a concierge request is about
	Image    *Upload
}

// Open starts a thread with the member's first message, the automatic acknowledgement
// and the acknowledgement's notification, in one transaction. A concierge request must
// name an offer the member may see. For a thread opened in the bot the acknowledgement
// is answered in the chat by the bot itself, so its notification is kept for the
// cabinet only (never sent to Telegram a second time).
func (s *Service) Open(ctx context.Context, in OpenInput) (*ent.SupportThread, *ent.SupportMessage, error) {
	body, err := text("body", in.Body, MaxBody, true)
	if err != nil {
		return nil, nil, err
	}
	subject, err := text("subject", in.Subject, MaxSubject, false)
	if err != nil {
		return nil, nil, err
	}
	if subject == "" {
		subject = clip(firstLine(body), 60)
	}
	kind := kindOf(in.Kind)
	var offerID *int
	if kind == KindConcierge {
		if in.OfferID <= 0 {
			return nil, nil, ErrNotConcierge
		}
		if _, err := s.catalog.Offer(ctx, in.MemberID, in.OfferID); errors.Is(err, catalog.ErrNotFound) {
			return nil, nil, ErrNotFound
		} else if err != nil {
			return nil, nil, err
		}
		offerID = &in.OfferID
	}
	m, err := s.db.Member.Query().Where(member.ID(in.MemberID), member.StatusEQ(member.StatusActive)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	var th *ent.SupportThread
	var ack *ent.SupportMessage
	err = s.withImage(ctx, in.Image, func(tx *ent.Tx, key func(threadID int) (string, error)) error {
		now := s.now()
		th, err = tx.SupportThread.Create().SetMemberID(m.ID).SetSubject(subject).SetKind(supportthread.Kind(kind)).
			SetChannel(channel(in.Channel)).SetNillableOfferID(offerID).SetCreatedAt(now).SetUpdatedAt(now).Save(ctx)
		if err != nil {
			return err
		}
		att, err := attachments(th.ID, key)
		if err != nil {
			return err
		}
		if _, err := tx.SupportMessage.Create().SetThreadID(th.ID).SetAuthorID(m.ID).SetBody(body).
			SetAttachments(att).SetCreatedAt(now).Save(ctx); err != nil {
			return err
		}
		ackText := s.t(m.Language, "support.ack."+kind)
		ack, err = tx.SupportMessage.Create().SetThreadID(th.ID).SetFromStaff(true).SetAutomatic(true).
			SetBody(ackText).SetCreatedAt(now.Add(time.Millisecond)).Save(ctx)
		if err != nil {
			return err
		}
		_, err = s.notify.AddTx(ctx, tx, notify.Message{
			MemberID: m.ID, Kind: "support.ack", DedupKey: "support:" + strconv.Itoa(th.ID) + ":ack",
			Title: s.t(m.Language, "support.notify.ack_title", th.ID), Body: ackText, Link: MemberPath(th.ID),
			Delivered: th.Channel == supportthread.ChannelBot,
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	s.log.Info("support thread opened", "thread_id", th.ID, "member_id", m.ID, "kind", kind, "channel", th.Channel)
	return th, ack, nil
}

// MemberPath is the thread's page in the member cabinet.
func MemberPath(id int) string { return "/app/support/" + strconv.Itoa(id) }

// StaffPath is the thread's page in the back office.
func StaffPath(th *ent.SupportThread) string {
	return "/admin/" + string(th.Kind) + "/" + strconv.Itoa(th.ID)
}

// Write adds the member's message to their thread. A resolved thread opens again; the
// thread's channel becomes the one the member wrote from.
func (s *Service) Write(ctx context.Context, memberID, threadID int, body, ch string, img *Upload) (*ent.SupportMessage, error) {
	if _, err := s.memberThread(ctx, s.db, memberID, threadID); err != nil {
		return nil, err
	}
	body, err := text("body", body, MaxBody, true)
	if err != nil {
		return nil, err
	}
	var msg *ent.SupportMessage
	err = s.withImage(ctx, img, func(tx *ent.Tx, key func(int) (string, error)) error {
		th, err := s.memberThread(ctx, tx.Client(), memberID, threadID)
		if err != nil {
			return err
		}
		att, err := attachments(th.ID, key)
		if err != nil {
			return err
		}
		now := s.now()
		msg, err = tx.SupportMessage.Create().SetThreadID(th.ID).SetAuthorID(memberID).SetBody(body).
			SetAttachments(att).SetCreatedAt(now).Save(ctx)
		if err != nil {
			return err
		}
		u := tx.SupportThread.UpdateOneID(th.ID).SetStatus(supportthread.StatusOpen).SetChannel(channel(ch)).SetUpdatedAt(now)
		if th.Status == supportthread.StatusClosed {
			u.ClearResolvedAt()
		}
		return u.Exec(ctx)
	})
	return msg, err
}

// Active is the member's latest thread of the kind that is not resolved, or
// ErrNotFound.
func (s *Service) Active(ctx context.Context, memberID int, kind string) (*ent.SupportThread, error) {
	th, err := s.db.SupportThread.Query().
		Where(supportthread.MemberID(memberID), supportthread.KindEQ(supportthread.Kind(kindOf(kind))),
			supportthread.StatusNEQ(supportthread.StatusClosed)).
		Order(ent.Desc(supportthread.FieldUpdatedAt), ent.Desc(supportthread.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return th, err
}

// FromBot takes a member's message in the bot: with open set (/support) it goes to
// the member's active support thread or opens one; without (plain text) it goes to the
// active support thread only, and is ErrNotFound when there is none. opened reports a
// new thread, whose acknowledgement is ack.
func (s *Service) FromBot(ctx context.Context, memberID int, body string, open bool) (th *ent.SupportThread, ack *ent.SupportMessage, err error) {
	th, err = s.Active(ctx, memberID, KindSupport)
	switch {
	case err == nil:
		_, err = s.Write(ctx, memberID, th.ID, body, ChannelBot, nil)
		return th, nil, err
	case !errors.Is(err, ErrNotFound) || !open:
		return nil, nil, err
	}
	return s.Open(ctx, OpenInput{MemberID: memberID, Body: body, Channel: ChannelBot, Kind: KindSupport})
}

// memberThread is the member's thread, or ErrNotFound.
func (s *Service) memberThread(ctx context.Context, db *ent.Client, memberID, id int) (*ent.SupportThread, error) {
	th, err := db.SupportThread.Query().Where(supportthread.ID(id), supportthread.MemberID(memberID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return th, err
}

// staffThread is a thread the staff member may act on with perm(kind), or ErrNotFound
// / ErrForbidden.
func (s *Service) staffThread(ctx context.Context, db *ent.Client, staffID, id int, perm func(string) string) (*ent.SupportThread, error) {
	th, err := db.SupportThread.Query().Where(supportthread.ID(id)).WithMember().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !s.can(staffID, perm(string(th.Kind))) {
		return nil, ErrForbidden
	}
	return th, nil
}

// Assign gives the thread to assigneeID, who must be able to answer its kind (the
// actor assigning to themselves included).
func (s *Service) Assign(ctx context.Context, actor audit.Entry, threadID, assigneeID int) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		th, err := s.staffThread(ctx, tx.Client(), actorID(actor), threadID, WritePerm)
		if err != nil {
			return err
		}
		if th.Status == supportthread.StatusClosed {
			return ErrClosed
		}
		if assigneeID <= 0 || !s.can(assigneeID, WritePerm(string(th.Kind))) {
			return ErrAssignee
		}
		if err := tx.SupportThread.UpdateOneID(th.ID).SetAssigneeID(assigneeID).SetUpdatedAt(s.now()).Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, th, "assign", map[string]any{"assignee_id": intOrNil(th.AssigneeID)}, map[string]any{"assignee_id": assigneeID})
	})
}

// Reply answers the member: the thread waits for them (answered), its first response
// time is set once, an unassigned thread goes to the one who answered, and the member
// is notified (cabinet and Telegram; one notification per reply).
func (s *Service) Reply(ctx context.Context, actor audit.Entry, threadID int, body string, img *Upload) (*ent.SupportMessage, error) {
	return s.staffMessage(ctx, actor, threadID, body, img, false)
}

// Note adds an internal note between staff: never shown or sent to the member.
func (s *Service) Note(ctx context.Context, actor audit.Entry, threadID int, body string, img *Upload) (*ent.SupportMessage, error) {
	return s.staffMessage(ctx, actor, threadID, body, img, true)
}

func (s *Service) staffMessage(ctx context.Context, actor audit.Entry, threadID int, body string, img *Upload, internal bool) (*ent.SupportMessage, error) {
	body, err := text("body", body, MaxBody, true)
	if err != nil {
		return nil, err
	}
	staffID := actorID(actor)
	th, err := s.staffThread(ctx, s.db, staffID, threadID, WritePerm)
	if err != nil {
		return nil, err
	}
	if th.Status == supportthread.StatusClosed && !internal {
		return nil, ErrClosed
	}
	var msg *ent.SupportMessage
	err = s.withImage(ctx, img, func(tx *ent.Tx, key func(int) (string, error)) error {
		th, err := s.staffThread(ctx, tx.Client(), staffID, threadID, WritePerm)
		if err != nil {
			return err
		}
		if th.Status == supportthread.StatusClosed && !internal {
			return ErrClosed
		}
		att, err := attachments(th.ID, key)
		if err != nil {
			return err
		}
		now := s.now()
		msg, err = tx.SupportMessage.Create().SetThreadID(th.ID).SetAuthorID(staffID).SetFromStaff(true).
			SetInternal(internal).SetBody(body).SetAttachments(att).SetCreatedAt(now).Save(ctx)
		if err != nil {
			return err
		}
		if internal {
			return s.record(ctx, tx, actor, th, "note", nil, map[string]any{"message_id": msg.ID})
		}
		// The first response is set once, by whichever reply commits first.
		if _, err := tx.SupportThread.Update().Where(supportthread.ID(th.ID), supportthread.FirstResponseAtIsNil()).
			SetFirstResponseAt(now).Save(ctx); err != nil {
			return err
		}
		u := tx.SupportThread.UpdateOneID(th.ID).SetStatus(supportthread.StatusAnswered).SetUpdatedAt(now)
		after := map[string]any{"status": "answered", "message_id": msg.ID}
		if th.AssigneeID == nil {
			u.SetAssigneeID(staffID)
			after["assignee_id"] = staffID
		}
		if err := u.Exec(ctx); err != nil {
			return err
		}
		lang := th.Edges.Member.Language
		notice := body
		if th.Channel == supportthread.ChannelBot {
			notice += "\n\n" + s.t(lang, "support.notify.answer_in_bot")
		}
		if _, err := s.notify.AddTx(ctx, tx, notify.Message{
			MemberID: th.MemberID, Kind: "support.reply", DedupKey: "support:message:" + strconv.Itoa(msg.ID),
			Title: s.t(lang, "support.notify.reply_title", th.ID), Body: notice, Link: MemberPath(th.ID),
		}); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, th, "reply", map[string]any{"status": string(th.Status)}, after)
	})
	return msg, err
}

// Resolve closes the thread (resolved_at) and tells the member; they may write again,
// which opens it again.
func (s *Service) Resolve(ctx context.Context, actor audit.Entry, threadID int) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		th, err := s.staffThread(ctx, tx.Client(), actorID(actor), threadID, WritePerm)
		if err != nil {
			return err
		}
		if th.Status == supportthread.StatusClosed {
			return ErrClosed
		}
		now := s.now()
		if err := tx.SupportThread.UpdateOneID(th.ID).SetStatus(supportthread.StatusClosed).SetResolvedAt(now).
			SetUpdatedAt(now).Exec(ctx); err != nil {
			return err
		}
		lang := th.Edges.Member.Language
		if _, err := s.notify.AddTx(ctx, tx, notify.Message{
			MemberID: th.MemberID, Kind: "support.resolved",
			DedupKey: "support:" + strconv.Itoa(th.ID) + ":resolved:" + strconv.FormatInt(now.UnixMilli(), 10),
			Title:    s.t(lang, "support.notify.resolved_title", th.ID), Body: s.t(lang, "support.notify.resolved_body"),
			Link: MemberPath(th.ID),
		}); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, th, "resolve", map[string]any{"status": string(th.Status)},
			map[string]any{"status": "closed", "resolved_at": now.UTC().Format(time.RFC3339)})
	})
}

// BookInput is a concierge's booking on a member's behalf.
type BookInput struct {
	ThreadID int
	Comment  string
	Date     *time.Time
}

// Book books the offer of a concierge request for the member who asked, through the
// booking rules (visibility for that member, capacity, limits, bonus price): the
// booking records the concierge (booked_by) and the concierge channel, the request
// records the booking, the member reads a message in the thread, and the audit entry
// is written, all in the booking's transaction. Refused with ErrNotConcierge for a
// thread that is not a concierge request about an offer, ErrClosed for a resolved
// one, ErrAlreadyBooked when the request already has its booking; the member and the
// offer are always the request's own.
func (s *Service) Book(ctx context.Context, actor audit.Entry, in BookInput) (*ent.Booking, error) {
	staffID := actorID(actor)
	if !s.can(staffID, BookPerm) {
		return nil, ErrForbidden
	}
	th, err := s.staffThread(ctx, s.db, staffID, in.ThreadID, WritePerm)
	if err != nil {
		return nil, err
	}
	if err := bookable(th); err != nil {
		return nil, err
	}
	lang := th.Edges.Member.Language
	return s.bookings.RequestInput(ctx, bookings.Input{
		MemberID: th.MemberID, OfferID: *th.OfferID, Comment: in.Comment, Date: in.Date, BookedByID: &staffID,
		Also: func(ctx context.Context, tx *ent.Tx, b *ent.Booking) error {
			th, err := tx.SupportThread.Get(ctx, th.ID)
			if err != nil {
				return err
			}
			if err := bookable(th); err != nil {
				return err
			}
			now := s.now()
			// Only one booking per request, whichever commits first.
			n, err := tx.SupportThread.Update().Where(supportthread.ID(th.ID), supportthread.BookingIDIsNil()).
				SetBookingID(b.ID).SetStatus(supportthread.StatusAnswered).SetUpdatedAt(now).Save(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				return ErrAlreadyBooked
			}
			if th.AssigneeID == nil {
				if err := tx.SupportThread.UpdateOneID(th.ID).SetAssigneeID(staffID).Exec(ctx); err != nil {
					return err
				}
			}
			if _, err := tx.SupportThread.Update().Where(supportthread.ID(th.ID), supportthread.FirstResponseAtIsNil()).
				SetFirstResponseAt(now).Save(ctx); err != nil {
				return err
			}
			body := s.t(lang, "support.booked", b.Code)
			msg, err := tx.SupportMessage.Create().SetThreadID(th.ID).SetAuthorID(staffID).SetFromStaff(true).
				SetBody(body).SetCreatedAt(now).Save(ctx)
			if err != nil {
				return err
			}
			if _, err := s.notify.AddTx(ctx, tx, notify.Message{
				MemberID: th.MemberID, Kind: "support.reply", DedupKey: "support:message:" + strconv.Itoa(msg.ID),
				Title: s.t(lang, "support.notify.reply_title", th.ID), Body: body, Link: MemberPath(th.ID),
			}); err != nil {
				return err
			}
			return s.record(ctx, tx, actor, th, "book", map[string]any{"booking_id": nil},
				map[string]any{"booking_id": b.ID, "booking_code": b.Code, "member_id": th.MemberID, "offer_id": *th.OfferID})
		},
	})
}

// bookable says whether a concierge may book on this thread.
func bookable(th *ent.SupportThread) error {
	switch {
	case th.Kind != supportthread.KindConcierge || th.OfferID == nil:
		return ErrNotConcierge
	case th.Status == supportthread.StatusClosed:
		return ErrClosed
	case th.BookingID != nil:
		return ErrAlreadyBooked
	}
	return nil
}

// record writes the audit entry of a staff action on a thread.
func (s *Service) record(ctx context.Context, tx *ent.Tx, actor audit.Entry, th *ent.SupportThread, what string, before, after map[string]any) error {
	actor.Action = string(th.Kind) + "." + what
	actor.TargetType, actor.TargetID = "support_thread", strconv.Itoa(th.ID)
	actor.Before, actor.After = before, after
	return audit.Record(ctx, tx.Client(), actor)
}

func actorID(a audit.Entry) int {
	if a.ActorID == nil {
		return 0
	}
	return *a.ActorID
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// withImage cleans and stores the upload, if any, then runs fn in a transaction; key
// gives fn the stored image's key under its thread (it is put there before the
// transaction commits, and removed when the transaction fails).
func (s *Service) withImage(ctx context.Context, img *Upload, fn func(tx *ent.Tx, key func(threadID int) (string, error)) error) error {
	var cleaned *images.Cleaned
	if img != nil {
		c, err := s.images.Clean(ctx, img.R, img.Size)
		var refused *images.Refusal
		if errors.As(err, &refused) {
			return &Invalid{Field: "image", Key: refused.Key}
		}
		if err != nil {
			return err
		}
		cleaned = &c
	}
	var stored []string
	key := func(threadID int) (string, error) {
		if cleaned == nil {
			return "", nil
		}
		k, err := newKey(threadID, cleaned.Ext)
		if err != nil {
			return "", err
		}
		if err := s.objects.Put(ctx, k, bytes.NewReader(cleaned.Data), int64(len(cleaned.Data)), cleaned.ContentType); err != nil {
			return "", fmt.Errorf("support: store attachment: %w", err)
		}
		stored = append(stored, k)
		return k, nil
	}
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error { return fn(tx, key) })
	if err != nil {
		for _, k := range stored {
			if derr := s.objects.Delete(context.WithoutCancel(ctx), k); derr != nil {
				s.log.Warn("orphan support attachment not removed", "key", k, "err", derr)
			}
		}
	}
	return err
}

// attachments stores the upload (if any) under the thread and lists its key.
func attachments(threadID int, key func(int) (string, error)) ([]string, error) {
	k, err := key(threadID)
	if err != nil || k == "" {
		return []string{}, err
	}
	return []string{k}, nil
}

// newKey is "support/<threadID>/<32 random hex digits><ext>": not guessable, and
// served only through the thread's owner or its staff (OpenForMember, OpenForStaff).
func newKey(threadID int, ext string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "support/" + strconv.Itoa(threadID) + "/" + hex.EncodeToString(b) + ext, nil
}

// AttachmentKey is the media key of the file name of one of a thread's attachments.
func AttachmentKey(threadID int, name string) string {
	return "support/" + strconv.Itoa(threadID) + "/" + name
}

// AttachmentName is the file name of an attachment's key (its last segment), which the
// thread's attachment routes take.
func AttachmentName(key string) string { return key[strings.LastIndexByte(key, '/')+1:] }

// Files maps each message to the file names of its attachments, for the thread's
// attachment links.
func Files(msgs []*ent.SupportMessage) map[int][]string {
	out := map[int][]string{}
	for _, m := range msgs {
		for _, k := range m.Attachments {
			out[m.ID] = append(out[m.ID], AttachmentName(k))
		}
	}
	return out
}

// OpenForMember opens an attachment of the member's own thread, from a message they
// may see (never an internal note's). The caller closes the reader.
func (s *Service) OpenForMember(ctx context.Context, memberID, threadID int, name string) (io.ReadCloser, media.Object, error) {
	if _, err := s.memberThread(ctx, s.db, memberID, threadID); err != nil {
		return nil, media.Object{}, err
	}
	return s.open(ctx, threadID, name, false)
}

// OpenForStaff opens an attachment of a thread the staff member may read.
func (s *Service) OpenForStaff(ctx context.Context, staffID, threadID int, name string) (io.ReadCloser, media.Object, error) {
	if _, err := s.staffThread(ctx, s.db, staffID, threadID, ReadPerm); err != nil {
		return nil, media.Object{}, err
	}
	return s.open(ctx, threadID, name, true)
}

func (s *Service) open(ctx context.Context, threadID int, name string, internal bool) (io.ReadCloser, media.Object, error) {
	key := AttachmentKey(threadID, name)
	if strings.Contains(name, "/") || media.ValidKey(key) != nil {
		return nil, media.Object{}, ErrNotFound
	}
	q := s.db.SupportMessage.Query().Where(supportmessage.ThreadID(threadID))
	if !internal {
		q.Where(supportmessage.Internal(false))
	}
	msgs, err := q.Select(supportmessage.FieldAttachments).All(ctx)
	if err != nil {
		return nil, media.Object{}, err
	}
	for _, m := range msgs {
		for _, k := range m.Attachments {
			if k == key {
				r, obj, err := s.objects.Get(ctx, key)
				if errors.Is(err, media.ErrNotFound) {
					return nil, media.Object{}, ErrNotFound
				}
				return r, obj, err
			}
		}
	}
	return nil, media.Object{}, ErrNotFound
}

// text trims and checks a text field: required, at most max characters.
func text(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		return "", &Invalid{Field: field, Key: "support.error.required"}
	case utf8.RuneCountInString(v) > max:
		return "", &Invalid{Field: field, Key: "support.error.too_long"}
	}
	return v, nil
}

func channel(c string) supportthread.Channel {
	if supportthread.ChannelValidator(supportthread.Channel(c)) != nil {
		return supportthread.ChannelWeb
	}
	return supportthread.Channel(c)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
