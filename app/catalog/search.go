package catalog

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/offer"
	"ikra/ent/predicate"
)

// Page sizes and depth: a person reads a few pages; a harvester reads them all
// (anti-scraping, PRODUCT.md §6.2.2).
const (
	DefaultLimit = 20 // offers on a page when the caller names no limit
	MaxLimit     = 50 // the most offers one page holds, whatever is asked
	MaxDepth     = 50 // the most pages one query may be followed through
	MaxQuery     = 100
	maxWords     = 8
	maxWordRunes = 40
)

// Errors of Search; the web shows them as a clear message, the API as 400.
var (
	// ErrBadCursor means the cursor was not made by Search (mangled or forged).
	ErrBadCursor = errors.New("catalog: bad cursor")
	// ErrTooDeep means the query has been followed through MaxDepth pages.
	ErrTooDeep = errors.New("catalog: too many pages")
	// ErrBadFilter means a filter value is out of range (an unknown kind, a negative ID).
	ErrBadFilter = errors.New("catalog: bad filter")
)

// HoldingStatuses are the booking statuses that hold a place: they count against an
// offer's capacity (the booking rules use the same list).
var HoldingStatuses = []booking.Status{booking.StatusRequested, booking.StatusConfirmed, booking.StatusCompleted}

// Filter narrows the catalog. Zero values mean "any".
type Filter struct {
	CategoryID int
	CityID     int
	Kind       string // discount, service or event
	Bonus      bool   // payable with bonuses (price_bonus > 0)
	Available  bool   // a place left (or unlimited) and within the validity window
	Query      string // words searched in title, summary, description and partner name
	Cursor     string // Page.Next of the previous page
	Limit      int    // DefaultLimit when 0; at most MaxLimit
}

// Empty reports whether the filter narrows nothing (the plain first page).
func (f Filter) Empty() bool {
	return f.CategoryID == 0 && f.CityID == 0 && f.Kind == "" && !f.Bonus && !f.Available && len(Words(f.Query)) == 0
}

// Page is one page of offers, newest first, with the cursor of the next page ("" at the
// end) and its number (1 for the first).
type Page struct {
	Offers []*ent.Offer
	Next   string
	Number int
}

// Search returns one page of the offers the member may see now that match f, newest
// first. It always starts from the visibility predicate. The text query is cut to
// MaxQuery characters and reduced to words, so no input is interpreted as syntax.
func (s *Service) Search(ctx context.Context, memberID int, f Filter) (Page, error) {
	if f.CategoryID < 0 || f.CityID < 0 || f.Limit < 0 || (f.Kind != "" && offer.KindValidator(offer.Kind(f.Kind)) != nil) {
		return Page{}, ErrBadFilter
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	after, number := cursor{}, 1
	if f.Cursor != "" {
		c, err := s.decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, err
		}
		if c.Page >= MaxDepth {
			return Page{}, ErrTooDeep
		}
		after, number = c, c.Page+1
	}
	keys, ok, err := s.fromPools(ctx, memberID, f, after, number, limit)
	if err != nil {
		return Page{}, err
	}
	if !ok {
		if keys, err = s.query(ctx, memberID, f, after, number, limit); err != nil {
			return Page{}, err
		}
	}
	p := Page{Number: number}
	if len(keys) > limit {
		keys = keys[:limit]
		last := keys[limit-1]
		p.Next = s.encodeCursor(cursor{At: last.At.UnixNano(), ID: last.ID, Page: number})
	}
	ids := make([]int, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	details, err := s.detailsOf(ctx, ids)
	if err != nil {
		return Page{}, err
	}
	p.Offers = inOrder(ids, details)
	return p, nil
}

// pageKey is an offer's place in the catalog's order.
type pageKey struct {
	ID int
	At time.Time // published
}

// query reads the keys of a page (limit+1, to tell whether another follows) from the
// database: the visibility predicate, the filter and the cursor, on the index.
func (s *Service) query(ctx context.Context, memberID int, f Filter, after cursor, number, limit int) ([]pageKey, error) {
	q, err := s.Visible(ctx, memberID)
	if err != nil {
		return nil, err
	}
	// Every way to publish sets published_at; the sort key needs it.
	q.Where(offer.PublishedAtNotNil())
	if f.CategoryID > 0 {
		q.Where(offer.CategoryID(f.CategoryID))
	}
	if f.CityID > 0 {
		q.Where(offer.CityID(f.CityID))
	}
	if f.Kind != "" {
		q.Where(offer.KindEQ(offer.Kind(f.Kind)))
	}
	if f.Bonus {
		q.Where(offer.PriceBonusGT(0))
	}
	if f.Available {
		// The validity window is part of the visibility predicate already.
		q.Where(offer.Or(offer.Capacity(0), placesLeft()))
	}
	if words := Words(f.Query); len(words) > 0 {
		q.Where(s.textMatch(words))
	}
	if number > 1 {
		t := time.Unix(0, after.At)
		q.Where(offer.Or(offer.PublishedAtLT(t), offer.And(offer.PublishedAt(t), offer.IDLT(after.ID))))
	}
	// The page's IDs come from the index; the offers themselves from detailsOf.
	list, err := q.Order(ent.Desc(offer.FieldPublishedAt), ent.Desc(offer.FieldID)).Limit(limit+1).
		Select(offer.FieldID, offer.FieldPublishedAt).All(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]pageKey, len(list))
	for i, o := range list {
		keys[i] = pageKey{ID: o.ID, At: *o.PublishedAt}
	}
	return keys, nil
}

