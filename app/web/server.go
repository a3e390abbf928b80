// Package web wires the HTTP side of IKRA: the Fiber app, the middleware, and the route
// table of every workspace, which reads as the authorization matrix.
package web

import (
	"fmt"
	"github.com/valyala/fasthttp"
	"html/template"
	"io"

	"context"
	"encoding/json"
	"errors"
	"github.com/valyala/bytebufferpool"
	"ikra/app/cache"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	gojson "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/template/html/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"ikra/app/analytics"
	"ikra/app/apikeys"
	"ikra/app/auth"
	"ikra/app/authz"
	"ikra/app/bookings"
	"ikra/app/catalog"
	"ikra/app/claims"
	"ikra/app/config"
	"ikra/app/dashboard"
	"ikra/app/fraud"
	"ikra/app/i18n"
	"ikra/app/images"
	"ikra/app/ledger"
	"ikra/app/loyalty"
	"ikra/app/maintenance"
	"ikra/app/media"
	"ikra/app/members"
	"ikra/app/metrics"
	"ikra/app/notify"
	"ikra/app/offers"
	"ikra/app/partners"
	"ikra/app/ratelimit"
	"ikra/app/scraping"
	"ikra/app/store"
	"ikra/app/support"
	"ikra/app/terms"
	"ikra/app/web/ui"
	"ikra/app/webhooks"
	"ikra/assets"
	"ikra/ent"
	"ikra/views"
)

// Deps are what the web layer needs from the rest of the application.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	DB       *ent.Client
	Redis    *redis.Client
	Prefix   string // Redis key namespace
	Media    media.Store
	Authz    *authz.Enforcer
	Sessions *auth.Sessions
	Members  *members.Service
	Staff    *partners.Staff
	Notify   *notify.Service
	Loyalty  *loyalty.Service
	Offers   *catalog.Service // which offers a member may see
	Images   *images.Service  // partners' offer images
	Bookings *bookings.Service
	Catalog  *i18n.Catalog
	Secret   []byte // signs CSRF tokens
	Ready    func(ctx context.Context) map[string]error
	// Webhook handles one bot update as Telegram posted it; nil when Telegram is off.
	// An error makes Telegram deliver the update again.
	Webhook func(ctx context.Context, update []byte) error

	// PartnerOffers keeps partners' offers and moderates them (app/offers).
	PartnerOffers *offers.Service
	// Webhooks keeps partners' webhook endpoints and deliveries (app/webhooks).
	Webhooks *webhooks.Service
	// Analytics answers the partner's analytics; Views records offer views in the
	// background (both app/analytics).
	Analytics *analytics.Service
	Views     *analytics.Recorder
	// APIKeys keeps partners' POS/CRM API keys and the API's idempotency (app/apikeys).
	APIKeys *apikeys.Service
	// Partners takes partner applications, approves them, suspends partners.
	Partners *partners.Service
	// Scraping watches offer and catalog reads and flags harvesting (app/scraping).
	Scraping *scraping.Service
	// Fraud raises and reviews fraud flags (app/fraud).
	Fraud *fraud.Service
	// Queue is the asynq Redis connection, for the jobs monitor (/admin/jobs).
	Queue asynq.RedisConnOpt
	// Support is the care service and the concierge (app/support).
	Support *support.Service
	// Cache and Rows: the signed-in member and their partner roles are read through
	// them (app/cache); nil reads the database every time.
	Cache *cache.Bus
	Rows  *cache.Rows
	// Sync, when set, catches this node up with the permission and settings changes
	// other nodes made (cache.Bus.Sync); it runs before each request reads them.
	Sync func(ctx context.Context) error
	// Limiter holds the rate limits' buckets; nil keeps them in Redis (redis_rate).
	Limiter ratelimit.Limiter
	// Dashboard computes the back office's overview (app/dashboard).
	Dashboard *dashboard.Service
	// Claims keeps members' formal claims (app/claims).
	Claims *claims.Service
	// Maintenance is the platform's maintenance mode (app/maintenance); nil is never on.
	Maintenance *maintenance.Service
	// Terms publishes terms versions and records acceptance by continued use (app/terms).
	Terms *terms.Service
	// Metrics counts requests by route pattern (ikra_http_*); nil counts nothing.
	Metrics *metrics.Metrics
}

