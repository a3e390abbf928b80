package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// narrowWidth is the smallest handset the portal and the back office must fit.
const narrowWidth = 360

// fitsWidth fails when the page scrolls sideways on a narrow handset.
func (p *phone) fitsWidth(what string) {
	p.t.Helper()
	w := phoneRun(p, "measure "+what, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if w > narrowWidth {
		p.t.Errorf("%s is %d px wide on a %d px screen", what, w, narrowWidth)
	}
}

// On a 360 px phone, the demo owner creates an offer, is told what is wrong, fixes it
// and submits it; the moderator finds it from the dashboard and approves it.
func TestBrowserOfferToModerationOnPhone(t *testing.T) {
	env, ctx := browserApp(t)
	owner := newPhone(ctx, t, env)
	owner.do("narrow the screen", chromedp.EmulateViewport(narrowWidth, 740, chromedp.EmulateMobile))
	owner.signIn(demoAccountWithRole(t, "owner"))
	owner.open("/partner/offers")
	owner.fitsWidth("the offer list")
	owner.navigate("click Новое предложение", chromedp.Click(chromedp.CSS(`a[href="/partner/offers/new"]`)))
	owner.fitsWidth("the offer form")
	owner.do("type the title", chromedp.SendKeys(chromedp.CSS("#title"), "Чайная церемония"))
	phoneRun(owner, "choose a category", chromedp.Evaluate[int](`document.querySelector('#category_id').selectedIndex = 1`))
	// Only the chosen category's tags stay on the form.
	tagsShown := phoneRun(owner, "show the category's tags", chromedp.Evaluate[string](`(function () {
		var s = document.querySelector('#category_id');
		s.dispatchEvent(new Event('change', {bubbles: true}));
		var all = document.querySelectorAll('#tags .tag-group'), shown = [];
		for (var i = 0; i < all.length; i++) if (!all[i].hidden) shown.push(all[i].getAttribute('data-category') === s.value);
		return all.length + ' groups, shown ' + JSON.stringify(shown);
	})()`))
	if !strings.HasSuffix(tagsShown, "shown [true]") || strings.HasPrefix(tagsShown, "1 groups") {
		t.Errorf("after choosing a category: %s; want one group of many shown, the chosen category's", tagsShown)
	}
	phoneRun(owner, "choose a city", chromedp.Evaluate[int](`document.querySelector('#city_id').selectedIndex = 1`))
	owner.do("type a cashback too high", chromedp.SetValue(chromedp.CSS("#cashback"), "120"))
	owner.do("submit the form", chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)))
	owner.do("wait for the errors", chromedp.WaitVisible(chromedp.CSS(".field-error")))
	owner.sees("Укажите хотя бы один адрес", "От 0 до 100%")
	owner.fitsWidth("the refused form")
	owner.screenshot("offer-form-errors-360.png")
	owner.do("type an address", chromedp.SendKeys(chromedp.CSS("#addresses"), "Абая, 10"))
	owner.do("fix the cashback", chromedp.SetValue(chromedp.CSS("#cashback"), "5,5"))
	owner.navigate("save", chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)))
	owner.sees("Черновик сохранён", "Чайная церемония", "5,5%", "Абая, 10")
	owner.fitsWidth("the offer page")
	owner.navigate("click Отправить на модерацию", chromedp.Click(chromedp.CSS(`form[action$="/submit"] button`)))
	owner.sees("Отправлено на модерацию")
	owner.screenshot("offer-submitted-360.png")

	mod := newPhone(ctx, t, env)
	mod.do("narrow the screen", chromedp.EmulateViewport(narrowWidth, 740, chromedp.EmulateMobile))
	mod.signIn(demoAccountWithRole(t, "moderator"))
	mod.open("/admin")
	mod.navigate("click the pending count", chromedp.Click(chromedp.CSS(`a.stat[href="/admin/moderation"]`)))
	mod.fitsWidth("the queue")
	mod.navigate("open the new offer", chromedp.Click(chromedp.Search(fmt.Sprintf(`//a[contains(., %q)]`, "Чайная церемония"))))
	mod.fitsWidth("the review")
	mod.screenshot("moderation-review-360.png")
	mod.navigate("approve", chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)))
	mod.sees("Одобрено")
}
