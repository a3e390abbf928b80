package demo

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ikra/app/loyalty"
	"ikra/app/media"
	"ikra/app/members"
	"ikra/app/partners"
	"ikra/app/store"
	"ikra/app/terms"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/ent/offer"
	"ikra/ent/staff"
)

type world struct {
	db      *store.DB
	objects *media.Disk
	signIn  SignInFunc
	now     time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := terms.EnsureInitial(ctx, db.Client); err != nil {
		t.Fatal(err)
	}
	if err := loyalty.EnsureDefaults(ctx, db.Client); err != nil { // as at every start
		t.Fatal(err)
	}
	objects, err := media.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := members.New(db.Client, nil, func(context.Context, int) error { return nil })
	signIn := func(ctx context.Context, id members.Identity) (*ent.Member, error) {
		m, _, err := svc.SignIn(ctx, id, "web", "")
		return m, err
	}
	return &world{db: db, objects: objects, signIn: signIn,
		now: time.Date(2026, 9, 14, 10, 30, 0, 0, time.UTC)}
}

func (w *world) seed(t *testing.T) {
	t.Helper()
	if err := Seed(context.Background(), w.db.Client, w.objects, w.signIn, w.now); err != nil {
		t.Fatal(err)
	}
}

// counts is how many rows of each seeded kind the database holds.
type counts map[string]int

func countAll(t *testing.T, db *ent.Client) counts {
	t.Helper()
	ctx := context.Background()
	c := counts{}
	add := func(name string, n int, err error) {
		if err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		c[name] = n
	}
	n, err := db.Category.Query().Count(ctx)
	add("categories", n, err)
	n, err = db.City.Query().Count(ctx)
	add("cities", n, err)
	n, err = db.Tier.Query().Count(ctx)
	add("tiers", n, err)
	n, err = db.Partner.Query().Count(ctx)
	add("partners", n, err)
	n, err = db.Offer.Query().Count(ctx)
	add("offers", n, err)
	n, err = db.OfferMedia.Query().Count(ctx)
	add("media", n, err)
	n, err = db.Member.Query().Count(ctx)
	add("members", n, err)
	n, err = db.Staff.Query().Count(ctx)
	add("staff", n, err)
	n, err = db.Notification.Query().Count(ctx)
	add("notifications", n, err)
	n, err = db.TermsAcceptance.Query().Count(ctx)
	add("acceptances", n, err)
	n, err = db.Consent.Query().Count(ctx)
	add("consents", n, err)
	n, err = db.Setting.Query().Count(ctx)
	add("settings", n, err)
	return c
}

