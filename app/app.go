// Package app assembles IKRA: it reads the configuration, opens the database, Redis and
// the media store, and runs the subcommands (serve, worker, migrate, seed-demo).
package app

import (
	"context"
	"errors"
	"fmt"
	"ikra/app/cache"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/analytics"
	"ikra/app/apikeys"
	"ikra/app/auth"
	"ikra/app/authz"
	"ikra/app/bookings"
	"ikra/app/bot"
	"ikra/app/catalog"
	"ikra/app/claims"
	"ikra/app/config"
	"ikra/app/dashboard"
	"ikra/app/demo"
	"ikra/app/fraud"
	"ikra/app/i18n"
	"ikra/app/images"
	"ikra/app/kv"
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
	"ikra/app/settings"
	"ikra/app/store"
	"ikra/app/support"
	"ikra/app/terms"
	"ikra/app/tgapi"
	"ikra/app/web"
	"ikra/app/webhooks"
	"ikra/ent"
	"ikra/jobs"
)

// Options are knobs for tests and embedding; the zero value is what production uses.
type Options struct {
	// KeyPrefix namespaces Redis keys and the job queue, so that several instances
	// (tests) can share one Redis server.
	KeyPrefix string
	// Log receives the structured log; nil means JSON to stderr.
	Log *slog.Logger
}

// App is the assembled application: every dependency, created once by initX functions.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	DB       *store.DB
	Redis    *kv.Redis
	Media    media.Store
	Authz    *authz.Enforcer
	Sessions *auth.Sessions
	Members  *members.Service
	Staff    *partners.Staff
	// Partners takes partner applications, approves them, suspends partners.
	Partners *partners.Service
	Notify   *notify.Service
	Settings *settings.Store
	// Cache carries changes of cached rows between nodes; Rows are the cached reads.
	Cache    *cache.Bus
	Rows     *cache.Rows
	Ledger   *ledger.Ledger
	Loyalty  *loyalty.Service
	Offers   *catalog.Service // which offers a member may see: web, API and bot ask it
	Images   *images.Service  // partners' offer images: upload, order, cover, thumbnails
	Bookings *bookings.Service
	Catalog  *i18n.Catalog
	Queue    *jobs.Queue
	Web      *web.Server
	Prefix   string
	Bot      *tgapi.Client // nil when Telegram is off
	BotUI    *bot.Bot      // the bot's update handler; nil when Telegram is off

	// PartnerOffers keeps partners' offers and moderates them (app/offers).
	PartnerOffers *offers.Service
	// Webhooks sends partners' booking events to their endpoints (app/webhooks).
	Webhooks *webhooks.Service
	// Analytics answers partners' analytics; Views records offer views in the
	// background: Serve runs its flush loop, Close writes out what is left.
	Analytics *analytics.Service
	Views     *analytics.Recorder
	// APIKeys keeps partners' POS/CRM API keys and the API's idempotency (app/apikeys).
	APIKeys *apikeys.Service
	// Scraping counts offer and catalog reads in Redis and flags harvesting (app/scraping).
	Scraping *scraping.Service
	// Dashboard computes the back office's overview (app/dashboard).
	Dashboard *dashboard.Service
	// Fraud raises fraud flags and carries out their review (app/fraud).
	Fraud *fraud.Service
	// Claims keeps members' formal claims and their 30-day deadlines (app/claims).
	Claims *claims.Service
	// Terms publishes terms versions and records acceptance by continued use (app/terms).
	Terms *terms.Service
	// Maintenance is the maintenance mode, read through the cached settings.
	Maintenance *maintenance.Service
	// Support is the care service and the concierge (app/support).
	Support *support.Service
	// Metrics is the Prometheus registry served on IKRA_METRICS_ADDR; nil when that is
	// unset, and then nothing is counted.
	Metrics *metrics.Metrics

	queueClient *asynq.Client
	closers     []func() error
}

