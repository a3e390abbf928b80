// Package scraping notices members and client addresses that open far more offers or
// catalog pages than a person would (PRODUCT.md §6.2.2). Counters live in Redis, so
// every web node counts the same requests. Crossing a threshold raises one flag per
// subject and window for staff, and slows the subject down; it never blocks.
package scraping

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"ikra/app/audit"
	"ikra/app/logtag"
	"ikra/app/settings"
	"ikra/ent"
	"ikra/ent/scrapeflag"
)

// Kind is what a request read.
type Kind string

const (
	// Offers counts distinct offers opened per OfferWindow.
	Offers Kind = "offers"
	// Pages counts catalog pages read (a cursor or a filter) per PageWindow.
	Pages Kind = "pages"
)

// The windows the limits count in (fixed windows aligned to the clock).
const (
	OfferWindow = time.Hour
	PageWindow  = 10 * time.Minute
)

// Settings keys and their defaults.
const (
	KeyOffersPerHour = "scrape.offers_per_hour"
	KeyPagesPer10Min = "scrape.pages_per_10min"

	DefaultOffersPerHour = 120
	DefaultPagesPer10Min = 200
)

// The slowdown of a subject over a limit: MinDelay plus StepDelay per request over
// it, never more than MaxDelay.
const (
	MinDelay  = 300 * time.Millisecond
	StepDelay = 50 * time.Millisecond
	MaxDelay  = 1500 * time.Millisecond
)

// evidenceSize is how many recent items a flag keeps.
const evidenceSize = 20

// Limits are the thresholds, editable by superadmins.
type Limits struct {
	OffersPerHour int
	PagesPer10Min int
}

// Validate returns field errors as message keys.
func (l Limits) Validate() map[string]string {
	errs := map[string]string{}
	if l.OffersPerHour < 1 || l.OffersPerHour > 100000 {
		errs["offers_per_hour"] = "form.scrape_limit"
	}
	if l.PagesPer10Min < 1 || l.PagesPer10Min > 100000 {
		errs["pages_per_10min"] = "form.scrape_limit"
	}
	return errs
}

// ErrInvalid is returned for limits that do not validate.
var ErrInvalid = errors.New("scraping: invalid limits")

// ErrNotFound is returned for a flag that does not exist.
var ErrNotFound = errors.New("scraping: flag not found")

// Service counts requests and raises flags.
type Service struct {
	db     *ent.Client
	rdb    redis.Cmdable
	prefix string
	log    *slog.Logger

	mu       sync.Mutex
	sleep    func(ctx context.Context, d time.Duration)
	now      func() time.Time
	settings *settings.Store
	mem      *memory // counters in this process (CountInMemory); nil: in Redis
	logKey   []byte  // keys the client addresses' tags in the log (logtag)
}

// New returns the service; keys in Redis start with prefix.
func New(db *ent.Client, rdb redis.Cmdable, prefix string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: db, rdb: rdb, prefix: prefix + "scrape:", log: log,
		sleep: sleepCtx, now: time.Now, settings: settings.New(db)}
}

// SetLogKey sets the key of the tags that stand for client addresses in the log
// (logtag.Addr): an address is never logged as it is.
func (s *Service) SetLogKey(key []byte) { s.logKey = key }

// logged is how a subject appears in the log: a member by ID, an address by its tag.
func (s *Service) logged(sub *subject) string {
	if ip, ok := strings.CutPrefix(sub.key, "ip:"); ok {
		return "ip:" + logtag.Addr(s.logKey, ip)
	}
	return sub.key
}

