package loadgen

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Write runs of a load run, each request as a browser or a till sends it.
const (
	// RunBook: a member books an offer (POST /app/offers/:id/book with the session
	// cookie, the CSRF token and a fresh form key); success is the redirect to the
	// member's bookings.
	RunBook = "book"
	// RunComplete: a cashier completes a confirmed booking with the deal's amount in
	// the partner portal (POST /partner/bookings/:code/complete), which credits the
	// cashback; success is the redirect with the "completed" flash.
	RunComplete = "complete"
	// RunAPIComplete: a till completes a booking through the POS/CRM API with its key
	// and an Idempotency-Key; success is 200.
	RunAPIComplete = "api-complete"
)

// RunOptions describe one timed run against a server Prepare's files belong to.
type RunOptions struct {
	Mode     string
	Base     string // e.g. http://127.0.0.1:3096
	Dir      string // Prepare's files
	Conns    int    // concurrent connections, each with one request in flight
	Duration time.Duration
}

// RunResult is what a run measured. Only successful requests count in the latencies;
// every failed one (a transport error, an unexpected status or flash) is an error.
type RunResult struct {
	Requests, Errors int
	Elapsed          time.Duration
	P50, P99         time.Duration
	// Exhausted means the prepared state ran out before the time did.
	Exhausted bool
	FirstErr  string
}

// RPS is successful requests per second.
func (r RunResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
}

// task makes the k-th request and says whether its answer is a success.
type task struct {
	n    int
	make func(k int) (*http.Request, func(*http.Response) error)
}

// Run runs opt.Mode for opt.Duration (or until the prepared state runs out) over
// opt.Conns connections.
func Run(ctx context.Context, opt RunOptions) (RunResult, error) {
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: opt.Conns, MaxConnsPerHost: opt.Conns, DisableCompression: true},
		// A redirect is the answer being measured, never followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	defer client.CloseIdleConnections()
	t, err := prepareTask(ctx, client, opt)
	if err != nil {
		return RunResult{}, err
	}
	var next atomic.Int64
	var mu sync.Mutex
	var res RunResult
	var lat []time.Duration
	start := time.Now()
	deadline := start.Add(opt.Duration)
	var wg sync.WaitGroup
	for range opt.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var errs int
			var first string
			exhausted := false
			for time.Now().Before(deadline) && ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= t.n {
					exhausted = true
					break
				}
				req, check := t.make(k)
				began := time.Now()
				resp, err := client.Do(req.WithContext(ctx))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					err = check(resp)
				}
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				mine = append(mine, time.Since(began))
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.Requests += len(mine) + errs
			res.Errors += errs
			res.Exhausted = res.Exhausted || exhausted
			if res.FirstErr == "" {
				res.FirstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if len(lat) > 0 {
		slices.Sort(lat)
		res.P50 = lat[len(lat)*50/100]
		res.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return res, nil
}

func prepareTask(ctx context.Context, client *http.Client, opt RunOptions) (task, error) {
	switch opt.Mode {
	case RunBook:
		members, err := readLines(opt.Dir, FileMembers)
		if err != nil {
			return task{}, err
		}
		offers, err := readLines(opt.Dir, FileOffers)
		if err != nil {
			return task{}, err
		}
		csrf := make([]string, len(members))
		for i, m := range members {
			if csrf[i], err = csrfOf(ctx, client, opt.Base+"/app/bookings", m[0]); err != nil {
				return task{}, err
			}
		}
		return task{n: len(members) * len(offers), make: func(k int) (*http.Request, func(*http.Response) error) {
			// Consecutive requests book different offers (each member still books each
			// offer at most once): the run is the whole club booking the catalog, not a
			// queue on one offer's row lock.
			m, o := k%len(members), (k/len(members)+k%len(members))%len(offers)
			form := url.Values{"_csrf": {csrf[m]}, "key": {randomHex(12)}, "date": {""}, "comment": {""}}
			req := formRequest(opt.Base+"/app/offers/"+offers[o][0]+"/book", form, members[m][0])
			return req, expectRedirect("/app/bookings", "ok%7Cflash.booked")
		}}, nil
	case RunComplete:
		cashiers, err := readLines(opt.Dir, FileCashiers)
		if err != nil {
			return task{}, err
		}
		codes, err := readLines(opt.Dir, FileCodesWeb)
		if err != nil {
			return task{}, err
		}
		type who struct{ token, csrf string }
		by := map[string]who{}
		for _, c := range cashiers {
			tok, err := csrfOf(ctx, client, opt.Base+"/partner", c[1])
			if err != nil {
				return task{}, err
			}
			by[c[0]] = who{c[1], tok}
		}
		return task{n: len(codes), make: func(k int) (*http.Request, func(*http.Response) error) {
			pid, code := codes[k][0], codes[k][1]
			w := by[pid]
			form := url.Values{"_csrf": {w.csrf}, "amount": {fmt.Sprint(5000 + k%20000)}}
			req := formRequest(opt.Base+"/partner/bookings/"+code+"/complete", form, w.token)
			return req, expectRedirect("/partner/bookings/"+code, "ok%7Cflash.booking_completed")
		}}, nil
	case RunAPIComplete:
		keys, err := readLines(opt.Dir, FileKeys)
		if err != nil {
			return task{}, err
		}
		codes, err := readLines(opt.Dir, FileCodesAPI)
		if err != nil {
			return task{}, err
		}
		by := map[string]string{}
		for _, k := range keys {
			by[k[0]] = k[1]
		}
		return task{n: len(codes), make: func(k int) (*http.Request, func(*http.Response) error) {
			pid, code := codes[k][0], codes[k][1]
			body := fmt.Sprintf(`{"amount": %d}`, 100*(5000+k%20000))
			req, _ := http.NewRequest(http.MethodPost, opt.Base+"/api/partner/v1/bookings/"+code+"/complete", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+by[pid])
			req.Header.Set("Idempotency-Key", randomHex(16))
			req.Header.Set("Content-Type", "application/json")
			return req, func(r *http.Response) error {
				if r.StatusCode != http.StatusOK {
					return fmt.Errorf("%s: status %d", req.URL.Path, r.StatusCode)
				}
				return nil
			}
		}}, nil
	}
	return task{}, fmt.Errorf("loadgen: unknown run %q (want %s, %s or %s)", opt.Mode, RunBook, RunComplete, RunAPIComplete)
}

func formRequest(u string, form url.Values, session string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "ikra_session="+session)
	return req
}

// expectRedirect checks a post/redirect/get answer: 303 to location with the flash.
func expectRedirect(location, flash string) func(*http.Response) error {
	return func(r *http.Response) error {
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != location {
			return fmt.Errorf("%s: status %d to %q (%q), want 303 to %q", r.Request.URL.Path, r.StatusCode, r.Header.Get("Location"), r.Header.Values("Set-Cookie"), location)
		}
		for _, c := range r.Header.Values("Set-Cookie") {
			if strings.Contains(c, flash) {
				return nil
			}
		}
		return fmt.Errorf("no %q flash in %q", flash, r.Header.Values("Set-Cookie"))
	}
}

var csrfMeta = regexp.MustCompile(`name="csrf-token" content="([^"]+)"`)

// csrfOf reads the CSRF token a signed-in page carries, as a browser's script does.
func csrfOf(ctx context.Context, client *http.Client, u, session string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Cookie", "ikra_session="+session)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	m := csrfMeta.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("loadgen: %s answers %d without a CSRF token", u, resp.StatusCode)
	}
	return string(m[1]), nil
}

func readLines(dir, name string) ([][]string, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 0 {
			out = append(out, fs)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("loadgen: " + name + " is empty")
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
