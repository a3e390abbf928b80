package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/member"
	"ikra/ent/notification"
)

// faultEnv is the environment of a platform process in the fault runs: the database
// and Redis given, Telegram at the fake Bot API, no in-process worker, no rate limits.
func faultEnv(t *testing.T, dbURL, redisURL, prefix, addr string, api *botAPI) []string {
	return []string{
		childEnv + "=1", "IKRA_TEST_CHILD_PREFIX=" + prefix,
		"IKRA_ADDR=" + addr, "IKRA_DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + dbURL, "REDIS_URL=" + redisURL,
		"TELEGRAM_BOT_TOKEN=" + apptest.BotToken, "TELEGRAM_BOT_USERNAME=ikra_test_bot",
		"TELEGRAM_API_URL=" + api.srv.URL, "TELEGRAM_WEBHOOK_SECRET=fault-test-hook",
		"IKRA_WORKER=0", "IKRA_DEMO=0", "IKRA_LOG_LEVEL=warn",
		"IKRA_RATE_AUTH=1000000", "IKRA_RATE_MEMBER=1000000", "IKRA_RATE_WRITE=1000000", "IKRA_RATE_API=1000000",
	}
}

// A worker killed with SIGKILL while every one of its slots is sending a notification
// to a slow Bot API, then started again. What the platform promises (see
// jobs/deliver_notification.go): a notification is never sent twice; the sends cut by
// the kill are "in doubt" (noted as begun, no outcome) and are not sent again (after
// two minutes they are given up as "delivery in doubt"); every other notification is
// delivered by the restarted worker, exactly once. Here the kill lands while the
// four sends are inside the Bot API (received, not yet answered), so Telegram has
// each notification exactly once, four of them without the platform knowing.
func TestWorkerKilledMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the platform's processes")
	}
	dbURL := apptest.PostgresDatabase(t)
	rd := apptest.PrivateRedis(t, false)
	ctx := context.Background()
	api := newBotAPI(t)
	prefix := fmt.Sprintf("wk%d:", time.Now().UnixNano())
	queue := strings.TrimSuffix(prefix, ":")
	addr := freePort(t)
	env := faultEnv(t, dbURL, rd.URL, prefix, addr, api)
	web := newChild(t, env, "http://"+addr)
	web.start()
	defer web.finish()
	db, err := store.Open(ctx, dbURL, "")
	apptest.Must(t, err)
	defer db.Close()

	// The backlog: newcomers sign up while no worker runs; each gets a welcome.
	const newcomers = 48
	runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < newcomers; i += 4 {
				tg := int64(9_800_000 + i)
				if err := newBrowser(web.base).signIn(runCtx, apptest.WidgetQuery(tg, fmt.Sprint("Новичок", i), time.Now())); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	api.delay.Store(int64(400 * time.Millisecond))
	workerEnv := append(env[:len(env):len(env)], childCmdEnv+"=worker")
	worker := newChild(t, workerEnv, "")
	worker.start()
	defer worker.finish()
	// Kill it once some were delivered and all four of its slots are mid-send.
	for (api.total() < 8 || api.inflight.Load() < 4) && runCtx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	cut := int(api.inflight.Load())
	worker.kill()
	sentAtKill := api.total()
	worker = newChild(t, workerEnv, "")
	worker.start()
	defer worker.finish()

	settle(api, db.Client, 3*time.Second)
	// The sweep (as the periodic task runs it, without its age limit) finds the cut
	// ones and queues them again: they must still not be sent a second time.
	swept := sweep(t, db.Client, rd.URL, queue)
	settle(api, db.Client, 2*time.Second)
	inDoubt := apptest.CheckInvariants(t, ctx, db.Client, api.delivery())
	begun, err := db.Notification.Query().Where(notification.TelegramSentAtIsNil(), notification.TelegramAttemptAtNotNil()).Count(ctx)
	apptest.Must(t, err)
	t.Logf("%d notifications; worker killed with %d sends in flight after %d were received; the restarted worker delivered the rest; "+
		"the sweep queued %d again and nothing was sent twice; %d in doubt (begun, no outcome), each received once by Telegram",
		newcomers, cut, sentAtKill, swept, inDoubt)
	if inDoubt != cut || begun != cut {
		t.Errorf("%d notifications in doubt (%d begun without an outcome), want the %d cut by the kill", inDoubt, begun, cut)
	}
	if api.total() != newcomers {
		t.Errorf("Telegram received %d messages, want %d", api.total(), newcomers)
	}
}

