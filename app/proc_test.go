package app_test

// The harness of the tests that run the platform in processes of their own (to kill
// them, or to run several nodes): the test binary re-executed as a server or a worker.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ikra/app"
	"ikra/app/apptest"
	"ikra/app/apptest/tgfake"
	"ikra/app/config"
)

// childEnv marks a re-executed test binary that serves the platform (see TestMain).
const childEnv = "IKRA_TEST_SERVE_CHILD"

// childCmdEnv chooses what the child runs: "serve" (the default) or "worker" (jobs and
// periodic tasks only, like `ikra worker`).
const childCmdEnv = "IKRA_TEST_CHILD_CMD"

// TestMain lets a test run the platform in a process of its own, to kill it: the test
// binary started with childEnv set serves until SIGTERM (or SIGKILL) instead of testing.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(serveChild())
	}
	os.Exit(m.Run())
}

func serveChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	a, err := app.New(ctx, cfg, app.Options{KeyPrefix: os.Getenv("IKRA_TEST_CHILD_PREFIX")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer a.Close()
	run := a.Serve
	if os.Getenv(childCmdEnv) == "worker" {
		run = a.RunWorker
	}
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// server is the platform running as a child process on a fixed loopback address, or a
// worker (childCmdEnv=worker in env, base empty).
type server struct {
	t    *testing.T
	env  []string
	base string
	log  *os.File
	cmd  *exec.Cmd
	exit chan struct{}
	// ready, when set, tells that the process is up instead of /healthz (a worker
	// serves no HTTP).
	ready func() bool
}

func (s *server) start() {
	s.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = s.log, s.log
	apptest.Must(s.t, cmd.Start())
	s.cmd, s.exit = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exit) }()
	if s.base == "" {
		return // a worker: nothing to poll
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if s.ready != nil {
			if s.ready() {
				return
			}
		} else if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.exit:
			s.t.Fatalf("the platform exited at start; its log:\n%s", s.logText())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the platform did not come up; its log:\n%s", s.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL: no deferred function, no graceful shutdown.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exit
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(15 * time.Second):
		s.kill()
	}
}

func (s *server) logText() string {
	b, _ := os.ReadFile(s.log.Name())
	return string(b)
}

// browser is an HTTP client with its own cookies that does not follow redirects and
// keeps trying while the server is down.
type browser struct {
	base string
	hc   *http.Client
	csrf string
	seen *answers // optional: where the answers of 500 and above are counted
}

// answers counts, for the browsers that share it, every attempt and the answers of 500
// and above by status; it keeps a few bodies of answers other than 503.
type answers struct {
	mu       sync.Mutex
	attempts int
	fails    map[int]int
	samples  []string
}

func newAnswers() *answers { return &answers{fails: map[int]int{}} }

func (a *answers) add(status int, body string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.attempts++
	if status < 500 {
		return
	}
	a.fails[status]++
	if status != http.StatusServiceUnavailable && len(a.samples) < 5 {
		a.samples = append(a.samples, fmt.Sprintf("%d: %.300s", status, body))
	}
}

// snapshot returns the attempts so far and the count of each status of 500 and above.
func (a *answers) snapshot() (int, map[int]int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[int]int{}
	for k, v := range a.fails {
		out[k] = v
	}
	return a.attempts, out
}

// interrupted counts requests that got no answer (the server was killed or down).
var interrupted atomic.Int32

func newBrowser(base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{base: base, hc: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends the request until the server answers below 500, and returns that answer.
func (b *browser) do(ctx context.Context, method, path string, form url.Values) (*http.Response, string, error) {
	for {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequestWithContext(ctx, method, b.base+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-CSRF-Token", b.csrf)
		}
		resp, err := b.hc.Do(req)
		if err != nil {
			interrupted.Add(1)
		} else {
			raw, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if b.seen != nil && rerr == nil {
				b.seen.add(resp.StatusCode, string(raw))
			}
			if rerr == nil && resp.StatusCode < 500 {
				return resp, string(raw), nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, "", fmt.Errorf("%s %s: gave up: %w", method, path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// signIn signs in through the Login Widget's redirect, with the same signed query on
// every retry.
func (b *browser) signIn(ctx context.Context, q url.Values) error {
	resp, body, err := b.do(ctx, http.MethodGet, "/auth/telegram?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign-in %s: status %d: %.200s", q.Get("id"), resp.StatusCode, body)
	}
	return nil
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// flashOf reads the flash message a redirect leaves.
func flashOf(resp *http.Response) string {
	for _, c := range resp.Cookies() {
		if c.Name == "ikra_flash" {
			v, _ := url.QueryUnescape(c.Value)
			return v
		}
	}
	return ""
}

// botAPI is a fake Telegram Bot API that records every message it is asked to send.
type botAPI struct {
	mu   sync.Mutex
	sent map[int64][]string // chat → texts
	srv  *httptest.Server
	// delay, when set, is how long a sendMessage takes to be answered after it was
	// received (and recorded); inflight counts the ones waiting to be answered.
	delay    atomic.Int64
	inflight atomic.Int32
}

func newBotAPI(t *testing.T) *botAPI {
	f := &botAPI{sent: map[int64][]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		call, err := tgfake.ReadCall(r)
		if err != nil {
			// A platform killed mid-request leaves a cut body: nothing was sent.
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch call.Method {
		case "sendMessage":
			f.mu.Lock()
			f.sent[call.Int("chat_id")] = append(f.sent[call.Int("chat_id")], call.Str("text"))
			f.mu.Unlock()
			if d := time.Duration(f.delay.Load()); d > 0 {
				f.inflight.Add(1)
				time.Sleep(d)
				f.inflight.Add(-1)
			}
			io.WriteString(w, `{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"}}}`)
		case "getUpdates":
			io.WriteString(w, `{"ok":true,"result":[]}`)
		default:
			io.WriteString(w, `{"ok":true,"result":true}`)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *botAPI) messages() map[int64][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64][]string{}
	for k, v := range f.sent {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// delivery is how many messages each chat received.
func (f *botAPI) delivery() apptest.Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := apptest.Delivery{}
	for k, v := range f.sent {
		out[k] = len(v)
	}
	return out
}

// total is how many messages were received.
func (f *botAPI) total() int {
	n := 0
	for _, v := range f.delivery() {
		n += v
	}
	return n
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	apptest.Must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}
