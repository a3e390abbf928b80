package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"ikra/app/demo"
	"ikra/app/loyalty"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/partner"
)

// On phones: the demo member books a restaurant privilege and sees the code; the
// restaurant's cashier mistypes it, types it right one-handed on a 360 px screen,
// confirms and completes the deal; the member then sees the pending cashback.
func TestBrowserBookingJourneyOnPhone(t *testing.T) {
	env, ctx := browserApp(t)
	bg := context.Background()
	cashierAcc := demoAccountWithRole(t, demo.RoleCashier)
	memberAcc := demoAccountWithRole(t, demo.RoleMember)
	m, err := env.App.DB.Member.Query().Where(member.TelegramID(memberAcc.TelegramID)).Only(bg)
	if err != nil {
		t.Fatal(err)
	}
	// A privilege of the cashier's partner that the member may see, with cashback and
	// no bonus price.
	visible, err := env.App.Offers.Visible(bg, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	o, err := visible.Where(offer.HasPartnerWith(partner.Slug(cashierAcc.Partner)), offer.CashbackBpGT(0), offer.PriceBonus(0)).
		Order(ent.Asc(offer.FieldID)).First(bg)
	if err != nil {
		t.Fatalf("no bookable demo offer of %s for %s: %v", cashierAcc.Partner, memberAcc.FirstName, err)
	}

	guest := newPhone(ctx, t, env)
	guest.do("narrow the screen", chromedp.EmulateViewport(narrowWidth, 740, chromedp.EmulateMobile))
	guest.signIn(memberAcc)
	guest.open("/app/offers/" + strconv.Itoa(o.ID))
	guest.fitsWidth("the offer page")
	guest.navigate("press Book", chromedp.Click(chromedp.CSS(`form[action$="/book"] button[type=submit]`)))
	code := guest.text("[data-code]")
	if len(code) < 6 || strings.ContainsAny(code, "0O1IL") {
		t.Fatalf("booking code %q", code)
	}
	guest.fitsWidth("the bookings page")
	guest.screenshot("booking-code-360.png")

	cashier := newPhone(ctx, t, env)
	cashier.do("narrow the screen", chromedp.EmulateViewport(narrowWidth, 740, chromedp.EmulateMobile))
	cashier.signIn(cashierAcc)
	cashier.open("/partner/bookings")
	cashier.fitsWidth("the counter")
	// A mistyped code keeps the cashier at the counter with a message.
	cashier.do("type a wrong code", chromedp.SendKeys(chromedp.CSS("#code"), "ZZZZZZZ"))
	// The counter answers 422 with the same screen, so this is not a plain navigation.
	cashier.do("press Find", chromedp.Click(chromedp.CSS(`form[action="/partner/bookings"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#code-error")))
	if p := cashier.path(); p != "/partner/bookings" {
		t.Fatalf("a mistyped code took the cashier to %s", p)
	}
	phoneRun(cashier, "clear the field", chromedp.Evaluate[string](`document.querySelector('#code').value = ''`))
	cashier.do("type the code in lower case", chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(code)))
	cashier.navigate("press Find", chromedp.Click(chromedp.CSS(`form[action="/partner/bookings"] button[type=submit]`)))
	cashier.sees(memberAcc.FirstName, o.Title)
	cashier.fitsWidth("the booking card")
	cashier.navigate("confirm", chromedp.Click(chromedp.CSS(`form[action$="/confirm"] button`)))
	cashier.do("type the deal amount", chromedp.SendKeys(chromedp.CSS("#amount"), "25 000"))
	cashier.navigate("complete", chromedp.Click(chromedp.CSS(`form[action$="/complete"] button`)))
	cashier.screenshot("booking-completed-360.png")

	st, err := env.App.Loyalty.Status(bg, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := loyalty.CashbackAmount(25_000_00, o.CashbackBp, st.Multiplier())
	if want <= 0 {
		t.Fatalf("the offer earns no cashback (rate %d)", o.CashbackBp)
	}
	bal, err := env.App.Ledger.Balance(bg, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Pending < want {
		t.Fatalf("pending %d after the deal, want at least the cashback %d", bal.Pending, want)
	}
	guest.open("/app/bonuses")
	pending := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, guest.text(".stat:nth-child(2) .stat-value"))
	if pending != strconv.FormatInt(bal.Pending, 10) {
		t.Errorf("the member's page shows %q pending, the ledger holds %d", pending, bal.Pending)
	}
	guest.fitsWidth("the bonuses page")
	guest.screenshot("booking-cashback-360.png")
}
