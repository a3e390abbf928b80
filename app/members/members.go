// Package members registers and signs in members by their Telegram identity, and
// carries out what staff and members themselves do to accounts.
package members

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"ikra/app/cache"
	"slices"
	"strings"
	"time"

	"ikra/app/audit"
	"ikra/app/i18n"
	"ikra/app/store"
	"ikra/app/terms"
	"ikra/ent"
	"ikra/ent/consent"
	"ikra/ent/member"
	"ikra/ent/staff"
	"ikra/ent/termsacceptance"
)

// Errors a caller can tell apart.
var (
	ErrBlocked  = errors.New("members: account blocked")
	ErrNotFound = errors.New("members: not found")
)

// Identity is what Telegram vouches for at sign-in.
type Identity struct {
	TelegramID int64
	FirstName  string
	LastName   string
	Username   string
	PhotoURL   string
	Language   string // Telegram's language_code, if known
}

// Registered is called inside the registration transaction of every new member, so
// that what registration grants (the welcome bonus, a referral) commits with it.
type Registered func(ctx context.Context, tx *ent.Tx, m *ent.Member, channel, startParam string) error

// Service signs members in and manages accounts.
type Service struct {
	db           *ent.Client
	superadmins  []int64
	onRegister   []Registered
	cancelOpen   func(ctx context.Context, tx *ent.Tx, memberID int) (int, error)
	revokeAll    func(ctx context.Context, memberID int) error
	rolesChanged func(ctx context.Context) error
	now          func() time.Time
	rows         *cache.Rows
}

// SetRows makes the service read categories and cities through the shared cache.
func (s *Service) SetRows(r *cache.Rows) { s.rows = r }

// New returns the members service. superadmins are Telegram IDs that get the
// superadmin role when they sign in; revokeAll ends every session of a member.
func New(db *ent.Client, superadmins []int64, revokeAll func(context.Context, int) error) *Service {
	return &Service{db: db, superadmins: superadmins, revokeAll: revokeAll, now: time.Now, rows: cache.NewRows(nil, db)}
}

// SetRolesChanged sets what to call after sign-in grants a role (a configured
// superadmin), so that every node reloads its permissions.
func (s *Service) SetRolesChanged(fn func(ctx context.Context) error) { s.rolesChanged = fn }

// SetBookingCanceller sets how Delete cancels the member's open bookings inside its
// transaction (the booking service, which releases their reservations).
func (s *Service) SetBookingCanceller(f func(ctx context.Context, tx *ent.Tx, memberID int) (int, error)) {
	s.cancelOpen = f
}

// OnRegister adds a hook run in every registration transaction.
func (s *Service) OnRegister(h Registered) { s.onRegister = append(s.onRegister, h) }

// SignIn finds the member with the Telegram ID, or registers one: registration records
// acceptance of the current terms and consent to personal-data processing, with the
// channel it came through. A blocked member is refused.
func (s *Service) SignIn(ctx context.Context, id Identity, channel, startParam string) (*ent.Member, bool, error) {
	if id.TelegramID <= 0 {
		return nil, false, fmt.Errorf("members: telegram id %d", id.TelegramID)
	}
	m, err := s.db.Member.Query().Where(member.TelegramID(id.TelegramID)).Only(ctx)
	created := false
	switch {
	case ent.IsNotFound(err):
		m, err = s.register(ctx, id, channel, startParam)
		if ent.IsConstraintError(err) {
			// Two first sign-ins raced; the other one registered the member.
			m, err = s.db.Member.Query().Where(member.TelegramID(id.TelegramID)).Only(ctx)
		} else {
			created = err == nil
		}
		if err != nil {
			return nil, false, err
		}
	case err != nil:
		return nil, false, err
	default:
		if m.Status == member.StatusBlocked {
			if !slices.Contains(s.superadmins, id.TelegramID) {
				return nil, false, ErrBlocked
			}
			// A configured superadmin can always get back in.
			if err := s.Unblock(ctx, audit.Entry{ActorRole: "system"}, m.ID); err != nil {
				return nil, false, err
			}
		}
		upd := m.Update().SetLastSeenAt(s.now())
		if id.FirstName != "" {
			upd.SetFirstName(clip(id.FirstName, 64)).SetLastName(clip(id.LastName, 64)).
				SetUsername(clip(id.Username, 64)).SetPhotoURL(clip(id.PhotoURL, 500))
		}
		if m, err = upd.Save(ctx); err != nil {
			return nil, false, err
		}
		if channel != "web" {
			// Signing in from the bot or the Mini App shows the chat with the bot is open
			// again; the web's login widget does not.
			if m, err = s.reachable(ctx, m); err != nil {
				return nil, false, err
			}
		}
	}
	if slices.Contains(s.superadmins, id.TelegramID) {
		if err := s.ensureSuperadmin(ctx, m.ID); err != nil {
			return nil, false, err
		}
	}
	return m, created, nil
}

