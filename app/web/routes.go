package web

import (
	"errors"
	"html/template"
	"strings"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"

	"ikra/app/apikeys"
	"ikra/app/authz"
	"ikra/app/partners"
	"ikra/app/scraping"
	"ikra/app/support"
	"ikra/app/terms"
	"ikra/app/web/admin"
	"ikra/app/web/api"
	"ikra/app/web/member"
	"ikra/app/web/partner"
	"ikra/app/web/partnerapi"
	"ikra/app/web/ui"
)

// Workspaces a route can belong to; each has its own guard.
const (
	Public    = "public"
	Member    = "member"  // /app, /tg pages and media: any signed-in member
	PartnerWS = "partner" // /partner: staff of the current partner
	Admin     = "admin"   // /admin: platform staff
	API       = "api"     // /api: signed-in member, JSON
	// PartnerAPI is /api/partner/v1, the POS/CRM API: a partner's API key in
	// "Authorization: Bearer", and nothing else (no session, no CSRF); the route's
	// permission is the scope the key must hold (apikeys.ScopeRead, ScopeRedeem).
	PartnerAPI = "partnerapi"
)

// Rate limits a route can name; every route line says which one it takes. Each limit
// has its own bucket per member when signed in, per client address otherwise.
const (
	NoLimit    = ""        // public pages only: reading them costs little
	LimitAuth  = "auth"    // sign-in: IKRA_RATE_AUTH per minute
	LimitRead  = "read"    // signed-in pages, media and API reads: IKRA_RATE_MEMBER per minute
	LimitWrite = "write"   // every unsafe method (POST, DELETE): IKRA_RATE_WRITE per minute
	LimitBot   = "webhook" // Telegram's webhook deliveries: webhookPerMinute per address
	LimitAPI   = "api"     // POS/CRM API calls: IKRA_RATE_API per API key per minute
)

// webhookPerMinute caps the webhook per address far above what Telegram delivers
// (its pushes are already bounded by the webhook's max_connections).
const webhookPerMinute = 6000

// Route is one entry of the route table: the authorization matrix reads it.
type Route struct {
	Method, Path, Workspace, Perm, Limit string
}

