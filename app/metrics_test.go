package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/apptest/tgfake"
)

// The platform serves Prometheus metrics on IKRA_METRICS_ADDR: requests by route
// pattern (never the raw path) and the status sent, the ledger's operations, the
// database pool, and — from the worker that ran them — jobs, notification deliveries and
// the Bot API's errors. With Redis the jobs run in a separate `ikra worker` process with
// a metrics listener of its own; without it, in the web process.
func TestMetricsEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the platform")
	}
	apptest.RequireServices(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const sentTG, blockedTG = 9_600_001, 9_600_002
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		call, err := tgfake.ReadCall(r)
		switch {
		case err != nil:
			w.WriteHeader(http.StatusBadRequest)
		case call.Method == "sendMessage" && call.Int("chat_id") == blockedTG:
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`)
		case call.Method == "sendMessage":
			io.WriteString(w, `{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"}}}`)
		case call.Method == "getUpdates":
			time.Sleep(100 * time.Millisecond)
			io.WriteString(w, `{"ok":true,"result":[]}`)
		default:
			io.WriteString(w, `{"ok":true,"result":true}`)
		}
	}))
	defer api.Close()

	addr, webMetrics := freePort(t), freePort(t)
	prefix := fmt.Sprintf("tm%d:", time.Now().UnixNano())
	env := []string{
		childEnv + "=1", "IKRA_TEST_CHILD_PREFIX=" + prefix, "IKRA_DATA_DIR=" + t.TempDir(),
		"TELEGRAM_BOT_TOKEN=" + apptest.BotToken, "TELEGRAM_BOT_USERNAME=ikra_test_bot", "TELEGRAM_API_URL=" + api.URL,
		"IKRA_DEMO=0", "IKRA_LOG_LEVEL=warn", "IKRA_RATE_AUTH=1000000", "IKRA_RATE_MEMBER=1000000", "IKRA_RATE_WRITE=1000000",
	}
	if os.Getenv("IKRA_TEST_DATABASE_URL") != "" {
		env = append(env, "DATABASE_URL="+apptest.PostgresDatabase(t))
	}
	redisURL := os.Getenv("IKRA_TEST_REDIS_URL")
	workerMetrics := webMetrics
	webEnv := append(slices.Clone(env), "IKRA_ADDR="+addr, "IKRA_METRICS_ADDR="+webMetrics)
	if redisURL != "" {
		env = append(env, "REDIS_URL="+redisURL)
		webEnv = append(webEnv, "REDIS_URL="+redisURL, "IKRA_WORKER=0")
		t.Cleanup(func() { apptest.DropKeys(redisURL, prefix) })
	}
	logf, err := os.Create(t.TempDir() + "/platform.log")
	apptest.Must(t, err)
	defer logf.Close()
	srv := &server{t: t, env: webEnv, base: "http://" + addr, log: logf}
	// Registered before the start, so that a platform that never came up is stopped too.
	t.Cleanup(func() {
		if srv.cmd != nil {
			srv.stop()
		}
		if t.Failed() {
			t.Logf("platform log:\n%s", srv.logText())
		}
	})
	srv.start()
	if redisURL != "" {
		workerMetrics = freePort(t)
		startWorker(t, append(slices.Clone(env), childCmdEnv+"=worker", "IKRA_METRICS_ADDR="+workerMetrics), logf)
		if _, err := scrapeUntil(ctx, workerMetrics, func(string) bool { return true }); err != nil {
			t.Fatalf("the worker's metrics: %v\n%s", err, srv.logText())
		}
	}

	// Requests: two registrations (each a welcome credit and a welcome notification), a
	// page, a matched route that answers 404, an unmatched path, a POST and a POST
	// refused for its CSRF token before it reaches its route.
	b := newBrowser(srv.base)
	apptest.Must(t, b.signIn(ctx, apptest.WidgetQuery(sentTG, "Метрика", time.Now())))
	apptest.Must(t, newBrowser(srv.base).signIn(ctx, apptest.WidgetQuery(blockedTG, "Блок", time.Now())))
	status := func(method, path string, form url.Values) int {
		t.Helper()
		resp, body, err := b.do(ctx, method, path, form)
		apptest.Must(t, err)
		if m := csrfMeta.FindStringSubmatch(body); m != nil {
			b.csrf = m[1]
		}
		return resp.StatusCode
	}
	if s := status("GET", "/app/settings", nil); s != http.StatusOK {
		t.Fatalf("settings page: %d", s)
	}
	if s := status("GET", "/app/offers/987654", nil); s != http.StatusNotFound {
		t.Fatalf("a missing offer: %d", s)
	}
	if s := status("GET", "/no/such/page", nil); s != http.StatusNotFound {
		t.Fatalf("an unmatched path: %d", s)
	}
	langStatus := status("POST", "/lang", url.Values{"lang": {"en"}})
	if langStatus >= 400 {
		t.Fatalf("language change: %d", langStatus)
	}
	good := b.csrf
	b.csrf = "forged"
	if s := status("POST", "/lang", url.Values{"lang": {"kk"}}); s != http.StatusForbidden {
		t.Fatalf("a forged CSRF token: %d", s)
	}
	b.csrf = good

	web, err := scrapeUntil(ctx, webMetrics, func(m string) bool {
		return value(m, "ikra_http_requests_total", "route", "/lang", "method", "POST", "status", "403") == 1
	})
	apptest.Must(t, err)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ikra_http_requests_total", []string{"route", "/auth/telegram", "method", "GET", "status", "303"}, 2},
		{"ikra_http_requests_total", []string{"route", "/app/settings", "method", "GET", "status", "200"}, 1},
		{"ikra_http_requests_total", []string{"route", "/app/offers/:id", "method", "GET", "status", "404"}, 1},
		{"ikra_http_requests_total", []string{"route", "unmatched", "method", "GET", "status", "404"}, 1},
		{"ikra_http_requests_total", []string{"route", "/lang", "method", "POST", "status", strconv.Itoa(langStatus)}, 1},
		{"ikra_http_requests_total", []string{"route", "/lang", "method", "POST", "status", "403"}, 1},
		{"ikra_http_request_duration_seconds_count", []string{"route", "/app/settings", "method", "GET"}, 1},
		{"ikra_http_request_duration_seconds_count", []string{"route", "/lang", "method", "POST"}, 2},
		{"ikra_ledger_operations_total", []string{"kind", "welcome", "result", "ok"}, 2},
	} {
		if got := value(web, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, raw := range []string{"/app/offers/987654", "/no/such/page"} {
		if strings.Contains(web, `"`+raw+`"`) {
			t.Errorf("a series is labelled with the raw path %s", raw)
		}
	}
	for _, name := range []string{"ikra_db_open_connections", "ikra_db_in_use_connections", "ikra_db_idle_connections",
		"ikra_db_max_open_connections", "ikra_db_wait_count_total", "ikra_db_wait_seconds_total", "go_goroutines",
		"process_resident_memory_bytes"} {
		if value(web, name) < 0 {
			t.Errorf("%s missing", name)
		}
	}
	if value(web, "ikra_db_max_open_connections") < 1 {
		t.Errorf("ikra_db_max_open_connections = %v", value(web, "ikra_db_max_open_connections"))
	}
	if value(web, "ikra_queue_tasks", "state", "pending") < 0 {
		t.Error("ikra_queue_tasks{state=pending} missing")
	}

	// The welcome notifications go through the worker: one sent, one refused by
	// Telegram because the member blocked the bot.
	work, err := scrapeUntil(ctx, workerMetrics, func(m string) bool {
		return value(m, "ikra_notifications_delivered_total", "channel", "telegram", "result", "sent") >= 1 &&
			value(m, "ikra_notifications_delivered_total", "channel", "telegram", "result", "unreachable") >= 1
	})
	if err != nil {
		t.Fatalf("deliveries: %v\n%s", err, work)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ikra_notifications_delivered_total", []string{"channel", "telegram", "result", "sent"}, 1},
		{"ikra_notifications_delivered_total", []string{"channel", "telegram", "result", "unreachable"}, 1},
		{"ikra_jobs_total", []string{"type", "notification:deliver", "result", "ok"}, 1},
		{"ikra_jobs_total", []string{"type", "notification:deliver", "result", "failed"}, 1},
		{"ikra_job_duration_seconds_count", []string{"type", "notification:deliver"}, 2},
		{"ikra_telegram_api_errors_total", []string{"method", "sendMessage", "code", "403"}, 1},
	} {
		if got := value(work, c.name, c.labels...); got != c.want {
			t.Errorf("worker: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// startWorker runs `ikra worker` as a child process until the test ends.
func startWorker(t *testing.T, env []string, log *os.File) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	apptest.Must(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
}

// scrapeUntil reads the metrics on addr until ready accepts them or ctx ends.
func scrapeUntil(ctx context.Context, addr string, ready func(string) bool) (string, error) {
	last := ""
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				last = string(b)
				if ready(last) {
					return last, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("metrics on %s: %w", addr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// value is the sample of name with exactly the label pairs given (in any order), or
// -1 when there is none.
func value(metrics, name string, labelPairs ...string) float64 {
	var pairs []string
	for i := 0; i+1 < len(labelPairs); i += 2 {
		pairs = append(pairs, labelPairs[i]+"="+strconv.Quote(labelPairs[i+1]))
	}
	sort.Strings(pairs)
	series := name
	if len(pairs) > 0 {
		series += "{" + strings.Join(pairs, ",") + "}"
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(metrics)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}