func (s *Service) register(ctx context.Context, id Identity, channel, startParam string) (*ent.Member, error) {
	lang := i18n.Supported(id.Language)
	if lang == "" {
		lang = i18n.Default
	}
	current, err := terms.Current(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var m *ent.Member
	err = store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		code, err := referralCode()
		if err != nil {
			return err
		}
		m, err = tx.Member.Create().
			SetTelegramID(id.TelegramID).
			SetFirstName(clip(id.FirstName, 64)).
			SetLastName(clip(id.LastName, 64)).
			SetUsername(clip(id.Username, 64)).
			SetPhotoURL(clip(id.PhotoURL, 500)).
			SetLanguage(lang).
			SetReferralCode(code).
			SetLastSeenAt(s.now()).
			Save(ctx)
		if err != nil {
			return err
		}
		for _, v := range current {
			err := tx.TermsAcceptance.Create().SetMemberID(m.ID).SetTermsVersionID(v.ID).
				SetChannel(termsacceptance.Channel(channel)).SetExplicit(true).Exec(ctx)
			if err != nil {
				return err
			}
			if v.Kind == terms.Privacy {
				err := tx.Consent.Create().SetMemberID(m.ID).SetKind("personal_data").
					SetVersion(v.Version).SetChannel(consent.Channel(channel)).Exec(ctx)
				if err != nil {
					return err
				}
			}
		}
		for _, h := range s.onRegister {
			if err := h(ctx, tx, m, channel, startParam); err != nil {
				return err
			}
		}
		return nil
	})
	return m, err
}

func (s *Service) ensureSuperadmin(ctx context.Context, memberID int) error {
	has, err := s.db.Staff.Query().
		Where(staff.MemberID(memberID), staff.PartnerIDIsNil(), staff.RoleEQ(staff.RoleSuperadmin)).
		Exist(ctx)
	if err != nil || has {
		return err
	}
	if err := s.db.Staff.Create().SetMemberID(memberID).SetRole(staff.RoleSuperadmin).Exec(ctx); err != nil {
		return err
	}
	if s.rolesChanged != nil {
		return s.rolesChanged(ctx)
	}
	return nil
}

// Get returns a member by ID.
func (s *Service) Get(ctx context.Context, id int) (*ent.Member, error) {
	m, err := s.db.Member.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return m, err
}

// ByTelegramID returns the member signed up with this Telegram ID: ErrNotFound for
// none (or a deleted account), ErrBlocked for a blocked one.
func (s *Service) ByTelegramID(ctx context.Context, tgID int64) (*ent.Member, error) {
	m, err := s.db.Member.Query().Where(member.TelegramID(tgID)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil, ErrNotFound
	case err != nil:
		return nil, err
	case m.Status == member.StatusBlocked:
		return nil, ErrBlocked
	case m.Status != member.StatusActive:
		return nil, ErrNotFound
	}
	// Every message or button press in the bot comes through here: the member wrote to
	// the bot, so it may write to them again.
	return s.reachable(ctx, m)
}

// reachable clears the member's telegram_unreachable_at (set when Telegram refused a
// notification because they had blocked the bot), so that notifications reach their
// chat again. It writes nothing when the flag is not set.
func (s *Service) reachable(ctx context.Context, m *ent.Member) (*ent.Member, error) {
	if m.TelegramUnreachableAt == nil {
		return m, nil
	}
	err := s.db.Member.Update().Where(member.ID(m.ID)).ClearTelegramUnreachableAt().Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("members: mark %d reachable: %w", m.ID, err)
	}
	m.TelegramUnreachableAt = nil
	return m, nil
}

// SetLanguage changes the member's interface language.
func (s *Service) SetLanguage(ctx context.Context, id int, lang string) error {
	if i18n.Supported(lang) == "" {
		return fmt.Errorf("members: unsupported language %q", lang)
	}
	return s.db.Member.UpdateOneID(id).SetLanguage(i18n.Supported(lang)).Exec(ctx)
}

// Block blocks a member with a reason and ends all their sessions at once. The actor
// must outrank the member (CheckRank); blocking staff needs superadmin.
func (s *Service) Block(ctx context.Context, actor audit.Entry, id int, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ErrReasonRequired
	}
	m, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if m.Status == member.StatusDeleted {
		return ErrNotFound
	}
	err = store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		if err := CheckRank(ctx, tx.Client(), actor.ActorID, id, ActBlock); err != nil {
			return err
		}
		if err := tx.Member.UpdateOneID(id).SetStatus(member.StatusBlocked).SetBlockedReason(clip(reason, 500)).Exec(ctx); err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "member.block", "member", fmt.Sprint(id)
		actor.Before = map[string]any{"status": string(m.Status)}
		actor.After = map[string]any{"status": "blocked", "reason": reason}
		return audit.Record(ctx, tx.Client(), actor)
	})
	if err != nil {
		return err
	}
	return s.revokeAll(ctx, id)
}

// Unblock lets a blocked member sign in again, under the same rank rule as Block.
func (s *Service) Unblock(ctx context.Context, actor audit.Entry, id int) error {
	m, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if m.Status != member.StatusBlocked {
		return nil
	}
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		if err := CheckRank(ctx, tx.Client(), actor.ActorID, id, ActBlock); err != nil {
			return err
		}
		if err := tx.Member.UpdateOneID(id).SetStatus(member.StatusActive).SetBlockedReason("").Exec(ctx); err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "member.unblock", "member", fmt.Sprint(id)
		actor.Before = map[string]any{"status": "blocked", "reason": m.BlockedReason}
		actor.After = map[string]any{"status": "active"}
		return audit.Record(ctx, tx.Client(), actor)
	})
}

// ErrReasonRequired means a staff action that needs a reason was given none.
var ErrReasonRequired = errors.New("members: a reason is required")

// referralCode is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L).
func referralCode() (string, error) {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	buf := make([]byte, 8)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(buf), nil
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
