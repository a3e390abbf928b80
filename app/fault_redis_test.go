package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"ikra/app/apptest"
	"ikra/app/kv"
	"ikra/app/notify"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/notification"
	"ikra/jobs"
)

// quietRedis drops go-redis's own dial-failure lines, which an outage makes by the
// hundred.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// Redis killed (SIGKILL) and started again while members load pages and the API and
// newcomers sign up, with a web node and a worker running as processes of their own
// and a backlog of welcome notifications being delivered to a slow Bot API: no answer
// of 500 or above to anyone during the outage (the README promises that pages, the API
// and forms keep working), /readyz names redis while it is down, and once the
// redelivery sweep has run every notification reached Telegram exactly once. Without
// persistence the queued tasks die with Redis and the sweep delivers them; with
// persistence (append-only file) the queue survives the restart.
func TestRedisRestartDuringLoadAndDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts, kills and restarts Redis and the platform's processes")
	}
	redis.SetLogger(quietRedis{})
	for _, persistent := range []bool{false, true} {
		name := "volatile"
		if persistent {
			name = "persistent"
		}
		t.Run(name, func(t *testing.T) { redisRestart(t, persistent) })
	}
}

func redisRestart(t *testing.T, persistent bool) {
	dbURL := apptest.PostgresDatabase(t)
	rd := apptest.PrivateRedis(t, persistent)
	ctx := context.Background()
	api := newBotAPI(t)
	api.delay.Store(int64(150 * time.Millisecond)) // four sends at a time: about 25 a second
	addr := freePort(t)
	prefix := fmt.Sprintf("rr%d:", time.Now().UnixNano())
	queue := strings.TrimSuffix(prefix, ":")
	env := []string{
		childEnv + "=1", "IKRA_TEST_CHILD_PREFIX=" + prefix,
		"IKRA_ADDR=" + addr, "IKRA_DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + dbURL, "REDIS_URL=" + rd.URL,
		"TELEGRAM_BOT_TOKEN=" + apptest.BotToken, "TELEGRAM_BOT_USERNAME=ikra_test_bot",
		"TELEGRAM_API_URL=" + api.srv.URL, "TELEGRAM_WEBHOOK_SECRET=fault-test-hook",
		"IKRA_WORKER=0", "IKRA_DEMO=0", "IKRA_LOG_LEVEL=warn",
		"IKRA_RATE_AUTH=1000000", "IKRA_RATE_MEMBER=1000000", "IKRA_RATE_WRITE=1000000", "IKRA_RATE_API=1000000",
	}
	web := newChild(t, env, "http://"+addr)
	web.start()
	defer web.finish()
	worker := newChild(t, append(env[:len(env):len(env)], childCmdEnv+"=worker"), "")
	worker.start()
	defer worker.finish()

	db, err := store.Open(ctx, dbURL, "")
	apptest.Must(t, err)
	defer db.Close()

	runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	seen := newAnswers()
	browse := func() *browser { b := newBrowser(web.base); b.seen = seen; return b }
	tg := atomic.Int64{}
	tg.Store(9_700_000)
	signUp := func() error {
		id := tg.Add(1)
		return browse().signIn(runCtx, apptest.WidgetQuery(id, fmt.Sprint("Новичок", id), time.Now()))
	}

	// Members reading pages and the API all along.
	const readers = 4
	var readersWG sync.WaitGroup
	stopLoad := make(chan struct{})
	var reads atomic.Int32
	errs := make(chan error, 200)
	for range readers {
		b := browse()
		if err := b.signIn(runCtx, apptest.WidgetQuery(tg.Add(1), "Читатель", time.Now())); err != nil {
			t.Fatal(err)
		}
		readersWG.Add(1)
		go func() {
			defer readersWG.Done()
			paths := []string{"/app", "/app/notifications", "/api/v1/me", "/api/v1/offers", "/app/bookings", "/app/settings"}
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				resp, body, err := b.do(runCtx, http.MethodGet, paths[i%len(paths)], nil)
				if err != nil {
					errs <- err
					return
				}
				if resp.StatusCode >= 400 {
					errs <- fmt.Errorf("GET %s: %d: %.200s", paths[i%len(paths)], resp.StatusCode, body)
					return
				}
				reads.Add(1)
			}
		}()
	}

	// The rate of reads with Redis up and nothing else going on, to compare.
	time.Sleep(500 * time.Millisecond)
	readsBefore, loadStart := reads.Load(), time.Now()
	time.Sleep(1500 * time.Millisecond)
	rateBefore := float64(reads.Load()-readsBefore) / time.Since(loadStart).Seconds()
	// A burst of newcomers: a backlog of welcome notifications for the worker.
	const burst = 40
	var burstWG sync.WaitGroup
	for range 5 {
		burstWG.Add(1)
		go func() {
			defer burstWG.Done()
			for range burst / 5 {
				if err := signUp(); err != nil {
					errs <- err
				}
			}
		}()
	}
	burstWG.Wait()
	for api.total() < 5 && runCtx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}

	// The outage: Redis killed while the backlog is being delivered; newcomers keep coming.
	attempts0, _ := seen.snapshot()
	reads0, sent0 := reads.Load(), api.total()
	rd.Kill()
	killed := time.Now()
	const during = 8
	readyProbes := 0
	for i := 0; i < during || time.Since(killed) < 3*time.Second; i++ {
		if i < during {
			apptest.Must(t, signUp())
		}
		if st, body := get(t, web.base+"/readyz"); st != http.StatusServiceUnavailable || !strings.HasPrefix(body["redis"], "fail") || body["database"] != "ok" {
			t.Errorf("/readyz with Redis down: %d %v", st, body)
		} else {
			readyProbes++
		}
		time.Sleep(150 * time.Millisecond)
	}
	reads1, sent1 := reads.Load(), api.total()
	attempts1, fails1 := seen.snapshot()
	rd.Start()
	started := time.Now()
	recovered := waitReady(t, web.base, started)
	down := started.Sub(killed)

	const after = 8
	for range after {
		apptest.Must(t, signUp())
	}
	close(stopLoad)
	readersWG.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, fails := seen.snapshot()
	if len(fails) > 0 {
		t.Errorf("answers of 500 and above: %v (during the outage: %v; samples %q)", fails, fails1, seen.samples)
	}
	t.Logf("Redis (%s) down %.1fs: %d requests during it (%d page and API reads by %d members, %.0f a second against %.0f "+
		"before; %d sign-ups), answers of 500+: %v; %d /readyz answered 503 naming redis; %d messages sent during it; "+
		"/readyz 200 again %v after the start",
		map[bool]string{true: "persistent", false: "volatile"}[persistent], down.Seconds(), attempts1-attempts0, reads1-reads0,
		readers, float64(reads1-reads0)/down.Seconds(), rateBefore, during, fails1, readyProbes, sent1-sent0, recovered.Round(time.Millisecond))

	// Delivery without the sweep: what the queue still holds is sent.
	settle(api, db.Client, 3*time.Second)
	beforeSweep, err := db.Notification.Query().Where(notification.TelegramSentAtIsNil()).Count(ctx)
	apptest.Must(t, err)
	total, err := db.Notification.Query().Count(ctx)
	apptest.Must(t, err)
	if total != burst+during+after+readers {
		t.Errorf("%d notifications, want %d welcomes", total, burst+during+after+readers)
	}
	// The redelivery sweep (as the worker's periodic task runs it, without its age limit).
	swept := sweep(t, db.Client, rd.URL, queue)
	settle(api, db.Client, 2*time.Second)
	t.Logf("%d notifications, %d unsent after the restart until the sweep queued %d; then %d messages to Telegram in all",
		total, beforeSweep, swept, api.total())
	if persistent && beforeSweep > during {
		// Only those whose enqueue failed while Redis was down wait for the sweep.
		t.Errorf("%d notifications waited for the sweep with a persistent queue, want at most the %d made during the outage", beforeSweep, during)
	}
	if n := apptest.CheckInvariants(t, ctx, db.Client, api.delivery()); n != 0 {
		t.Errorf("%d notifications in doubt: no worker was killed", n)
	}
}