// The web node killed with SIGKILL three times during a booking rush and the cashier's
// completions, each client retrying with the same keys: afterwards the balances match
// the ledger, nothing was credited twice, the offer holds no more than its capacity,
// every booking was completed once, and every notification (new requests to the
// cashier, completions to the members) reaches Telegram exactly once.
func TestWebKilledDuringBookings(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the platform")
	}
	dbURL := apptest.PostgresDatabase(t)
	rd := apptest.PrivateRedis(t, false)
	ctx := context.Background()
	api := newBotAPI(t)
	prefix := fmt.Sprintf("wb%d:", time.Now().UnixNano())
	queue := strings.TrimSuffix(prefix, ":")
	addr := freePort(t)
	web := newChild(t, faultEnv(t, dbURL, rd.URL, prefix, addr, api), "http://"+addr)
	web.start()
	defer web.finish()
	sdb, err := store.Open(ctx, dbURL, "")
	apptest.Must(t, err)
	defer sdb.Close()
	db := sdb.Client

	// The partner, its offer and its cashier, written as the back office would.
	cat, err := db.Category.Create().SetSlug("cafe").SetNameRu("Кафе").SetNameEn("Cafes").SetNameKk("Кафелер").Save(ctx)
	apptest.Must(t, err)
	city, err := db.City.Create().SetSlug("almaty").SetNameRu("Алматы").SetNameEn("Almaty").SetNameKk("Алматы").Save(ctx)
	apptest.Must(t, err)
	p, err := db.Partner.Create().SetName("Кофейня").SetSlug("coffee").SetBin("000000000042").SetCategoryID(cat.ID).SetCityID(city.ID).Save(ctx)
	apptest.Must(t, err)
	const capacity, members = 30, 45
	o, err := db.Offer.Create().SetPartnerID(p.ID).SetCategoryID(cat.ID).SetCityID(city.ID).SetTitle("Кофе").
		SetKind("discount").SetStatus("published").SetPublishedAt(time.Now()).
		SetCapacity(capacity).SetPerMemberLimit(1).SetCashbackBp(1000).Save(ctx)
	apptest.Must(t, err)
	cashier := newBrowser(web.base)
	apptest.Must(t, cashier.signIn(ctx, apptest.WidgetQuery(9_900_000, "Кассир", time.Now())))
	cm, err := db.Member.Query().Where(member.TelegramID(9_900_000)).Only(ctx)
	apptest.Must(t, err)
	_, err = db.Staff.Create().SetMemberID(cm.ID).SetPartnerID(p.ID).SetRole("cashier").Save(ctx)
	apptest.Must(t, err)
	web.stop() // permissions are loaded at start
	web.start()

	runCtx, cancel := context.WithTimeout(ctx, 75*time.Second)
	defer cancel()
	var booked, full, done, completed atomic.Int32
	errs := make(chan error, members+1)
	wg := bookAll(runCtx, members, func() *browser { return newBrowser(web.base) }, 9_910_000, o.ID, &booked, &full, &done, errs)
	cashierDone := make(chan struct{})
	go func() {
		defer close(cashierDone)
		if err := counter(runCtx, cashier, db, o.ID, func() bool { return done.Load() == members }, &completed); err != nil {
			errs <- fmt.Errorf("cashier: %w", err)
		}
	}()
	before := interrupted.Load()
	kills := 0
	for _, at := range []int32{members / 4, members / 2, members * 3 / 4} {
		for done.Load() < at && runCtx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		web.kill()
		kills++
		time.Sleep(100 * time.Millisecond)
		web.start()
	}
	wg.Wait()
	<-cashierDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	web.stop()
	t.Logf("%d members booking an offer of %d places and a cashier completing: web node killed %d times, %d attempts went unanswered",
		members, capacity, kills, interrupted.Load()-before)

	if b, f := booked.Load(), full.Load(); b != capacity || f != members-capacity {
		t.Errorf("%d booked and %d told the offer is full, want %d and %d", b, f, capacity, members-capacity)
	}
	n, err := db.Booking.Query().Where(booking.OfferID(o.ID), booking.StatusEQ(booking.StatusCompleted)).Count(ctx)
	apptest.Must(t, err)
	if n != capacity {
		t.Errorf("%d bookings completed, want %d", n, capacity)
	}
	// Delivery of what the rush wrote: a request notice to the cashier per booking, a
	// completion notice per member, welcomes.
	deliver(t, db, rd.URL, queue, api)
	checkNotices(t, ctx, db, capacity, members+1)
	apptest.CheckInvariants(t, ctx, db, api.delivery())
}

// checkNotices: each booking wrote one notification of each kind (the request to the
// cashier, the confirmation and the completion to the member), each member one welcome.
func checkNotices(t *testing.T, ctx context.Context, db *ent.Client, bookings, members int) {
	t.Helper()
	var rows []struct {
		Kind  string `json:"kind"`
		Count int    `json:"count"`
	}
	apptest.Must(t, db.Notification.Query().GroupBy(notification.FieldKind).Aggregate(ent.Count()).Scan(ctx, &rows))
	want := map[string]int{"booking.new": bookings, "booking.confirmed": bookings, "booking.completed": bookings, "welcome": members}
	got := map[string]int{}
	for _, r := range rows {
		got[r.Kind] = r.Count
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%d notifications of kind %s, want %d (all: %v)", got[k], k, n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("notifications by kind: %v, want %v", got, want)
	}
}
