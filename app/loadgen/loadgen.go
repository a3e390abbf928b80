// Package loadgen fills a database with synthetic load data for performance work:
// partners, published offers spread over categories and cities, members, bookings in
// several statuses, offer views and members' ledger histories with their balances. Rows go in with bulk inserts in batches inside
// transactions, so 100 000 offers take seconds, not hours. It is a tool for test and
// benchmark databases, never for a production one.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/category"
	"ikra/ent/city"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/partner"
	"ikra/ent/staff"
	"ikra/ent/tier"
)

// Batch is how many rows one bulk insert carries (within SQLite's and PostgreSQL's
// limits on bound parameters for the widest table, offers).
const Batch = 1000

// SlugPrefix marks the partners the generator made; their presence means the database
// already holds load data.
const SlugPrefix = "load-"

// ErrLoaded means the database already holds load data; generating twice would only
// double it.
var ErrLoaded = errors.New("loadgen: the database already holds load data (partners with slug prefix \"load-\")")

// Options say how much to make. Zero Partners, Bookings or Views pick a size that fits
// the number of offers.
type Options struct {
	Offers, Members, Partners, Bookings, Views int
	// Ledger is how many ledger entries to spread over the generated members (about:
	// a settling pair may add one per member); at most MaxLedgerPerMember per member.
	Ledger int
	// Owner, when set, is the Telegram ID of an existing member who becomes an owner of
	// the generated partner with the most offers, so a load run can sign in to its
	// portal (the generated members cannot sign in).
	Owner    int64
	Seed     uint64 // the same seed makes the same data
	Now      time.Time
	Progress func(format string, args ...any)
}

// MaxLedgerPerMember caps Options.Ledger at this many entries per member on average.
const MaxLedgerPerMember = 50

// Result counts what was made.
type Result struct {
	Partners, Offers, Members, Bookings, Views, Media, Staff, Ledger int
	// OwnerPartner is the partner Options.Owner was made an owner of.
	OwnerPartner int
}