func TestSeed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	db := w.db.Client
	before := countAll(t, db)
	w.seed(t)

	wantOffers, wantPictures := 0, 0
	for _, p := range partnerDefs {
		wantOffers += len(p.offers)
		for _, o := range p.offers {
			if o.status == statusPublished {
				wantPictures += o.images
			}
		}
	}
	wantStaff := 0
	for _, a := range Accounts {
		if a.Role != RoleMember {
			wantStaff++
		}
	}
	got := countAll(t, db)
	want := counts{
		"categories": len(categories), "cities": len(cities), "tiers": before["tiers"], // the defaults; demo adds none
		"partners": len(partnerDefs), "offers": wantOffers, "media": wantPictures,
		"members": len(Accounts), "staff": wantStaff, "notifications": len(welcomeNotes),
		"acceptances": 2 * len(Accounts), "consents": len(Accounts), "settings": before["settings"] + 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d rows, want %d", k, got[k], v)
		}
	}
	if len(categories) < 6 || len(partnerDefs) != 4 {
		t.Errorf("%d categories, %d partners", len(categories), len(partnerDefs))
	}

	// Partners: valid BINs, active, each with its category and city.
	ps, err := db.Partner.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if !partners.ValidBIN(p.Bin) {
			t.Errorf("partner %s: BIN %q invalid", p.Slug, p.Bin)
		}
		if p.Status != "active" || p.CategoryID == nil || p.CityID == nil {
			t.Errorf("partner %s: status %s, category %v, city %v", p.Slug, p.Status, p.CategoryID, p.CityID)
		}
	}

	// Offers: statuses as promised, published ones live with pictures that read back as PNG.
	offers, err := db.Offer.Query().WithMedia().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[offer.Status]int{}
	kinds := map[offer.Kind]bool{}
	perPartner := map[int]int{}
	payable, tiered := 0, 0
	for _, o := range offers {
		byStatus[o.Status]++
		kinds[o.Kind] = true
		perPartner[o.PartnerID]++
		if o.PriceBonus > 0 {
			payable++
		}
		if o.MinTierID != nil {
			tiered++
		}
		if o.CashbackBp < 300 || o.CashbackBp > 1000 || o.Capacity <= 0 || o.PerMemberLimit <= 0 {
			t.Errorf("offer %q: cashback %d bp, capacity %d, per member %d", o.Title, o.CashbackBp, o.Capacity, o.PerMemberLimit)
		}
		if o.ValidFrom == nil || o.ValidUntil == nil || !o.ValidFrom.Before(*o.ValidUntil) {
			t.Errorf("offer %q: window %v – %v", o.Title, o.ValidFrom, o.ValidUntil)
		}
		if o.Status != offer.StatusPublished {
			if o.PublishedAt != nil || len(o.Edges.Media) != 0 {
				t.Errorf("%s offer %q: published at %v, %d pictures", o.Status, o.Title, o.PublishedAt, len(o.Edges.Media))
			}
			continue
		}
		if o.PublishedAt == nil || o.PublishedAt.After(w.now) || !o.ValidUntil.After(w.now) || o.ValidFrom.After(w.now) {
			t.Errorf("published offer %q not live at %v: published %v, window %v – %v",
				o.Title, w.now, o.PublishedAt, o.ValidFrom, o.ValidUntil)
		}
		if len(o.Edges.Media) == 0 || len(o.Edges.Media) > 2 {
			t.Errorf("published offer %q has %d pictures", o.Title, len(o.Edges.Media))
		}
		for _, m := range o.Edges.Media {
			checkPicture(t, w.objects, o, m)
		}
	}
	if byStatus[offer.StatusDraft] != 1 || byStatus[offer.StatusPending] != 1 ||
		byStatus[offer.StatusPublished] != len(offers)-2 {
		t.Errorf("offers by status: %v", byStatus)
	}
	if len(kinds) != 3 {
		t.Errorf("offer kinds: %v", kinds)
	}
	if payable < 2 || tiered != 1 {
		t.Errorf("%d offers payable with bonuses, %d with a minimum tier", payable, tiered)
	}
	for _, p := range ps {
		if n := perPartner[p.ID]; n < 2 || n > 4 {
			t.Errorf("partner %s has %d offers", p.Slug, n)
		}
	}

	// Accounts: registered with terms and consent, staff roles where they belong.
	for _, a := range Accounts {
		m, err := db.Member.Query().Where(member.TelegramID(a.TelegramID)).
			WithTermsAcceptances().WithConsents().WithInterests().
			WithStaff(func(q *ent.StaffQuery) { q.WithPartner() }).Only(ctx)
		if err != nil {
			t.Fatalf("account %s: %v", a.Username, err)
		}
		if len(m.Edges.TermsAcceptances) != 2 || len(m.Edges.Consents) != 1 {
			t.Errorf("account %s: %d acceptances, %d consents", a.Username, len(m.Edges.TermsAcceptances), len(m.Edges.Consents))
		}
		if m.Language != a.Language || m.FirstName != a.FirstName {
			t.Errorf("account %s: language %q, name %q", a.Username, m.Language, m.FirstName)
		}
		if a.Role == RoleMember {
			if len(m.Edges.Staff) != 0 || len(m.Edges.Interests) == 0 {
				t.Errorf("member %s: %d staff roles, %d interests", a.Username, len(m.Edges.Staff), len(m.Edges.Interests))
			}
			continue
		}
		if len(m.Edges.Staff) != 1 {
			t.Fatalf("staff %s: %d roles", a.Username, len(m.Edges.Staff))
		}
		st := m.Edges.Staff[0]
		if string(st.Role) != a.Role {
			t.Errorf("staff %s: role %s, want %s", a.Username, st.Role, a.Role)
		}
		switch {
		case a.Partner == "" && st.PartnerID != nil:
			t.Errorf("platform staff %s bound to partner %d", a.Username, *st.PartnerID)
		case a.Partner != "" && (st.Edges.Partner == nil || st.Edges.Partner.Slug != a.Partner):
			t.Errorf("partner staff %s: partner %+v, want %s", a.Username, st.Edges.Partner, a.Partner)
		}
	}
	if n, _ := db.Staff.Query().Where(staff.PartnerIDIsNil()).Count(ctx); n != 4 {
		t.Errorf("%d platform staff, want 4", n)
	}
	silver, err := db.Member.Query().Where(member.TelegramID(9_100_000_002)).QueryTier().Only(ctx)
	if err != nil || silver.Slug != loyalty.TierSilver {
		t.Errorf("silver member's tier: %v, %v", silver, err)
	}

	// Notifications go to the first member, undelivered.
	first, err := db.Member.Query().Where(member.TelegramID(Accounts[0].TelegramID)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	notes, err := db.Notification.Query().Where(notification.MemberID(first.ID)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != len(welcomeNotes) {
		t.Errorf("first member has %d notifications", len(notes))
	}
	for _, n := range notes {
		if n.Kind != "welcome" || n.TelegramSentAt != nil || n.Body == "" {
			t.Errorf("notification %+v", n)
		}
	}
}

// checkPicture reads a picture back from the store and checks it is the PNG
// its row describes.
func checkPicture(t *testing.T, objects media.Store, o *ent.Offer, m *ent.OfferMedia) {
	t.Helper()
	wantPrefix := "offers/" + strconv.Itoa(o.ID) + "/"
	if !strings.HasPrefix(m.Key, wantPrefix) || !strings.HasSuffix(m.Key, ".png") || m.ContentType != "image/png" {
		t.Errorf("offer %d picture: key %q, type %q", o.ID, m.Key, m.ContentType)
	}
	rc, obj, err := objects.Get(context.Background(), m.Key)
	if err != nil {
		t.Errorf("picture %s: %v", m.Key, err)
		return
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != m.Size || obj.Size != m.Size || obj.ContentType != "image/png" {
		t.Errorf("picture %s: %d bytes stored as %q (%d), row says %d", m.Key, len(data), obj.ContentType, obj.Size, m.Size)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Errorf("picture %s: %v", m.Key, err)
		return
	}
	if b := img.Bounds(); b.Dx() != m.Width || b.Dy() != m.Height || m.Width != pictureWidth || m.Height != pictureHeight {
		t.Errorf("picture %s: %dx%d, row says %dx%d", m.Key, b.Dx(), b.Dy(), m.Width, m.Height)
	}
}

func TestSeedTwiceAddsNothing(t *testing.T) {
	w := newWorld(t)
	w.seed(t)
	before := countAll(t, w.db.Client)
	w.seed(t)
	w.now = w.now.Add(48 * time.Hour) // a later start does not seed again either
	w.seed(t)
	after := countAll(t, w.db.Client)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d rows after seeding again, %d before", k, after[k], v)
		}
	}
}