// Main runs a subcommand: serve (default), worker, migrate, seed-demo, seed-load or terms publish.
func Main(ctx context.Context, args []string, getenv func(string) string) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve", "worker", "migrate", "seed-demo", "seed-load", "terms", "baseline", "load-prep", "load-run":
	// baseline, load-prep and load-run are left out of the help: they are measuring
	// tools for .ci/perf-catalog and .ci/perf-load.
	case "help", "-h", "--help":
		fmt.Println("usage: ikra [serve|worker|migrate|seed-demo]\n       " + termsUsage + "\n       " + seedLoadUsage + "\n\nConfiguration comes from the environment; see README.md.")
		return nil
	default:
		return fmt.Errorf("unknown command %q (want serve, worker, migrate, seed-demo, seed-load or terms)", cmd)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if cmd == "terms" {
		return runTerms(ctx, cfg, args[1:], os.Stdout)
	}
	if cmd == "seed-load" {
		return runSeedLoad(ctx, cfg, args[1:], os.Stdout)
	}
	if cmd == "baseline" {
		return runBaseline(ctx, cfg, args[1:], os.Stdout)
	}
	if cmd == "load-prep" {
		return runLoadPrep(ctx, cfg, args[1:], os.Stdout)
	}
	if cmd == "load-run" {
		return runLoadRun(ctx, args[1:], os.Stdout)
	}
	a, err := New(ctx, cfg, Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	switch cmd {
	case "migrate":
		a.Log.Info("schema is up to date")
		return nil
	case "seed-demo":
		return a.SeedDemo(ctx)
	case "worker":
		return a.RunWorker(ctx)
	}
	return a.Serve(ctx)
}

