package web_test

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/ledger"
	"ikra/app/partners"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/tier"
)

// The audited calls of the back office's original sections: members, partners and
// their applications, staff, moderation, ledgers and settings. Each prepare makes a
// fresh target, so the calls do not depend on their order.
func init() {
	auditSections = append(auditSections, func(t *testing.T, f *fixture) map[string]auditCase {
		ctx := context.Background()
		db := f.env.App.DB.Client
		var seq atomic.Int64
		seq.Store(8_800_000)
		newMember := func() *ent.Member {
			tg := seq.Add(1)
			f.env.Client().SignIn(tg, fmt.Sprint("Target ", tg))
			m, err := db.Member.Query().Where(member.TelegramID(tg)).Only(ctx)
			apptest.Must(t, err)
			return m
		}
		memberPath := func(suffix string, setup func(*ent.Member)) func(*testing.T) string {
			return func(t *testing.T) string {
				m := newMember()
				if setup != nil {
					setup(m)
				}
				return "/admin/members/" + apptest.Itoa(m.ID) + suffix
			}
		}
		cat, err := db.Category.Query().First(ctx)
		apptest.Must(t, err)
		city, err := db.City.Query().First(ctx)
		apptest.Must(t, err)
		application := func(t *testing.T) string {
			n := seq.Add(1)
			a, err := f.env.App.Partners.Apply(ctx, newMember().ID, partners.ApplicationInput{Brand: fmt.Sprint("Cafe ", n),
				LegalName: fmt.Sprint("TOO Cafe ", n), BIN: partners.MakeBIN(fmt.Sprintf("2%010d", n%10_000_000_000)),
				CategoryID: cat.ID, CityID: city.ID, Address: "Abay 1", Email: "a@cafe.kz", Description: "Coffee"})
			apptest.Must(t, err)
			return "/admin/partners/applications/" + apptest.Itoa(a.ID)
		}
		pendingOffer := func(t *testing.T) string {
			o, err := db.Offer.Create().SetPartnerID(f.partnerA).SetCategoryID(cat.ID).SetCityID(city.ID).
				SetTitle(fmt.Sprint("Offer ", seq.Add(1))).SetKind(offer.KindDiscount).SetStatus(offer.StatusPending).Save(ctx)
			apptest.Must(t, err)
			return "/admin/moderation/offer/" + apptest.Itoa(o.ID)
		}
		t1, err := db.Tier.Query().Order(ent.Asc(tier.FieldMinEarned)).First(ctx)
		apptest.Must(t, err)
		reason := url.Values{"reason": {"Проверено"}}
		return map[string]auditCase{
			"POST /admin/members/:id/block": {role: "moderator", form: reason, prepare: memberPath("/block", nil)},
			"POST /admin/members/:id/unblock": {role: "moderator", form: url.Values{}, prepare: memberPath("/unblock", func(m *ent.Member) {
				apptest.Must(t, db.Member.UpdateOne(m).SetStatus(member.StatusBlocked).SetBlockedReason("test").Exec(ctx))
			})},
			"POST /admin/members/:id/annul": {role: "moderator", form: url.Values{"reason": {"Накрутка"}, "amount": {"50"}, "key": {"00112233445566778899aabbccddeeff"}},
				prepare: memberPath("/annul", func(m *ent.Member) {
					_, err := f.env.App.Ledger.Credit(ctx, ledger.Op{MemberID: m.ID, Amount: 100, Kind: ledger.KindAdjustment,
						Reason: "test", Key: fmt.Sprint("audit-credit-", m.ID)})
					apptest.Must(t, err)
				})},
			"POST /admin/partners/applications/:id/approve": {role: "moderator", form: url.Values{},
				prepare: func(t *testing.T) string { return application(t) + "/approve" }},
			"POST /admin/partners/applications/:id/reject": {role: "moderator", form: reason,
				prepare: func(t *testing.T) string { return application(t) + "/reject" }},
			"POST /admin/partners/:id/suspend": {role: "moderator", form: reason, path: "/admin/partners/" + apptest.Itoa(f.partnerA) + "/suspend"},
			"POST /admin/partners/:id/reactivate": {role: "moderator", form: reason, prepare: func(t *testing.T) string {
				p, err := db.Partner.Create().SetName(fmt.Sprint("Suspended ", seq.Add(1))).SetSlug(fmt.Sprint("s", seq.Load())).
					SetBin(partners.MakeBIN(fmt.Sprintf("3%010d", seq.Load()))).SetStatus("suspended").SetSuspendedReason("test").Save(ctx)
				apptest.Must(t, err)
				return "/admin/partners/" + apptest.Itoa(p.ID) + "/reactivate"
			}},
			"POST /admin/staff": {role: "superadmin", prepare: func(t *testing.T) string { return "/admin/staff" },
				form: url.Values{"telegram_id": {apptest.Itoa64(f.tg["member"])}, "role": {"support"}}},
			"POST /admin/staff/:id/revoke": {role: "superadmin", form: url.Values{}, prepare: func(t *testing.T) string {
				s, err := f.env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, newMember().ID, "cashier", &f.partnerA)
				apptest.Must(t, err)
				return "/admin/staff/" + apptest.Itoa(s.ID) + "/revoke"
			}},
			"POST /admin/moderation/:kind/:id/approve": {role: "moderator", form: url.Values{},
				prepare: func(t *testing.T) string { return pendingOffer(t) + "/approve" }},
			"POST /admin/moderation/:kind/:id/reject": {role: "moderator", form: url.Values{"reason": {"Нет фото"}},
				prepare: func(t *testing.T) string { return pendingOffer(t) + "/reject" }},
			"POST /admin/settings/bonus": {role: "superadmin", path: "/admin/settings/bonus",
				form: url.Values{"welcome": {"150"}, "referral_percent": {"5"}, "reversal_days": {"14"}}},
			"POST /admin/tiers/:id": {role: "superadmin", path: "/admin/tiers/" + apptest.Itoa(t1.ID), form: url.Values{
				"name_ru": {t1.NameRu + "!"}, "name_en": {t1.NameEn}, "name_kk": {t1.NameKk}, "min_earned": {apptest.Itoa64(t1.MinEarned)},
				"multiplier_bp": {apptest.Itoa(t1.MultiplierBp)}, "price_bonus": {apptest.Itoa64(t1.PriceBonus)}, "period_days": {apptest.Itoa(t1.PeriodDays)}}},
			"POST /admin/settings/scraping": {role: "superadmin", path: "/admin/settings/scraping",
				form: url.Values{"offers_per_hour": {"400"}, "pages_per_10min": {"300"}}},
		}
	})
}
