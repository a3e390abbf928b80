// Package bookings carries out PRODUCT.md §2 "Booking and redemption": a member's
// request for an offer, the partner's answer, the redemption at the counter and its
// reversal. Capacity and the per-member limit hold under concurrency (a row lock on the
// offer on PostgreSQL; SQLite transactions take the write lock up front); a bonus price
// is reserved in the ledger in the request's transaction, captured on completion and
// released on every other ending; cashback is credited with the completion. Every
// partner-side function takes the partner ID and every member-side one the member ID,
// and finds nothing outside it.
package bookings

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"ikra/app/catalog"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/notify"
	"ikra/app/settings"
	"ikra/app/store"
	"ikra/app/webhooks"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/offer"
	"ikra/ent/predicate"
	"ikra/ent/staff"
)

// Errors a caller can tell apart.
var (
	// ErrNotFound means no such booking (or offer) for this member or partner.
	ErrNotFound = errors.New("bookings: not found")
	// ErrTransition means the booking's status does not allow the action.
	ErrTransition = errors.New("bookings: not allowed in this status")
	// ErrFull means the offer has no places left.
	ErrFull = errors.New("bookings: no places left")
	// ErrLimit means the member already holds as many bookings of the offer as allowed.
	ErrLimit = errors.New("bookings: per-member limit reached")
	// ErrInsufficient means the member's available bonuses do not cover the price.
	ErrInsufficient = fmt.Errorf("bookings: not enough bonuses: %w", ledger.ErrInsufficient)
	// ErrReasonRequired means a decline without a reason.
	ErrReasonRequired = errors.New("bookings: a reason is required")
	// ErrAmount means a deal amount that is not positive.
	ErrAmount = errors.New("bookings: the deal amount must be positive")
	// ErrWindowClosed means the reversal window of a completed deal has closed.
	ErrWindowClosed = fmt.Errorf("bookings: the reversal window has closed: %w", ErrTransition)
	// ErrKeyReused means an idempotency key already names another request.
	ErrKeyReused = fmt.Errorf("bookings: idempotency key reused with other parameters: %w", ledger.ErrConflict)
)

// Alphabet is what codes are made of: no 0/O, 1/I/L, so a code read aloud or typed
// from a handset screen cannot be mistaken.
const Alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// CodeLength is the length of a booking code.
const CodeLength = 7

// DefaultAnswerWindow is how long a partner has to answer a request.
const DefaultAnswerWindow = 48 * time.Hour

// Open statuses hold a place: they count against capacity and the per-member limit.
var holding = catalog.HoldingStatuses

// Texts translates a message key into a language; Plural picks the form for n.
type Texts struct {
	T func(lang, key string, args ...any) string
	N func(lang, key string, n int64, args ...any) string
}

// Service runs the booking rules.
type Service struct {
	db       *ent.Client
	dialect  string
	catalog  *catalog.Service
	ledger   *ledger.Ledger
	loyalty  *loyalty.Service
	notify   *notify.Service
	settings *settings.Store
	webhooks *webhooks.Service
	texts    Texts
	log      *slog.Logger
	// AnswerWindow is how long a request waits for the partner before it expires.
	AnswerWindow time.Duration

	secretOnce sync.Mutex
	secret     []byte
}

// New returns the booking service.
func New(db *ent.Client, dialectName string, cat *catalog.Service, l *loyalty.Service, n *notify.Service, st *settings.Store) *Service {
	return &Service{db: db, dialect: dialectName, catalog: cat, ledger: l.Ledger(), loyalty: l, notify: n, settings: st,
		log: slog.Default(), AnswerWindow: DefaultAnswerWindow}
}

// SetWebhooks sets where booking events for partners' webhooks are written (in each
// transition's transaction); nil writes none.
func (s *Service) SetWebhooks(w *webhooks.Service) { s.webhooks = w }

// SetTexts sets how notification texts are translated.
func (s *Service) SetTexts(t Texts) { s.texts = t }

// SetLogger sets the logger.
func (s *Service) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}

// now is the ledger's clock, so that one clock drives bookings, cashback and maturing.
func (s *Service) now() time.Time { return s.ledger.Now() }

