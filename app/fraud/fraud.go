// Package fraud raises fraud signals for staff to review (§5.6, §6.2.2) — referral
// farms, a partner's unusual deal amounts, repeated completions for one member, bursts
// of sign-ups from one referral code — and carries out the reviewer's decision
// (dismiss, annul the member's bonuses, block the member or suspend the partner), each
// audited. Catalog harvesting is flagged by app/scraping as it happens; the review page
// shows both.
package fraud

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"ikra/app/audit"
	"ikra/ent"
)

// Kinds of flag.
const (
	KindReferralFarm       = "referral_farm"
	KindDealAmount         = "deal_amount"
	KindRepeatedCompletion = "repeated_completion"
	KindSignupBurst        = "signup_burst"
)

// Kinds lists every kind of flag this package raises, for the filter.
var Kinds = []string{KindReferralFarm, KindDealAmount, KindRepeatedCompletion, KindSignupBurst}

// Review actions, kept in the flag's action field.
const (
	ActionDismiss = "dismiss"
	ActionAnnul   = "annul"
	ActionBlock   = "block"
	ActionSuspend = "suspend"
)

// Errors a caller can tell apart.
var (
	// ErrNotFound: no flag with that ID.
	ErrNotFound = errors.New("fraud: flag not found")
	// ErrReviewed: the flag was already dismissed or actioned.
	ErrReviewed = errors.New("fraud: flag already reviewed")
	// ErrNoMember: the action needs a member and the flag names none.
	ErrNoMember = errors.New("fraud: the flag names no member")
	// ErrNoPartner: the action needs a partner and the flag names none.
	ErrNoPartner = errors.New("fraud: the flag names no partner")
	// ErrNoteRequired: a dismissal or a block needs a note.
	ErrNoteRequired = errors.New("fraud: a note is required")
)

// MaxNote is the longest review note kept, in runes.
const MaxNote = 1000

// Annuller takes a member's bonuses back; *loyalty.Service is one.
type Annuller interface {
	Annul(ctx context.Context, actor audit.Entry, memberID int, entryID *int, amount int64, reason, key string) (*ent.LedgerEntry, error)
}

// Blocker blocks a member; *members.Service is one.
type Blocker interface {
	Block(ctx context.Context, actor audit.Entry, id int, reason string) error
}

// Suspender suspends a partner; *partners.Service is one.
type Suspender interface {
	Suspend(ctx context.Context, actor audit.Entry, partnerID int, reason string) error
}

// Service raises and reviews fraud flags.
type Service struct {
	db      *ent.Client
	annul   Annuller
	block   Blocker
	suspend Suspender
	now     func() time.Time
	log     *slog.Logger
}

// New returns the service; the reviewer's actions go through the given services.
func New(db *ent.Client, a Annuller, b Blocker, s Suspender) *Service {
	return &Service{db: db, annul: a, block: b, suspend: s, now: time.Now, log: slog.Default()}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// SetLogger sets the logger.
func (s *Service) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
