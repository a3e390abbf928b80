// Package apptest starts the whole application for tests: on a temporary SQLite
// database, the in-process Redis and media on disk by default, or on the PostgreSQL,
// Redis and MinIO that IKRA_TEST_DATABASE_URL, IKRA_TEST_REDIS_URL and IKRA_TEST_S3_*
// name (each test on its own database, key prefix and bucket, cleaned up after).
// Its client signs in as anyone through the same Telegram sign-in a browser uses.
package apptest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/redis/go-redis/v9"

	"ikra/app"
	"ikra/app/auth/telegram"
	"ikra/app/config"
	"ikra/ent/member"
)

// BotToken is the bot token every test app is configured with.
const BotToken = "123456:TEST-token-for-ikra-tests"

// Env is a running application under test.
type Env struct {
	T      testing.TB
	App    *app.App
	Server *httptest.Server
	Config config.Config
	env    map[string]string
	prefix string
}

// Option changes the test configuration.
type Option func(s *setup)

type setup struct {
	env    map[string]string
	prefix string
	join   *Env
	log    *slog.Logger
}

// Demo turns demo mode on (demo data seeded, /auth/demo served).
func Demo() Option { return func(s *setup) { s.env["IKRA_DEMO"] = "1" } }

// WithEnv sets a configuration variable.
func WithEnv(k, v string) Option { return func(s *setup) { s.env[k] = v } }

// WithLog sends the application's log to l instead of discarding it (tests that
// check what is logged).
func WithLog(l *slog.Logger) Option { return func(s *setup) { s.log = l } }

// Join makes a second node of the same installation as other: the same database,
// Redis (other's, even when embedded), media store and key prefix.
func Join(other *Env) Option { return func(s *setup) { s.join = other } }

// Real reports which real services the environment names.
func Real() (db, redis, s3 bool) {
	return os.Getenv("IKRA_TEST_DATABASE_URL") != "", os.Getenv("IKRA_TEST_REDIS_URL") != "", os.Getenv("IKRA_TEST_S3_ENDPOINT") != ""
}

// RequireServices fails the test in CI when a real service is not configured: CI must
// never skip silently.
func RequireServices(t testing.TB) {
	if os.Getenv("CI") == "" {
		return
	}
	for _, k := range []string{"IKRA_TEST_DATABASE_URL", "IKRA_TEST_REDIS_URL", "IKRA_TEST_S3_ENDPOINT"} {
		if os.Getenv(k) == "" {
			t.Fatalf("CI is set but %s is not: the real services must be tested in CI", k)
		}
	}
}

// New starts the application with its HTTP server on a loopback port.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	RequireServices(t)
	env := map[string]string{
		"IKRA_ADDR":             "127.0.0.1:0",
		"IKRA_DATA_DIR":         t.TempDir(),
		"TELEGRAM_BOT_TOKEN":    BotToken,
		"TELEGRAM_BOT_USERNAME": "ikra_test_bot",
		"IKRA_LOG_LEVEL":        "warn",
		"IKRA_WORKER":           "0",
		"IKRA_RATE_AUTH":        "100000",
		"IKRA_RATE_MEMBER":      "100000",
		"IKRA_RATE_WRITE":       "100000",
		"IKRA_RATE_API":         "100000",
	}
	prefix := "t" + randHex(6) + ":"
	st := &setup{env: env}
	for _, o := range opts {
		o(st)
	}
	if j := st.join; j != nil {
		for k, v := range j.env {
			env[k] = v
		}
		env["REDIS_URL"] = "redis://" + j.App.Redis.Options().Addr
		return start(t, env, j.prefix, st.log)
	}
	if u := os.Getenv("IKRA_TEST_DATABASE_URL"); u != "" {
		env["DATABASE_URL"] = freshDatabase(t, u)
	}
	if u := os.Getenv("IKRA_TEST_REDIS_URL"); u != "" {
		env["REDIS_URL"] = u
		t.Cleanup(func() { DropKeys(u, prefix) })
	}
	if ep := os.Getenv("IKRA_TEST_S3_ENDPOINT"); ep != "" {
		env["S3_ENDPOINT"] = ep
		env["S3_ACCESS_KEY"] = os.Getenv("IKRA_TEST_S3_ACCESS_KEY")
		env["S3_SECRET_KEY"] = os.Getenv("IKRA_TEST_S3_SECRET_KEY")
		env["S3_USE_SSL"] = os.Getenv("IKRA_TEST_S3_USE_SSL")
		env["S3_BUCKET"] = "ikra-t-" + randHex(6)
		t.Cleanup(func() { dropBucket(env) })
	}
	for _, o := range opts { // again: an option may override a real-service setting
		o(st)
	}
	return start(t, env, prefix, st.log)
}

