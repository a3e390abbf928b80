package partners

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect"

	"ikra/app/audit"
	"ikra/app/notify"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/category"
	"ikra/ent/city"
	"ikra/ent/member"
	"ikra/ent/partner"
	"ikra/ent/partnerapplication"
	"ikra/ent/staff"
)

// Errors of applications and suspensions a caller can tell apart.
var (
	// ErrPendingExists means the member already has an application awaiting a decision.
	ErrPendingExists = errors.New("partners: an application is already pending")
	// ErrState means the application or partner is not in a status that allows this.
	ErrState = errors.New("partners: not allowed in this status")
	// ErrReasonRequired means a rejection or suspension came without a reason.
	ErrReasonRequired = errors.New("partners: a reason is required")
)

// MaxReason is the longest rejection or suspension reason kept, in characters.
const MaxReason = 1000

// ValidationError carries field errors as message keys, by field name.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string { return fmt.Sprintf("partners: invalid input: %v", e.Fields) }

// Texts translates a message key into a language (the i18n catalog's T).
type Texts func(lang, key string, args ...any) string

// Service takes partner applications, approves or rejects them, and suspends and
// reactivates partners. Approval creates the partner and its owner in one transaction.
type Service struct {
	db      *ent.Client
	dialect string
	notify  *notify.Service
	texts   Texts
	changed Changed
	now     func() time.Time
}

// NewService returns the applications service; changed is told after an approval
// creates a grant, so every node reloads its permissions.
func NewService(db *ent.Client, dialect string, n *notify.Service, t Texts, changed Changed) *Service {
	return &Service{db: db, dialect: dialect, notify: n, texts: t, changed: changed, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) text(lang, key string, args ...any) string {
	if s.texts == nil {
		return key
	}
	return s.texts(lang, key, args...)
}

// ApplicationInput is an application as the applicant typed it.
type ApplicationInput struct {
	Brand, LegalName, BIN   string
	CategoryID, CityID      int
	Address, Email, Website string
	Description             string
}

// Field limits, in characters.
const (
	maxName        = 120
	maxAddress     = 300
	maxEmail       = 254
	maxWebsite     = 300
	maxDescription = 3000
)

// Normalize trims the input; a BIN typed with spaces keeps only what was typed
// between them, so "2510 5001 1210" is read as twelve digits.
func (in *ApplicationInput) Normalize() {
	in.Brand = strings.TrimSpace(in.Brand)
	in.LegalName = strings.TrimSpace(in.LegalName)
	in.BIN = strings.Join(strings.Fields(in.BIN), "")
	in.Address = strings.TrimSpace(in.Address)
	in.Email = strings.TrimSpace(in.Email)
	in.Website = strings.TrimSpace(in.Website)
	in.Description = strings.TrimSpace(in.Description)
}

// binKeys name each BIN problem's message.
var binKeys = map[error]string{
	ErrBINLength:     "apply.bin.length",
	ErrBINDigits:     "apply.bin.digits",
	ErrBINCheckDigit: "apply.bin.check",
	ErrBINNoCheck:    "apply.bin.no_check",
}

// Validate checks the fields alone (not the database); errors are message keys.
func (in ApplicationInput) Validate() map[string]string {
	errs := map[string]string{}
	add := func(f, k string) {
		if _, ok := errs[f]; !ok {
			errs[f] = k
		}
	}
	text := func(f, v string, required bool, limit int) {
		switch {
		case required && v == "":
			add(f, "apply.required")
		case utf8.RuneCountInString(v) > limit:
			add(f, "apply.too_long")
		}
	}
	text("brand", in.Brand, true, maxName)
	text("legal_name", in.LegalName, true, maxName)
	text("address", in.Address, true, maxAddress)
	text("email", in.Email, true, maxEmail)
	text("website", in.Website, false, maxWebsite)
	text("description", in.Description, true, maxDescription)
	if in.BIN == "" {
		add("bin", "apply.required")
	} else if err := CheckBIN(in.BIN); err != nil {
		add("bin", binKeys[err])
	}
	if in.CategoryID <= 0 {
		add("category_id", "apply.required")
	}
	if in.CityID <= 0 {
		add("city_id", "apply.required")
	}
	if in.Email != "" {
		a, err := mail.ParseAddress(in.Email)
		if err != nil || a.Address != in.Email || a.Name != "" {
			add("email", "apply.email.invalid")
		}
	}
	if in.Website != "" {
		u, err := url.Parse(in.Website)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			add("website", "apply.website.invalid")
		}
	}
	return errs
}