// New assembles the application: it opens every service and applies schema changes.
func New(ctx context.Context, cfg config.Config, opt Options) (*App, error) {
	a := &App{Config: cfg, Log: opt.Log, Prefix: opt.KeyPrefix}
	if a.Prefix == "" {
		a.Prefix = "ikra:"
	}
	if a.Log == nil {
		a.Log = newLogger(cfg.LogLevel)
	}
	if cfg.MetricsAddr != "" {
		a.Metrics = metrics.New()
	}
	for _, step := range []func(context.Context) error{a.initDB, a.initRedis, a.initMedia, a.initServices, a.initWeb} {
		if err := step(ctx); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func (a *App) initDB(ctx context.Context) error {
	db, err := store.Open(ctx, a.Config.DatabaseURL, a.Config.DataDir)
	if err != nil {
		return err
	}
	a.DB = db
	a.closers = append(a.closers, db.Close)
	a.Metrics.WatchDB(db.SQL)
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := terms.EnsureInitial(ctx, db.Client); err != nil {
		return err
	}
	return loyalty.EnsureDefaults(ctx, db.Client)
}

func (a *App) initRedis(ctx context.Context) error {
	r, err := kv.Open(ctx, a.Config.RedisURL)
	if err != nil {
		return err
	}
	a.Redis = r
	a.closers = append(a.closers, r.Close)
	if r.Embedded() {
		a.Log.Info("using the in-process Redis-compatible server; set REDIS_URL to share one between nodes")
	}
	return nil
}

func (a *App) initMedia(ctx context.Context) error {
	if a.Config.S3.Endpoint == "" {
		d, err := media.NewDisk(filepath.Join(a.Config.DataDir, "media"))
		if err != nil {
			return err
		}
		a.Media = d
		return nil
	}
	s, err := media.NewS3(ctx, media.S3Config{Endpoint: a.Config.S3.Endpoint, AccessKey: a.Config.S3.AccessKey,
		SecretKey: a.Config.S3.SecretKey, Bucket: a.Config.S3.Bucket, UseSSL: a.Config.S3.UseSSL})
	if err != nil {
		return fmt.Errorf("media store: %w", err)
	}
	a.Media = s
	return nil
}

func (a *App) initServices(ctx context.Context) error {
	var err error
	if a.Catalog, err = i18n.Load(); err != nil {
		return err
	}
	a.Cache = cache.NewBus(a.Redis.Client, a.Prefix, a.Log)
	a.DB.Client.Use(a.Cache.Hook())
	a.Rows = cache.NewRows(a.Cache, a.DB.Client)
	busCtx, stopBus := context.WithCancel(context.WithoutCancel(ctx))
	busDone := make(chan struct{})
	go func() { a.Cache.Run(busCtx); close(busDone) }()
	a.closers = append(a.closers, func() error { stopBus(); <-busDone; return nil })
	a.Settings = settings.New(a.DB.Client)
	a.Settings.Cache(a.Cache)
	a.Sessions = auth.NewSessions(a.DB.Client, a.Redis.Client, a.Prefix, a.Config.SessionTTL)
	a.Sessions.SetLogger(a.Log)
	if a.Redis.Embedded() {
		a.Sessions.CacheInMemory() // one node: no other shares the cache
	}
	a.Members = members.New(a.DB.Client, a.Config.Superadmins, a.Sessions.RevokeAll)
	a.Members.SetRows(a.Rows)
	if a.Authz, err = authz.New(ctx, a.loadGrants, a.Redis.Client, a.Prefix+"authz", a.Log); err != nil {
		return err
	}
	// Permissions and settings (the maintenance mode) hold on every node from the
	// request after the change on (cache.Bus.Sync, run by the web middleware).
	a.Cache.Strict("Setting", "Staff", "Partner", authzChange)
	a.Cache.OnChange(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Authz.Reload(ctx); err != nil {
			a.Log.Error("authz reload", "err", err)
		}
	}, authzChange)
	a.Authz.AnnounceWith(func(ctx context.Context) { a.Cache.Announce(ctx, authzChange, 0) })
	a.Staff = partners.NewStaff(a.DB.Client, a.Authz.Changed)
	a.Members.SetRolesChanged(a.Authz.Changed)
	// The queue shares the Redis client, and with it the client's bounds on an outage
	// (closing the Redis client closes it).
	a.queueClient = asynq.NewClientFromRedisClient(a.Redis.Client)
	a.Queue = jobs.NewQueue(a.queueClient, a.queueName())
	if a.Metrics != nil {
		inspector := asynq.NewInspector(a.Redis.Queue)
		a.closers = append(a.closers, inspector.Close)
		a.Metrics.WatchQueue(func(ctx context.Context) (map[string]int, error) {
			return jobs.QueueSizes(ctx, inspector, a.queueName())
		})
	}
	a.Notify = notify.New(a.DB.Client, a.Queue)
	a.Notify.SetLogger(a.Log)
	a.Notify.UseCache(a.Cache)
	a.Ledger = ledger.New(a.DB.Client, a.DB.Dialect)
	a.Ledger.SetMetrics(a.Metrics)
	a.Loyalty = loyalty.New(a.DB.Client, a.Ledger, a.Settings, a.Notify)
	a.Loyalty.SetRows(a.Rows)
	a.Loyalty.UseCache(a.Cache)
	a.Members.OnRegister(a.Loyalty.OnRegister)
	a.Loyalty.SetTexts(a.Catalog.T)
	a.Offers = catalog.New(a.DB.Client, a.Loyalty, a.Media)
	a.Offers.SetRows(a.Rows)
	a.Offers.UseCache(a.Cache)
	cursorKey, err := a.Settings.Secret(ctx, "secret.catalog_cursor")
	if err != nil {
		return err
	}
	a.Offers.SetCursorKey([]byte(cursorKey))
	a.Images = images.New(a.DB.Client, a.DB.Dialect, a.Media, a.Queue, a.Log)
	a.Webhooks = webhooks.New(a.DB.Client, a.Queue, webhooks.Guard{AllowPrivate: a.Config.WebhookAllowPrivate})
	a.Webhooks.SetLogger(a.Log)
	a.Bookings = bookings.New(a.DB.Client, a.DB.Dialect, a.Offers, a.Loyalty, a.Notify, a.Settings)
	a.Bookings.SetTexts(bookings.Texts{T: a.Catalog.T, N: a.Catalog.N})
	a.Bookings.SetLogger(a.Log)
	a.Bookings.SetWebhooks(a.Webhooks)
	a.Members.SetBookingCanceller(a.Bookings.CancelOpenTx)
	a.PartnerOffers = offers.New(a.DB.Client, a.Notify, a.Catalog.T)
	a.PartnerOffers.SetRows(a.Rows)
	a.Analytics = analytics.New(a.DB.Client)
	a.Views = analytics.NewRecorder(a.DB.Client, a.Log, a.Config.ViewBuffer, a.Config.ViewFlush)
	a.closers = append(a.closers, a.Views.Close) // closed before the database: the last views are written
	a.APIKeys = apikeys.New(a.DB.Client)
	a.Scraping = scraping.New(a.DB.Client, a.Redis.Client, a.Prefix, a.Log)
	if a.Redis.Embedded() {
		a.Scraping.CountInMemory() // one node: no other shares the counters
	}
	a.Scraping.UseSettings(a.Settings)
	logKey, err := a.sessionSecret(ctx)
	if err != nil {
		return err
	}
	a.Scraping.SetLogKey([]byte(logKey))
	a.Staff.SetDialect(a.DB.Dialect)
	a.Partners = partners.NewService(a.DB.Client, a.DB.Dialect, a.Notify, a.Catalog.T, a.Authz.Changed)
	a.Fraud = fraud.New(a.DB.Client, a.Loyalty, a.Members, a.Partners)
	a.Fraud.SetLogger(a.Log)
	a.Maintenance = maintenance.New(a.DB.Client, a.Settings)
	a.Terms = terms.NewService(a.DB.Client, a.Cache, a.Notify, a.Catalog.T)
	a.Claims = claims.New(a.DB.Client, a.DB.Dialect, a.Notify, a.Catalog.T)
	a.Claims.SetMedia(a.Media, a.Images, a.Log)
	a.Support = support.New(a.DB.Client, a.Notify, a.Media, a.Images, a.Offers, a.Bookings,
		func(memberID int, perm string) bool { return a.Authz.Can(memberID, authz.Platform, perm) })
	a.Support.SetTexts(a.Catalog.T)
	a.Support.SetLogger(a.Log)
	a.Dashboard = dashboard.New(a.DB, a.dashboardCounters()...)
	if err := a.Loyalty.Init(ctx); err != nil {
		return err
	}
	if a.Config.TelegramEnabled() {
		a.Bot = tgapi.New(a.Config.TelegramAPIURL, a.Config.BotToken, nil)
		a.Bot.SetMetrics(a.Metrics)
		a.BotUI = bot.New(bot.Deps{API: a.Bot, Members: a.Members, Catalog: a.Catalog, BaseURL: a.Config.BaseURL, Log: a.Log,
			Redis: a.Redis.Client, Prefix: a.Prefix, Maintenance: a.Maintenance, Support: a.Support,
			Offers: a.Offers, Bookings: a.Bookings, Ledger: a.Ledger, Loyalty: a.Loyalty, Staff: a.Staff,
			Authz: a.Authz, Media: a.Media, Images: a.Images, DB: a.DB.Client,
			BotUsername: a.Config.BotUsername, History: loyalty.NewHistory(a.DB.Client, a.Catalog)})
	}
	if err := a.grantSuperadmins(ctx); err != nil {
		return err
	}
	if a.Config.Demo {
		if err := a.SeedDemo(ctx); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	return a.Authz.Reload(ctx)
}

// authzChange is the cache bus's name for a change of anyone's grants.
const authzChange = "authz"

func (a *App) queueName() string { return strings.TrimSuffix(a.Prefix, ":") }

// loadGrants reads every role held, for the enforcer.
func (a *App) loadGrants(ctx context.Context) ([]authz.Grant, error) {
	rows, err := a.DB.Staff.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]authz.Grant, len(rows))
	for i, r := range rows {
		out[i] = authz.Grant{MemberID: r.MemberID, Role: string(r.Role), PartnerID: r.PartnerID}
	}
	return out, nil
}

