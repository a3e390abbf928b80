package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/ledgerentry"
	"ikra/ent/offer"
)

// PostgreSQL stopped (then crashed) for a few seconds in the middle of a booking rush and of the
// cashier's completions, then started again, with the platform left running: during
// the outage pages and the API answer 503 with the clear page (never 500) and /readyz
// answers 503 naming the database, promptly; afterwards everything works again, and
// every member's balance is the sum of their entries, nothing was credited twice and
// the offer holds no more bookings than its capacity.
func TestPostgresRestartDuringBookings(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and starts a PostgreSQL server")
	}
	pg := apptest.PrivatePostgres(t)
	env := apptest.New(t, apptest.WithEnv("DATABASE_URL", pg.URL))
	ctx := context.Background()
	db := env.App.DB.Client
	place := env.Place()
	p := env.Partner(place, "Кофейня")
	const capacity, members = 40, 60
	o := env.Offer(place, p.ID, "Кофе со скидкой", func(c *ent.OfferCreate) {
		c.SetCapacity(capacity).SetPerMemberLimit(1).SetCashbackBp(1000)
	})
	_, cm := env.Member(9_600_000, "Кассир")
	_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, cm.ID, "cashier", &p.ID)
	apptest.Must(t, err)

	seen := newAnswers()
	browse := func() *browser { b := newBrowser(env.Server.URL); b.seen = seen; return b }
	runCtx, cancel := context.WithTimeout(ctx, 75*time.Second)
	defer cancel()

	// Members: sign in, open the offer, book it with a key kept across retries.
	var booked, full, done atomic.Int32
	errs := make(chan error, members+1)
	wg := bookAll(runCtx, members, browse, 9_610_000, o.ID, &booked, &full, &done, errs)

	// The cashier confirms and completes every booking the members show.
	cashier := browse()
	apptest.Must(t, cashier.signIn(runCtx, apptest.WidgetQuery(9_600_000, "Кассир", time.Now())))
	var completed atomic.Int32
	cashierDone := make(chan struct{})
	go func() {
		defer close(cashierDone)
		if err := counter(runCtx, cashier, db, o.ID, func() bool { return done.Load() == members }, &completed); err != nil {
			errs <- fmt.Errorf("cashier: %w", err)
		}
	}()

	// Two outages: a fast shutdown a third of the way through the rush, a crash (no
	// checkpoint, recovery from the log) two thirds of the way.
	probe := browse()
	apptest.Must(t, probe.signIn(runCtx, apptest.WidgetQuery(9_600_001, "Наблюдатель", time.Now())))
	for k, outage := range []struct {
		name string
		stop func()
	}{{"shut down", pg.Stop}, {"crashed", pg.Crash}} {
		for done.Load() < int32(members*(k+1)/3) && runCtx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		attempts0, fails0 := seen.snapshot()
		completed0 := completed.Load()
		const down = 4 * time.Second
		outage.stop()
		stopped := time.Now()
		pages, readyz := outageProbes(t, env.Server.URL, probe, down)
		pg.Start()
		started := time.Now()
		recovered := waitReady(t, env.Server.URL, started)
		attempts1, fails1 := seen.snapshot()
		t.Logf("PostgreSQL %s for %.1fs with %d bookings made and %d completed: %d attempts by members and the cashier "+
			"during it, answers of 500+: %v (before: %v); probes: %d pages and API calls answered 503, %d /readyz answered 503 "+
			"(slowest %v); /readyz 200 again %v after PostgreSQL accepted connections",
			outage.name, started.Sub(stopped).Seconds(), booked.Load(), completed0, attempts1-attempts0, fails1, fails0, pages,
			readyz.n, readyz.slowest.Round(time.Millisecond), recovered.Round(time.Millisecond))
	}

	wg.Wait()
	<-cashierDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, fails := seen.snapshot()
	for status, n := range fails {
		if status != http.StatusServiceUnavailable {
			t.Errorf("%d answers with status %d (samples: %q)", n, status, seen.samples)
		}
	}
	if t.Failed() {
		return
	}

	// Everything works after the outage, in the same process.
	if b, f := booked.Load(), full.Load(); b != capacity || f != members-capacity {
		t.Errorf("%d booked and %d told the offer is full, want %d and %d", b, f, capacity, members-capacity)
	}
	n, err := db.Booking.Query().Where(booking.OfferID(o.ID), booking.StatusEQ(booking.StatusCompleted)).Count(ctx)
	apptest.Must(t, err)
	cashbacks, err := db.LedgerEntry.Query().Where(ledgerentry.KindEQ(ledgerentry.KindCashback)).Count(ctx)
	apptest.Must(t, err)
	if n != capacity || cashbacks != capacity {
		t.Errorf("%d bookings completed with %d cashback credits, want %d of each", n, cashbacks, capacity)
	}
	left, err := db.Offer.Query().Where(offer.ID(o.ID)).Only(ctx)
	apptest.Must(t, err)
	if left.BookingsCount != capacity {
		t.Errorf("the offer counts %d bookings, want %d", left.BookingsCount, capacity)
	}
	apptest.CheckInvariants(t, ctx, db, nil)
}

// bookOnce signs a member in and books the offer with key until the platform answers
// bookAll has members (Telegram IDs tgBase+i) book the offer from 6 clients at once,
// each with its own key kept across retries, counting into booked, full and done; a
// failure goes to errs. Wait on the returned group.
func bookAll(ctx context.Context, members int, client func() *browser, tgBase int64, offerID int,
	booked, full, done *atomic.Int32, errs chan<- error) *sync.WaitGroup {
	work := make(chan int, members)
	for i := range members {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := bookOnce(ctx, client(), tgBase+int64(i), offerID, fmt.Sprintf("%032x", i+1), booked, full); err != nil {
					errs <- fmt.Errorf("member %d: %w", i, err)
				}
				done.Add(1)
			}
		}()
	}
	return &wg
}