func (s *Server) routes() {
	a := s.App
	// The body limit comes before the input is cleaned: an oversized form is refused
	// before anything parses it.
	a.Use(s.requestContext, formLimit, cleanInput)
	for _, m := range []string{fiber.MethodGet, fiber.MethodHead} {
		s.add(m, "/healthz", s.healthz)
		s.add(m, "/readyz", s.readyz)
		s.add(m, "/assets/*", s.asset)
	}
	a.Use(compressed, s.syncNodes, s.loadSession, s.securityHeaders, s.maintenanceGate, s.termsUse)
	a.Use(s.checkCSRF)

	r := &router{s: s, limits: map[string]fiber.Handler{
		LimitAuth:  s.rateLimit(LimitAuth, s.cfg.RateAuth),
		LimitRead:  s.rateLimit(LimitRead, s.cfg.RateMember),
		LimitWrite: s.rateLimit(LimitWrite, s.cfg.RateWrite),
		LimitBot:   s.rateLimit(LimitBot, webhookPerMinute),
		LimitAPI:   s.rateLimit(LimitAPI, s.cfg.RateAPI),
	}}
	r.add(Public, "GET", "/", "", NoLimit, s.home)
	r.add(Public, "GET", "/login", "", NoLimit, s.login)
	r.add(Public, "GET", "/auth/telegram", "", LimitAuth, s.widgetCallback)
	r.add(Public, "POST", "/tg/auth", "", LimitAuth, s.miniAppAuth)
	r.add(Public, "GET", "/tg", "", NoLimit, s.miniApp)
	r.add(Public, "GET", "/auth/demo", "", NoLimit, s.demoList)
	r.add(Public, "POST", "/auth/demo", "", LimitAuth, s.demoSignIn)
	r.add(Public, "POST", "/logout", "", LimitWrite, s.logout)
	r.add(Public, "POST", "/lang", "", LimitWrite, s.setLang)
	r.add(Public, "GET", "/terms", "", NoLimit, s.termsPage(terms.Offer))
	r.add(Public, "GET", "/privacy", "", NoLimit, s.termsPage(terms.Privacy))
	r.add(Public, "POST", "/telegram/webhook/:secret", "", LimitBot, s.webhook)

	m := member.New(s.render, s.sessions, s.members, s.notify, s.catalog)
	m.RecordViews(s.views)
	r.add(Member, "GET", "/app", "cabinet:use", LimitRead, s.watch(scraping.Pages), m.Home)
	r.add(Member, "GET", "/app/offers/:id", "offers:browse", LimitRead, s.watch(scraping.Offers), m.Offer)
	r.add(Member, "GET", "/app/welcome", "cabinet:use", LimitRead, m.Welcome)
	r.add(Member, "POST", "/app/welcome", "cabinet:use", LimitWrite, m.SaveWelcome)
	r.add(Member, "GET", "/app/notifications", "cabinet:use", LimitRead, m.Notifications)
	r.add(Member, "POST", "/app/notifications/read", "cabinet:use", LimitWrite, m.ReadNotifications)
	r.add(Member, "GET", "/app/settings", "cabinet:use", LimitRead, m.Settings)
	r.add(Member, "POST", "/app/settings/language", "cabinet:use", LimitWrite, m.SetLanguage)
	r.add(Member, "GET", "/app/settings/export", "cabinet:use", LimitRead, m.Export)
	r.add(Member, "GET", "/app/settings/delete", "cabinet:use", LimitRead, m.DeleteForm)
	r.add(Member, "POST", "/app/settings/delete", "cabinet:use", LimitWrite, m.Delete)
	r.add(Member, "POST", "/app/sessions/:id/revoke", "sessions:own", LimitWrite, m.RevokeSession)
	r.add(Member, "POST", "/app/sessions/revoke-others", "sessions:own", LimitWrite, m.RevokeOtherSessions)
	r.add(Member, "GET", "/media/*", "offers:browse", LimitRead, m.Media)

	mb := member.NewBookings(s.render, s.catalog, s.bookings, s.cfg.BaseURL)
	r.add(Member, "POST", "/app/offers/:id/book", "bookings:own", LimitWrite, mb.Book)
	r.add(Member, "GET", "/app/bookings", "bookings:own", LimitRead, mb.List)
	r.add(Member, "GET", "/app/bookings/:id/qr.png", "bookings:own", LimitRead, mb.QR)
	r.add(Member, "POST", "/app/bookings/:id/cancel", "bookings:own", LimitWrite, mb.Cancel)

	history := member.NewHistory(s.db, s.render.Catalog)
	ml := member.NewLoyalty(s.render, s.loyalty, history, member.Links{BaseURL: s.cfg.BaseURL, BotUsername: s.cfg.BotUsername, Secure: s.cfg.Secure()})
	r.add(Public, "GET", "/r/:code", "", NoLimit, ml.Referral)
	r.add(Public, "GET", "/rules", "", NoLimit, ml.Rules)
	r.add(Member, "GET", "/app/bonuses", "cabinet:use", LimitRead, ml.Bonuses)
	r.add(Member, "GET", "/app/invite", "cabinet:use", LimitRead, ml.Invite)
	r.add(Member, "GET", "/app/invite/qr.png", "cabinet:use", LimitRead, ml.InviteQR)
	r.add(Member, "GET", "/app/status", "cabinet:use", LimitRead, ml.Status)
	r.add(Member, "POST", "/app/status/buy", "cabinet:use", LimitWrite, ml.BuyTier)

	p := partner.New(s.db, s.render)
	r.add(PartnerWS, "GET", "/partner", "partner:view", LimitRead, p.Dashboard)
	r.add(PartnerWS, "POST", "/partner/switch", "partner:view", LimitWrite, s.switchPartner)

	po := partner.NewOffers(s.render, s.partnerOffers)
	r.add(PartnerWS, "GET", "/partner/offers", "offers:read", LimitRead, po.List)
	r.add(PartnerWS, "GET", "/partner/offers/new", "offers:read", LimitRead, po.New)
	r.add(PartnerWS, "POST", "/partner/offers", "offers:write", LimitWrite, po.Create)
	r.add(PartnerWS, "GET", "/partner/offers/:id", "offers:read", LimitRead, po.Show)
	r.add(PartnerWS, "GET", "/partner/offers/:id/edit", "offers:read", LimitRead, po.Edit)
	r.add(PartnerWS, "POST", "/partner/offers/:id", "offers:write", LimitWrite, po.Update)
	r.add(PartnerWS, "POST", "/partner/offers/:id/submit", "offers:write", LimitWrite, po.Submit)
	r.add(PartnerWS, "POST", "/partner/offers/:id/archive", "offers:write", LimitWrite, po.Archive)
	r.add(PartnerWS, "POST", "/partner/offers/:id/invited", "offers:write", LimitWrite, po.Invite)
	r.add(PartnerWS, "POST", "/partner/offers/:id/invited/:mid/remove", "offers:write", LimitWrite, po.Uninvite)

	pc := partner.NewCounter(s.render, s.bookings)
	r.add(PartnerWS, "GET", "/partner/bookings", "bookings:read", LimitRead, pc.Index)
	r.add(PartnerWS, "GET", "/partner/bookings/:code", "bookings:read", LimitRead, pc.Show)
	r.add(PartnerWS, "POST", "/partner/bookings/:code/confirm", "bookings:redeem", LimitWrite, pc.Confirm)
	r.add(PartnerWS, "POST", "/partner/bookings/:code/decline", "bookings:redeem", LimitWrite, pc.Decline)
	r.add(PartnerWS, "POST", "/partner/bookings/:code/complete", "bookings:redeem", LimitWrite, pc.Complete)
	r.add(PartnerWS, "POST", "/partner/bookings/:code/no-show", "bookings:redeem", LimitWrite, pc.NoShow)
	r.add(PartnerWS, "POST", "/partner/bookings/:code/reverse", "bookings:redeem", LimitWrite, pc.Reverse)

	// Partner onboarding: any member applies and accepts invite links; the owner manages staff.
	pa := partner.NewApply(s.render, s.partners, s.partnerOffers)
	r.add(Member, "GET", "/partner/apply", "cabinet:use", LimitRead, pa.Form)
	r.add(Member, "POST", "/partner/apply", "cabinet:use", LimitWrite, pa.Submit)
	pv := partner.NewInvite(s.render, s.staff)
	r.add(Member, "GET", "/partner/invite/:token", "cabinet:use", LimitRead, pv.Show)
	r.add(Member, "POST", "/partner/invite/:token", "cabinet:use", LimitWrite, pv.Accept)
	ps := partner.NewStaff(s.render, s.staff, s.cfg.BaseURL)
	r.add(PartnerWS, "GET", "/partner/staff", "staff:read", LimitRead, ps.List)
	r.add(PartnerWS, "POST", "/partner/staff/invites", "staff:write", LimitWrite, ps.CreateInvite)
	r.add(PartnerWS, "POST", "/partner/staff/invites/:id/revoke", "staff:write", LimitWrite, ps.RevokeInvite)
	r.add(PartnerWS, "POST", "/partner/staff/:id/role", "staff:write", LimitWrite, ps.ChangeRole)
	r.add(PartnerWS, "POST", "/partner/staff/:id/remove", "staff:write", LimitWrite, ps.Remove)

	pw := partner.NewWebhooks(s.render, s.webhooks)
	r.add(PartnerWS, "GET", "/partner/webhooks", "webhooks:write", LimitRead, pw.List)
	r.add(PartnerWS, "POST", "/partner/webhooks", "webhooks:write", LimitWrite, pw.Create)
	r.add(PartnerWS, "GET", "/partner/webhooks/:id", "webhooks:write", LimitRead, pw.Show)
	r.add(PartnerWS, "POST", "/partner/webhooks/:id/disable", "webhooks:write", LimitWrite, pw.Disable)
	r.add(PartnerWS, "POST", "/partner/webhooks/:id/enable", "webhooks:write", LimitWrite, pw.Enable)
	r.add(PartnerWS, "POST", "/partner/webhooks/:id/delete", "webhooks:write", LimitWrite, pw.Delete)
	r.add(PartnerWS, "POST", "/partner/webhooks/:id/deliveries/:did/resend", "webhooks:write", LimitWrite, pw.Resend)
	pan := partner.NewAnalytics(s.render, s.analytics)
	r.add(PartnerWS, "GET", "/partner/analytics", "analytics:read", LimitRead, pan.Page)
	r.add(PartnerWS, "GET", "/partner/analytics.csv", "analytics:read", LimitRead, pan.CSV)

	pi := partner.NewImages(s.images, s.render)
	r.add(PartnerWS, "GET", "/partner/offers/:id/media", "offers:read", LimitRead, pi.Page)
	r.add(PartnerWS, "POST", "/partner/offers/:id/media", "offers:write", LimitWrite, pi.Upload)
	r.add(PartnerWS, "POST", "/partner/offers/:id/media/:mid/cover", "offers:write", LimitWrite, pi.Cover)
	r.add(PartnerWS, "POST", "/partner/offers/:id/media/:mid/move", "offers:write", LimitWrite, pi.Move)
	r.add(PartnerWS, "POST", "/partner/offers/:id/media/:mid/delete", "offers:write", LimitWrite, pi.Delete)
	r.add(PartnerWS, "GET", "/partner/offers/:id/cover", "offers:read", LimitRead, pi.CoverImage)
	r.add(PartnerWS, "GET", "/partner/media/*", "offers:read", LimitRead, pi.Media)

	ad := admin.New(s.db, s.render, s.members, s.staff, s.partnerOffers)
	dash := admin.NewDashboard(s.render, s.dash)
	r.add(Admin, "GET", "/admin", "admin:view", LimitRead, dash.Overview)
	r.add(Admin, "GET", "/admin/bookings", "bookings:read", LimitRead, dash.Bookings)
	r.add(Admin, "GET", "/admin/ledger", "ledger:read", LimitRead, dash.Ledger)
	r.add(Admin, "GET", "/admin/members", "members:read", LimitRead, ad.Members)
	r.add(Admin, "GET", "/admin/members/:id", "members:read", LimitRead, ad.Member)
	r.add(Admin, "POST", "/admin/members/:id/block", "members:block", LimitWrite, ad.Block)
	r.add(Admin, "POST", "/admin/members/:id/unblock", "members:block", LimitWrite, ad.Unblock)
	r.add(Admin, "GET", "/admin/partners", "partners:read", LimitRead, ad.Partners)
	// Applications come before /admin/partners/:id, which would otherwise take them.
	on := admin.NewOnboarding(s.db, s.render, s.partners)
	r.add(Admin, "GET", "/admin/partners/applications", "partners:review", LimitRead, on.Queue)
	r.add(Admin, "GET", "/admin/partners/applications/:id", "partners:review", LimitRead, on.Show)
	r.add(Admin, "POST", "/admin/partners/applications/:id/approve", "partners:review", LimitWrite, on.Approve)
	r.add(Admin, "POST", "/admin/partners/applications/:id/reject", "partners:review", LimitWrite, on.Reject)
	r.add(Admin, "GET", "/admin/partners/:id", "partners:read", LimitRead, on.Partner)
	r.add(Admin, "POST", "/admin/partners/:id/suspend", "partners:suspend", LimitWrite, on.Suspend)
	r.add(Admin, "POST", "/admin/partners/:id/reactivate", "partners:suspend", LimitWrite, on.Reactivate)
	r.add(Admin, "GET", "/admin/staff", "staff:read", LimitRead, ad.Staff)
	r.add(Admin, "POST", "/admin/staff", "staff:write", LimitWrite, ad.Grant)
	r.add(Admin, "POST", "/admin/staff/:id/revoke", "staff:write", LimitWrite, ad.Revoke)

	mo := admin.NewModeration(s.render, s.partnerOffers, s.images)
	r.add(Admin, "GET", "/admin/moderation", "moderation:review", LimitRead, mo.Queue)
	r.add(Admin, "GET", "/admin/moderation/:kind/:id", "moderation:review", LimitRead, mo.Review)
	r.add(Admin, "POST", "/admin/moderation/:kind/:id/approve", "moderation:review", LimitWrite, mo.Approve)
	r.add(Admin, "POST", "/admin/moderation/:kind/:id/reject", "moderation:review", LimitWrite, mo.Reject)
	r.add(Admin, "GET", "/admin/media/*", "moderation:review", LimitRead, mo.Media)

	al := admin.NewLoyalty(s.db, s.render, s.loyalty, history)
	al.SetScraping(s.scraping)
	r.add(Admin, "GET", "/admin/members/:id/ledger", "ledger:read", LimitRead, al.Ledger)
	r.add(Admin, "POST", "/admin/members/:id/annul", "ledger:annul", LimitWrite, al.Annul)
	r.add(Admin, "GET", "/admin/settings", "settings:write", LimitRead, al.Settings)
	r.add(Admin, "POST", "/admin/settings/bonus", "settings:write", LimitWrite, al.SaveBonus)
	r.add(Admin, "POST", "/admin/tiers/:id", "settings:write", LimitWrite, al.SaveTier)
	r.add(Admin, "POST", "/admin/settings/scraping", "settings:write", LimitWrite, al.SaveScraping)

	// Fraud signals, audit log, jobs monitor.
	af := admin.NewFlags(s.render, s.scraping, s.fraud)
	r.add(Admin, "GET", "/admin/flags", "fraud:read", LimitRead, af.List)
	r.add(Admin, "GET", "/admin/flags/:id", "fraud:read", LimitRead, af.Show)
	r.add(Admin, "POST", "/admin/flags/:id/review", "fraud:review", LimitWrite, af.Review)
	r.add(Admin, "POST", "/admin/flags/:id/dismiss", "fraud:review", LimitWrite, af.Dismiss)
	r.add(Admin, "POST", "/admin/flags/:id/annul", "fraud:review", LimitWrite, af.Annul)
	r.add(Admin, "POST", "/admin/flags/:id/block", "fraud:review", LimitWrite, af.Block)
	au := admin.NewAuditLog(s.db, s.render, s.members)
	r.add(Admin, "GET", "/admin/audit", "audit:read", LimitRead, au.List)
	r.add(Admin, "GET", "/admin/audit.csv", "audit:read", LimitRead, au.CSV)
	// asynqmon, read-only: its page calls its API with fetch() and no CSRF token.
	jm := s.jobsMonitor()
	r.add(Admin, "GET", "/admin/jobs", "jobs:monitor", LimitRead, jm)
	r.add(Admin, "GET", "/admin/jobs/*", "jobs:monitor", LimitRead, jm)

	// Claims, terms and maintenance (app/claims, app/terms, app/maintenance).
	mc := member.NewClaims(s.render, s.claims)
	r.add(Member, "GET", "/app/claims", "cabinet:use", LimitRead, mc.List)
	r.add(Member, "GET", "/app/claims/new", "cabinet:use", LimitRead, mc.New)
	r.add(Member, "POST", "/app/claims", "cabinet:use", LimitWrite, mc.Create)
	r.add(Member, "GET", "/app/claims/:id", "cabinet:use", LimitRead, mc.Show)
	r.add(Member, "GET", "/app/claims/:id/files/:name", "cabinet:use", LimitRead, mc.File)
	acl := admin.NewClaims(s.render, s.claims)
	r.add(Admin, "GET", "/admin/claims", "claims:read", LimitRead, acl.List)
	r.add(Admin, "GET", "/admin/claims/:id", "claims:read", LimitRead, acl.Show)
	r.add(Admin, "GET", "/admin/claims/:id/files/:name", "claims:read", LimitRead, acl.File)
	r.add(Admin, "POST", "/admin/claims/:id/assign", "claims:write", LimitWrite, acl.Assign)
	r.add(Admin, "POST", "/admin/claims/:id/start", "claims:write", LimitWrite, acl.Start)
	r.add(Admin, "POST", "/admin/claims/:id/answer", "claims:write", LimitWrite, acl.Answer)
	r.add(Public, "GET", "/terms/v/:version", "", NoLimit, s.termsVersion(terms.Offer))
	r.add(Public, "GET", "/privacy/v/:version", "", NoLimit, s.termsVersion(terms.Privacy))
	r.add(Member, "POST", "/app/terms/seen", "cabinet:use", LimitWrite, s.dismissTerms)
	atm := admin.NewTerms(s.render, s.terms, func(src string) template.HTML { return markdown(src, "") })
	r.add(Admin, "GET", "/admin/terms", "terms:publish", LimitRead, atm.List)
	r.add(Admin, "POST", "/admin/terms", "terms:publish", LimitWrite, atm.Publish)
	amt := admin.NewMaintenance(s.render, s.maintenance)
	r.add(Admin, "GET", "/admin/maintenance", "maintenance:write", LimitRead, amt.Page)
	r.add(Admin, "POST", "/admin/maintenance", "maintenance:write", LimitWrite, amt.Save)

	// Care service and concierge (app/support).
	ms := member.NewSupport(s.render, s.support)
	r.add(Member, "GET", "/app/support", "cabinet:use", LimitRead, ms.List)
	r.add(Member, "POST", "/app/support", "cabinet:use", LimitWrite, ms.Open)
	r.add(Member, "GET", "/app/support/:id", "cabinet:use", LimitRead, ms.Show)
	r.add(Member, "POST", "/app/support/:id", "cabinet:use", LimitWrite, ms.Write)
	r.add(Member, "GET", "/app/support/:id/files/:name", "cabinet:use", LimitRead, ms.File)
	r.add(Member, "POST", "/app/offers/:id/concierge", "cabinet:use", LimitWrite, ms.Concierge)
	for _, kind := range []string{support.KindSupport, support.KindConcierge} {
		as := admin.NewSupport(s.render, s.support, kind)
		base := "/admin/" + kind
		read, write := support.ReadPerm(kind), support.WritePerm(kind)
		r.add(Admin, "GET", base, read, LimitRead, as.Queue)
		r.add(Admin, "GET", base+"/:id", read, LimitRead, as.Show)
		r.add(Admin, "GET", base+"/:id/files/:name", read, LimitRead, as.File)
		r.add(Admin, "POST", base+"/:id/assign", write, LimitWrite, as.Assign)
		r.add(Admin, "POST", base+"/:id/reply", write, LimitWrite, as.Reply)
		r.add(Admin, "POST", base+"/:id/note", write, LimitWrite, as.Note)
		r.add(Admin, "POST", base+"/:id/resolve", write, LimitWrite, as.Resolve)
		if kind == support.KindConcierge {
			r.add(Admin, "POST", base+"/:id/book", support.BookPerm, LimitWrite, as.Book)
		}
	}

	ap := api.New(s.db, s.sessions, s.notify, s.loyalty, history)
	r.add(API, "GET", "/api/v1/me", "cabinet:use", LimitRead, ap.Me)
	r.add(API, "GET", "/api/v1/sessions", "sessions:own", LimitRead, ap.Sessions)
	r.add(API, "DELETE", "/api/v1/sessions/:id", "sessions:own", LimitWrite, ap.RevokeSession)
	r.add(API, "GET", "/api/v1/notifications", "cabinet:use", LimitRead, ap.Notifications)
	r.add(API, "GET", "/api/v1/bonuses", "cabinet:use", LimitRead, ap.Bonuses)

	ab := api.NewBookings(s.catalog, s.bookings, s.render)
	ab.RecordViews(s.views)
	r.add(API, "GET", "/api/v1/offers", "offers:browse", LimitRead, s.watch(scraping.Pages), ab.Offers)
	r.add(API, "GET", "/api/v1/offers/:id", "offers:browse", LimitRead, s.watch(scraping.Offers), ab.Offer)
	r.add(API, "POST", "/api/v1/bookings", "bookings:own", LimitWrite, ab.Book)
	r.add(API, "GET", "/api/v1/bookings", "bookings:own", LimitRead, ab.Bookings)
	r.add(API, "POST", "/api/v1/bookings/:id/cancel", "bookings:own", LimitWrite, ab.Cancel)

	pk := partner.NewKeys(s.render, s.apiKeys)
	r.add(PartnerWS, "GET", "/partner/keys", "keys:write", LimitRead, pk.Index)
	r.add(PartnerWS, "POST", "/partner/keys", "keys:write", LimitWrite, pk.Create)
	r.add(PartnerWS, "POST", "/partner/keys/:id/revoke", "keys:write", LimitWrite, pk.Revoke)

	// The POS/CRM API: the permission on each line is the scope the key must hold.
	papi := partnerapi.New(s.render.Catalog, s.apiKeys, s.bookings, s.partnerOffers)
	r.add(Public, "GET", partnerapi.Base+"/openapi.json", "", NoLimit, papi.OpenAPI)
	r.add(PartnerAPI, "GET", partnerapi.Base+"/offers", apikeys.ScopeRead, LimitAPI, papi.Offers)
	r.add(PartnerAPI, "GET", partnerapi.Base+"/bookings", apikeys.ScopeRead, LimitAPI, papi.Bookings)
	r.add(PartnerAPI, "GET", partnerapi.Base+"/bookings/:code", apikeys.ScopeRead, LimitAPI, papi.Booking)
	r.add(PartnerAPI, "POST", partnerapi.Base+"/bookings/:code/confirm", apikeys.ScopeRedeem, LimitAPI, papi.Confirm)
	r.add(PartnerAPI, "POST", partnerapi.Base+"/bookings/:code/decline", apikeys.ScopeRedeem, LimitAPI, papi.Decline)
	r.add(PartnerAPI, "POST", partnerapi.Base+"/bookings/:code/complete", apikeys.ScopeRedeem, LimitAPI, papi.Complete)
	r.add(PartnerAPI, "POST", partnerapi.Base+"/bookings/:code/reverse", apikeys.ScopeRedeem, LimitAPI, papi.Reverse)

	s.Routes = r.table
	a.Use(func(c *fiber.Ctx) error {
		s.routeMetrics.notFound(c)
		return ui.ErrNotFound
	})
}

