package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"golang.org/x/sync/errgroup"

	"ikra/app/audit"
	"ikra/app/ratelimit"
	"ikra/ent/member"
	"ikra/ent/predicate"
	"ikra/jobs"
)

// Serve runs the web server, the permission watcher, the periodic tasks and, unless
// turned off, a job worker, until ctx ends.
func (a *App) Serve(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { a.Authz.Watch(ctx, time.Minute); return nil })
	g.Go(func() error { a.Views.Run(ctx); return nil })
	if a.Config.PprofAddr != "" {
		g.Go(func() error { return servePprof(ctx, a.Config.PprofAddr) })
	}
	a.serveMetrics(ctx, g)
	if a.Config.Worker {
		g.Go(func() error { return a.runWorker(ctx) })
	}
	switch {
	case a.BotUI != nil && a.Config.BotWebhook():
		// Telegram posts updates to every node behind the load balancer; each update is
		// handled once (bot.HandleOnce).
		g.Go(func() error {
			for ctx.Err() == nil {
				err := a.BotUI.Setup(ctx, a.Config.WebhookSecret)
				if err == nil {
					return nil
				}
				a.Log.Warn("telegram webhook not set", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(10 * time.Second):
				}
			}
			return nil
		})
	case a.BotUI != nil:
		// Without https the bot long-polls; run one such node only.
		g.Go(func() error { return a.BotUI.Poll(ctx) })
	}
	g.Go(func() error {
		a.Log.Info("listening", "addr", a.Config.Addr, "demo", a.Config.Demo, "url", a.Config.BaseURL)
		return a.Web.Listen(ctx, a.Config.Addr)
	})
	return g.Wait()
}

// RunWorker runs only the job worker and the periodic tasks (for scaling out).
func (a *App) RunWorker(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { a.Authz.Watch(ctx, time.Minute); return nil })
	a.serveMetrics(ctx, g)
	g.Go(func() error { return a.runWorker(ctx) })
	return g.Wait()
}

// serveMetrics serves the Prometheus metrics on IKRA_METRICS_ADDR, when set, in g.
func (a *App) serveMetrics(ctx context.Context, g *errgroup.Group) {
	if a.Metrics == nil {
		return
	}
	g.Go(func() error {
		a.Log.Info("metrics listening", "addr", a.Config.MetricsAddr)
		return a.Metrics.Serve(ctx, a.Config.MetricsAddr)
	})
}

func (a *App) runWorker(ctx context.Context) error {
	srv := jobs.NewServer(a.Redis.Queue, a.queueName(), 4, a.Log)
	mux := jobs.NewMux(a.jobDeps())
	if err := srv.Start(mux); err != nil {
		return err
	}
	go jobs.RunPeriodic(ctx, a.Queue, jobs.DefaultPeriodic(), time.Now)
	<-ctx.Done()
	srv.Shutdown()
	return nil
}

func (a *App) jobDeps() jobs.Deps {
	d := jobs.Deps{DB: a.DB.Client, BaseURL: a.Config.BaseURL, Purge: a.Sessions.Purge, Notify: a.Notify, Log: a.Log,
		Catalog:       a.Catalog,
		Mature:        func(ctx context.Context) (int, error) { return a.Ledger.MatureDue(ctx, 1000) },
		Downgrade:     a.Loyalty.DowngradeExpired,
		Thumbnail:     a.Images.MakeThumbnail,
		Expire:        func(ctx context.Context) (int, error) { return a.Bookings.Expire(ctx, 1000) },
		Remind:        func(ctx context.Context) (int, error) { return a.Bookings.Remind(ctx, 1000) },
		Archive:       a.PartnerOffers.ArchiveExpired,
		RemindClaims:  func(ctx context.Context) (int, error) { return a.Claims.Remind(ctx, time.Now()) },
		AnnounceTerms: func(ctx context.Context) (int, error) { return a.Terms.Announce(ctx, time.Now()) },
		Webhooks:      a.Webhooks,
		Queue:         a.Queue,

		PruneIdempotency: a.APIKeys.PruneIdempotency,
		DetectFraud:      a.Fraud.Detect,
		Metrics:          a.Metrics,
	}
	if a.Bot != nil {
		d.Bot = a.Bot
	}
	if a.BotUI != nil {
		d.Buttons = a.BotUI.NotificationButtons
	}
	// Telegram's limits hold for the bot, so every worker of every node takes from the
	// same buckets in Redis; a Redis inside this process has no other node to share with.
	d.Limits.Limiter = redis_rate.NewLimiter(a.Redis.Client)
	if a.Redis.Embedded() {
		d.Limits.Limiter = ratelimit.NewLocal()
	}
	return d
}

func systemActor() audit.Entry { return audit.Entry{ActorRole: "system"} }

func memberTelegramID(id int64) predicate.Member { return member.TelegramID(id) }

// servePprof serves Go's profiler on addr (loopback, checked by config) until ctx ends.
func servePprof(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
