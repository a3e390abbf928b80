package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/authz"
	"ikra/app/terms"
	"ikra/app/web/admin"
	"ikra/app/web/api"
	"ikra/app/web/member"
	"ikra/app/web/partner"
	"ikra/app/web/ui"
)

// Workspaces a route can belong to; each has its own guard.
const (
	Public    = "public"
	Member    = "member"  // /app, /tg pages and media: any signed-in member
	PartnerWS = "partner" // /partner: staff of the current partner
	Admin     = "admin"   // /admin: platform staff
	API       = "api"     // /api: signed-in member, JSON
)

// Route is one entry of the route table: the authorization matrix reads it.
type Route struct {
	Method, Path, Workspace, Perm string
}

func (s *Server) routes() {
	a := s.App
	a.Use(s.requestContext)
	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)
	a.Get("/assets/*", s.asset)
	a.Use(compressed, s.loadSession, s.securityHeaders)
	a.Use(func(c *fiber.Ctx) error {
		if strings.HasPrefix(c.Path(), "/partner/offers/") && strings.HasSuffix(c.Path(), "/media") {
			return c.Next() // upload routes take the larger global limit
		}
		return bodyLimit(maxForm)(c)
	})
	a.Use(s.checkCSRF)

	authLimit := s.rateLimit("auth", s.cfg.RateAuth)
	r := &router{s: s}
	r.add(Public, "GET", "/", "", s.home)
	r.add(Public, "GET", "/login", "", s.login)
	r.add(Public, "GET", "/auth/telegram", "", authLimit, s.widgetCallback)
	r.add(Public, "POST", "/tg/auth", "", authLimit, s.miniAppAuth)
	r.add(Public, "GET", "/tg", "", s.miniApp)
	r.add(Public, "GET", "/auth/demo", "", s.demoList)
	r.add(Public, "POST", "/auth/demo", "", authLimit, s.demoSignIn)
	r.add(Public, "POST", "/logout", "", s.logout)
	r.add(Public, "POST", "/lang", "", s.setLang)
	r.add(Public, "GET", "/terms", "", s.termsPage(terms.Offer))
	r.add(Public, "GET", "/privacy", "", s.termsPage(terms.Privacy))
	r.add(Public, "POST", "/telegram/webhook/:secret", "", s.webhook)

	m := member.New(s.render, s.sessions, s.members, s.notify, s.catalog)
	memberLimit := s.rateLimit("member", s.cfg.RateMember)
	r.add(Member, "GET", "/app", "cabinet:use", memberLimit, m.Home)
	r.add(Member, "GET", "/app/offers/:id", "offers:browse", memberLimit, m.Offer)
	r.add(Member, "GET", "/app/notifications", "cabinet:use", memberLimit, m.Notifications)
	r.add(Member, "POST", "/app/notifications/read", "cabinet:use", m.ReadNotifications)
	r.add(Member, "GET", "/app/settings", "cabinet:use", m.Settings)
	r.add(Member, "POST", "/app/settings/language", "cabinet:use", m.SetLanguage)
	r.add(Member, "GET", "/app/settings/export", "cabinet:use", memberLimit, m.Export)
	r.add(Member, "GET", "/app/settings/delete", "cabinet:use", m.DeleteForm)
	r.add(Member, "POST", "/app/settings/delete", "cabinet:use", m.Delete)
	r.add(Member, "POST", "/app/sessions/:id/revoke", "sessions:own", m.RevokeSession)
	r.add(Member, "POST", "/app/sessions/revoke-others", "sessions:own", m.RevokeOtherSessions)
	r.add(Member, "GET", "/media/*", "offers:browse", memberLimit, m.Media)

	history := member.NewHistory(s.db, s.render.Catalog)
	ml := member.NewLoyalty(s.render, s.loyalty, history, member.Links{BaseURL: s.cfg.BaseURL, BotUsername: s.cfg.BotUsername, Secure: s.cfg.Secure()})
	r.add(Public, "GET", "/r/:code", "", ml.Referral)
	r.add(Public, "GET", "/rules", "", ml.Rules)
	r.add(Member, "GET", "/app/bonuses", "cabinet:use", memberLimit, ml.Bonuses)
	r.add(Member, "GET", "/app/invite", "cabinet:use", memberLimit, ml.Invite)
	r.add(Member, "GET", "/app/invite/qr.png", "cabinet:use", memberLimit, ml.InviteQR)
	r.add(Member, "GET", "/app/status", "cabinet:use", memberLimit, ml.Status)
	r.add(Member, "POST", "/app/status/buy", "cabinet:use", ml.BuyTier)

	p := partner.New(s.db, s.render)
	r.add(PartnerWS, "GET", "/partner", "partner:view", p.Dashboard)
	r.add(PartnerWS, "POST", "/partner/switch", "partner:view", s.switchPartner)
	r.add(PartnerWS, "GET", "/partner/offers", "offers:read", p.Offers)
	r.add(PartnerWS, "GET", "/partner/offers/:id", "offers:read", p.Offer)
	r.add(PartnerWS, "GET", "/partner/bookings", "bookings:read", p.Bookings)
	r.add(PartnerWS, "GET", "/partner/bookings/:code", "bookings:read", p.Booking)
	r.add(PartnerWS, "GET", "/partner/staff", "staff:read", p.Staff)

	ad := admin.New(s.db, s.render, s.members, s.staff)
	r.add(Admin, "GET", "/admin", "admin:view", ad.Dashboard)
	r.add(Admin, "GET", "/admin/members", "members:read", ad.Members)
	r.add(Admin, "GET", "/admin/members/:id", "members:read", ad.Member)
	r.add(Admin, "POST", "/admin/members/:id/block", "members:block", ad.Block)
	r.add(Admin, "POST", "/admin/members/:id/unblock", "members:block", ad.Unblock)
	r.add(Admin, "GET", "/admin/partners", "partners:read", ad.Partners)
	r.add(Admin, "GET", "/admin/staff", "staff:read", ad.Staff)
	r.add(Admin, "POST", "/admin/staff", "staff:write", ad.Grant)
	r.add(Admin, "POST", "/admin/staff/:id/revoke", "staff:write", ad.Revoke)
	r.add(Admin, "GET", "/admin/audit", "audit:read", ad.Audit)

	al := admin.NewLoyalty(s.db, s.render, s.loyalty, history)
	r.add(Admin, "GET", "/admin/members/:id/ledger", "ledger:read", al.Ledger)
	r.add(Admin, "POST", "/admin/members/:id/annul", "ledger:annul", al.Annul)
	r.add(Admin, "GET", "/admin/settings", "settings:write", al.Settings)
	r.add(Admin, "POST", "/admin/settings/bonus", "settings:write", al.SaveBonus)
	r.add(Admin, "POST", "/admin/tiers/:id", "settings:write", al.SaveTier)

	ap := api.New(s.db, s.sessions, s.notify, s.loyalty, history)
	apiLimit := s.rateLimit("api", s.cfg.RateMember)
	r.add(API, "GET", "/api/v1/me", "cabinet:use", apiLimit, ap.Me)
	r.add(API, "GET", "/api/v1/sessions", "sessions:own", apiLimit, ap.Sessions)
	r.add(API, "DELETE", "/api/v1/sessions/:id", "sessions:own", apiLimit, ap.RevokeSession)
	r.add(API, "GET", "/api/v1/notifications", "cabinet:use", apiLimit, ap.Notifications)
	r.add(API, "GET", "/api/v1/bonuses", "cabinet:use", apiLimit, ap.Bonuses)

	s.Routes = r.table
	a.Use(func(c *fiber.Ctx) error { return ui.ErrNotFound })
}

