package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/apptest"
	"ikra/app/kv"
	"ikra/app/notify"
	"ikra/app/store"
	"ikra/app/tgapi"
	"ikra/ent"
	"ikra/ent/ledgerentry"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/jobs"
)

// Registrations and annulments while the process is killed with SIGKILL mid-burst,
// clients retrying with the same keys: afterwards every welcome credit and every
// annulment has exactly one notification, and delivery sends each exactly once.
func TestNotificationsSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the platform")
	}
	dbURL := apptest.PostgresDatabase(t)
	ctx := context.Background()
	api := newBotAPI(t)
	addr := freePort(t)
	prefix := fmt.Sprintf("tk%d:", time.Now().UnixNano())
	queue := strings.TrimSuffix(prefix, ":")
	const adminTG = 9_500_000
	env := []string{
		childEnv + "=1", "IKRA_TEST_CHILD_PREFIX=" + prefix,
		"IKRA_ADDR=" + addr, "IKRA_DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + dbURL,
		"TELEGRAM_BOT_TOKEN=" + apptest.BotToken, "TELEGRAM_BOT_USERNAME=ikra_test_bot",
		"TELEGRAM_API_URL=" + api.srv.URL, "TELEGRAM_WEBHOOK_SECRET=fault-test-hook",
		"IKRA_WORKER=0", "IKRA_DEMO=0", "IKRA_LOG_LEVEL=warn", "IKRA_SUPERADMINS=" + apptest.Itoa64(adminTG),
		"IKRA_RATE_AUTH=1000000", "IKRA_RATE_MEMBER=1000000",
	}
	redisURL := os.Getenv("IKRA_TEST_REDIS_URL")
	if redisURL != "" {
		// Jobs enqueued after a commit then outlive the killed process.
		env = append(env, "REDIS_URL="+redisURL)
		t.Cleanup(func() { apptest.DropKeys(redisURL, prefix) })
	}
	logf, err := os.Create(t.TempDir() + "/platform.log")
	apptest.Must(t, err)
	defer logf.Close()
	srv := &server{t: t, env: env, base: "http://" + addr, log: logf}
	srv.start()
	defer func() {
		srv.stop()
		if t.Failed() {
			t.Logf("platform log:\n%s", srv.logText())
		}
	}()

	db, err := store.Open(ctx, dbURL, "")
	apptest.Must(t, err)
	defer db.Close()

	// The staff member and the members whose bonuses are annulled, before the burst.
	admin := newBrowser(srv.base)
	apptest.Must(t, admin.signIn(ctx, apptest.WidgetQuery(adminTG, "Admin", time.Now())))
	const targets, annulsEach, newcomers = 8, 4, 60
	targetIDs := make([]int, targets)
	for i := range targets {
		tg := int64(9_510_000 + i)
		apptest.Must(t, newBrowser(srv.base).signIn(ctx, apptest.WidgetQuery(tg, fmt.Sprint("Target", i), time.Now())))
		m, err := db.Member.Query().Where(member.TelegramID(tg)).Only(ctx)
		apptest.Must(t, err)
		targetIDs[i] = m.ID
	}
	resp, page, err := admin.do(ctx, http.MethodGet, "/admin/members/"+apptest.Itoa(targetIDs[0])+"/ledger", nil)
	apptest.Must(t, err)
	m := csrfMeta.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("admin ledger page: %d", resp.StatusCode)
	}
	admin.csrf = m[1]

	// The burst: every request is a job retried with the same parameters until it succeeds.
	type job struct {
		name string
		run  func(ctx context.Context) error
	}
	var work []job
	for i := range newcomers {
		tg := int64(9_520_000 + i)
		q := apptest.WidgetQuery(tg, fmt.Sprint("New", i), time.Now())
		work = append(work, job{fmt.Sprint("register ", tg), func(ctx context.Context) error {
			return newBrowser(srv.base).signIn(ctx, q)
		}})
	}
	for i, id := range targetIDs {
		for k := range annulsEach {
			form := url.Values{"amount": {"100"}, "reason": {fmt.Sprint("fraud ", k)}, "key": {fmt.Sprintf("%016x%016x", i+1, k+1)}}
			path := "/admin/members/" + apptest.Itoa(id) + "/annul"
			work = append(work, job{fmt.Sprint("annul ", id, "/", k), func(ctx context.Context) error {
				resp, body, err := admin.do(ctx, http.MethodPost, path, form)
				if err != nil {
					return err
				}
				if f := flashOf(resp); resp.StatusCode != http.StatusSeeOther || f != "ok|flash.annulled" {
					return fmt.Errorf("status %d, flash %q: %.200s", resp.StatusCode, f, body)
				}
				return nil
			}})
		}
	}
	// Registrations and annulments interleaved.
	rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1)).Shuffle(len(work), func(i, j int) { work[i], work[j] = work[j], work[i] })
	jobsCh := make(chan job, len(work))
	for _, j := range work {
		jobsCh <- j
	}
	close(jobsCh)
	burstCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var finished atomic.Int32
	errs := make(chan error, len(work))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobsCh {
				if err := j.run(burstCtx); err != nil {
					errs <- fmt.Errorf("%s: %w", j.name, err)
				}
				finished.Add(1)
			}
		}()
	}
	// Kill the platform twice mid-burst and start it again.
	kills := 0
	for _, at := range []int32{int32(len(work)) / 5, int32(len(work)) / 2, int32(len(work)) * 4 / 5} {
		for finished.Load() < at && burstCtx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		srv.kill()
		kills++
		time.Sleep(100 * time.Millisecond) // requests in flight fail, clients retry
		srv.start()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	t.Logf("%d requests, platform killed %d times, %d attempts went unanswered", len(work), kills, interrupted.Load())

	// Every welcome credit has exactly one welcome notification, and every annulment one.
	welcomes, err := db.LedgerEntry.Query().Where(ledgerentry.KindEQ(ledgerentry.KindWelcome)).All(ctx)
	apptest.Must(t, err)
	if want := 1 + targets + newcomers; len(welcomes) != want {
		t.Fatalf("%d welcome credits, want %d", len(welcomes), want)
	}
	for _, e := range welcomes {
		n, err := db.Notification.Query().Where(notification.MemberID(e.MemberID), notification.Kind("welcome")).Count(ctx)
		apptest.Must(t, err)
		if n != 1 {
			t.Errorf("member %d: welcome credit with %d welcome notifications", e.MemberID, n)
		}
	}
	annuls, err := db.LedgerEntry.Query().Where(ledgerentry.KindEQ(ledgerentry.KindAnnulment)).All(ctx)
	apptest.Must(t, err)
	if len(annuls) != targets*annulsEach {
		t.Fatalf("%d annulments, want %d", len(annuls), targets*annulsEach)
	}
	for _, e := range annuls {
		n, err := db.Notification.Query().Where(notification.DedupKey(fmt.Sprint("annul:", e.ID)), notification.MemberID(e.MemberID)).Count(ctx)
		apptest.Must(t, err)
		if n != 1 {
			t.Errorf("annulment %d: %d notifications", e.ID, n)
		}
	}
	total, err := db.Notification.Query().Count(ctx)
	apptest.Must(t, err)
	if total != len(welcomes)+len(annuls) {
		t.Errorf("%d notifications, want %d", total, len(welcomes)+len(annuls))
	}
	if t.Failed() {
		return
	}
	srv.stop()

	// Delivery: the redelivery sweep and the delivery job, against the fake Bot API.
	deliver(t, db.Client, redisURL, queue, api)
	sent := api.messages()
	got := 0
	for _, e := range welcomes {
		m, err := db.Member.Get(ctx, e.MemberID)
		apptest.Must(t, err)
		texts := sent[*m.TelegramID]
		got += len(texts)
		w, a := 0, 0
		for _, s := range texts {
			switch {
			case strings.Contains(s, "Добро пожаловать в ИКРА"):
				w++
			case strings.Contains(s, "Бонусы аннулированы"):
				a++
			}
		}
		wantA := 0
		for _, id := range targetIDs {
			if id == m.ID {
				wantA = annulsEach
			}
		}
		if w != 1 || a != wantA || len(texts) != 1+wantA {
			t.Errorf("member %d was sent %d welcomes and %d annulments (%d messages), want 1 and %d", m.ID, w, a, len(texts), wantA)
		}
	}
	if got != total {
		t.Errorf("%d messages sent, want %d", got, total)
	}
	apptest.CheckInvariants(t, ctx, db.Client, api.delivery())
}