// fromPools answers a page of the catalog that no filter but a category narrows from
// the cached pools (the newest offers of the member's status, and their invitations)
// when these hold the whole page; ok is false when they do not, and query reads it.
func (s *Service) fromPools(ctx context.Context, memberID int, f Filter, after cursor, number, limit int) ([]pageKey, bool, error) {
	if s.noPools || f.CityID != 0 || f.Kind != "" || f.Bonus || f.Available || len(Words(f.Query)) > 0 {
		return nil, false, nil
	}
	_, st, good, err := s.standing(ctx, memberID)
	if err != nil || !good {
		return nil, err == nil, err // not in good standing: an empty page
	}
	tierID := 0
	if st.Tier != nil {
		tierID = st.Tier.ID
	}
	pool, err := s.pool(ctx, tierID, f.CategoryID, false)
	if err != nil {
		return nil, false, err
	}
	invited, err := s.invitedOf(ctx, memberID)
	if err != nil {
		return nil, false, err
	}
	if len(invited) >= candidateCap {
		return nil, false, nil // more invitations than the list holds
	}
	mine := invited
	if f.CategoryID > 0 {
		mine = nil
		for _, o := range invited {
			if o.CategoryID == f.CategoryID {
				mine = append(mine, o)
			}
		}
	}
	merged := mergeNewest(len(pool)+len(mine), pool, mine)
	// A full pool may stop short of older offers: the order is known up to its last.
	complete := len(pool) < candidateCap
	if !complete && len(pool) > 0 {
		last := pool[len(pool)-1].Candidate
		n := 0
		for n < len(merged) && !newer(last, merged[n].Candidate) {
			n++
		}
		merged = merged[:n]
	}
	start := 0
	if number > 1 {
		for start < len(merged) && !olderThan(merged[start].Candidate, after) {
			start++
		}
	}
	rest := merged[start:]
	if len(rest) <= limit && !complete {
		return nil, false, nil
	}
	keys := make([]pageKey, 0, min(len(rest), limit+1))
	for _, o := range rest[:min(len(rest), limit+1)] {
		keys = append(keys, pageKey{ID: o.OfferID, At: o.PublishedAt})
	}
	return keys, true, nil
}

// olderThan: the candidate comes after the cursor in the catalog's order.
func olderThan(c Candidate, after cursor) bool {
	at := c.PublishedAt.UnixNano()
	return at < after.At || (at == after.At && c.OfferID < after.ID)
}

// placesLeft: fewer bookings hold a place than the offer's capacity.
func placesLeft() predicate.Offer {
	return func(s *sql.Selector) {
		t := sql.Table(booking.Table)
		statuses := make([]any, len(HoldingStatuses))
		for i, st := range HoldingStatuses {
			statuses[i] = string(st)
		}
		sub := sql.Select(sql.Count("*")).From(t).
			Where(sql.And(sql.ColumnsEQ(t.C(booking.FieldOfferID), s.C(offer.FieldID)), sql.In(t.C(booking.FieldStatus), statuses...)))
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("(").Join(sub).WriteString(") < ").Ident(s.C(offer.FieldCapacity))
		}))
	}
}