// formLimit holds every body to maxForm but on the routes that take uploads, which
// have the larger global limit.
func formLimit(c *fiber.Ctx) error {
	if strings.HasPrefix(c.Path(), "/partner/offers/") && strings.HasSuffix(c.Path(), "/media") || c.Path() == "/app/claims" || supportUpload(c.Path()) {
		return c.Next()
	}
	return bodyLimit(maxForm)(c)
}

// supportUpload reports whether path takes a care-service message, which may carry an
// image: it takes the larger global body limit, and the image is checked by app/images.
func supportUpload(path string) bool {
	p := strings.ToLower(path)
	return strings.HasPrefix(p, "/app/support") ||
		(strings.HasPrefix(p, "/admin/support/") || strings.HasPrefix(p, "/admin/concierge/")) &&
			(strings.HasSuffix(p, "/reply") || strings.HasSuffix(p, "/note"))
}

type router struct {
	s      *Server
	table  []Route
	limits map[string]fiber.Handler
}

// add registers a route with the guard of its workspace, the permission it needs and
// its rate limit. Only a public page read may go without a limit: a route that changes
// something, or one behind a sign-in, without one does not start.
func (r *router) add(ws, method, path, perm, limit string, handlers ...fiber.Handler) {
	r.table = append(r.table, Route{Method: method, Path: path, Workspace: ws, Perm: perm, Limit: limit})
	safe := method == fiber.MethodGet || method == fiber.MethodHead
	switch {
	case limit == NoLimit && (!safe || ws != Public):
		panic("web: " + method + " " + path + " needs a rate limit")
	case limit == LimitRead && !safe:
		panic("web: " + method + " " + path + " changes something: it takes a write limit")
	}
	if ws == PartnerAPI {
		if limit != LimitAPI {
			panic("web: " + method + " " + path + " is in the POS/CRM API: it takes the api limit")
		}
		// The key is known only once it is checked, so here the limit, kept per key,
		// comes after the authentication; failed attempts count against the client
		// address's sign-in limit instead (apiKey).
		handlers = append([]fiber.Handler{r.s.apiKey, r.limits[LimitAPI], r.s.scope(perm)}, handlers...)
		r.s.add(method, path, handlers...)
		return
	}
	var guard fiber.Handler
	switch ws {
	case Public:
	case Member, API:
		guard = r.s.guard(perm, func(*fiber.Ctx, *ui.Viewer) (string, error) { return authz.Club, nil })
	case PartnerWS:
		guard = r.s.guard(perm, r.s.currentPartner)
		if !partners.SuspendedMay(perm) {
			guard = r.s.guard(perm, r.s.activePartner)
		}
	case Admin:
		guard = r.s.guard(perm, func(*fiber.Ctx, *ui.Viewer) (string, error) { return authz.Platform, nil })
	default:
		panic("web: unknown workspace " + ws)
	}
	if guard != nil {
		handlers = append([]fiber.Handler{guard}, handlers...)
	}
	// The limit comes before the guard: refused attempts count too.
	if limit != NoLimit {
		lim, ok := r.limits[limit]
		if !ok {
			panic("web: unknown rate limit " + limit)
		}
		handlers = append([]fiber.Handler{lim}, handlers...)
	}
	r.s.add(method, path, handlers...)
}