// deliver runs the redelivery sweep and a delivery worker on queue until every
// notification is sent, then sweeps again to show nothing is left to send.
func deliver(t *testing.T, db *ent.Client, redisURL, queue string, api *botAPI) {
	t.Helper()
	ctx := context.Background()
	r, err := kv.Open(ctx, redisURL)
	apptest.Must(t, err)
	defer r.Close()
	qc := asynq.NewClientFromRedisClient(r.Client)
	defer qc.Close()
	svc := notify.New(db, jobs.NewQueue(qc, queue))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	worker := jobs.NewServer(r.Queue, queue, 4, log)
	apptest.Must(t, worker.Start(jobs.NewMux(jobs.Deps{DB: db, Bot: tgapi.New(api.srv.URL, apptest.BotToken, nil),
		BaseURL: "http://127.0.0.1", Notify: svc, Log: log})))
	defer worker.Shutdown()
	if _, err := svc.Redeliver(ctx, 0, 1000); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		left, err := db.Notification.Query().Where(notification.TelegramSentAtIsNil()).Count(ctx)
		apptest.Must(t, err)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d notifications still unsent", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	n, err := svc.Redeliver(ctx, 0, 1000)
	if err != nil || n != 0 {
		t.Fatalf("a second sweep found %d to send (%v)", n, err)
	}
	time.Sleep(500 * time.Millisecond) // a duplicate job, if any, would run now
}