// with the booking or with "full", retrying every failed attempt as it is.
func bookOnce(ctx context.Context, b *browser, tg int64, offerID int, key string, booked, full *atomic.Int32) error {
	if err := b.signIn(ctx, apptest.WidgetQuery(tg, fmt.Sprint("Участник", tg), time.Now())); err != nil {
		return err
	}
	path := "/app/offers/" + apptest.Itoa(offerID)
	if err := b.loadCSRF(ctx, path); err != nil {
		return err
	}
	resp, body, err := b.do(ctx, http.MethodPost, path+"/book", url.Values{"key": {key}, "_csrf": {b.csrf}})
	if err != nil {
		return err
	}
	switch f := flashOf(resp); {
	case resp.StatusCode == http.StatusSeeOther && f == "ok|flash.booked":
		booked.Add(1)
	case resp.StatusCode == http.StatusSeeOther && f == "error|flash.booking_full":
		full.Add(1)
	default:
		return fmt.Errorf("book: status %d, flash %q: %.200s", resp.StatusCode, f, body)
	}
	return nil
}

// loadCSRF opens a page and keeps its CSRF token.
func (b *browser) loadCSRF(ctx context.Context, path string) error {
	resp, page, err := b.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	m := csrfMeta.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("GET %s: status %d without a CSRF token", path, resp.StatusCode)
	}
	b.csrf = m[1]
	return nil
}

// counter is the cashier: every booking of the offer that is requested gets confirmed
// and completed with a 5 000 ₸ deal, until finished says the members are done and no
// booking waits. The codes are read from the database, as the members show them.
func counter(ctx context.Context, b *browser, db *ent.Client, offerID int, finished func() bool, completed *atomic.Int32) error {
	if err := b.loadCSRF(ctx, "/partner/bookings"); err != nil {
		return err
	}
	for {
		last := finished()
		open, err := db.Booking.Query().Where(booking.OfferID(offerID),
			booking.StatusIn(booking.StatusRequested, booking.StatusConfirmed)).All(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			time.Sleep(50 * time.Millisecond) // the database is down: the queue waits
			continue
		}
		if last && len(open) == 0 {
			return nil
		}
		for _, bk := range open {
			base := "/partner/bookings/" + bk.Code
			if bk.Status == booking.StatusRequested {
				if err := b.act(ctx, db, bk.ID, base+"/confirm", nil, "ok|flash.booking_confirmed", booking.StatusConfirmed); err != nil {
					return err
				}
			}
			if err := b.act(ctx, db, bk.ID, base+"/complete", url.Values{"amount": {"5000"}}, "ok|flash.booking_completed", booking.StatusCompleted); err != nil {
				return err
			}
			completed.Add(1)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// act posts one of the counter's actions until it is answered. A retry of an action
// whose first attempt was done (its answer lost to the outage) is refused as not
// possible in the booking's status: then the booking must show that status.
func (b *browser) act(ctx context.Context, db *ent.Client, id int, path string, form url.Values, ok string, status booking.Status) error {
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", b.csrf)
	resp, body, err := b.do(ctx, http.MethodPost, path, form)
	if err != nil {
		return err
	}
	f := flashOf(resp)
	if resp.StatusCode == http.StatusSeeOther && f == ok {
		return nil
	}
	if resp.StatusCode == http.StatusSeeOther && f == "error|flash.booking_transition" {
		bk, err := db.Booking.Get(ctx, id)
		if err == nil && bk.Status == status {
			return nil
		}
	}
	return fmt.Errorf("POST %s: status %d, flash %q: %.200s", path, resp.StatusCode, f, body)
}

// readyProbes is what the /readyz probes saw: how many, and the slowest.
type readyProbes struct {
	n       int
	slowest time.Duration
}

// outageProbes watches the site for down: a signed-in member's pages and the API must
// answer 503 with the clear page and Retry-After, /readyz 503 naming the database,
// each within a few seconds. It returns how many pages and /readyz answers it saw.
func outageProbes(t *testing.T, base string, member *browser, down time.Duration) (pages int, ready readyProbes) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	for end := time.Now().Add(down); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		start := time.Now()
		resp, err := hc.Get(base + "/readyz")
		took := time.Since(start)
		if err != nil {
			t.Errorf("/readyz with the database down: %v", err)
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got map[string]string
		_ = json.Unmarshal(raw, &got)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(got["database"], "fail") || took > 5*time.Second {
			t.Errorf("/readyz with the database down: %d in %v: %s", resp.StatusCode, took, raw)
		}
		ready.n++
		ready.slowest = max(ready.slowest, took)

		for _, path := range []string{"/app/bookings", "/api/v1/me"} {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			resp, err := member.hc.Do(req)
			if err != nil {
				t.Errorf("GET %s with the database down: %v", path, err)
				continue
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := "Сервис временно недоступен"
			if strings.HasPrefix(path, "/api/") {
				want = `"code":"unavailable"`
			}
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(raw), want) {
				t.Errorf("GET %s with the database down: %d, Retry-After %q: %.300s", path, resp.StatusCode, resp.Header.Get("Retry-After"), raw)
			}
			pages++
		}
	}
	return pages, ready
}

// waitReady waits until /readyz answers 200 and returns how long after since that was.
func waitReady(t *testing.T, base string, since time.Time) time.Duration {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := hc.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(since)
			}
		}
	}
	t.Fatal("/readyz did not answer 200 within 30s of the restart")
	return 0
}