func (s *Service) t(lang, key string, args ...any) string {
	if s.texts.T == nil {
		return key
	}
	return s.texts.T(lang, key, args...)
}

func (s *Service) n(lang, key string, n int64, args ...any) string {
	if s.texts.N == nil {
		return key
	}
	return s.texts.N(lang, key, n, args...)
}

// Input is a member's booking request.
type Input struct {
	MemberID int
	OfferID  int
	Channel  string // web, tg, bot or concierge
	Comment  string
	// Date is the day the member wishes to come, or nil.
	Date *time.Time
	// Key makes the request safe to retry: the same key returns the same booking.
	Key string
	// BookedByID is the concierge who books on the member's behalf; the booking records
	// them and its channel is concierge. Nil for the member's own request.
	BookedByID *int
	// Also runs inside the request's transaction once the booking is written, so that
	// what the booking causes elsewhere (the concierge request it answers) commits or
	// rolls back with it; its error refuses the booking.
	Also func(ctx context.Context, tx *ent.Tx, b *ent.Booking) error
}

// MaxComment is how many characters of a comment a booking keeps.
const MaxComment = 500

// Request books an offer for a member. The offer must be visible to the member (else
// ErrNotFound); the capacity, the per-member limit and the bonus price are checked and
// the price reserved in one transaction, with the new-request notification to the
// partner's staff.
func (s *Service) Request(ctx context.Context, memberID, offerID int, channel, comment string, date *time.Time, key string) (*ent.Booking, error) {
	return s.RequestInput(ctx, Input{MemberID: memberID, OfferID: offerID, Channel: channel, Comment: comment, Date: date, Key: key})
}

// RequestInput is Request with its arguments in a struct.
func (s *Service) RequestInput(ctx context.Context, in Input) (*ent.Booking, error) {
	if booking.ChannelValidator(booking.Channel(in.Channel)) != nil {
		in.Channel = string(booking.ChannelWeb)
	}
	// Only a named concierge books through the concierge channel.
	switch {
	case in.BookedByID != nil:
		in.Channel = string(booking.ChannelConcierge)
	case in.Channel == string(booking.ChannelConcierge):
		in.Channel = string(booking.ChannelWeb)
	}
	in.Comment = clip(strings.TrimSpace(in.Comment), MaxComment)
	visible, err := s.catalog.Predicate(ctx, in.MemberID)
	if err != nil {
		return nil, err
	}
	var code string
	if in.Key != "" {
		if code, err = s.keyedCode(ctx, in.MemberID, in.Key); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		c := code
		if c == "" {
			if c, err = randomCode(); err != nil {
				return nil, err
			}
		}
		var b *ent.Booking
		err = store.WithTx(ctx, s.db, func(tx *ent.Tx) (err error) {
			b, err = s.request(ctx, tx, in, visible, c)
			return err
		})
		if err != nil && ent.IsConstraintError(err) {
			if code != "" {
				// Another request with this key won the race: answer as a retry does.
				return s.replay(ctx, s.db, in, code)
			}
			if attempt < 5 {
				continue // a random code collided: draw another
			}
		}
		return b, err
	}
}

