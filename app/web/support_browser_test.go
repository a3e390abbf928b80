package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"ikra/app/demo"
	"ikra/app/support"
	"ikra/ent/member"
)

// The care service on a phone: a member writes from the cabinet and reads the
// acknowledgement; support staff open the thread in the back office and answer.
func TestBrowserSupportJourney(t *testing.T) {
	env, ctx := browserApp(t)
	acc := demoAccountWithRole(t, demo.RoleMember)
	m, err := env.App.DB.Member.Query().Where(member.TelegramID(acc.TelegramID)).Only(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := newPhone(ctx, t, env)
	p.signIn(acc)
	p.open("/app/support")
	p.do("write", chromedp.SendKeys(chromedp.CSS(`#body`), "Не вижу свои бонусы за ужин"))
	p.navigate("send", chromedp.Click(chromedp.CSS(`#new button[type=submit]`)))
	p.sees("Не вижу свои бонусы за ужин", "круглосуточно")
	p.screenshot("support-member-thread.png")
	th, err := env.App.Support.Active(context.Background(), m.ID, support.KindSupport)
	if err != nil {
		t.Fatal(err)
	}

	staff := newPhone(ctx, t, env)
	staff.signIn(demoAccountWithRole(t, demo.RoleSupport))
	staff.open("/admin/support")
	staff.sees("Не вижу свои бонусы")
	staff.screenshot("support-queue.png")
	staff.open(support.StaffPath(th))
	staff.do("answer", chromedp.SendKeys(chromedp.CSS(`#reply`), "Бонусы придут через 14 дней"))
	staff.navigate("send the answer", chromedp.Click(chromedp.CSS(`form[action$="/reply"] button`)))
	staff.sees("Бонусы придут через 14 дней")
	staff.screenshot("support-staff-thread.png")

	p.open(support.MemberPath(th.ID))
	p.sees("Бонусы придут через 14 дней")
}
