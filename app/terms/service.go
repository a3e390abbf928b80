package terms

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"ikra/app/audit"
	"ikra/app/cache"
	"ikra/app/notify"
	"ikra/app/store"
	"ikra/app/zone"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/termsacceptance"
	"ikra/ent/termsversion"
)

// ErrPast means the date a version takes effect has already passed.
var ErrPast = errors.New("terms: the effective date is in the past")

// NoticeDays is how long after a version takes effect members are still shown the
// notice of the change (until they dismiss it); a version scheduled for later is
// noticed from its publication on.
const NoticeDays = 14

// Almaty is the zone effective dates are typed and shown in.
var Almaty = zone.Almaty

// Texts translates a message key into a language (the i18n catalog's T).
type Texts func(lang, key string, args ...any) string

// Service publishes versions with an effective date, records acceptance by continued
// use, and announces new versions to members. Its reads on the request path come from
// caches forgotten on every node when a version or an acceptance is written.
type Service struct {
	db       *ent.Client
	notify   *notify.Service
	texts    Texts
	versions *cache.Value[[]Stamp]
	accepted *cache.ByID[map[int]bool]
}

// Stamp is what the request path needs of a version: which, of what kind, when it
// takes effect.
type Stamp struct {
	ID          int
	Kind        string
	Version     string
	Title       string
	EffectiveAt time.Time
}

// NewService returns the terms service; b (may be nil) keeps the versions and each
// member's acceptances in memory, n and t announce new versions.
func NewService(db *ent.Client, b *cache.Bus, n *notify.Service, t Texts) *Service {
	s := &Service{db: db, notify: n, texts: t}
	if b != nil {
		s.versions = cache.NewValue(b, cache.TableTTL, s.loadStamps, "TermsVersion")
		s.accepted = cache.NewByID(b, cache.MemberTTL, 100_000, s.loadAccepted, "TermsAcceptance.member_id", "Member")
	}
	return s
}

