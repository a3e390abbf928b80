package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/apptest"
	"ikra/app/apptest/tgfake"
	"ikra/app/kv"
	"ikra/app/store"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/ent/staff"
	"ikra/jobs"
)

// The deployment of the README's "Deploying" section, in small: two web nodes (`serve`
// with IKRA_WORKER=0) and one worker (`worker`) on one PostgreSQL database and one
// Redis, behind a "load balancer" (the test, which sends each request to either node
// and names the client in X-Forwarded-For). What one node does, the other sees at once.
func TestTwoWebNodesAndAWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes")
	}
	apptest.RequireServices(t) // in CI a missing service fails the test
	redisURL := os.Getenv("IKRA_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("IKRA_TEST_REDIS_URL not set: nodes share nothing without Redis")
	}
	dbURL := apptest.PostgresDatabase(t)
	ctx := context.Background()
	bot := tgfake.Start(t, apptest.BotToken)
	prefix := fmt.Sprintf("tn%d:", time.Now().UnixNano())
	queue := strings.TrimSuffix(prefix, ":")
	t.Cleanup(func() { apptest.DropKeys(redisURL, prefix) })
	const (
		adminTG   = 9_600_001
		hookToken = "nodes-test-hook"
		authLimit = 4 // sign-in attempts per client address per minute, on all nodes together
	)
	common := []string{
		childEnv + "=1", "IKRA_TEST_CHILD_PREFIX=" + prefix,
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + redisURL,
		"TELEGRAM_BOT_TOKEN=" + apptest.BotToken, "TELEGRAM_BOT_USERNAME=ikra_test_bot",
		"TELEGRAM_API_URL=" + bot.URL, "TELEGRAM_WEBHOOK_SECRET=" + hookToken,
		"IKRA_SESSION_SECRET=nodes-test-session-secret-0123456789abcdef",
		"IKRA_WORKER=0", "IKRA_DEMO=0", "IKRA_LOG_LEVEL=warn", "IKRA_SUPERADMINS=" + apptest.Itoa64(adminTG),
		"IKRA_TRUSTED_PROXIES=127.0.0.1", "IKRA_RATE_AUTH=" + strconv.Itoa(authLimit),
		"IKRA_RATE_MEMBER=1000000", "IKRA_RATE_WRITE=1000000",
	}
	logDir := t.TempDir()
	process := func(name string, extra ...string) *server {
		f, err := os.Create(logDir + "/" + name + ".log")
		apptest.Must(t, err)
		t.Cleanup(func() { f.Close() })
		env := append(append([]string{"IKRA_DATA_DIR=" + t.TempDir()}, common...), extra...)
		return &server{t: t, env: append(os.Environ(), env...), log: f}
	}
	var started []*server
	names := map[*server]string{}
	run := func(name string, s *server) {
		names[s] = name
		s.start()
		started = append(started, s)
	}
	t.Cleanup(func() {
		for _, s := range started {
			s.stop()
		}
		if t.Failed() {
			for _, s := range started {
				t.Logf("log of %s:\n%s", names[s], s.logText())
			}
		}
	})
	addrA, addrB := freePort(t), freePort(t)
	nodeA := process("node-a", "IKRA_ADDR="+addrA)
	nodeA.base = "http://" + addrA
	nodeB := process("node-b", "IKRA_ADDR="+addrB)
	nodeB.base = "http://" + addrB
	run("node A", nodeA) // the first start applies the schema; the others find it done
	run("node B", nodeB)

	r, err := kv.Open(ctx, redisURL)
	apptest.Must(t, err)
	defer r.Close()
	inspector := asynq.NewInspector(r.Queue)
	defer inspector.Close()
	workersUp := func(n int) func() bool {
		return func() bool {
			servers, err := inspector.Servers()
			if err != nil {
				return false
			}
			up := 0
			for _, s := range servers {
				if _, ok := s.Queues[queue]; ok && s.Status == "active" {
					up++
				}
			}
			return up == n
		}
	}
	workerStart := time.Now()
	worker := process("worker", "IKRA_TEST_CHILD_CMD=worker")
	worker.ready = workersUp(1)
	run("worker", worker)

	db, err := store.Open(ctx, dbURL, "")
	apptest.Must(t, err)
	defer db.Close()
	nodes := []*server{nodeA, nodeB}
	var addrs atomic.Int32
	newVisitor := func(t *testing.T) *visitor {
		jar, _ := cookiejar.New(nil) // cookies do not depend on the port: both nodes get them
		n := addrs.Add(1)
		return &visitor{t: t, ip: fmt.Sprintf("10.20.%d.%d", n/250, n%250+1),
			hc: &http.Client{Jar: jar, Timeout: 20 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	}
	memberID := func(tg int64) int {
		m, err := db.Member.Query().Where(member.TelegramID(tg)).Only(ctx)
		apptest.Must(t, err)
		return m.ID
	}
	admin := newVisitor(t)
	admin.signIn(nodeA, adminTG, "Admin")
	admin.csrfFrom(nodeB, "/admin")

	t.Run("sessions", func(t *testing.T) {
		v := newVisitor(t)
		v.signIn(nodeA, 9_600_101, "Aida")
		if resp, body := v.get(nodeB, "/api/v1/me"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Aida") {
			t.Fatalf("node B with node A's cookie: %d %.200s", resp.StatusCode, body)
		}
		v.csrfFrom(nodeB, "/app/settings")
		site := &url.URL{Scheme: "http", Host: "127.0.0.1", Path: "/"}
		cookies := v.hc.Jar.Cookies(site)
		if resp, _ := v.post(nodeB, "/logout", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out on node B: %d", resp.StatusCode)
		}
		// The browser offers the old cookie again: node A must refuse it.
		v.hc.Jar.SetCookies(site, cookies)
		if resp, body := v.get(nodeA, "/api/v1/me"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("node A after sign-out on node B: %d %.200s", resp.StatusCode, body)
		}
	})

	t.Run("csrf", func(t *testing.T) {
		v := newVisitor(t)
		v.signIn(nodeB, 9_600_102, "Bota")
		v.csrfFrom(nodeA, "/app/settings")
		if resp, _ := v.post(nodeB, "/lang", url.Values{"lang": {"kk"}, "next": {"/app/settings"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("node A's token on node B: %d", resp.StatusCode)
		}
		good := v.csrf
		v.csrf = good[:len(good)-2] + "xx"
		for _, n := range nodes {
			if resp, _ := v.post(n, "/lang", url.Values{"lang": {"en"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("a forged token on %s: %d, want 403", names[n], resp.StatusCode)
			}
		}
		if m, err := db.Member.Get(ctx, memberID(9_600_102)); err != nil || m.Language != "kk" {
			t.Fatalf("language after the forged posts: %q (%v), want kk", m.Language, err)
		}
	})

	t.Run("rate limits", func(t *testing.T) {
		v := newVisitor(t)
		var refused []int
		for i := range 2 * authLimit {
			resp, _ := v.get(nodes[i%2], "/auth/telegram?id=1&hash=00")
			if resp.StatusCode == http.StatusTooManyRequests {
				if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
					t.Errorf("attempt %d: 429 with Retry-After %q", i+1, resp.Header.Get("Retry-After"))
				}
				refused = append(refused, i+1)
			}
		}
		// The limit refills one attempt every 60/authLimit seconds, far longer than
		// the attempts take: the shared bucket admits exactly authLimit of them.
		if len(refused) != authLimit || refused[0] != authLimit+1 {
			t.Fatalf("of %d attempts alternating between the nodes, refused: %v; want %d..%d",
				2*authLimit, refused, authLimit+1, 2*authLimit)
		}
	})

	t.Run("permission changes", func(t *testing.T) {
		admin := admin.in(t)
		const tg = 9_600_103
		v := newVisitor(t)
		v.signIn(nodeA, tg, "Dana")
		id := memberID(tg)
		if resp, _ := v.get(nodeB, "/admin/members"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a member without a role: %d on /admin/members", resp.StatusCode)
		}
		// Each round: granted on one node, used on the other; revoked there, refused
		// on the first.
		for round := range 3 {
			grantOn, useOn := nodes[round%2], nodes[(round+1)%2]
			resp, _ := admin.post(grantOn, "/admin/staff", url.Values{"telegram_id": {apptest.Itoa64(tg)}, "role": {"support"}})
			if f := flashOf(resp); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(f, "ok|") {
				t.Fatalf("round %d: grant on %s: %d %q", round, names[grantOn], resp.StatusCode, f)
			}
			if resp, _ := v.get(useOn, "/admin/members"); resp.StatusCode != http.StatusOK {
				t.Fatalf("round %d: granted on %s, the next request on %s: %d", round, names[grantOn], names[useOn], resp.StatusCode)
			}
			row, err := db.Staff.Query().Where(staff.MemberID(id), staff.RoleEQ(staff.RoleSupport)).Only(ctx)
			apptest.Must(t, err)
			resp, _ = admin.post(useOn, "/admin/staff/"+apptest.Itoa(row.ID)+"/revoke", url.Values{})
			if f := flashOf(resp); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(f, "ok|") {
				t.Fatalf("round %d: revoke on %s: %d %q", round, names[useOn], resp.StatusCode, f)
			}
			if resp, _ := v.get(grantOn, "/admin/members"); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("round %d: revoked on %s, the next request on %s: %d", round, names[useOn], names[grantOn], resp.StatusCode)
			}
		}
	})

	t.Run("maintenance mode", func(t *testing.T) {
		admin := admin.in(t)
		v := newVisitor(t)
		v.signIn(nodeA, 9_600_104, "Erlan")
		for round := range 2 {
			onNode, offNode := nodes[round%2], nodes[(round+1)%2]
			resp, _ := admin.post(onNode, "/admin/maintenance", url.Values{"on": {"1"}, "message": {"Плановые работы"}})
			if f := flashOf(resp); resp.StatusCode != http.StatusSeeOther || f != "ok|flash.maintenance_on" {
				t.Fatalf("maintenance on, on %s: %d %q", names[onNode], resp.StatusCode, f)
			}
			resp, body := v.get(offNode, "/app/settings")
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Плановые работы") {
				t.Fatalf("turned on on %s, a member on %s: %d (Retry-After %q) %.300s", names[onNode], names[offNode], resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			resp, _ = admin.post(offNode, "/admin/maintenance", url.Values{"on": {"0"}})
			if f := flashOf(resp); resp.StatusCode != http.StatusSeeOther || f != "ok|flash.maintenance_off" {
				t.Fatalf("maintenance off, on %s: %d %q", names[offNode], resp.StatusCode, f)
			}
			if resp, body := v.get(onNode, "/app/settings"); resp.StatusCode != http.StatusOK {
				t.Fatalf("turned off on %s, a member on %s: %d %.300s", names[offNode], names[onNode], resp.StatusCode, body)
			}
		}
	})

	t.Run("bot update de-duplication", func(t *testing.T) {
		const chat = 9_600_105
		update := func(id int) string {
			return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":%d,"from":{"id":%d,"is_bot":false,"first_name":"Gulnar"},"chat":{"id":%d,"type":"private"},"text":"/help"}}`,
				id, id, time.Now().Unix(), chat, chat)
		}
		v := newVisitor(t)
		post := func(n *server, body string) {
			req, _ := http.NewRequest(http.MethodPost, n.base+"/telegram/webhook/"+hookToken, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", hookToken)
			resp, _ := v.do(req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("webhook on %s: %d", names[n], resp.StatusCode)
			}
		}
		sent := func() int {
			n := 0
			for _, c := range bot.Calls("sendMessage") {
				if c.Int("chat_id") == chat {
					n++
				}
			}
			return n
		}
		post(nodeA, update(700_001))
		post(nodeB, update(700_001)) // Telegram's redelivery, which the balancer sent elsewhere
		post(nodeA, update(700_001))
		if n := sent(); n != 1 {
			t.Fatalf("one update posted to both nodes was answered %d times", n)
		}
		post(nodeB, update(700_002))
		if n := sent(); n != 2 {
			t.Fatalf("after a second update: %d answers, want 2", n)
		}
	})

	t.Run("the worker delivers", func(t *testing.T) {
		admin := admin.in(t)
		const tg = 9_600_106
		v := newVisitor(t)
		v.signIn(nodeB, tg, "Zhanna")
		id := memberID(tg)
		form := url.Values{"amount": {"100"}, "reason": {"nodes test"}, "key": {fmt.Sprintf("%032x", tg)}}
		resp, body := admin.post(nodeA, "/admin/members/"+apptest.Itoa(id)+"/annul", form)
		if f := flashOf(resp); resp.StatusCode != http.StatusSeeOther || f != "ok|flash.annulled" {
			t.Fatalf("annulment on node A: %d %q %.200s", resp.StatusCode, f, body)
		}
		// The welcome (signing up on B) and the annulment (on A) are delivered by the
		// worker process: the web nodes run no worker.
		deadline := time.Now().Add(20 * time.Second)
		for {
			left, err := db.Notification.Query().Where(notification.MemberID(id), notification.TelegramSentAtIsNil()).Count(ctx)
			apptest.Must(t, err)
			all, err := db.Notification.Query().Where(notification.MemberID(id)).Count(ctx)
			apptest.Must(t, err)
			if left == 0 && all == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d notifications still unsent", left, all)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond) // a second delivery, if any, would happen now
		var welcome, annulled int
		for _, c := range bot.Calls("sendMessage") {
			if c.Int("chat_id") != tg {
				continue
			}
			switch text := c.Str("text"); {
			case strings.Contains(text, "Бонусы аннулированы"):
				annulled++
			case strings.Contains(text, "Добро пожаловать в ИКРА"):
				welcome++
			default:
				t.Errorf("unexpected message: %.100s", text)
			}
		}
		if welcome != 1 || annulled != 1 {
			t.Fatalf("sent %d welcomes and %d annulment notices, want 1 and 1", welcome, annulled)
		}
	})

	t.Run("periodic jobs once per tick", func(t *testing.T) {
		// A second worker for a while: both schedule every periodic task.
		second := process("worker-2", "IKRA_TEST_CHILD_CMD=worker")
		second.ready = workersUp(2)
		run("worker 2", second)
		time.Sleep(time.Second) // it enqueues its ticks as it starts
		second.stop()
		specs := jobs.DefaultPeriodic()
		every := map[string]time.Duration{}
		for _, p := range specs {
			every[p.Type] = p.Every
		}
		// Every task of the current ticks has run (or failed) before counting.
		var runs map[string]int
		deadline := time.Now().Add(20 * time.Second)
		for {
			runs = map[string]int{}
			busy := 0
			for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
				inspector.ListPendingTasks, inspector.ListActiveTasks, inspector.ListScheduledTasks,
				inspector.ListRetryTasks, inspector.ListArchivedTasks, inspector.ListCompletedTasks,
			} {
				tasks, err := list(queue, asynq.PageSize(1000))
				apptest.Must(t, err)
				for _, ti := range tasks {
					if _, ok := every[ti.Type]; !ok {
						continue
					}
					if ti.State == asynq.TaskStateCompleted || ti.State == asynq.TaskStateArchived {
						runs[ti.Type]++
					} else {
						busy++
					}
				}
			}
			if busy == 0 && len(runs) == len(specs) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("periodic tasks: %d still to run; ran: %v", busy, runs)
			}
			time.Sleep(100 * time.Millisecond)
		}
		now := time.Now()
		for _, p := range specs {
			// The ticks the first worker lived through; each runs once, whatever the
			// number of workers.
			ticks := int(now.Truncate(p.Every).Sub(workerStart.Truncate(p.Every))/p.Every) + 1
			if runs[p.Type] < 1 || runs[p.Type] > ticks {
				t.Errorf("%s ran %d times over %d ticks", p.Type, runs[p.Type], ticks)
			}
		}
	})
}

// visitor is a browser behind the load balancer: its cookies go to whichever node
// answers, and the balancer names its address in X-Forwarded-For.
type visitor struct {
	t    *testing.T
	hc   *http.Client
	ip   string
	csrf string
}

// in is the same browser, failing test t.
func (v *visitor) in(t *testing.T) *visitor {
	c := *v
	c.t = t
	return &c
}

func (v *visitor) do(req *http.Request) (*http.Response, string) {
	v.t.Helper()
	req.Header.Set("X-Forwarded-For", v.ip)
	if v.csrf != "" && req.Method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", v.csrf)
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.Path, err)
	}
	return resp, string(body)
}

func (v *visitor) get(n *server, path string) (*http.Response, string) {
	v.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.base+path, nil)
	return v.do(req)
}

func (v *visitor) post(n *server, path string, form url.Values) (*http.Response, string) {
	v.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, n.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req)
}

// signIn signs in through the Login Widget's redirect on node n.
func (v *visitor) signIn(n *server, tg int64, name string) {
	v.t.Helper()
	resp, body := v.get(n, "/auth/telegram?"+apptest.WidgetQuery(tg, name, time.Now()).Encode())
	if resp.StatusCode != http.StatusSeeOther {
		v.t.Fatalf("sign-in of %d on %s: %d %.200s", tg, n.base, resp.StatusCode, body)
	}
}

// csrfFrom reads the CSRF token of the session from a page of node n.
func (v *visitor) csrfFrom(n *server, path string) {
	v.t.Helper()
	resp, body := v.get(n, path)
	m := csrfMeta.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		v.t.Fatalf("no CSRF token on %s%s: %d %.200s", n.base, path, resp.StatusCode, body)
	}
	v.csrf = m[1]
}