// grantSuperadmins gives the superadmin role to configured Telegram IDs that already
// have an account, and unblocks them; the others get it at their first sign-in.
func (a *App) grantSuperadmins(ctx context.Context) error {
	for _, tg := range a.Config.Superadmins {
		m, err := a.DB.Member.Query().Where(memberTelegramID(tg)).Only(ctx)
		if ent.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := a.Staff.Grant(ctx, systemActor(), m.ID, "superadmin", nil); err != nil && !errors.Is(err, partners.ErrAlreadyHeld) {
			return err
		}
		// Nobody can lock a configured superadmin out: a block is lifted at start.
		if err := a.Members.Unblock(ctx, systemActor(), m.ID); err != nil {
			return err
		}
	}
	return nil
}

// SeedDemo loads the demo world once.
func (a *App) SeedDemo(ctx context.Context) error {
	signIn := func(ctx context.Context, id members.Identity) (*ent.Member, error) {
		m, _, err := a.Members.SignIn(ctx, id, "web", "")
		return m, err
	}
	if err := demo.Seed(ctx, a.DB.Client, a.Media, signIn, time.Now()); err != nil {
		return err
	}
	return a.Authz.Reload(ctx)
}

// sessionSecret is IKRA_SESSION_SECRET, else the one kept in the database.
func (a *App) sessionSecret(ctx context.Context) (string, error) {
	if a.Config.SessionSecret != "" {
		return a.Config.SessionSecret, nil
	}
	return a.Settings.Secret(ctx, "secret.session")
}