func (s *Service) loadStamps(ctx context.Context) ([]Stamp, error) {
	rows, err := s.db.TermsVersion.Query().
		Select(termsversion.FieldID, termsversion.FieldKind, termsversion.FieldVersion, termsversion.FieldTitle, termsversion.FieldPublishedAt).
		Order(ent.Asc(termsversion.FieldPublishedAt), ent.Asc(termsversion.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Stamp, len(rows))
	for i, r := range rows {
		out[i] = Stamp{ID: r.ID, Kind: string(r.Kind), Version: r.Version, Title: r.Title, EffectiveAt: r.PublishedAt}
	}
	return out, nil
}

func (s *Service) loadAccepted(ctx context.Context, memberID int) (map[int]bool, error) {
	ids, err := s.db.TermsAcceptance.Query().Where(termsacceptance.MemberID(memberID)).
		Select(termsacceptance.FieldTermsVersionID).Ints(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m, nil
}

func (s *Service) stamps(ctx context.Context) ([]Stamp, error) {
	if s.versions != nil {
		return s.versions.Get(ctx)
	}
	return s.loadStamps(ctx)
}

func (s *Service) acceptedBy(ctx context.Context, memberID int) (map[int]bool, error) {
	if s.accepted != nil {
		return s.accepted.Get(ctx, memberID)
	}
	return s.loadAccepted(ctx, memberID)
}

// currentOf picks, from stamps ordered by effective date, the version of each kind in
// effect at now.
func currentOf(stamps []Stamp, now time.Time) []Stamp {
	cur := map[string]Stamp{}
	for _, st := range stamps {
		if !st.EffectiveAt.After(now) {
			cur[st.Kind] = st
		}
	}
	var out []Stamp
	for _, k := range []string{Offer, Privacy} {
		if st, ok := cur[k]; ok {
			out = append(out, st)
		}
	}
	return out
}

// UseBy records that the member, using the platform at now through channel (web, tg or
// bot), accepts the versions in effect they have not accepted yet (explicit=false):
// once per version, whichever node or request gets there first. Served from the caches,
// a member who has accepted everything costs no query.
func (s *Service) UseBy(ctx context.Context, memberID int, channel string, now time.Time) error {
	stamps, err := s.stamps(ctx)
	if err != nil {
		return err
	}
	cur := currentOf(stamps, now)
	if len(cur) == 0 {
		return nil
	}
	have, err := s.acceptedBy(ctx, memberID)
	if err != nil {
		return err
	}
	switch channel {
	case "web", "tg", "bot":
	default:
		channel = "web"
	}
	for _, st := range cur {
		if have[st.ID] {
			continue
		}
		err := s.db.TermsAcceptance.Create().SetMemberID(memberID).SetTermsVersionID(st.ID).
			SetChannel(termsacceptance.Channel(channel)).SetExplicit(false).SetAcceptedAt(now).Exec(ctx)
		if err != nil && !ent.IsConstraintError(err) {
			return fmt.Errorf("terms: record acceptance: %w", err)
		}
	}
	return nil
}

// Notice returns the versions a member should be told about at now: those scheduled to
// take effect later and those that took effect less than NoticeDays ago, newer than
// seenID (the newest version the member dismissed the notice of). No query when warm.
func (s *Service) Notice(ctx context.Context, seenID int, now time.Time) ([]Stamp, error) {
	stamps, err := s.stamps(ctx)
	if err != nil {
		return nil, err
	}
	cur := currentOf(stamps, now)
	var out []Stamp
	for _, st := range stamps {
		if st.ID <= seenID {
			continue
		}
		recent := !st.EffectiveAt.After(now) && now.Sub(st.EffectiveAt) < NoticeDays*24*time.Hour
		if st.EffectiveAt.After(now) || (recent && contains(cur, st.ID) && !initial(stamps, st)) {
			out = append(out, st)
		}
	}
	return out, nil
}

// initial reports whether st is the first version of its kind (nothing changed then).
func initial(stamps []Stamp, st Stamp) bool {
	for _, o := range stamps {
		if o.Kind == st.Kind && o.ID != st.ID && o.EffectiveAt.Before(st.EffectiveAt) {
			return false
		}
	}
	return true
}

func contains(list []Stamp, id int) bool {
	for _, st := range list {
		if st.ID == id {
			return true
		}
	}
	return false
}

// Newest is the ID of the latest version published (of either kind), 0 when none.
func (s *Service) Newest(ctx context.Context) (int, error) {
	stamps, err := s.stamps(ctx)
	newest := 0
	for _, st := range stamps {
		newest = max(newest, st.ID)
	}
	return newest, err
}

// Draft is a version to publish.
type Draft struct {
	Kind string
	Body string // Markdown
	// EffectiveAt is when it takes effect; zero means at once. It may not be in the past.
	EffectiveAt time.Time
}

// Publish stores a new version of d.Kind taking effect at d.EffectiveAt (now when zero),
// with the audit entry in the same transaction. Its version is the effective date in
// Almaty ("2026-07-01", then "2026-07-01.2", …). Members are told by the announce job
// and the notice banner; earlier versions stay readable.
func (s *Service) Publish(ctx context.Context, actor audit.Entry, d Draft, now time.Time) (*ent.TermsVersion, error) {
	if d.EffectiveAt.IsZero() {
		d.EffectiveAt = now
	}
	if d.EffectiveAt.Before(now.Add(-time.Minute)) {
		return nil, ErrPast
	}
	var out *ent.TermsVersion
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		v, err := create(ctx, tx.Client(), d.Kind, d.Body, d.EffectiveAt, now, actor.ActorID)
		if err != nil {
			return err
		}
		out = v
		actor.Action, actor.TargetType, actor.TargetID = "terms.publish", "terms_version", strconv.Itoa(v.ID)
		actor.After = map[string]any{"kind": d.Kind, "version": v.Version, "effective_at": v.PublishedAt.UTC().Format(time.RFC3339), "title": v.Title}
		return audit.Record(ctx, tx.Client(), actor)
	})
	return out, err
}

// Versions lists the versions of kind in effect at now, the current one first.
func (s *Service) Versions(ctx context.Context, kind string, now time.Time) ([]*ent.TermsVersion, error) {
	if kind != Offer && kind != Privacy {
		return nil, ErrUnknownKind
	}
	return s.db.TermsVersion.Query().
		Where(termsversion.KindEQ(termsversion.Kind(kind)), termsversion.PublishedAtLTE(now)).
		Select(termsversion.FieldID, termsversion.FieldKind, termsversion.FieldVersion, termsversion.FieldTitle, termsversion.FieldPublishedAt).
		Order(ent.Desc(termsversion.FieldPublishedAt), ent.Desc(termsversion.FieldID)).Limit(200).All(ctx)
}