type router struct {
	s     *Server
	table []Route
}

// add registers a route with the guard of its workspace and the permission it needs.
func (r *router) add(ws, method, path, perm string, handlers ...fiber.Handler) {
	r.table = append(r.table, Route{Method: method, Path: path, Workspace: ws, Perm: perm})
	var guard fiber.Handler
	switch ws {
	case Public:
	case Member, API:
		guard = r.s.guard(perm, func(*fiber.Ctx, *ui.Viewer) (string, error) { return authz.Club, nil })
	case PartnerWS:
		guard = r.s.guard(perm, r.s.currentPartner)
	case Admin:
		guard = r.s.guard(perm, func(*fiber.Ctx, *ui.Viewer) (string, error) { return authz.Platform, nil })
	default:
		panic("web: unknown workspace " + ws)
	}
	if guard != nil {
		handlers = append([]fiber.Handler{guard}, handlers...)
	}
	r.s.App.Add(method, path, handlers...)
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

// currentPartner picks the partner a staff member acts for: the one chosen with
// /partner/switch if they still work there, else their first.
func (s *Server) currentPartner(c *fiber.Ctx, v *ui.Viewer) (string, error) {
	if len(v.Partners) == 0 {
		return "", ui.ErrForbidden
	}
	chosen := v.Partners[0]
	want := c.Cookies(partnerCookie)
	for _, p := range v.Partners {
		if itoa(p.PartnerID) == want {
			chosen = p
		}
	}
	ui.SetPartner(c, chosen)
	return authz.PartnerDomain(chosen.PartnerID), nil
}