func start(t testing.TB, env map[string]string, prefix string, logger *slog.Logger) *Env {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if logger != nil {
		log = logger
	}
	a, err := app.New(ctx, cfg, app.Options{KeyPrefix: prefix, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, App: a, Config: cfg, env: env, prefix: prefix}
	ln := newListener(t)
	go func() { _ = a.Web.App.Listener(ln) }()
	e.Server = &httptest.Server{URL: "http://" + ln.Addr().String()}
	t.Cleanup(func() {
		_ = a.Web.App.ShutdownWithTimeout(5 * time.Second)
		a.Close()
	})
	return e
}

// URL is the absolute URL of a path on the test server.
func (e *Env) URL(path string) string { return e.Server.URL + path }

// Client is a browser-like HTTP client with its own cookie jar; it does not follow
// redirects, so tests see them.
type Client struct {
	env  *Env
	HTTP *http.Client
	csrf string
}

// Client returns a new client with an empty cookie jar.
func (e *Env) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{env: e, HTTP: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a read response.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request and reads the whole response.
func (c *Client) Do(req *http.Request) *Response {
	c.env.T.Helper()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.env.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.env.T.Fatal(err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
	if m := csrfMeta.FindStringSubmatch(r.Body); m != nil {
		c.csrf = m[1]
	}
	return r
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// Get requests a path.
func (c *Client) Get(path string) *Response {
	c.env.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.env.URL(path), nil)
	return c.Do(req)
}

// CSRF returns the token of the last page seen, fetching a page first if needed.
func (c *Client) CSRF() string {
	// Whichever of these pages renders (the others redirect) carries the token.
	for _, p := range []string{"/login", "/app/settings", "/tg"} {
		if c.csrf != "" {
			break
		}
		c.Get(p)
	}
	return c.csrf
}

// Post sends a form with the CSRF token a page gave this client.
func (c *Client) Post(path string, form url.Values) *Response {
	c.env.T.Helper()
	form = cloneValues(form)
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.CSRF())
	}
	req, _ := http.NewRequest(http.MethodPost, c.env.URL(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// Send sends a request with method and optional body, with the CSRF header set.
func (c *Client) Send(method, path, contentType string, body io.Reader) *Response {
	c.env.T.Helper()
	req, _ := http.NewRequest(method, c.env.URL(path), body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-CSRF-Token", c.CSRF())
	return c.Do(req)
}

// WidgetQuery is a Login Widget redirect query for a Telegram user, signed with the
// test bot token the way Telegram signs it.
func WidgetQuery(tgID int64, firstName string, authDate time.Time) url.Values {
	return telegram.SignWidget(map[string]string{
		"id": strconv.FormatInt(tgID, 10), "first_name": firstName, "username": "u" + strconv.FormatInt(tgID, 10),
		"auth_date": strconv.FormatInt(authDate.Unix(), 10),
	}, BotToken)
}

// SignIn signs the client in as the Telegram user through the Login Widget callback,
// as a member who has already seen the welcome screen (so /app shows the catalog);
// FirstSignIn leaves the welcome screen due.
func (c *Client) SignIn(tgID int64, firstName string) *Response {
	c.env.T.Helper()
	r := c.FirstSignIn(tgID, firstName)
	err := c.env.App.DB.Member.Update().Where(member.TelegramID(tgID), member.OnboardedAtIsNil()).
		SetOnboardedAt(time.Now()).Exec(context.Background())
	Must(c.env.T, err)
	return r
}

// FirstSignIn signs the client in through the Login Widget callback and leaves the
// member's welcome screen as it is: due after a registration.
func (c *Client) FirstSignIn(tgID int64, firstName string) *Response {
	c.env.T.Helper()
	r := c.Get("/auth/telegram?" + WidgetQuery(tgID, firstName, time.Now()).Encode())
	if r.Status != http.StatusSeeOther {
		c.env.T.Fatalf("sign-in as %d: status %d: %s", tgID, r.Status, r.Body)
	}
	c.csrf = ""
	return r
}

// Cookie returns the value of a cookie the client holds for the server.
func (c *Client) Cookie(name string) string {
	u, _ := url.Parse(c.env.Server.URL)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// SetCookie puts a cookie into the client's jar, as an attacker or old browser might.
func (c *Client) SetCookie(name, value string) {
	u, _ := url.Parse(c.env.Server.URL)
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freshDatabase creates an empty database for one test and drops it afterwards.
func freshDatabase(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	name := "ikra_t_" + randHex(6)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// DropKeys removes a test's Redis keys (those under prefix) and its job queue.
func DropKeys(redisURL, prefix string) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	queue := strings.TrimSuffix(prefix, ":")
	for _, pattern := range []string{prefix + "*", "asynq:{" + queue + "}*"} {
		iter := c.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	}
	c.SRem(ctx, "asynq:queues", queue)
}

// dropBucket empties and removes a test's bucket.
func dropBucket(env map[string]string) {
	ssl, _ := strconv.ParseBool(env["S3_USE_SSL"])
	mc, err := minio.New(env["S3_ENDPOINT"], &minio.Options{Creds: credentials.NewStaticV4(env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"], ""), Secure: ssl})
	if err != nil {
		return
	}
	ctx := context.Background()
	for obj := range mc.ListObjects(ctx, env["S3_BUCKET"], minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err == nil {
			_ = mc.RemoveObject(ctx, env["S3_BUCKET"], obj.Key, minio.RemoveObjectOptions{})
		}
	}
	_ = mc.RemoveBucket(ctx, env["S3_BUCKET"])
}

// Must fails the test on err.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Itoa formats an ID for a path.
func Itoa(n int) string { return strconv.Itoa(n) }

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Itoa64 formats a Telegram ID.
func Itoa64(n int64) string { return strconv.FormatInt(n, 10) }