// Version returns one version of kind by its version string, if it has taken effect.
func (s *Service) Version(ctx context.Context, kind, version string, now time.Time) (*ent.TermsVersion, error) {
	if kind != Offer && kind != Privacy {
		return nil, ErrUnknownKind
	}
	v, err := s.db.TermsVersion.Query().Where(termsversion.KindEQ(termsversion.Kind(kind)),
		termsversion.Version(version), termsversion.PublishedAtLTE(now)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return v, err
}

// Row is a version as the back office lists it.
type Row struct {
	*ent.TermsVersion
	Acceptances int
	Current     bool
	Scheduled   bool
}

// All lists every version of both kinds, newest first, with its acceptance count and
// whether it is in effect or scheduled at now.
func (s *Service) All(ctx context.Context, now time.Time) ([]Row, error) {
	vs, err := s.db.TermsVersion.Query().
		Select(termsversion.FieldID, termsversion.FieldKind, termsversion.FieldVersion, termsversion.FieldTitle,
			termsversion.FieldPublishedAt, termsversion.FieldCreatedAt, termsversion.FieldAnnouncedAt).
		Order(ent.Desc(termsversion.FieldPublishedAt), ent.Desc(termsversion.FieldID)).Limit(500).All(ctx)
	if err != nil {
		return nil, err
	}
	var counts []struct {
		TermsVersionID int `json:"terms_version_id"`
		Count          int `json:"count"`
	}
	err = s.db.TermsAcceptance.Query().GroupBy(termsacceptance.FieldTermsVersionID).
		Aggregate(ent.Count()).Scan(ctx, &counts)
	if err != nil {
		return nil, err
	}
	byID := map[int]int{}
	for _, c := range counts {
		byID[c.TermsVersionID] = c.Count
	}
	stamps := make([]Stamp, len(vs))
	for i, v := range vs {
		stamps[i] = Stamp{ID: v.ID, Kind: string(v.Kind), EffectiveAt: v.PublishedAt}
	}
	sort.SliceStable(stamps, func(i, j int) bool { return stamps[i].EffectiveAt.Before(stamps[j].EffectiveAt) })
	cur := currentOf(stamps, now)
	out := make([]Row, len(vs))
	for i, v := range vs {
		out[i] = Row{TermsVersion: v, Acceptances: byID[v.ID], Current: contains(cur, v.ID), Scheduled: v.PublishedAt.After(now)}
	}
	return out, nil
}

// AnnounceBatch is how many members one transaction of the announce job notifies.
const AnnounceBatch = 500

// Announce tells every member in good standing about each version published (created)
// by now and not announced yet: a notification (cabinet and Telegram through the usual
// delivery) with the dedup key terms:<version id>:<member id>, written in batches of
// AnnounceBatch members per transaction; the version's announced_at is set when all
// are written. Run twice, or on two workers, nobody is told twice (the dedup keys), and
// a run cut short resumes where the keys stop. Reports how many notifications it wrote
// or found.
func (s *Service) Announce(ctx context.Context, now time.Time) (int, error) {
	pending, err := s.db.TermsVersion.Query().Where(termsversion.AnnouncedAtIsNil(), termsversion.CreatedAtLTE(now)).
		Order(ent.Asc(termsversion.FieldID)).All(ctx)
	if err != nil {
		return 0, err
	}
	stamps, err := s.loadStamps(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range pending {
		st := Stamp{ID: v.ID, Kind: string(v.Kind), EffectiveAt: v.PublishedAt}
		if !initial(stamps, st) {
			if n, err = s.announce(ctx, v, n); err != nil {
				return n, err
			}
		}
		if err := s.db.TermsVersion.UpdateOneID(v.ID).SetAnnouncedAt(now).Exec(ctx); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *Service) announce(ctx context.Context, v *ent.TermsVersion, n int) (int, error) {
	after := 0
	path := "/terms"
	if v.Kind == termsversion.KindPrivacy {
		path = "/privacy"
	}
	day := v.PublishedAt.In(Almaty).Format("02.01.2006")
	for {
		ms, err := s.db.Member.Query().Where(member.IDGT(after), member.StatusEQ(member.StatusActive)).
			Select(member.FieldID, member.FieldLanguage).Order(ent.Asc(member.FieldID)).Limit(AnnounceBatch).All(ctx)
		if err != nil || len(ms) == 0 {
			return n, err
		}
		err = store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
			for _, m := range ms {
				_, err := s.notify.AddTx(ctx, tx, notify.Message{
					MemberID: m.ID, Kind: "terms.changed", DedupKey: fmt.Sprintf("terms:%d:%d", v.ID, m.ID),
					Title: s.t(m.Language, "notify.terms."+string(v.Kind)+".title"),
					Body:  s.t(m.Language, "notify.terms.body", v.Title, day),
					Link:  path + "/v/" + v.Version,
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += len(ms)
		after = ms[len(ms)-1].ID
	}
}

func (s *Service) t(lang, key string, args ...any) string {
	if s.texts == nil {
		return key
	}
	return s.texts(lang, key, args...)
}