// Server is the web layer: the Fiber app and what its handlers share.
type Server struct {
	App *fiber.App
	// closers release what the routes opened (the jobs monitor's Redis clients).
	closers  []func() error
	Routes   []Route
	cfg      config.Config
	log      *slog.Logger
	db       *ent.Client
	rdb      *redis.Client
	prefix   string
	media    media.Store
	authz    *authz.Enforcer
	sessions *auth.Sessions
	members  *members.Service
	staff    *partners.Staff
	notify   *notify.Service
	loyalty  *loyalty.Service
	catalog  *catalog.Service
	images   *images.Service
	bookings *bookings.Service
	render   *ui.Renderer
	secret   []byte
	proxies  []*net.IPNet
	assets   *assets.Fingerprints
	ready    func(ctx context.Context) map[string]error
	limiter  ratelimit.Limiter
	dash     *dashboard.Service
	onUpdate func(ctx context.Context, update []byte) error
	rows     *cache.Rows
	roles    *cache.ByID[[]ui.PartnerRole]
	sync     func(ctx context.Context) error

	partnerOffers *offers.Service
	webhooks      *webhooks.Service
	analytics     *analytics.Service
	views         *analytics.Recorder
	apiKeys       *apikeys.Service
	partners      *partners.Service
	scraping      *scraping.Service
	fraud         *fraud.Service
	queue         asynq.RedisConnOpt
	claims        *claims.Service
	maintenance   *maintenance.Service
	terms         *terms.Service
	support       *support.Service
	routeMetrics  *routeMetrics
}

// Body size limits: small for forms and JSON, larger only where files are uploaded.
// An upload body may exceed the largest image accepted (images.MaxBytes), so that a
// file somewhat too large reaches the form and is refused there with a reason.
const (
	maxUpload = images.MaxBytes + 6<<20
	maxForm   = 64 << 10
)

// Close releases what the server opened beside the app (the jobs monitor's Redis
// connections); the app itself is shut down by its owner.
func (s *Server) Close() error {
	var first error
	for _, c := range s.closers {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	s.closers = nil
	return first
}

// New builds the Fiber app with every route.
func New(d Deps) (*Server, error) {
	fp, err := assets.Fingerprint()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: d.Config, log: d.Log, db: d.DB, rdb: d.Redis, prefix: d.Prefix, media: d.Media,
		authz: d.Authz, sessions: d.Sessions, members: d.Members, staff: d.Staff, notify: d.Notify, loyalty: d.Loyalty, catalog: d.Offers, images: d.Images, bookings: d.Bookings,
		render: &ui.Renderer{Catalog: d.Catalog, Demo: d.Config.Demo},
		secret: d.Secret, assets: fp, ready: d.Ready, onUpdate: d.Webhook,
		limiter: d.Limiter,
	}
	if s.limiter == nil {
		s.limiter = redis_rate.NewLimiter(d.Redis)
	}
	s.partnerOffers = d.PartnerOffers
	s.webhooks = d.Webhooks
	s.analytics, s.views = d.Analytics, d.Views
	s.apiKeys = d.APIKeys
	s.partners = d.Partners
	s.scraping = d.Scraping
	s.dash = d.Dashboard
	s.fraud = d.Fraud
	s.queue = d.Queue
	s.claims = d.Claims
	s.maintenance = d.Maintenance
	s.terms = d.Terms
	if s.terms == nil {
		s.terms = terms.NewService(d.DB, nil, d.Notify, nil)
	}
	s.support = d.Support
	s.routeMetrics = newRouteMetrics(d.Metrics)
	s.rows = d.Rows
	s.sync = d.Sync
	if s.rows == nil {
		s.rows = cache.NewRows(nil, d.DB)
	}
	if d.Cache != nil {
		s.roles = cache.NewByID(d.Cache, cache.MemberTTL, 100_000, s.loadRoles, "", "Staff", "Partner")
	}
	for _, p := range d.Config.TrustedProxies {
		if !strings.Contains(p, "/") {
			if strings.Contains(p, ":") {
				p += "/128"
			} else {
				p += "/32"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, err
		}
		s.proxies = append(s.proxies, n)
	}
	engine := html.NewFileSystem(http.FS(views.FS), ".html")
	engine.AddFunc("asset", fp.Path)
	engine.AddFunc("initial", func(name string) string {
		for _, r := range name {
			return strings.ToUpper(string(r))
		}
		return "?"
	})
	engine.AddFunc("date", func(t time.Time) string { return t.In(almaty).Format("02.01.2006 15:04") })
	engine.AddFunc("dateptr", func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.In(almaty).Format("02.01.2006 15:04")
	})
	engine.AddFunc("day", func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.In(almaty).Format("02.01.2006")
	})
	engine.AddFunc("tenge", func(tiyn int64) string { return formatTenge(tiyn) })
	engine.AddFunc("num", formatInt)
	engine.AddFunc("percent", formatPercent)
	engine.AddFunc("device", deviceName)
	engine.AddFunc("json", func(v map[string]any) string {
		if len(v) == 0 {
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b)
	})
	if err := engine.Load(); err != nil {
		return nil, err
	}
	s.render.Views = engine
	s.App = fiber.New(fiber.Config{
		Views:                   pageViews{engine},
		ErrorHandler:            s.handleError,
		BodyLimit:               maxUpload,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             120 * time.Second,
		DisableStartupMessage:   true,
		EnableTrustedProxyCheck: true,
		TrustedProxies:          d.Config.TrustedProxies,
		ProxyHeader:             "", // the client address is decided by clientIP, not by Fiber
		ServerHeader:            "",
		AppName:                 "ikra",
		// A drop-in for encoding/json that Fiber's documentation recommends: the API's
		// lists spend less time in reflection.
		JSONEncoder: gojson.Marshal,
	})
	s.routes()
	warmRender(s.App)
	return s, nil
}