func (o *Options) defaults() {
	if o.Partners <= 0 {
		o.Partners = max(1, o.Offers/50)
	}
	if o.Bookings < 0 {
		o.Bookings = 0
	} else if o.Bookings == 0 {
		o.Bookings = o.Offers / 2
	}
	o.Ledger = min(max(0, o.Ledger), MaxLedgerPerMember*o.Members)
	if o.Views <= 0 {
		o.Views = o.Offers
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Seed == 0 {
		o.Seed = 9
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
}

// gen carries the state of one run.
type gen struct {
	db         *ent.Client
	opt        Options
	rnd        *rand.Rand
	categories []int
	cities     []int
	tiers      []int
	partners   []pick // partner ID with its category and city
	offers     []offerRow
	members    []int
	owner      int // member ID of Options.Owner, or 0
	res        Result
}

type pick struct{ id, category, city int }

type offerRow struct {
	id, partner, capacity int
	invite                bool
}

// Generate makes the load data described by opt. It refuses (ErrLoaded) when the
// database already holds load data.
func Generate(ctx context.Context, db *ent.Client, opt Options) (Result, error) {
	if opt.Offers < 0 || opt.Members < 0 {
		return Result{}, errors.New("loadgen: negative counts")
	}
	opt.defaults()
	n, err := db.Partner.Query().Where(partner.SlugHasPrefix(SlugPrefix)).Count(ctx)
	if err != nil {
		return Result{}, err
	}
	if n > 0 {
		return Result{}, ErrLoaded
	}
	g := &gen{db: db, opt: opt, rnd: rand.New(rand.NewPCG(opt.Seed, 2026))}
	if opt.Owner != 0 {
		if g.owner, err = db.Member.Query().Where(member.TelegramID(opt.Owner)).OnlyID(ctx); err != nil {
			return Result{}, fmt.Errorf("loadgen: owner with Telegram ID %d: %w", opt.Owner, err)
		}
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"dictionaries", g.dictionaries},
		{"partners", g.makePartners},
		{"offers", g.makeOffers},
		{"members", g.makeMembers},
		{"staff", g.makeStaff},
		{"invitations", g.invite},
		{"bookings", g.makeBookings},
		{"views", g.makeViews},
		{"ledger", g.makeLedger},
	}
	for _, s := range steps {
		start := time.Now()
		if err := s.fn(ctx); err != nil {
			return g.res, fmt.Errorf("loadgen: %s: %w", s.name, err)
		}
		g.opt.Progress("%s: %s", s.name, time.Since(start).Round(time.Millisecond))
	}
	return g.res, nil
}

// batches runs fn over [0,n) in chunks of Batch, each chunk in its own transaction.
func (g *gen) batches(ctx context.Context, n int, fn func(tx *ent.Tx, from, to int) error) error {
	for from := 0; from < n; from += Batch {
		to := min(n, from+Batch)
		tx, err := g.db.Tx(ctx)
		if err != nil {
			return err
		}
		if err := fn(tx, from, to); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

var categoryNames = [][3]string{
	{"restaurants", "Рестораны", "Restaurants"}, {"beauty", "Красота", "Beauty"}, {"health", "Здоровье", "Health"},
	{"auto", "Авто", "Auto"}, {"hotels", "Отели", "Hotels"}, {"sport", "Спорт", "Sport"},
	{"education", "Образование", "Education"}, {"events", "События", "Events"},
}

var cityNames = [][3]string{
	{"almaty", "Алматы", "Almaty"}, {"astana", "Астана", "Astana"}, {"shymkent", "Шымкент", "Shymkent"},
	{"karaganda", "Караганда", "Karaganda"}, {"aktobe", "Актобе", "Aktobe"},
}

// dictionaries reuses the categories, cities and tiers that exist and adds the
// standard ones that are missing.
func (g *gen) dictionaries(ctx context.Context) error {
	for i, c := range categoryNames {
		id, err := g.db.Category.Query().Where(category.Slug(c[0])).OnlyID(ctx)
		if ent.IsNotFound(err) {
			var made *ent.Category
			if made, err = g.db.Category.Create().SetSlug(c[0]).SetNameRu(c[1]).SetNameEn(c[2]).SetSort(10 * (i + 1)).Save(ctx); err == nil {
				id = made.ID
			}
		}
		if err != nil {
			return err
		}
		g.categories = append(g.categories, id)
	}
	for _, c := range cityNames {
		id, err := g.db.City.Query().Where(city.Slug(c[0])).OnlyID(ctx)
		if ent.IsNotFound(err) {
			var made *ent.City
			if made, err = g.db.City.Create().SetSlug(c[0]).SetNameRu(c[1]).SetNameEn(c[2]).Save(ctx); err == nil {
				id = made.ID
			}
		}
		if err != nil {
			return err
		}
		g.cities = append(g.cities, id)
	}
	var err error
	g.tiers, err = g.db.Tier.Query().Order(ent.Asc(tier.FieldSort)).IDs(ctx)
	return err
}

func (g *gen) ago(maxDays int) time.Time {
	return g.opt.Now.Add(-time.Duration(g.rnd.Int64N(int64(maxDays) * int64(24*time.Hour))))
}

func (g *gen) makePartners(ctx context.Context) error {
	return g.batches(ctx, g.opt.Partners, func(tx *ent.Tx, from, to int) error {
		bs := make([]*ent.PartnerCreate, 0, to-from)
		picks := make([]pick, 0, to-from)
		for i := from; i < to; i++ {
			p := pick{category: g.categories[g.rnd.IntN(len(g.categories))], city: g.cities[g.rnd.IntN(len(g.cities))]}
			picks = append(picks, p)
			at := g.ago(720)
			bs = append(bs, tx.Partner.Create().
				SetName(fmt.Sprintf("%s %s %d", words[i%len(words)], places[(i/len(words))%len(places)], i+1)).
				SetSlug(fmt.Sprintf("%s%06d", SlugPrefix, i+1)).
				SetBin(fmt.Sprintf("9%011d", i+1)).
				SetDescription("Партнёр для нагрузочного теста. Load-test partner.").
				SetCategoryID(p.category).SetCityID(p.city).
				SetCreatedAt(at).SetUpdatedAt(at))
		}
		ps, err := tx.Partner.CreateBulk(bs...).Save(ctx)
		if err != nil {
			return err
		}
		for i, p := range ps {
			picks[i].id = p.ID
		}
		g.partners = append(g.partners, picks...)
		g.res.Partners += len(ps)
		return nil
	})
}

var (
	words  = []string{"Золотой", "Северный", "Уютный", "Городской", "Горный", "Степной", "Новый", "Старый", "Солнечный", "Тихий"}
	places = []string{"ресторан", "салон", "клуб", "отель", "центр", "сервис", "дом", "двор", "сад", "зал"}
	things = []string{"ужин", "кофе", "массаж", "мойка", "абонемент", "номер", "урок", "билет", "стрижка", "завтрак", "тренировка", "консультация"}
	kinds  = []offer.Kind{offer.KindDiscount, offer.KindDiscount, offer.KindService, offer.KindEvent}
)

// makeOffers makes the published offers, most of them open to all, with a share of
// bonus prices, capacity limits, validity windows, tier gates and invite-only ones, and
// one or two images for most.
func (g *gen) makeOffers(ctx context.Context) error {
	return g.batches(ctx, g.opt.Offers, func(tx *ent.Tx, from, to int) error {
		bs := make([]*ent.OfferCreate, 0, to-from)
		rows := make([]offerRow, 0, to-from)
		for i := from; i < to; i++ {
			p := g.partners[g.rnd.IntN(len(g.partners))]
			cat, cty := p.category, p.city
			if g.rnd.IntN(4) == 0 {
				cat = g.categories[g.rnd.IntN(len(g.categories))]
			}
			if g.rnd.IntN(10) == 0 {
				cty = g.cities[g.rnd.IntN(len(g.cities))]
			}
			created := g.ago(365)
			published := created.Add(time.Duration(g.rnd.Int64N(int64(48 * time.Hour))))
			if published.After(g.opt.Now) {
				published = g.opt.Now
			}
			thing := things[g.rnd.IntN(len(things))]
			c := tx.Offer.Create().
				SetPartnerID(p.id).SetCategoryID(cat).SetCityID(cty).
				SetTitle(fmt.Sprintf("%s: %s №%d", words[g.rnd.IntN(len(words))], thing, i+1)).
				SetSummary(fmt.Sprintf("Скидка на %s для участников клуба", thing)).
				SetDescription(fmt.Sprintf("Предложение %d для нагрузочного теста: %s в %s.", i+1, thing, places[g.rnd.IntN(len(places))])).
				SetTerms("Покажите код бронирования на месте.").
				SetKind(kinds[g.rnd.IntN(len(kinds))]).
				SetStatus(offer.StatusPublished).
				SetCashbackBp(100 * g.rnd.IntN(16)).
				SetPerMemberLimit(1 + g.rnd.IntN(3)).
				SetViews(g.rnd.Int64N(500)).
				SetCreatedAt(created).SetPublishedAt(published).
				SetUpdatedAt(published.Add(time.Duration(g.rnd.Int64N(int64(time.Hour)))))
			row := offerRow{partner: p.id}
			if g.rnd.IntN(4) == 0 {
				c.SetPriceBonus(500 * (1 + g.rnd.Int64N(40)))
			}
			if g.rnd.IntN(5) == 0 {
				row.capacity = 5 + g.rnd.IntN(200)
				c.SetCapacity(row.capacity)
			}
			if g.rnd.IntN(10) == 0 {
				c.SetValidUntil(g.opt.Now.Add(time.Duration(1+g.rnd.IntN(90)) * 24 * time.Hour))
			}
			// By position, so even a small run has some of each: 3 % tier-gated, 1 % invite-only.
			switch r := (i + 50) % 100; {
			case r < 3 && len(g.tiers) > 1:
				c.SetVisibility(offer.VisibilityTier).SetMinTierID(g.tiers[1+g.rnd.IntN(len(g.tiers)-1)])
			case r < 4:
				c.SetVisibility(offer.VisibilityInvite)
				row.invite = true
			}
			bs = append(bs, c)
			rows = append(rows, row)
		}
		os, err := tx.Offer.CreateBulk(bs...).Save(ctx)
		if err != nil {
			return err
		}
		media := make([]*ent.OfferMediaCreate, 0, len(os)*2)
		for i, o := range os {
			rows[i].id = o.ID
			for k := range g.rnd.IntN(3) {
				media = append(media, tx.OfferMedia.Create().SetOfferID(o.ID).
					SetKey(fmt.Sprintf("load/%d-%d.jpg", o.ID, k)).SetContentType("image/jpeg").
					SetSize(40000).SetWidth(1200).SetHeight(800).SetSort(k).SetCreatedAt(o.CreatedAt))
			}
		}
		if len(media) > 0 {
			if err := tx.OfferMedia.CreateBulk(media...).Exec(ctx); err != nil {
				return err
			}
		}
		g.offers = append(g.offers, rows...)
		g.res.Offers += len(os)
		g.res.Media += len(media)
		return nil
	})
}

var (
	firstNames = []string{"Айгерим", "Данияр", "Алия", "Ерлан", "Мария", "Иван", "Асель", "Тимур", "Дина", "Нурлан"}
	lastNames  = []string{"Ахметова", "Садыков", "Ким", "Иванов", "Нурланова", "Петров", "Жумабаев", "Омарова"}
	languages  = []string{"ru", "ru", "ru", "kk", "en"}
)

func (g *gen) makeMembers(ctx context.Context) error {
	return g.batches(ctx, g.opt.Members, func(tx *ent.Tx, from, to int) error {
		bs := make([]*ent.MemberCreate, 0, to-from)
		for i := from; i < to; i++ {
			at := g.ago(540)
			c := tx.Member.Create().
				SetTelegramID(int64(7_000_000_000 + i)).
				SetFirstName(firstNames[g.rnd.IntN(len(firstNames))]).SetLastName(lastNames[g.rnd.IntN(len(lastNames))]).
				SetUsername(fmt.Sprintf("load_member_%d", i+1)).
				SetLanguage(languages[g.rnd.IntN(len(languages))]).
				SetReferralCode(fmt.Sprintf("LOAD%07d", i+1)).
				SetCityID(g.cities[g.rnd.IntN(len(g.cities))]).
				SetCreatedAt(at).SetUpdatedAt(at).SetLastSeenAt(at.Add(time.Duration(g.rnd.Int64N(int64(g.opt.Now.Sub(at)) + 1))))
			if len(g.tiers) > 1 && g.rnd.IntN(5) == 0 {
				c.SetTierID(g.tiers[1+g.rnd.IntN(len(g.tiers)-1)]).SetTierUntil(g.opt.Now.Add(30 * 24 * time.Hour))
			}
			bs = append(bs, c)
		}
		ms, err := tx.Member.CreateBulk(bs...).Save(ctx)
		if err != nil {
			return err
		}
		for _, m := range ms {
			g.members = append(g.members, m.ID)
		}
		g.res.Members += len(ms)
		return nil
	})
}

// makeStaff gives each partner an owner among the generated members (while there are
// members enough), and Options.Owner the partner with the most offers.
func (g *gen) makeStaff(ctx context.Context) error {
	n := min(len(g.partners), len(g.members))
	err := g.batches(ctx, n, func(tx *ent.Tx, from, to int) error {
		bs := make([]*ent.StaffCreate, 0, to-from)
		for i := from; i < to; i++ {
			bs = append(bs, tx.Staff.Create().SetRole(staff.RoleOwner).SetMemberID(g.members[i]).
				SetPartnerID(g.partners[i].id).SetCreatedAt(g.opt.Now))
		}
		g.res.Staff += len(bs)
		return tx.Staff.CreateBulk(bs...).Exec(ctx)
	})
	if err != nil || g.owner == 0 {
		return err
	}
	offers := make(map[int]int, len(g.partners))
	busiest := g.partners[0].id
	for _, o := range g.offers {
		offers[o.partner]++
		if offers[o.partner] > offers[busiest] || (offers[o.partner] == offers[busiest] && o.partner < busiest) {
			busiest = o.partner
		}
	}
	if err := g.db.Staff.Create().SetRole(staff.RoleOwner).SetMemberID(g.owner).SetPartnerID(busiest).
		SetCreatedAt(g.opt.Now).Exec(ctx); err != nil {
		return err
	}
	g.res.Staff++
	g.res.OwnerPartner = busiest
	return nil
}

// invite gives each invite-only offer a few invited members.
func (g *gen) invite(ctx context.Context) error {
	if len(g.members) == 0 {
		return nil
	}
	var invite []int
	for _, o := range g.offers {
		if o.invite {
			invite = append(invite, o.id)
		}
	}
	return g.batches(ctx, len(invite), func(tx *ent.Tx, from, to int) error {
		for _, id := range invite[from:to] {
			ids := []int{g.members[g.rnd.IntN(len(g.members))], g.members[g.rnd.IntN(len(g.members))]}
			if ids[0] == ids[1] {
				ids = ids[:1]
			}
			if err := tx.Offer.UpdateOneID(id).AddInvitedIDs(ids...).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// bookingStatuses are weighted: most bookings are done or waiting.
var bookingStatuses = []booking.Status{
	booking.StatusCompleted, booking.StatusCompleted, booking.StatusCompleted, booking.StatusConfirmed,
	booking.StatusRequested, booking.StatusRequested, booking.StatusCancelled, booking.StatusDeclined,
	booking.StatusExpired, booking.StatusNoShow,
}

// makeBookings makes bookings of open offers (never beyond an offer's capacity).
func (g *gen) makeBookings(ctx context.Context) error {
	if len(g.members) == 0 || len(g.offers) == 0 {
		return nil
	}
	held := make(map[int]int)
	return g.batches(ctx, g.opt.Bookings, func(tx *ent.Tx, from, to int) error {
		bs := make([]*ent.BookingCreate, 0, to-from)
		for i := from; i < to; i++ {
			o := g.offers[g.rnd.IntN(len(g.offers))]
			if o.invite || (o.capacity > 0 && held[o.id] >= o.capacity) {
				continue
			}
			st := bookingStatuses[g.rnd.IntN(len(bookingStatuses))]
			held[o.id]++
			at := g.ago(180)
			c := tx.Booking.Create().
				SetCode(fmt.Sprintf("L%07X", i+1)).SetStatus(st).
				SetMemberID(g.members[g.rnd.IntN(len(g.members))]).SetOfferID(o.id).SetPartnerID(o.partner).
				SetCreatedAt(at).SetUpdatedAt(at)
			switch st {
			case booking.StatusRequested:
				c.SetExpiresAt(g.opt.Now.Add(24 * time.Hour))
			case booking.StatusConfirmed:
				c.SetConfirmedAt(at.Add(time.Hour)).SetVisitAt(g.opt.Now.Add(48 * time.Hour))
			case booking.StatusCompleted:
				c.SetConfirmedAt(at.Add(time.Hour)).SetCompletedAt(at.Add(26 * time.Hour)).SetDealAmount(100 * (1000 + g.rnd.Int64N(50000)))
			case booking.StatusCancelled:
				c.SetCancelledAt(at.Add(2 * time.Hour))
			case booking.StatusDeclined:
				c.SetDeclineReason("Нет мест")
			}
			bs = append(bs, c)
		}
		n := len(bs)
		if n == 0 {
			return nil
		}
		if err := tx.Booking.CreateBulk(bs...).Exec(ctx); err != nil {
			return err
		}
		g.res.Bookings += n
		return nil
	})
}

var almaty = time.FixedZone("Asia/Almaty", 5*3600)

func (g *gen) makeViews(ctx context.Context) error {
	if len(g.members) == 0 || len(g.offers) == 0 {
		return nil
	}
	return g.batches(ctx, g.opt.Views, func(tx *ent.Tx, from, to int) error {
		bs := make([]*ent.OfferViewCreate, 0, to-from)
		for range to - from {
			o := g.offers[g.rnd.IntN(len(g.offers))]
			at := g.ago(60)
			bs = append(bs, tx.OfferView.Create().SetOfferID(o.id).SetPartnerID(o.partner).
				SetMemberID(g.members[g.rnd.IntN(len(g.members))]).
				SetDay(at.In(almaty).Format(time.DateOnly)).SetCreatedAt(at))
		}
		if err := tx.OfferView.CreateBulk(bs...).Exec(ctx); err != nil {
			return err
		}
		g.res.Views += len(bs)
		return nil
	})
}