// Apply files an application for the member: one pending application per member at
// a time, and a BIN that already belongs to a partner or to a pending application is
// refused.
func (s *Service) Apply(ctx context.Context, memberID int, in ApplicationInput) (*ent.PartnerApplication, error) {
	in.Normalize()
	errs := in.Validate()
	var row *ent.PartnerApplication
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		// The member's row serialises a member's applications on PostgreSQL (SQLite
		// transactions hold the write lock from the start).
		q := tx.Member.Query().Where(member.ID(memberID))
		if s.dialect == dialect.Postgres {
			q.ForUpdate()
		}
		if _, err := q.Only(ctx); err != nil {
			if ent.IsNotFound(err) {
				return ErrNotFound
			}
			return err
		}
		pending, err := tx.PartnerApplication.Query().
			Where(partnerapplication.MemberID(memberID), partnerapplication.StatusEQ(partnerapplication.StatusPending)).Exist(ctx)
		if err != nil {
			return err
		}
		if pending {
			return ErrPendingExists
		}
		if _, ok := errs["category_id"]; !ok {
			if ok, err := tx.Category.Query().Where(category.ID(in.CategoryID)).Exist(ctx); err != nil {
				return err
			} else if !ok {
				errs["category_id"] = "apply.required"
			}
		}
		if _, ok := errs["city_id"]; !ok {
			if ok, err := tx.City.Query().Where(city.ID(in.CityID)).Exist(ctx); err != nil {
				return err
			} else if !ok {
				errs["city_id"] = "apply.required"
			}
		}
		if _, ok := errs["bin"]; !ok {
			taken, err := binTaken(ctx, tx.Client(), in.BIN)
			if err != nil {
				return err
			}
			if taken != "" {
				errs["bin"] = taken
			}
		}
		if len(errs) > 0 {
			return &ValidationError{Fields: errs}
		}
		row, err = tx.PartnerApplication.Create().
			SetMemberID(memberID).SetBrand(in.Brand).SetLegalName(in.LegalName).SetBin(in.BIN).
			SetCategoryID(in.CategoryID).SetCityID(in.CityID).SetAddress(in.Address).SetEmail(in.Email).
			SetWebsite(in.Website).SetDescription(in.Description).SetCreatedAt(s.now()).
			Save(ctx)
		return err
	})
	return row, err
}

// binTaken returns the message key when bin belongs to a partner or to a pending
// application, "" when it is free.
func binTaken(ctx context.Context, db *ent.Client, bin string) (string, error) {
	if ok, err := db.Partner.Query().Where(partner.Bin(bin)).Exist(ctx); err != nil || ok {
		if ok {
			return "apply.bin.partner", nil
		}
		return "", err
	}
	ok, err := db.PartnerApplication.Query().
		Where(partnerapplication.Bin(bin), partnerapplication.StatusEQ(partnerapplication.StatusPending)).Exist(ctx)
	if ok {
		return "apply.bin.pending", err
	}
	return "", err
}

// Mine lists the member's applications, newest first.
func (s *Service) Mine(ctx context.Context, memberID int) ([]*ent.PartnerApplication, error) {
	return s.db.PartnerApplication.Query().Where(partnerapplication.MemberID(memberID)).
		Order(ent.Desc(partnerapplication.FieldCreatedAt), ent.Desc(partnerapplication.FieldID)).Limit(50).All(ctx)
}

// Application is an application with who filed it and where it is, for review.
type Application struct {
	*ent.PartnerApplication
	Applicant *ent.Member
	Category  *ent.Category
	City      *ent.City
}