func (a *App) initWeb(ctx context.Context) error {
	secret, err := a.sessionSecret(ctx)
	if err != nil {
		return err
	}
	d := web.Deps{
		Config: a.Config, Log: a.Log, DB: a.DB.Client, Redis: a.Redis.Client, Prefix: a.Prefix,
		Media: a.Media, Authz: a.Authz, Sessions: a.Sessions, Members: a.Members, Staff: a.Staff,
		Notify: a.Notify, Loyalty: a.Loyalty, Offers: a.Offers, Images: a.Images, Bookings: a.Bookings, Catalog: a.Catalog, Secret: []byte(secret), Ready: a.Ready,
	}
	d.PartnerOffers = a.PartnerOffers
	d.Webhooks = a.Webhooks
	d.Analytics, d.Views = a.Analytics, a.Views
	d.APIKeys = a.APIKeys
	d.Partners = a.Partners
	d.Scraping = a.Scraping
	d.Dashboard = a.Dashboard
	d.Fraud = a.Fraud
	d.Queue = a.Redis.Queue
	d.Claims = a.Claims
	d.Maintenance = a.Maintenance
	d.Terms = a.Terms
	d.Support = a.Support
	d.Cache, d.Rows = a.Cache, a.Rows
	if !a.Redis.Embedded() {
		d.Sync = a.Cache.Sync // other nodes share the Redis: catch up with their changes
	}
	d.Metrics = a.Metrics
	if a.Redis.Embedded() {
		// One process owns the Redis: no other node shares the buckets, and keeping
		// them in memory spares a Lua script per request.
		d.Limiter = ratelimit.NewLocal()
	}
	if a.BotUI != nil {
		d.Webhook = a.BotUI.HandleUpdate
	}
	w, err := web.New(d)
	if err != nil {
		return err
	}
	a.Web = w
	a.closers = append(a.closers, w.Close)
	return nil
}

// Ready checks that the database, Redis and the media store answer.
func (a *App) Ready(ctx context.Context) map[string]error {
	return map[string]error{
		"database": a.DB.Ping(ctx),
		"redis":    a.Redis.Ping(ctx).Err(),
		"media":    a.Media.Ping(ctx),
	}
}

// Close releases everything New opened, in reverse order.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.Log.Warn("close", "err", err)
		}
	}
	a.closers = nil
}

// dashboardCounters are the open-work figures of the back office's overview, each
// counted by the package that owns the rule (app/dashboard shows them by name).
func (a *App) dashboardCounters() []dashboard.Counter {
	return []dashboard.Counter{
		func(ctx context.Context, from, to time.Time, into map[string]int64) error {
			st, err := a.Support.Stats(ctx, from, to)
			if err != nil {
				return err
			}
			into["support_open"], into["support_unassigned"] = int64(st.Open), int64(st.Unassigned)
			into["support_first_response"], into["support_resolution"] = st.FirstResponseMedian, st.ResolutionMedian
			return nil
		},
		func(ctx context.Context, from, to time.Time, into map[string]int64) error {
			st, err := a.Claims.Stats(ctx, from, to)
			if err != nil {
				return err
			}
			into["claims_open"], into["claims_due_soon"], into["claims_overdue"] = int64(st.OpenTotal), int64(st.DueSoon), int64(st.Overdue)
			return nil
		},
		func(ctx context.Context, from, to time.Time, into map[string]int64) error {
			flags, err := a.Fraud.OpenCount(ctx)
			if err != nil {
				return err
			}
			harvesting, err := a.Scraping.OpenCount(ctx)
			if err != nil {
				return err
			}
			into["fraud_open"] = int64(flags + harvesting)
			return nil
		},
	}
}