func (s *Service) request(ctx context.Context, tx *ent.Tx, in Input, visible predicate.Offer, code string) (*ent.Booking, error) {
	q := tx.Offer.Query().Where(offer.ID(in.OfferID), visible)
	if s.dialect == dialect.Postgres {
		q.ForUpdate()
	}
	o, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if in.Key != "" {
		if b, err := s.replay(ctx, tx.Client(), in, code); !errors.Is(err, ErrNotFound) {
			return b, err
		}
	}
	if o.Capacity > 0 {
		n, err := tx.Booking.Query().Where(booking.OfferID(o.ID), booking.StatusIn(holding...)).Count(ctx)
		if err != nil {
			return nil, err
		}
		if n >= o.Capacity {
			return nil, ErrFull
		}
	}
	if o.PerMemberLimit > 0 {
		n, err := tx.Booking.Query().Where(booking.OfferID(o.ID), booking.MemberID(in.MemberID), booking.StatusIn(holding...)).Count(ctx)
		if err != nil {
			return nil, err
		}
		if n >= o.PerMemberLimit {
			return nil, ErrLimit
		}
	}
	now := s.now()
	b, err := tx.Booking.Create().SetCode(code).SetMemberID(in.MemberID).SetOfferID(o.ID).SetPartnerID(o.PartnerID).
		SetChannel(booking.Channel(in.Channel)).SetNote(in.Comment).SetNillableVisitAt(in.Date).SetNillableBookedByID(in.BookedByID).
		SetBonusPrice(o.PriceBonus).SetExpiresAt(now.Add(s.AnswerWindow)).SetCreatedAt(now).SetUpdatedAt(now).Save(ctx)
	if err != nil {
		return nil, err
	}
	if o.PriceBonus > 0 {
		_, err := s.ledger.ReserveTx(ctx, tx, ledger.Op{
			MemberID: in.MemberID, Amount: o.PriceBonus, Reason: "booking", RefType: "booking", RefID: strconv.Itoa(b.ID),
			ActorID: &in.MemberID, Key: reserveKey(b.ID),
		})
		if errors.Is(err, ledger.ErrInsufficient) {
			return nil, ErrInsufficient
		}
		if err != nil {
			return nil, err
		}
	}
	if err := tx.Offer.UpdateOneID(o.ID).AddBookingsCount(1).Exec(ctx); err != nil {
		return nil, err
	}
	if err := s.notifyStaff(ctx, tx, b, o); err != nil {
		return nil, err
	}
	if err := s.event(ctx, tx, b, o, nil, webhooks.BookingRequested, "", 0); err != nil {
		return nil, err
	}
	if in.Also != nil {
		if err := in.Also(ctx, tx, b); err != nil {
			return nil, err
		}
	}
	s.log.Info("booking requested", "booking_id", b.ID, "offer_id", o.ID, "member_id", in.MemberID, "partner_id", o.PartnerID)
	return b, nil
}

// replay finds the booking a keyed request made before: the same member and offer get
// it back; anything else under that key is ErrKeyReused. None is ErrNotFound.
func (s *Service) replay(ctx context.Context, db *ent.Client, in Input, code string) (*ent.Booking, error) {
	b, err := db.Booking.Query().Where(booking.Code(code)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if b.MemberID != in.MemberID || b.OfferID != in.OfferID {
		return nil, ErrKeyReused
	}
	return b, nil
}

func reserveKey(id int) string { return fmt.Sprintf("booking:%d:reserve", id) }

// randomCode draws a code from Alphabet.
func randomCode() (string, error) {
	var sb strings.Builder
	max := big.NewInt(int64(len(Alphabet)))
	for range CodeLength {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		sb.WriteByte(Alphabet[n.Int64()])
	}
	return sb.String(), nil
}

// keyedCode derives the code of a keyed request from a server secret, the member and
// the key, so a retry finds its booking by the code without storing the key.
func (s *Service) keyedCode(ctx context.Context, memberID int, key string) (string, error) {
	s.secretOnce.Lock()
	if s.secret == nil {
		v, err := s.settings.Secret(ctx, "secret.booking_codes")
		if err != nil {
			s.secretOnce.Unlock()
			return "", err
		}
		s.secret = []byte(v)
	}
	secret := s.secret
	s.secretOnce.Unlock()
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%d\x00%s", memberID, key)
	sum := m.Sum(nil)
	n := new(big.Int).SetBytes(sum)
	base := big.NewInt(int64(len(Alphabet)))
	out := make([]byte, CodeLength)
	for i := range out {
		var r big.Int
		n.DivMod(n, base, &r)
		out[i] = Alphabet[r.Int64()]
	}
	return string(out), nil
}

// NormaliseCode upper-cases a typed code and drops spaces and dashes; a scanned QR (a
// link ending in the code) gives its code. A string that cannot be a code comes back
// empty.
func NormaliseCode(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ToUpper(s)
	s = strings.NewReplacer(" ", "", "-", "").Replace(s)
	if len(s) < 4 || len(s) > 16 {
		return ""
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return ""
		}
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// staffRoles are the partner roles told about new requests.
var staffRoles = []staff.Role{staff.RoleOwner, staff.RoleManager, staff.RoleCashier}
