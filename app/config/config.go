// Package config reads and validates IKRA's configuration from the environment, once, at start.
package config

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// S3 names an S3-compatible media store (MinIO in production).
type S3 struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	UseSSL    bool
}

// Config is the whole validated configuration; it is passed down as a value.
type Config struct {
	Addr           string        // IKRA_ADDR, listen address
	DataDir        string        // IKRA_DATA_DIR, SQLite file and media on disk
	BaseURL        string        // IKRA_BASE_URL, public URL used in links sent to Telegram
	DatabaseURL    string        // DATABASE_URL, PostgreSQL; empty means SQLite in DataDir
	RedisURL       string        // REDIS_URL; empty means an in-process Redis-compatible server
	S3             S3            // S3_*; empty endpoint means media on disk
	BotToken       string        // TELEGRAM_BOT_TOKEN
	BotUsername    string        // TELEGRAM_BOT_USERNAME, for the Login Widget
	TelegramAPIURL string        // TELEGRAM_API_URL, Bot API base
	WebhookSecret  string        // TELEGRAM_WEBHOOK_SECRET; derived from the token when the site is https and it is unset
	Demo           bool          // IKRA_DEMO, or implied by an empty bot token
	Superadmins    []int64       // IKRA_SUPERADMINS, Telegram IDs granted superadmin at start
	SessionSecret  string        // IKRA_SESSION_SECRET; empty means one kept in the database
	TrustedProxies []string      // IKRA_TRUSTED_PROXIES, IPs or CIDRs whose X-Forwarded-* headers are believed
	AuthMaxAge     time.Duration // IKRA_AUTH_MAX_AGE, oldest auth_date accepted (default 24h)
	SessionTTL     time.Duration // IKRA_SESSION_TTL (default 30 days)
	Worker         bool          // IKRA_WORKER=0 turns the in-process job worker off in `serve`
	RateAuth       int           // IKRA_RATE_AUTH, sign-in attempts per address per minute (default 30)
	RateMember     int           // IKRA_RATE_MEMBER, page and API reads per member (or address) per minute (default 300)
	RateWrite      int           // IKRA_RATE_WRITE, unsafe requests (POST, DELETE) per member (or address) per minute (default 60)
	RateAPI        int           // IKRA_RATE_API, POS/CRM API calls per API key per minute (default 120)
	LogLevel       string        // IKRA_LOG_LEVEL: debug, info, warn, error
	// WebhookAllowPrivate (IKRA_WEBHOOK_ALLOW_PRIVATE, default on in demo mode only) lets
	// partners' webhooks reach private and loopback addresses (plain HTTP to loopback
	// only): for development and tests, never in production.
	WebhookAllowPrivate bool
	ViewBuffer          int           // IKRA_VIEW_BUFFER, offer views held in memory between writes (default 10000)
	ViewFlush           time.Duration // IKRA_VIEW_FLUSH, how often buffered offer views are written (default 3s)
	// PprofAddr (IKRA_PPROF_ADDR, empty: off) serves Go's profiler (net/http/pprof) on a
	// separate listener, which must be a loopback address: for profiling a node.
	PprofAddr string
	// MetricsAddr (IKRA_METRICS_ADDR, empty: off) serves Prometheus metrics (GET /metrics)
	// on a separate listener, which must be a loopback or private address: the metrics
	// hold no personal data, but they show the traffic and are served without a password.
	MetricsAddr string
}