// warmRender makes Fiber fill the app's list of render keys now, before any request:
// without mounted apps it does so lazily in the first Render calls, and two first
// renders at once race on it (seen with -race). The render itself is meant to fail.
func warmRender(app *fiber.App) {
	c := app.AcquireCtx(&fasthttp.RequestCtx{})
	defer app.ReleaseCtx(c)
	_ = c.Render("", fiber.Map{})
}

// almaty is the zone dates are shown in (ui.Almaty, which forms read dates in too).
var almaty = ui.Almaty

// retryAfterUnavailable is the Retry-After, in seconds, of a 503 while the database
// is unavailable.
const retryAfterUnavailable = "30"

// handleError maps an error to a status and renders it as a page or as JSON for /api.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status, key := fiber.StatusInternalServerError, "error.internal"
	var fe *fiber.Error
	switch e, ok := ui.AsError(err); {
	case ok:
		status, key = e.Status, e.Key
	case errors.As(err, &fe):
		status = fe.Code
		switch fe.Code {
		case fiber.StatusNotFound:
			key = "error.not_found"
		case fiber.StatusMethodNotAllowed:
			key = "error.method"
		case fiber.StatusRequestEntityTooLarge:
			key = "error.too_large"
		default:
			key = "error.bad_request"
		}
	case errors.Is(err, ledger.ErrConflict):
		status, key = fiber.StatusConflict, "error.conflict"
	case errors.Is(err, members.ErrNotFound), ent.IsNotFound(err):
		status, key = fiber.StatusNotFound, "error.not_found"
	case errors.Is(err, context.Canceled):
		status, key = 499, "error.internal"
	case store.IsUnavailable(err):
		// The database is down or restarting: a passing state, not a fault of the request.
		status, key = fiber.StatusServiceUnavailable, "error.unavailable"
		c.Set(fiber.HeaderRetryAfter, retryAfterUnavailable)
	}
	switch {
	case key == "error.unavailable":
		s.log.Warn("database unavailable", "request_id", ui.RequestID(c), "path", loggedPath(c.Path()), "err", err)
	case status >= 500:
		s.log.Error("request failed", "request_id", ui.RequestID(c), "path", loggedPath(c.Path()), "err", err)
	}
	if status == fiber.StatusUnauthorized && !ui.IsAPI(c) && c.Method() == fiber.MethodGet && strings.HasPrefix(c.Path(), "/") && !strings.HasPrefix(c.Path(), "/auth/") && !strings.HasPrefix(c.Path(), "/tg/auth") {
		next := "/login"
		if n := safeNext(c.OriginalURL()); n != "/" {
			next += "?next=" + nextParam(n)
		}
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	msg := s.render.Catalog.T(ui.Lang(c), key)
	c.Status(status)
	if ui.IsAPI(c) {
		return c.JSON(fiber.Map{"error": fiber.Map{"code": strings.TrimPrefix(key, "error."), "message": msg, "request_id": ui.RequestID(c)}})
	}
	p := s.render.Page(c, "", fiber.Map{"Status": status, "Message": msg, "RequestID": ui.RequestID(c)})
	p.Title = msg
	if rerr := c.Render("errors/page", p, ui.LayoutPublic); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		return c.SendString(msg)
	}
	return nil
}

