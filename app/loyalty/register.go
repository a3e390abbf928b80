package loyalty

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"ikra/app/settings"
	"strconv"
	"strings"

	"ikra/app/ledger"
	"ikra/app/notify"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/referral"
	"ikra/ent/welcomegrant"
)

// OnRegister runs inside a new member's registration transaction: it pays the welcome
// bonus (once per Telegram ID, for ever), writes the welcome notification, and
// attributes the member to a referrer when the sign-in carried a referral code
// ("ref_CODE"). Whatever channel registers the member (the Login Widget, the Mini App,
// the bot's /start, a demo account), the greeting commits with the registration.
func (s *Service) OnRegister(ctx context.Context, tx *ent.Tx, m *ent.Member, channel, startParam string) error {
	if m.TelegramID != nil {
		if err := s.welcome(ctx, tx, m.ID, *m.TelegramID); err != nil {
			return err
		}
	}
	if err := s.greet(ctx, tx, m); err != nil {
		return err
	}
	if code, ok := strings.CutPrefix(startParam, "ref_"); ok && code != "" {
		err := s.attribute(ctx, tx, m, code)
		// A bad or foreign code must not stop a registration.
		if err != nil && !isReferralRefusal(err) {
			return err
		}
	}
	return nil
}

func isReferralRefusal(err error) bool {
	return err == ErrSelfReferral || err == ErrAlreadyReferred || err == ErrUnknownCode
}

// Init creates the secret that keys the Telegram ID hash, once, at start: registration
// transactions then only read it (a write from another connection inside one would
// wait on SQLite's write lock).
func (s *Service) Init(ctx context.Context) error {
	_, err := s.settings.Secret(ctx, keyWelcomeSecret)
	return err
}

// TelegramHash is the one-way hash kept of a Telegram ID that received the welcome
// bonus: it survives the account's deletion, the ID itself does not.
func (s *Service) TelegramHash(ctx context.Context, telegramID int64) (string, error) {
	pepper, err := s.settings.Secret(ctx, keyWelcomeSecret)
	if err != nil {
		return "", err
	}
	return telegramHash(pepper, telegramID), nil
}

func telegramHash(pepper string, telegramID int64) string {
	mac := hmac.New(sha256.New, []byte(pepper))
	mac.Write([]byte(strconv.FormatInt(telegramID, 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

func (s *Service) welcome(ctx context.Context, tx *ent.Tx, memberID int, telegramID int64) error {
	rules, err := s.rulesTx(ctx, tx)
	if err != nil || rules.Welcome <= 0 {
		return err
	}
	// The pepper exists since Init; read inside the transaction, like the rules.
	pepper, ok, err := settings.New(tx.Client()).Get(ctx, keyWelcomeSecret)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("loyalty: the welcome secret is missing (Init was not run)")
	}
	hash := telegramHash(pepper, telegramID)
	// Checked before inserting: on PostgreSQL a failed insert would abort the transaction.
	had, err := tx.WelcomeGrant.Query().Where(welcomegrant.TgHash(hash)).Exist(ctx)
	if err != nil || had {
		return err
	}
	if err := tx.WelcomeGrant.Create().SetTgHash(hash).Exec(ctx); err != nil {
		return err
	}
	_, err = s.ledger.CreditTx(ctx, tx, ledger.Op{
		MemberID: memberID, Amount: rules.Welcome, Kind: ledger.KindWelcome,
		Reason: "welcome", RefType: "registration", RefID: strconv.Itoa(memberID), Key: "welcome:" + hash,
	})
	return err
}

// greet writes the welcome notification, in the member's language, in the registration
// transaction; its delivery is enqueued once that commits.
func (s *Service) greet(ctx context.Context, tx *ent.Tx, m *ent.Member) error {
	if s.notify == nil {
		return nil
	}
	_, err := s.notify.AddTx(ctx, tx, notify.Message{
		MemberID: m.ID, Kind: "welcome", DedupKey: "welcome:" + strconv.Itoa(m.ID),
		Title: s.text(m.Language, "notify.welcome.title"), Body: s.text(m.Language, "notify.welcome.body", m.FirstName),
		Link: "/app",
	})
	return err
}

// attribute links a new member to the owner of a referral code, at registration only.
func (s *Service) attribute(ctx context.Context, tx *ent.Tx, invitee *ent.Member, code string) error {
	ref, err := tx.Member.Query().Where(member.ReferralCode(strings.ToUpper(code)), member.StatusEQ(member.StatusActive)).Only(ctx)
	if ent.IsNotFound(err) {
		return ErrUnknownCode
	}
	if err != nil {
		return err
	}
	if ref.ID == invitee.ID || (ref.TelegramID != nil && invitee.TelegramID != nil && *ref.TelegramID == *invitee.TelegramID) {
		return ErrSelfReferral
	}
	has, err := tx.Referral.Query().Where(referral.InviteeID(invitee.ID)).Exist(ctx)
	if err != nil {
		return err
	}
	if has {
		return ErrAlreadyReferred
	}
	return tx.Referral.Create().SetReferrerID(ref.ID).SetInviteeID(invitee.ID).SetCode(ref.ReferralCode).Exec(ctx)
}

// Attribute links an existing member to a referrer. Only a registration may do that:
// anyone already attributed, or signing up with their own code, is refused. It exists
// for the concierge's manual registrations and for tests of the rule.
func (s *Service) Attribute(ctx context.Context, inviteeID int, code string) error {
	return s.ledger.InTx(ctx, func(tx *ent.Tx) error {
		m, err := tx.Member.Get(ctx, inviteeID)
		if err != nil {
			return err
		}
		return s.attribute(ctx, tx, m, code)
	})
}

// Invitee is a member someone invited, as the referrer sees them (first name only).
type Invitee struct {
	FirstName string
	JoinedAt  timeT
}

// ReferralInfo is what a member's invite page shows.
type ReferralInfo struct {
	Code     string
	Invitees []Invitee
	Earned   int64 // referral shares credited, net of reversals
	Pending  int64 // of which not yet available
}

// Referrals returns the member's code, invitees and earnings.
func (s *Service) Referrals(ctx context.Context, memberID int) (ReferralInfo, error) {
	m, err := s.db.Member.Get(ctx, memberID)
	if err != nil {
		return ReferralInfo{}, err
	}
	info := ReferralInfo{Code: m.ReferralCode}
	rows, err := s.db.Referral.Query().Where(referral.ReferrerID(memberID)).WithInvitee().
		Order(ent.Desc(referral.FieldCreatedAt)).Limit(500).All(ctx)
	if err != nil {
		return info, err
	}
	for _, r := range rows {
		name := r.Edges.Invitee.FirstName
		if r.Edges.Invitee.Status == member.StatusDeleted {
			name = "—"
		}
		info.Invitees = append(info.Invitees, Invitee{FirstName: name, JoinedAt: r.CreatedAt})
	}
	info.Earned, info.Pending, err = s.referralEarnings(ctx, memberID)
	return info, err
}
