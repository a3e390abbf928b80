package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"ikra/app/loyalty"
	"ikra/app/media"
	"ikra/app/members"
	"ikra/app/partners"
	"ikra/app/store"
	"ikra/app/tags"
	"ikra/ent"
	"ikra/ent/category"
	"ikra/ent/city"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/setting"
	"ikra/ent/staff"
	"ikra/ent/tier"
)

// SeededKey is the Setting that marks a database as holding the demo world.
const SeededKey = "demo.seeded"

// SignInFunc signs a demo identity in the way a real member signs in, so that a
// new account registers with terms acceptance and consent.
type SignInFunc func(ctx context.Context, id members.Identity) (*ent.Member, error)

// Seed loads the demo world into db once: a database that already has the
// SeededKey setting is left alone and Seed returns nil.
//
// The accounts in Accounts are signed in first through signIn, each in its own
// registration (signing in an account that already exists only finds it).
// Everything else — categories, cities, partners, offers with their
// pictures in objects, staff roles, members' interests and the first member's
// notifications — is written in one transaction that also sets SeededKey, so a
// failed Seed leaves no half world behind and can simply run again. Pictures
// already put into objects by a failed run are overwritten or left unused.
//
// Categories and cities that already exist (matched by slug) are kept
// as they are. now places the offers' validity windows; the zero time means
// the current time.
func Seed(ctx context.Context, db *ent.Client, objects media.Store, signIn SignInFunc, now time.Time) error {
	if db == nil || objects == nil || signIn == nil {
		return errors.New("demo: seed needs a database, a media store and a sign-in function")
	}
	if now.IsZero() {
		now = time.Now()
	}
	if done, err := seeded(ctx, db); err != nil || done {
		return err
	}

	accounts := make(map[int64]*ent.Member, len(Accounts))
	for _, a := range Accounts {
		m, err := signIn(ctx, members.Identity{
			TelegramID: a.TelegramID, FirstName: a.FirstName, LastName: a.LastName,
			Username: a.Username, Language: a.Language,
		})
		if err != nil {
			return fmt.Errorf("demo: sign in %s (%d): %w", a.Username, a.TelegramID, err)
		}
		accounts[a.TelegramID] = m
	}

	errSeeded := errors.New("already seeded")
	err := store.WithTx(ctx, db, func(tx *ent.Tx) error {
		// Another node may have seeded while the accounts signed in.
		done, err := seeded(ctx, tx.Client())
		switch {
		case err != nil:
			return err
		case done:
			return errSeeded
		}
		// The demo personas have been here before: no welcome screen for them.
		ids := make([]int, 0, len(accounts))
		for _, m := range accounts {
			ids = append(ids, m.ID)
		}
		if err := tx.Member.Update().Where(member.IDIn(ids...), member.OnboardedAtIsNil()).SetOnboardedAt(now).Exec(ctx); err != nil {
			return err
		}
		s := &seeder{db: tx.Client(), objects: objects, now: now, accounts: accounts}
		return s.run(ctx)
	})
	switch {
	case errors.Is(err, errSeeded):
		return nil
	case ent.IsConstraintError(err):
		// Lost a race with another node seeding the same database.
		if done, serr := seeded(ctx, db); serr == nil && done {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("demo: seed: %w", err)
	}
	return nil
}

func seeded(ctx context.Context, db *ent.Client) (bool, error) {
	return db.Setting.Query().Where(setting.Key(SeededKey)).Exist(ctx)
}

// seeder writes the demo world inside one transaction.
type seeder struct {
	db       *ent.Client
	objects  media.Store
	now      time.Time
	accounts map[int64]*ent.Member // bound to the sign-in's client: use only their IDs

	categories map[string]*ent.Category
	colors     map[string]categoryDef
	cities     map[string]*ent.City
	tiers      map[string]*ent.Tier
	partners   map[string]*ent.Partner
	firstOffer *ent.Offer // the newest published offer, for a notification link
}

func (s *seeder) run(ctx context.Context) error {
	steps := []func(context.Context) error{
		s.seedCategories, s.seedCities, s.seedTiers, s.seedPartners,
		s.seedStaff, s.seedMembers, s.seedNotifications,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return s.db.Setting.Create().SetKey(SeededKey).SetValue(s.now.UTC().Format(time.RFC3339)).Exec(ctx)
}

func (s *seeder) seedCategories(ctx context.Context) error {
	s.categories = make(map[string]*ent.Category, len(categories))
	s.colors = make(map[string]categoryDef, len(categories))
	for _, d := range categories {
		c, err := s.db.Category.Query().Where(category.Slug(d.slug)).Only(ctx)
		if ent.IsNotFound(err) {
			c, err = s.db.Category.Create().SetSlug(d.slug).SetNameRu(d.nameRU).SetNameEn(d.nameEN).SetNameKk(d.nameKK).
				SetIcon(d.icon).SetSort(d.sort).Save(ctx)
		}
		if err != nil {
			return fmt.Errorf("category %s: %w", d.slug, err)
		}
		s.categories[d.slug], s.colors[d.slug] = c, d
	}
	return nil
}

func (s *seeder) seedCities(ctx context.Context) error {
	s.cities = make(map[string]*ent.City, len(cities))
	for _, d := range cities {
		c, err := s.db.City.Query().Where(city.Slug(d.slug)).Only(ctx)
		if ent.IsNotFound(err) {
			c, err = s.db.City.Create().SetSlug(d.slug).SetNameRu(d.nameRU).SetNameEn(d.nameEN).SetNameKk(d.nameKK).Save(ctx)
		}
		if err != nil {
			return fmt.Errorf("city %s: %w", d.slug, err)
		}
		s.cities[d.slug] = c
	}
	return nil
}

// seedTiers finds the default status tiers the demo offers and members refer to: they
// belong to every installation (loyalty.EnsureDefaults runs at start), demo mode adds none.
func (s *seeder) seedTiers(ctx context.Context) error {
	s.tiers = make(map[string]*ent.Tier, len(loyalty.DefaultTiers))
	for _, d := range loyalty.DefaultTiers {
		t, err := s.db.Tier.Query().Where(tier.Slug(d.Slug)).Only(ctx)
		if err != nil {
			return fmt.Errorf("default tier %s: %w", d.Slug, err)
		}
		s.tiers[d.Slug] = t
	}
	return nil
}

func (s *seeder) seedPartners(ctx context.Context) error {
	s.partners = make(map[string]*ent.Partner, len(partnerDefs))
	for i, d := range partnerDefs {
		bin := partners.MakeBIN(d.binPrefix)
		if bin == "" {
			return fmt.Errorf("partner %s: no BIN for prefix %q", d.slug, d.binPrefix)
		}
		cat, cty := s.categories[d.category], s.cities[d.city]
		if cat == nil || cty == nil {
			return fmt.Errorf("partner %s: unknown category %q or city %q", d.slug, d.category, d.city)
		}
		created := s.now.AddDate(0, -6+i, 0)
		p, err := s.db.Partner.Create().SetSlug(d.slug).SetName(d.name).SetBin(bin).
			SetDescription(d.description).SetCategoryID(cat.ID).SetCityID(cty.ID).
			SetCreatedAt(created).SetUpdatedAt(created).Save(ctx)
		if err != nil {
			return fmt.Errorf("partner %s: %w", d.slug, err)
		}
		s.partners[d.slug] = p
		for j, od := range d.offers {
			if err := s.seedOffer(ctx, p, d, od, uint64(i*16+j)); err != nil {
				return fmt.Errorf("partner %s, offer %q: %w", d.slug, od.title, err)
			}
		}
	}
	return nil
}

func (s *seeder) seedOffer(ctx context.Context, p *ent.Partner, pd partnerDef, d offerDef, seed uint64) error {
	catSlug := d.category
	if catSlug == "" {
		catSlug = pd.category
	}
	cat := s.categories[catSlug]
	if cat == nil {
		return fmt.Errorf("unknown category %q", catSlug)
	}
	if !tags.Fit(catSlug, d.tags) {
		return fmt.Errorf("tags %v are not of the category %q", d.tags, catSlug)
	}
	day := 24 * time.Hour
	created := s.now.Add(-time.Duration(d.publishedDaysAgo+2) * day)
	if d.status != statusPublished {
		created = s.now.Add(-36 * time.Hour)
	}
	q := s.db.Offer.Create().
		SetPartnerID(p.ID).SetCategoryID(cat.ID).SetCityID(s.cities[pd.city].ID).
		SetTitle(d.title).SetSummary(d.summary).SetDescription(d.description).SetTerms(d.terms).
		SetKind(offer.Kind(d.kind)).SetStatus(offer.Status(d.status)).SetAddresses(d.addresses).SetTags(d.tags).
		SetValidFrom(s.now.Add(time.Duration(d.fromDays) * day)).
		SetValidUntil(s.now.Add(time.Duration(d.untilDays) * day)).
		SetCapacity(d.capacity).SetPerMemberLimit(d.perMember).
		SetCashbackBp(d.cashbackBP).SetPriceBonus(d.priceBonus).
		SetCreatedAt(created).SetUpdatedAt(created)
	if d.minTier != "" {
		t := s.tiers[d.minTier]
		if t == nil {
			return fmt.Errorf("unknown tier %q", d.minTier)
		}
		q.SetMinTierID(t.ID).SetVisibility(offer.VisibilityTier)
	}
	if d.status == statusPublished {
		q.SetPublishedAt(s.now.Add(-time.Duration(d.publishedDaysAgo) * day))
	}
	o, err := q.Save(ctx)
	if err != nil {
		return err
	}
	if d.status != statusPublished {
		return nil
	}
	if s.firstOffer == nil || o.PublishedAt.After(*s.firstOffer.PublishedAt) {
		s.firstOffer = o
	}
	for n := 1; n <= max(d.images, 1); n++ {
		if err := s.seedPicture(ctx, o, s.colors[catSlug], seed*4+uint64(n), n); err != nil {
			return err
		}
	}
	return nil
}

// seedPicture draws picture n of an offer, stores it and records it.
func (s *seeder) seedPicture(ctx context.Context, o *ent.Offer, cat categoryDef, seed uint64, n int) error {
	data, err := picturePNG(cat.color, seed)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("offers/%d/%d.png", o.ID, n)
	if err := s.objects.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "image/png"); err != nil {
		return err
	}
	return s.db.OfferMedia.Create().SetOfferID(o.ID).SetKey(key).SetContentType("image/png").
		SetSize(int64(len(data))).SetWidth(pictureWidth).SetHeight(pictureHeight).SetSort(n - 1).
		SetCreatedAt(o.CreatedAt).Exec(ctx)
}

// seedStaff gives the staff accounts their roles; a role the account already
// holds (a superadmin from the configuration, say) is not granted twice.
func (s *seeder) seedStaff(ctx context.Context) error {
	for _, a := range Accounts {
		if a.Role == RoleMember {
			continue
		}
		m := s.accounts[a.TelegramID]
		q := s.db.Staff.Query().Where(staff.MemberID(m.ID), staff.RoleEQ(staff.Role(a.Role)))
		var partnerID *int
		if a.Partner != "" {
			p := s.partners[a.Partner]
			if p == nil {
				return fmt.Errorf("staff %s: unknown partner %q", a.Username, a.Partner)
			}
			partnerID = &p.ID
			q.Where(staff.PartnerID(p.ID))
		} else {
			q.Where(staff.PartnerIDIsNil())
		}
		has, err := q.Exist(ctx)
		if err != nil {
			return err
		}
		if has {
			continue
		}
		err = s.db.Staff.Create().SetMemberID(m.ID).SetRole(staff.Role(a.Role)).
			SetNillablePartnerID(partnerID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("staff %s: %w", a.Username, err)
		}
	}
	return nil
}

// seedMembers records the plain members' interests and the bought tier of the
// one who has a status.
func (s *seeder) seedMembers(ctx context.Context) error {
	for _, a := range Accounts {
		prof, ok := memberProfiles[a.TelegramID]
		if !ok {
			continue
		}
		m := s.accounts[a.TelegramID]
		ids := make([]int, 0, len(prof.interests))
		for _, slug := range prof.interests {
			c := s.categories[slug]
			if c == nil {
				return fmt.Errorf("member %s: unknown category %q", a.Username, slug)
			}
			ids = append(ids, c.ID)
		}
		have, err := s.db.Member.QueryInterests(m).IDs(ctx)
		if err != nil {
			return err
		}
		ids = without(ids, have)
		upd := s.db.Member.UpdateOneID(m.ID).AddInterestIDs(ids...)
		if len(m.InterestTags) == 0 { // a member's own choice survives a second seeding
			upd.SetInterestTags(prof.tags)
		}
		if prof.tier != "" {
			t := s.tiers[prof.tier]
			upd.SetTierID(t.ID).SetTierUntil(s.now.AddDate(0, 0, t.PeriodDays))
		}
		if err := upd.Exec(ctx); err != nil {
			return fmt.Errorf("member %s: %w", a.Username, err)
		}
	}
	return nil
}

// seedNotifications leaves a few welcome notifications for the first member;
// they are only shown in the cabinet, never sent.
func (s *seeder) seedNotifications(ctx context.Context) error {
	m := s.accounts[Accounts[0].TelegramID]
	for _, n := range welcomeNotes {
		at := s.now.Add(-time.Duration(n.minutesAgo) * time.Minute)
		link := n.link
		if n.key == "interests" && s.firstOffer != nil {
			link = fmt.Sprintf("/app/offers/%d", s.firstOffer.ID)
		}
		q := s.db.Notification.Create().SetMemberID(m.ID).SetKind("welcome").
			SetTitle(n.title).SetBody(n.body).SetLink(link).
			SetDedupKey(fmt.Sprintf("demo:welcome:%d:%s", m.ID, n.key)).
			SetCreatedAt(at)
		if n.read {
			q.SetReadAt(at.Add(5 * time.Minute))
		}
		if err := q.Exec(ctx); err != nil {
			return fmt.Errorf("notification %s: %w", n.key, err)
		}
	}
	return nil
}

// without returns the ids not in drop.
func without(ids, drop []int) []int {
	out := ids[:0]
	for _, id := range ids {
		found := false
		for _, d := range drop {
			found = found || d == id
		}
		if !found {
			out = append(out, id)
		}
	}
	return out
}