// A Seed that fails part way leaves nothing but the registered accounts, and
// the next Seed completes the world.
func TestSeedRetriesAfterFailure(t *testing.T) {
	w := newWorld(t)
	base := countAll(t, w.db.Client)
	broken := failingStore{w.objects}
	if err := Seed(context.Background(), w.db.Client, broken, w.signIn, w.now); err == nil {
		t.Fatal("Seed succeeded with a failing media store")
	}
	c := countAll(t, w.db.Client)
	if c["partners"] != 0 || c["offers"] != 0 || c["settings"] != base["settings"] || c["members"] != len(Accounts) {
		t.Fatalf("after a failed seed: %v", c)
	}
	w.seed(t)
	if c := countAll(t, w.db.Client); c["partners"] != len(partnerDefs) || c["settings"] != base["settings"]+1 || c["members"] != len(Accounts) {
		t.Fatalf("after retrying: %v", c)
	}
}

type failingStore struct{ media.Store }

func (failingStore) Put(context.Context, string, io.Reader, int64, string) error {
	return io.ErrShortWrite
}

func TestAccounts(t *testing.T) {
	roles := map[string]int{}
	seen := map[int64]bool{}
	partnerSlugs := map[string]bool{}
	for _, p := range partnerDefs {
		partnerSlugs[p.slug] = true
	}
	langs := map[string]int{}
	for _, a := range Accounts {
		if seen[a.TelegramID] {
			t.Errorf("Telegram ID %d twice", a.TelegramID)
		}
		seen[a.TelegramID] = true
		if a.TelegramID < 9_100_000_001 || a.TelegramID > 9_100_999_999 {
			t.Errorf("%s: Telegram ID %d outside the demo range", a.Username, a.TelegramID)
		}
		if got, ok := Find(a.TelegramID); !ok || got != a {
			t.Errorf("Find(%d) = %+v, %v", a.TelegramID, got, ok)
		}
		if a.FirstName == "" || a.Username == "" || a.Note == "" || a.Language == "" {
			t.Errorf("account %+v incomplete", a)
		}
		roles[a.Role]++
		if a.Role == RoleMember {
			langs[a.Language]++
		}
		partnerRole := a.Role == RoleOwner || a.Role == RoleManager || a.Role == RoleCashier
		switch {
		case partnerRole && !partnerSlugs[a.Partner]:
			t.Errorf("%s: partner staff with partner %q", a.Username, a.Partner)
		case !partnerRole && a.Partner != "":
			t.Errorf("%s: role %s with partner %q", a.Username, a.Role, a.Partner)
		}
	}
	if _, ok := Find(1); ok {
		t.Error("Find(1) found an account")
	}
	if roles[RoleMember] < 2 || roles[RoleMember] > 3 || langs["en"] != 1 {
		t.Errorf("members: %d, languages %v", roles[RoleMember], langs)
	}
	for _, r := range []string{RoleOwner, RoleManager, RoleCashier, RoleSuperadmin, RoleModerator, RoleSupport, RoleConcierge} {
		if roles[r] == 0 {
			t.Errorf("no %s account", r)
		}
	}
}

// No demo text carries anything that looks like a phone number.
func TestNoPhoneNumbers(t *testing.T) {
	phone := regexp.MustCompile(`\+\s*\d|\d[\d\s()-]{8,}\d`)
	var texts []string
	for _, a := range Accounts {
		texts = append(texts, a.FirstName, a.LastName, a.Username, a.Note)
	}
	for _, p := range partnerDefs {
		texts = append(texts, p.name, p.description)
		for _, o := range p.offers {
			texts = append(texts, o.title, o.summary, o.description, o.terms)
			texts = append(texts, o.addresses...)
		}
	}
	for _, n := range welcomeNotes {
		texts = append(texts, n.title, n.body)
	}
	for _, s := range texts {
		if phone.MatchString(s) {
			t.Errorf("looks like a phone number: %q", s)
		}
	}
}