// get fetches a JSON map.
func get(t *testing.T, u string) (int, map[string]string) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(u)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]string
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// settle waits until nothing is being sent and no notification got sent for quiet (at
// most 30 seconds).
func settle(api *botAPI, db *ent.Client, quiet time.Duration) {
	last, lastChange := -1, time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		n, err := db.Notification.Query().Where(notification.TelegramSentAtIsNil()).Count(context.Background())
		if err != nil {
			continue
		}
		if n == 0 && api.inflight.Load() == 0 {
			return
		}
		if n != last || api.inflight.Load() > 0 {
			last, lastChange = n, time.Now()
		} else if time.Since(lastChange) > quiet {
			return
		}
	}
}

// sweep runs the redelivery sweep's work once (every unsent notification, whatever its
// age) and returns how many it queued.
func sweep(t *testing.T, db *ent.Client, redisURL, queue string) int {
	t.Helper()
	ctx := context.Background()
	r, err := kv.Open(ctx, redisURL)
	apptest.Must(t, err)
	defer r.Close()
	qc := asynq.NewClientFromRedisClient(r.Client)
	defer qc.Close()
	n, err := notify.New(db, jobs.NewQueue(qc, queue)).Redeliver(ctx, 0, 1000)
	apptest.Must(t, err)
	return n
}

// newChild is a platform process (a web node, or a worker when base is empty) logging
// to a file of the test's.
func newChild(t *testing.T, env []string, base string) *server {
	t.Helper()
	logf, err := os.Create(fmt.Sprintf("%s/child-%d.log", t.TempDir(), time.Now().UnixNano()))
	apptest.Must(t, err)
	t.Cleanup(func() { logf.Close() })
	return &server{t: t, env: env, base: base, log: logf}
}

// finish stops the process and, when the test failed, shows its log.
func (s *server) finish() {
	s.stop()
	if s.t.Failed() {
		s.t.Logf("log of %q:\n%.20000s", s.base, s.logText())
	}
}