// UseSettings reads the thresholds through st (the node's cached settings, forgotten
// on every node when they change).
func (s *Service) UseSettings(st *settings.Store) { s.settings = st }

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// SetSleep replaces how the slowdown waits (tests record it instead).
func (s *Service) SetSleep(f func(ctx context.Context, d time.Duration)) {
	s.mu.Lock()
	s.sleep = f
	s.mu.Unlock()
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// Limits returns the thresholds: the saved ones, or the defaults.
func (s *Service) Limits(ctx context.Context) (Limits, error) {
	l := Limits{OffersPerHour: DefaultOffersPerHour, PagesPer10Min: DefaultPagesPer10Min}
	for _, f := range []struct {
		key string
		n   *int
	}{{KeyOffersPerHour, &l.OffersPerHour}, {KeyPagesPer10Min, &l.PagesPer10Min}} {
		v, ok, err := s.settings.Get(ctx, f.key)
		if err != nil {
			return Limits{}, err
		}
		if n, err := strconv.Atoi(v); ok && err == nil && n >= 1 {
			*f.n = n
		}
	}
	return l, nil
}

// SaveLimits changes the thresholds and audits the change.
func (s *Service) SaveLimits(ctx context.Context, actor audit.Entry, l Limits) error {
	if len(l.Validate()) > 0 {
		return ErrInvalid
	}
	before, err := s.Limits(ctx)
	if err != nil {
		return err
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return err
	}
	st := settings.New(tx.Client())
	if err := st.Set(ctx, KeyOffersPerHour, strconv.Itoa(l.OffersPerHour), actor.ActorID); err != nil {
		return rollback(tx, err)
	}
	if err := st.Set(ctx, KeyPagesPer10Min, strconv.Itoa(l.PagesPer10Min), actor.ActorID); err != nil {
		return rollback(tx, err)
	}
	actor.Action, actor.TargetType = "settings.scraping", "settings"
	actor.Before = map[string]any{"offers_per_hour": before.OffersPerHour, "pages_per_10min": before.PagesPer10Min}
	actor.After = map[string]any{"offers_per_hour": l.OffersPerHour, "pages_per_10min": l.PagesPer10Min}
	if err := audit.Record(ctx, tx.Client(), actor); err != nil {
		return rollback(tx, err)
	}
	return tx.Commit()
}

func rollback(tx *ent.Tx, err error) error {
	_ = tx.Rollback()
	return err
}

// Request is one read to count: who (the member, when signed in, and the client
// address), what kind, and the item (an offer ID, or a page's path and query).
type Request struct {
	MemberID int // 0 when not signed in
	IP       string
	Kind     Kind
	Item     string
}

// subject is one counted party: "m:<id>" or "ip:<addr>".
type subject struct {
	key   string
	count int
	fresh bool // this request is the first over the limit in the window
	items []string
}

// Observe counts r and, over a limit, raises a flag (once per subject and window) and
// waits the slowdown before returning it. Redis or database trouble is logged and
// costs nothing: no flag, no delay.
func (s *Service) Observe(ctx context.Context, r Request) time.Duration {
	d, err := s.observe(ctx, r)
	if err != nil {
		s.log.Warn("scraping watch unavailable", "kind", string(r.Kind), "err", err)
		return 0
	}
	if d > 0 {
		s.mu.Lock()
		sleep := s.sleep
		s.mu.Unlock()
		sleep(ctx, d)
	}
	return d
}

func (s *Service) observe(ctx context.Context, r Request) (time.Duration, error) {
	lim, err := s.Limits(ctx)
	if err != nil {
		return 0, err
	}
	limit, window := lim.PagesPer10Min, PageWindow
	if r.Kind == Offers {
		limit, window = lim.OffersPerHour, OfferWindow
	}
	s.mu.Lock()
	now := s.now()
	s.mu.Unlock()
	start := now.Truncate(window)
	subjects := []*subject{{key: "ip:" + r.IP}}
	if r.MemberID > 0 {
		subjects = []*subject{{key: "m:" + strconv.Itoa(r.MemberID)}, subjects[0]}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := s.count(ctx, subjects, r, start, window, limit); err != nil {
		return 0, err
	}
	over := false
	for _, sub := range subjects {
		over = over || sub.count > limit
	}
	if !over {
		return 0, nil
	}
	// One flag per request at most: the member's when signed in (it names the
	// address too); the address's alone only when its member is under the limit
	// (several accounts, or none, behind one address).
	var flag *subject
	switch {
	case subjects[0].fresh:
		flag = subjects[0]
	case len(subjects) == 2 && subjects[1].fresh && subjects[0].count <= limit:
		flag = subjects[1]
	}
	if flag != nil {
		if err := s.raise(ctx, flag, r, limit, window, start, now); err != nil {
			s.log.Warn("scraping flag not written", "subject", s.logged(flag), "err", err)
		}
	}
	excess := 0
	for _, sub := range subjects {
		excess = max(excess, sub.count-limit)
	}
	return Delay(excess), nil
}

// Delay is the slowdown for a subject excess requests over its limit.
func Delay(excess int) time.Duration {
	if excess <= 0 {
		return 0
	}
	d := MinDelay + time.Duration(excess-1)*StepDelay
	return min(d, MaxDelay)
}

// count adds r to each subject's window, all in one round trip (a pipeline, not a
// transaction: each counter is atomic on its own): distinct offers in a set, pages in
// a counter, the latest items in a short list for the evidence. A subject over the
// limit then reads its evidence and claims the window's flag in a second round trip.
func (s *Service) count(ctx context.Context, subjects []*subject, r Request, start time.Time, window time.Duration, limit int) error {
	ttl := window + time.Minute
	base := func(sub *subject) string {
		return s.prefix + string(r.Kind) + ":" + sub.key + ":" + strconv.FormatInt(start.Unix(), 10)
	}
	if s.mem != nil {
		keys := make([]string, len(subjects))
		for i, sub := range subjects {
			keys[i] = base(sub)
		}
		s.mu.Lock()
		now := s.now()
		s.mu.Unlock()
		s.mem.count(now, keys, subjects, r, ttl, limit)
		return nil
	}
	pipe := s.rdb.Pipeline()
	ns := make([]*redis.IntCmd, len(subjects))
	for i, sub := range subjects {
		b := base(sub)
		if r.Kind == Offers {
			pipe.SAdd(ctx, b+":set", r.Item)
			ns[i] = pipe.SCard(ctx, b+":set")
			pipe.Expire(ctx, b+":set", ttl)
		} else {
			ns[i] = pipe.Incr(ctx, b+":n")
			pipe.Expire(ctx, b+":n", ttl)
		}
		pipe.LPush(ctx, b+":ev", r.Item)
		pipe.LTrim(ctx, b+":ev", 0, evidenceSize-1)
		pipe.Expire(ctx, b+":ev", ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	var over []*subject
	for i, sub := range subjects {
		if sub.count = int(ns[i].Val()); sub.count > limit {
			over = append(over, sub)
		}
	}
	if len(over) == 0 {
		return nil
	}
	pipe = s.rdb.Pipeline()
	evs := make([]*redis.StringSliceCmd, len(over))
	claims := make([]*redis.BoolCmd, len(over))
	for i, sub := range over {
		b := base(sub)
		evs[i] = pipe.LRange(ctx, b+":ev", 0, evidenceSize-1)
		claims[i] = pipe.SetNX(ctx, b+":flagged", "1", ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	for i, sub := range over {
		sub.items, sub.fresh = evs[i].Val(), claims[i].Val()
	}
	return nil
}

// raise writes the flag; its dedup key makes a second write for the same subject,
// kind and window do nothing.
func (s *Service) raise(ctx context.Context, sub *subject, r Request, limit int, window time.Duration, start, now time.Time) error {
	c := s.db.ScrapeFlag.Create().
		SetDedupKey(fmt.Sprintf("%s:%s:%d", r.Kind, sub.key, start.Unix())).
		SetIP(truncate(r.IP, 64)).SetKind(string(r.Kind)).
		SetCount(sub.count).SetThreshold(limit).SetWindowSeconds(int(window / time.Second)).
		SetWindowStart(start).SetFirstSeen(now).SetLastSeen(now).SetEvidence(sub.items)
	if r.MemberID > 0 && sub.key[0] == 'm' {
		c.SetMemberID(r.MemberID)
	}
	err := c.OnConflictColumns(scrapeflag.FieldDedupKey).Ignore().Exec(ctx)
	if err != nil && !ent.IsConstraintError(err) {
		return err
	}
	s.log.Warn("scraping flagged", "subject", s.logged(sub), "kind", string(r.Kind), "count", sub.count, "threshold", limit)
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Flag is a flag as staff see it.
type Flag = ent.ScrapeFlag

// List returns the latest flags, newest first.
func (s *Service) List(ctx context.Context, limit int) ([]*Flag, error) {
	return s.db.ScrapeFlag.Query().Order(ent.Desc(scrapeflag.FieldCreatedAt), ent.Desc(scrapeflag.FieldID)).
		Limit(limit).All(ctx)
}

// OpenCount counts the flags nobody has reviewed yet.
func (s *Service) OpenCount(ctx context.Context) (int, error) {
	return s.db.ScrapeFlag.Query().Where(scrapeflag.StatusEQ(scrapeflag.StatusOpen)).Count(ctx)
}

// Review marks a flag reviewed and audits it.
func (s *Service) Review(ctx context.Context, actor audit.Entry, id int) error {
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return err
	}
	f, err := tx.ScrapeFlag.Get(ctx, id)
	if ent.IsNotFound(err) {
		return rollback(tx, ErrNotFound)
	}
	if err != nil {
		return rollback(tx, err)
	}
	u := tx.ScrapeFlag.UpdateOne(f).SetStatus(scrapeflag.StatusReviewed).SetReviewedAt(time.Now())
	if actor.ActorID != nil {
		u.SetReviewedByID(*actor.ActorID)
	}
	if err := u.Exec(ctx); err != nil {
		return rollback(tx, err)
	}
	actor.Action, actor.TargetType, actor.TargetID = "scrape_flag.review", "scrape_flag", strconv.Itoa(id)
	actor.Before, actor.After = map[string]any{"status": string(f.Status)}, map[string]any{"status": "reviewed"}
	if err := audit.Record(ctx, tx.Client(), actor); err != nil {
		return rollback(tx, err)
	}
	return tx.Commit()
}