// Queue lists pending applications, oldest first.
func (s *Service) Queue(ctx context.Context) ([]Application, error) {
	rows, err := s.db.PartnerApplication.Query().Where(partnerapplication.StatusEQ(partnerapplication.StatusPending)).
		Order(ent.Asc(partnerapplication.FieldCreatedAt), ent.Asc(partnerapplication.FieldID)).Limit(500).All(ctx)
	if err != nil {
		return nil, err
	}
	return s.details(ctx, rows)
}

// Get returns one application, whatever its status.
func (s *Service) Get(ctx context.Context, id int) (Application, error) {
	row, err := s.db.PartnerApplication.Get(ctx, id)
	if ent.IsNotFound(err) {
		return Application{}, ErrNotFound
	}
	if err != nil {
		return Application{}, err
	}
	list, err := s.details(ctx, []*ent.PartnerApplication{row})
	if err != nil {
		return Application{}, err
	}
	return list[0], nil
}

// details loads the applicants, categories and cities of rows in three queries.
func (s *Service) details(ctx context.Context, rows []*ent.PartnerApplication) ([]Application, error) {
	var mids, cats, cities []int
	for _, r := range rows {
		mids, cats, cities = append(mids, r.MemberID), append(cats, r.CategoryID), append(cities, r.CityID)
	}
	ms, err := s.db.Member.Query().Where(member.IDIn(mids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := s.db.Category.Query().Where(category.IDIn(cats...)).All(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := s.db.City.Query().Where(city.IDIn(cities...)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Application, len(rows))
	for i, r := range rows {
		out[i].PartnerApplication = r
		for _, m := range ms {
			if m.ID == r.MemberID {
				out[i].Applicant = m
			}
		}
		for _, c := range cs {
			if c.ID == r.CategoryID {
				out[i].Category = c
			}
		}
		for _, c := range ts {
			if c.ID == r.CityID {
				out[i].City = c
			}
		}
	}
	return out, nil
}

// decide locks a pending application (PostgreSQL; SQLite holds the write lock) and
// runs apply with it in one transaction.
func (s *Service) decide(ctx context.Context, id int, apply func(tx *ent.Tx, a *ent.PartnerApplication, m *ent.Member) error) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		q := tx.PartnerApplication.Query().Where(partnerapplication.ID(id))
		if s.dialect == dialect.Postgres {
			q.ForUpdate()
		}
		a, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if a.Status != partnerapplication.StatusPending {
			return ErrState
		}
		m, err := tx.Member.Get(ctx, a.MemberID)
		if err != nil {
			return err
		}
		return apply(tx, a, m)
	})
}