// Load builds a Config from getenv and validates it.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Addr:           or(getenv("IKRA_ADDR"), "127.0.0.1:3000"),
		DataDir:        or(getenv("IKRA_DATA_DIR"), "./data"),
		BaseURL:        strings.TrimRight(getenv("IKRA_BASE_URL"), "/"),
		DatabaseURL:    getenv("DATABASE_URL"),
		RedisURL:       getenv("REDIS_URL"),
		BotToken:       getenv("TELEGRAM_BOT_TOKEN"),
		BotUsername:    strings.TrimPrefix(getenv("TELEGRAM_BOT_USERNAME"), "@"),
		TelegramAPIURL: strings.TrimRight(or(getenv("TELEGRAM_API_URL"), "https://api.telegram.org"), "/"),
		WebhookSecret:  getenv("TELEGRAM_WEBHOOK_SECRET"),
		SessionSecret:  getenv("IKRA_SESSION_SECRET"),
		LogLevel:       or(getenv("IKRA_LOG_LEVEL"), "info"),
		PprofAddr:      getenv("IKRA_PPROF_ADDR"),
		MetricsAddr:    getenv("IKRA_METRICS_ADDR"),
		S3: S3{
			Endpoint:  getenv("S3_ENDPOINT"),
			AccessKey: getenv("S3_ACCESS_KEY"),
			SecretKey: getenv("S3_SECRET_KEY"),
			Bucket:    or(getenv("S3_BUCKET"), "ikra-media"),
		},
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("IKRA_ADDR", "%q is not host:port", c.Addr)
	}
	if c.PprofAddr != "" {
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			bad("IKRA_PPROF_ADDR", "%q is not a loopback host:port (the profiler must not be public)", c.PprofAddr)
		}
	}
	if c.MetricsAddr != "" {
		host, port, err := net.SplitHostPort(c.MetricsAddr)
		ip := net.ParseIP(host)
		switch {
		case err != nil || ip == nil || port == "":
			bad("IKRA_METRICS_ADDR", "%q is not an IP host:port", c.MetricsAddr)
		case !ip.IsLoopback() && !ip.IsPrivate():
			bad("IKRA_METRICS_ADDR", "%q is not a loopback or private address (the metrics are served without a password; bind the node's private address, not a public one or all of them)", c.MetricsAddr)
		case c.MetricsAddr == c.Addr || c.MetricsAddr == c.PprofAddr:
			bad("IKRA_METRICS_ADDR", "%q is already taken by IKRA_ADDR or IKRA_PPROF_ADDR", c.MetricsAddr)
		}
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("IKRA_BASE_URL", "%q is not an absolute http(s) URL", c.BaseURL)
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("DATABASE_URL", "must be a postgres:// URL")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		bad("REDIS_URL", "must be a redis:// or rediss:// URL")
	}
	if c.S3.Endpoint != "" {
		if strings.Contains(c.S3.Endpoint, "://") {
			bad("S3_ENDPOINT", "give host:port without a scheme (use S3_USE_SSL for https)")
		}
		if c.S3.AccessKey == "" || c.S3.SecretKey == "" {
			bad("S3_ACCESS_KEY", "S3_ACCESS_KEY and S3_SECRET_KEY are required with S3_ENDPOINT")
		}
	}
	var err error
	if c.S3.UseSSL, err = parseBool(getenv("S3_USE_SSL"), false); err != nil {
		bad("S3_USE_SSL", "%v", err)
	}
	if u, err := url.Parse(c.TelegramAPIURL); err != nil || u.Host == "" {
		bad("TELEGRAM_API_URL", "%q is not an absolute URL", c.TelegramAPIURL)
	}
	if c.BotToken != "" && !strings.Contains(c.BotToken, ":") {
		bad("TELEGRAM_BOT_TOKEN", "does not look like a bot token (id:secret)")
	}
	if c.WebhookSecret == "" && c.BotToken != "" && c.Secure() {
		// Behind https the bot takes a webhook; every node derives the same secret.
		c.WebhookSecret = DeriveWebhookSecret(c.BotToken)
	}
	if c.WebhookSecret != "" && !webhookSecret.MatchString(c.WebhookSecret) {
		bad("TELEGRAM_WEBHOOK_SECRET", "use 1–256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
	}
	demoDefault := c.BotToken == ""
	if c.Demo, err = parseBool(getenv("IKRA_DEMO"), demoDefault); err != nil {
		bad("IKRA_DEMO", "%v", err)
	}
	if c.Demo && !loopback(c.Addr) {
		bad("IKRA_DEMO", "demo mode signs anyone in with one click; it only runs on a loopback address, not %q", c.Addr)
	}
	if !c.Demo && c.BotToken == "" {
		bad("TELEGRAM_BOT_TOKEN", "required when demo mode is off: nobody could sign in")
	}
	if c.WebhookAllowPrivate, err = parseBool(getenv("IKRA_WEBHOOK_ALLOW_PRIVATE"), c.Demo); err != nil {
		bad("IKRA_WEBHOOK_ALLOW_PRIVATE", "%v", err)
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		bad("IKRA_SESSION_SECRET", "must be at least 32 characters")
	}
	for _, f := range strings.FieldsFunc(getenv("IKRA_SUPERADMINS"), splitList) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			bad("IKRA_SUPERADMINS", "%q is not a Telegram user ID", f)
			continue
		}
		c.Superadmins = append(c.Superadmins, id)
	}
	for _, f := range strings.FieldsFunc(getenv("IKRA_TRUSTED_PROXIES"), splitList) {
		if net.ParseIP(f) == nil {
			if _, _, err := net.ParseCIDR(f); err != nil {
				bad("IKRA_TRUSTED_PROXIES", "%q is neither an IP nor a CIDR", f)
				continue
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, f)
	}
	if c.AuthMaxAge, err = parseDuration(getenv("IKRA_AUTH_MAX_AGE"), 24*time.Hour); err != nil {
		bad("IKRA_AUTH_MAX_AGE", "%v", err)
	}
	if c.SessionTTL, err = parseDuration(getenv("IKRA_SESSION_TTL"), 30*24*time.Hour); err != nil {
		bad("IKRA_SESSION_TTL", "%v", err)
	}
	if c.Worker, err = parseBool(getenv("IKRA_WORKER"), true); err != nil {
		bad("IKRA_WORKER", "%v", err)
	}
	if c.RateAuth, err = parsePositive(getenv("IKRA_RATE_AUTH"), 30); err != nil {
		bad("IKRA_RATE_AUTH", "%v", err)
	}
	if c.RateMember, err = parsePositive(getenv("IKRA_RATE_MEMBER"), 300); err != nil {
		bad("IKRA_RATE_MEMBER", "%v", err)
	}
	if c.RateWrite, err = parsePositive(getenv("IKRA_RATE_WRITE"), 60); err != nil {
		bad("IKRA_RATE_WRITE", "%v", err)
	}
	if c.ViewBuffer, err = parsePositive(getenv("IKRA_VIEW_BUFFER"), 10000); err != nil {
		bad("IKRA_VIEW_BUFFER", "%v", err)
	}
	if c.ViewFlush, err = parseDuration(getenv("IKRA_VIEW_FLUSH"), 3*time.Second); err != nil || c.ViewFlush <= 0 {
		bad("IKRA_VIEW_FLUSH", "must be a positive duration such as 3s")
	}
	if c.RateAPI, err = parsePositive(getenv("IKRA_RATE_API"), 120); err != nil {
		bad("IKRA_RATE_API", "%v", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("IKRA_LOG_LEVEL", "must be debug, info, warn or error")
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// webhookSecret is what Telegram accepts as a webhook's secret_token.
var webhookSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// DeriveWebhookSecret is the webhook secret used when none is configured: a keyed hash
// of the bot token, the same on every node and useless without the token.
func DeriveWebhookSecret(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("ikra telegram webhook"))
	return hex.EncodeToString(m.Sum(nil))[:40]
}

// BotWebhook reports whether the bot takes updates by webhook (the site is on https);
// otherwise it long-polls.
func (c Config) BotWebhook() bool { return c.TelegramEnabled() && c.Secure() }

// TelegramEnabled reports whether a real bot token is configured.
func (c Config) TelegramEnabled() bool { return c.BotToken != "" }

// Secure reports whether the public URL is HTTPS, so cookies must be Secure.
func (c Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func splitList(r rune) bool { return r == ',' || r == ' ' || r == ';' }

func parseBool(v string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return def, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (use 1 or 0)", v)
}

func parsePositive(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive whole number", v)
	}
	return n, nil
}

func parseDuration(v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration like 24h", v)
	}
	return d, nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