// textMatch matches offers whose own text or partner's name holds every word: on
// PostgreSQL through the tsvector indexes (Russian stems and words as written), on
// SQLite through FTS5, each word as a quoted prefix on both.
func (s *Service) textMatch(words []string) predicate.Offer {
	return func(sel *sql.Selector) {
		if sel.Dialect() == dialect.Postgres {
			// Each word a quoted prefix of its stem: the Russian stemmer cuts "ресторан" and
			// "рестораны" to "рестора" but "ресторане" to "ресторан", so only a prefix
			// finds every form. Words hold letters and digits only, so the quotes are safe.
			terms := make([]string, len(words))
			for i, w := range words {
				terms[i] = "'" + w + "':*"
			}
			text := strings.Join(terms, " & ")
			sel.Where(sql.P(func(b *sql.Builder) {
				tsq := func() {
					b.WriteString("(to_tsquery('russian', ").Arg(text).WriteString(") || to_tsquery('simple', ").Arg(text).WriteString("))")
				}
				b.WriteString("(" + store.OfferTextPG(sel.C) + " @@ ")
				tsq()
				b.WriteString(" OR ").Ident(sel.C(offer.FieldPartnerID)).WriteString(" = ANY(ARRAY(SELECT id FROM partners WHERE " + store.PartnerTextPG(func(c string) string { return c }) + " @@ ")
				tsq()
				b.WriteString(")))")
			}))
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"*`
		}
		sel.Where(sql.P(func(b *sql.Builder) {
			b.Ident(sel.C(offer.FieldID)).WriteString(" IN (SELECT rowid FROM " + store.OfferFTS + " WHERE " + store.OfferFTS + " MATCH ").
				Arg(strings.Join(quoted, " ")).WriteString(")")
		}))
	}
}

// Words reduces a search query to at most a few words of letters and digits, each cut
// to a sane length: quotes, operators, NUL bytes and invalid UTF-8 are separators.
func Words(q string) []string {
	q = strings.ToValidUTF8(q, " ")
	if utf8.RuneCountInString(q) > MaxQuery {
		q = string([]rune(q)[:MaxQuery])
	}
	var out []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if r := []rune(w); len(r) > maxWordRunes {
			w = string(r[:maxWordRunes])
		}
		out = append(out, strings.ToLower(w))
		if len(out) == maxWords {
			break
		}
	}
	return out
}

// cursor is the sort key of a page's last offer and that page's number.
type cursor struct {
	At   int64 // published_at, Unix nanoseconds
	ID   int
	Page int
}

const cursorLen = 8 + 8 + 2

// SetCursorKey sets the key that signs cursors; nodes of one installation share it so a
// cursor made on one is read on another. Without it a random key serves this process.
func (s *Service) SetCursorKey(key []byte) { s.cursorKey = key }

func (s *Service) key() []byte {
	s.keyOnce.Do(func() {
		if len(s.cursorKey) == 0 {
			s.cursorKey = make([]byte, 32)
			rand.Read(s.cursorKey) //nolint:errcheck // never fails (crypto/rand)
		}
	})
	return s.cursorKey
}

func (s *Service) mac(b []byte) []byte {
	m := hmac.New(sha256.New, s.key())
	m.Write(b)
	return m.Sum(nil)[:16]
}

func (s *Service) encodeCursor(c cursor) string {
	b := make([]byte, cursorLen)
	binary.BigEndian.PutUint64(b, uint64(c.At))
	binary.BigEndian.PutUint64(b[8:], uint64(c.ID))
	binary.BigEndian.PutUint16(b[16:], uint16(c.Page))
	return base64.RawURLEncoding.EncodeToString(append(b, s.mac(b)...))
}

func (s *Service) decodeCursor(str string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(str)
	if err != nil || len(b) != cursorLen+16 || !hmac.Equal(s.mac(b[:cursorLen]), b[cursorLen:]) {
		return cursor{}, ErrBadCursor
	}
	c := cursor{At: int64(binary.BigEndian.Uint64(b)), ID: int(binary.BigEndian.Uint64(b[8:])), Page: int(binary.BigEndian.Uint16(b[16:]))}
	if c.ID <= 0 || c.Page < 1 {
		return cursor{}, ErrBadCursor
	}
	return c, nil
}

// Choices are the categories and cities the filter offers.
type Choices struct {
	Categories []*ent.Category
	Cities     []*ent.City
}

// FilterChoices lists every category (in the platform's order) and city.
func (s *Service) FilterChoices(ctx context.Context) (Choices, error) {
	var ch Choices
	var err error
	if ch.Categories, err = s.rows.Categories(ctx); err != nil {
		return ch, err
	}
	ch.Cities, err = s.rows.Cities(ctx)
	return ch, err
}