// Approve creates the partner from a pending application, makes the applicant its
// owner, marks the application approved, audits it and notifies the applicant, all in
// one transaction; then every node reloads its permissions. A BIN that became a
// partner's meanwhile is a ValidationError on "bin".
func (s *Service) Approve(ctx context.Context, actor audit.Entry, id int) (*ent.Partner, error) {
	var p *ent.Partner
	err := s.decide(ctx, id, func(tx *ent.Tx, a *ent.PartnerApplication, m *ent.Member) error {
		if m.Status == member.StatusDeleted {
			return ErrState
		}
		if ok, err := tx.Partner.Query().Where(partner.Bin(a.Bin)).Exist(ctx); err != nil {
			return err
		} else if ok {
			return &ValidationError{Fields: map[string]string{"bin": "apply.bin.partner"}}
		}
		slug, err := freeSlug(ctx, tx.Client(), a.Brand)
		if err != nil {
			return err
		}
		p, err = tx.Partner.Create().SetName(a.Brand).SetSlug(slug).SetBin(a.Bin).SetDescription(a.Description).
			SetCategoryID(a.CategoryID).SetCityID(a.CityID).Save(ctx)
		if err != nil {
			return err
		}
		st, err := tx.Staff.Create().SetMemberID(a.MemberID).SetRole(staff.RoleOwner).SetPartnerID(p.ID).Save(ctx)
		if err != nil {
			return err
		}
		now := s.now()
		if err := tx.PartnerApplication.UpdateOne(a).SetStatus(partnerapplication.StatusApproved).SetPartnerID(p.ID).
			SetNillableDecidedBy(actor.ActorID).SetDecidedAt(now).Exec(ctx); err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "partner_application.approve", "partner_application", strconv.Itoa(a.ID)
		actor.PartnerID = &p.ID
		actor.After = map[string]any{"partner_id": p.ID, "slug": slug, "owner_member_id": a.MemberID, "staff_id": st.ID}
		if err := audit.Record(ctx, tx.Client(), actor); err != nil {
			return err
		}
		_, err = s.notify.AddTx(ctx, tx, notify.Message{
			MemberID: a.MemberID, Kind: "partner.application.approved", DedupKey: fmt.Sprintf("partner_application:%d:approved", a.ID),
			Title: s.text(m.Language, "notify.application.approved.title"),
			Body:  s.text(m.Language, "notify.application.approved.body", a.Brand),
			Link:  "/partner",
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, s.changed(ctx)
}

// Reject refuses a pending application with a reason (required), audited and notified.
func (s *Service) Reject(ctx context.Context, actor audit.Entry, id int, reason string) error {
	reason, err := cleanReason(reason)
	if err != nil {
		return err
	}
	return s.decide(ctx, id, func(tx *ent.Tx, a *ent.PartnerApplication, m *ent.Member) error {
		if err := tx.PartnerApplication.UpdateOne(a).SetStatus(partnerapplication.StatusRejected).SetReason(reason).
			SetNillableDecidedBy(actor.ActorID).SetDecidedAt(s.now()).Exec(ctx); err != nil {
			return err
		}
		actor.Action, actor.TargetType, actor.TargetID = "partner_application.reject", "partner_application", strconv.Itoa(a.ID)
		actor.After = map[string]any{"reason": reason}
		if err := audit.Record(ctx, tx.Client(), actor); err != nil {
			return err
		}
		_, err := s.notify.AddTx(ctx, tx, notify.Message{
			MemberID: a.MemberID, Kind: "partner.application.rejected", DedupKey: fmt.Sprintf("partner_application:%d:rejected", a.ID),
			Title: s.text(m.Language, "notify.application.rejected.title"),
			Body:  s.text(m.Language, "notify.application.rejected.body", a.Brand, reason),
			Link:  "/partner/apply",
		})
		return err
	})
}

func cleanReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", ErrReasonRequired
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		reason = string([]rune(reason)[:MaxReason])
	}
	return reason, nil
}

// translit spells Cyrillic (Russian and Kazakh letters) in Latin for slugs.
var translit = map[rune]string{
	'а': "a", 'ә': "a", 'б': "b", 'в': "v", 'г': "g", 'ғ': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh",
	'з': "z", 'и': "i", 'й': "i", 'к': "k", 'қ': "k", 'л': "l", 'м': "m", 'н': "n", 'ң': "n", 'о': "o",
	'ө': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ұ': "u", 'ү': "u", 'ф': "f", 'х': "h",
	'һ': "h", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "sch", 'ъ': "", 'ы': "y", 'і': "i", 'ь': "", 'э': "e",
	'ю': "yu", 'я': "ya",
}

// Slug makes a URL name from a brand: Latin letters, digits and single hyphens, at
// most 60 characters; "partner" when nothing is left.
func Slug(brand string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(brand) {
		var part string
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			part = string(r)
		case translit[r] != "":
			part = translit[r]
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r):
			if b.Len() > 0 {
				dash = true
			}
			continue
		default:
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteString(part)
		if b.Len() >= 60 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 60 {
		s = strings.Trim(s[:60], "-")
	}
	if s == "" {
		return "partner"
	}
	return s
}

// freeSlug is Slug(brand), or it with -2, -3, … when a partner already has it.
func freeSlug(ctx context.Context, db *ent.Client, brand string) (string, error) {
	base := Slug(brand)
	for n := 1; n < 1000; n++ {
		slug := base
		if n > 1 {
			slug = base + "-" + strconv.Itoa(n)
		}
		ok, err := db.Partner.Query().Where(partner.Slug(slug)).Exist(ctx)
		if err != nil {
			return "", err
		}
		if !ok {
			return slug, nil
		}
	}
	return "", fmt.Errorf("partners: no free slug for %q", base)
}