// guard lets a request through when a member is signed in and holds perm in the
// domain the workspace resolves; otherwise 401 (sign in) or 403.
func (s *Server) guard(perm string, domain func(*fiber.Ctx, *ui.Viewer) (string, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v := ui.ViewerOf(c)
		if v == nil {
			return ui.ErrUnauthorized
		}
		dom, err := domain(c, v)
		if err != nil {
			return err
		}
		if !s.authz.Can(v.ID(), dom, perm) {
			return ui.ErrForbidden
		}
		return c.Next()
	}
}

// apiKey authenticates a POS/CRM API request by its "Authorization: Bearer <key>"
// header alone and puts the key, and so its partner, in the context. A missing,
// malformed, unknown or revoked key is 401, and counts against the client address's
// sign-in limit (IKRA_RATE_AUTH), so keys cannot be tried in bulk; a key of a
// partner that is not active is 403.
func (s *Server) apiKey(c *fiber.Ctx) error {
	scheme, token, _ := strings.Cut(strings.TrimSpace(c.Get(fiber.HeaderAuthorization)), " ")
	if strings.EqualFold(scheme, "Bearer") {
		k, err := s.apiKeys.Authenticate(c.UserContext(), strings.TrimSpace(token))
		switch {
		case err == nil:
			ui.SetAPIKey(c, k)
			return c.Next()
		case errors.Is(err, apikeys.ErrPartnerInactive):
			return ui.Fail(fiber.StatusForbidden, "error.partner_inactive", err)
		case !errors.Is(err, apikeys.ErrUnauthorized):
			return err
		}
	}
	if err := s.limited(c, LimitAuth, "ip:"+ui.IP(c), redis_rate.PerMinute(s.cfg.RateAuth)); err != nil {
		return err
	}
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="ikra"`)
	return ui.Fail(fiber.StatusUnauthorized, "error.api_key", nil)
}

// scope lets a POS/CRM API request through when its key holds the route's scope.
func (s *Server) scope(want string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if k := ui.APIKeyOf(c); k == nil || !k.Allows(want) {
			return ui.Fail(fiber.StatusForbidden, "error.api_scope", nil)
		}
		return c.Next()
	}
}

// currentPartner picks the partner a staff member acts for: the one chosen with
// /partner/switch if they still work there, else their first active one (else their
// first).
func (s *Server) currentPartner(c *fiber.Ctx, v *ui.Viewer) (string, error) {
	if len(v.Partners) == 0 {
		return "", ui.ErrForbidden
	}
	// Without a choice, an active partner comes before a suspended one.
	chosen := v.Partners[0]
	for i := len(v.Partners) - 1; i >= 0; i-- {
		if !v.Partners[i].Suspended {
			chosen = v.Partners[i]
		}
	}
	want := c.Cookies(partnerCookie)
	for _, p := range v.Partners {
		if itoa(p.PartnerID) == want {
			chosen = p
		}
	}
	ui.SetPartner(c, chosen)
	return authz.PartnerDomain(chosen.PartnerID), nil
}

// activePartner is currentPartner for permissions a suspended partner's staff no
// longer use (partners.SuspendedMay): while suspended, they are refused with the reason
// shown on the page.
func (s *Server) activePartner(c *fiber.Ctx, v *ui.Viewer) (string, error) {
	dom, err := s.currentPartner(c, v)
	if err != nil {
		return "", err
	}
	if p, _ := ui.PartnerOf(c); p.Suspended {
		return "", ui.ErrPartnerSuspended
	}
	return dom, nil
}
