package app_test

import (
	"context"
	"html"
	"strconv"
	"strings"
	"testing"

	"ikra/app"
	"ikra/app/apptest"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/partner"
	"ikra/ent/staff"
)

// `ikra seed-load` fills the database with load data a member then sees in the catalog;
// a second run refuses instead of doubling it, and bad arguments are refused.
func TestSeedLoadCommand(t *testing.T) {
	env := apptest.New(t)
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": env.Config.DatabaseURL, "IKRA_DATA_DIR": env.Config.DataDir, "IKRA_LOG_LEVEL": "error"}[k]
	}
	ctx := context.Background()
	for _, args := range [][]string{{"seed-load"}, {"seed-load", "--offers", "-5", "--members", "3"}, {"seed-load", "--offers", "x"}, {"seed-load", "--offers", "5", "extra"},
		{"seed-load", "--offers", "5", "--members", "1", "--owner", "9802"}, {"seed-load", "--offers", "5", "--scrape-limit", "-1"}, {"seed-load", "--offers", "5", "--ledger", "-2"}} {
		if err := app.Main(ctx, args, getenv); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
	env.Member(9802, "Владелец") // the owner must exist before the run
	apptest.Must(t, app.Main(ctx, []string{"seed-load", "--offers", "300", "--members", "40", "--partners", "7", "--bookings", "90",
		"--owner", "9802", "--scrape-limit", "1000000", "--ledger", "400"}, getenv))
	db := env.App.DB
	if n := db.Offer.Query().Where(offer.StatusEQ(offer.StatusPublished)).CountX(ctx); n != 300 {
		t.Errorf("%d published offers, want 300", n)
	}
	if n := db.Partner.Query().Where(partner.SlugHasPrefix("load-")).CountX(ctx); n != 7 {
		t.Errorf("%d partners, want 7", n)
	}
	if n := db.Member.Query().Where(member.UsernameHasPrefix("load_member_")).CountX(ctx); n != 40 {
		t.Errorf("%d members, want 40", n)
	}
	for _, p := range db.Partner.Query().Where(partner.SlugHasPrefix("load-")).AllX(ctx) {
		owners := db.Staff.Query().Where(staff.PartnerID(p.ID), staff.RoleEQ(staff.RoleOwner),
			staff.HasMemberWith(member.UsernameHasPrefix("load_member_"))).CountX(ctx)
		if owners != 1 {
			t.Errorf("partner %s has %d generated owners, want 1", p.Slug, owners)
		}
	}
	// The command is another process with its own database handle: it cannot reach this
	// server's settings cache, which a server started after the run would not have yet.
	env.App.Cache.Changed(ctx, "Setting", 0)
	if lim, err := env.App.Scraping.Limits(ctx); err != nil || lim.OffersPerHour != 1000000 || lim.PagesPer10Min != 1000000 {
		t.Errorf("scraping limits %+v, %v; want 1000000", lim, err)
	}
	if n := db.LedgerEntry.Query().CountX(ctx); n < 400 || n > 400+2*40 {
		t.Errorf("%d ledger entries, want about 400", n)
	}
	if n := db.Booking.Query().CountX(ctx); n == 0 || n > 90 {
		t.Errorf("%d bookings, want 1..90", n)
	}
	for _, kind := range []offer.Visibility{offer.VisibilityTier, offer.VisibilityInvite} {
		if db.Offer.Query().Where(offer.VisibilityEQ(kind)).CountX(ctx) == 0 {
			t.Errorf("no %s offers", kind)
		}
	}
	if db.Offer.Query().Where(offer.CapacityGT(0)).CountX(ctx) == 0 || db.Offer.Query().Where(offer.PriceBonusGT(0)).CountX(ctx) == 0 {
		t.Error("no capacity-limited or bonus-priced offers")
	}
	if err := app.Main(ctx, []string{"seed-load", "--offers", "10", "--members", "1"}, getenv); err == nil {
		t.Error("a second run succeeded")
	}
	if n := db.Offer.Query().CountX(ctx); n != 300 {
		t.Errorf("%d offers after the refused run", n)
	}

	c, _ := env.Member(9801, "Нагрузка")
	newest := db.Offer.Query().Where(offer.VisibilityEQ(offer.VisibilityAll), offer.ValidUntilIsNil()).
		Order(offer.ByPublishedAt(), offer.ByID()).AllX(ctx)
	last := newest[len(newest)-1]
	if r := c.Get("/app?category=" + strconv.Itoa(last.CategoryID)); r.Status != 200 || !strings.Contains(r.Body, html.EscapeString(last.Title)) {
		t.Errorf("the catalog (%d) does not show the newest load offer %q", r.Status, last.Title)
	}

	// The owner signs in to the portal of the generated partner with the most offers and
	// sees its offers and its bookings.
	counts := map[int]int{}
	for _, o := range db.Offer.Query().Where(offer.HasPartnerWith(partner.SlugHasPrefix("load-"))).AllX(ctx) {
		counts[o.PartnerID]++
	}
	own := db.Staff.Query().Where(staff.HasMemberWith(member.TelegramID(9802))).OnlyX(ctx)
	for id, n := range counts {
		if n > counts[*own.PartnerID] {
			t.Errorf("the owner got partner %d with %d offers; partner %d has %d", *own.PartnerID, counts[*own.PartnerID], id, n)
		}
	}
	// A server started after the run loads the new grants; this one, whose cache and
	// permissions the command (another process, its own database handle) could not
	// reach, reloads them.
	apptest.Must(t, env.App.Authz.Reload(ctx))
	env.App.Cache.Changed(ctx, "Staff", 0)
	ownerClient := env.Client()
	ownerClient.SignIn(9802, "Владелец")
	r := ownerClient.Get("/partner/offers")
	first := db.Offer.Query().Where(offer.PartnerID(*own.PartnerID)).FirstX(ctx)
	if r.Status != 200 || !strings.Contains(r.Body, html.EscapeString(first.Title)) {
		t.Errorf("the owner's offer list (%d) does not show %q", r.Status, first.Title)
	}
	if r := ownerClient.Get("/partner/bookings"); r.Status != 200 {
		t.Errorf("the owner's bookings inbox answers %d", r.Status)
	}
}