// safeNext keeps a post-sign-in redirect on this site: a local path, or "/". Anything a
// browser could read as another origin is refused: "//host", "/\\host", a scheme,
// control characters (browsers drop tab, CR and LF, so "/\t/host" is "//host"),
// backslashes anywhere, and each of these percent-encoded, once or several times.
func safeNext(next string) string {
	if len(next) > 2048 || !localPath(next, true) {
		return "/"
	}
	for v, i := next, 0; i < 4; i++ {
		u, err := url.PathUnescape(v)
		if err != nil || !localPath(u, false) {
			return "/"
		}
		if u == v {
			return next
		}
		v = u
	}
	return "/" // encoded over and over: nothing a link of ours looks like
}

// nextParam puts a path that passed safeNext into a query value: only the characters
// that would end or change the value are escaped, so "/app/x" stays readable.
func nextParam(path string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B").Replace(path)
}

// localPath: a path on this origin, starting with exactly one slash, with no backslash
// and no control character. A raw URL also holds no space nor non-ASCII byte (those
// arrive percent-encoded); a decoded one may.
func localPath(p string, raw bool) bool {
	if len(p) == 0 || p[0] != '/' || len(p) > 1 && p[1] == '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < ' ' || c == 0x7f || c == '\\' || raw && (c == ' ' || c > 0x7f) {
			return false
		}
	}
	return true
}

// compressed is gzip/brotli for responses worth compressing.
var compressed = compress.New(compress.Config{Level: compress.LevelDefault})

// Listen serves until ctx ends, then shuts down gracefully.
func (s *Server) Listen(ctx context.Context, addr string) error {
	errc := make(chan error, 1)
	go func() { errc <- s.App.Listen(addr) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return s.App.ShutdownWithTimeout(10 * time.Second)
	}
}

// pageViews renders a page's own template before its layout, which shows it as
// {{.Body}}. An error in the page's template so fails the request (the html engine's
// {{embed}} would print the error's text into a page served as 200), and a layout
// renders without the engine's lock, which it takes around every layout.
type pageViews struct{ *html.Engine }

// Render renders name into out, inside layout[0] when one is given.
func (v pageViews) Render(out io.Writer, name string, binding any, layout ...string) error {
	if len(layout) == 0 || layout[0] == "" {
		return v.Engine.Render(out, name, binding)
	}
	p, ok := binding.(*ui.Page)
	if !ok {
		return fmt.Errorf("views: %s in %s: the binding is %T, not *ui.Page", name, layout[0], binding)
	}
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	if err := v.Engine.Render(buf, name, p); err != nil {
		return err
	}
	page := *p                       // the handler's page stays as it was
	page.Body = template.HTML(buf.B) // the layout is rendered before buf goes back
	return v.Engine.Render(out, layout[0], &page)
}

// AssetPath is the fingerprinted URL of an embedded asset.
func (s *Server) AssetPath(p string) string { return s.assets.Path(p) }
