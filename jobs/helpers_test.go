package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"ikra/app/apptest/tgfake"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/i18n"
	"ikra/app/kv"
	"ikra/app/notify"
	"ikra/app/store"
	"ikra/app/tgapi"
	"ikra/ent"
	"ikra/ent/member"
)

const testToken = "777000:TEST-bot-token-secret"

// eachRedis runs fn against the embedded Redis and, when IKRA_TEST_REDIS_URL names one,
// against a real Redis, each time on a queue of its own.
func eachRedis(t *testing.T, fn func(t *testing.T, r *kv.Redis, queue string)) {
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		r := openRedis(t, "")
		fn(t, r, queueName(t, r))
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		url := os.Getenv("IKRA_TEST_REDIS_URL")
		if url == "" {
			if os.Getenv("CI") != "" {
				t.Fatal("CI is set but IKRA_TEST_REDIS_URL is empty: the real-Redis tests must run in CI")
			}
			t.Skip("IKRA_TEST_REDIS_URL not set")
		}
		r := openRedis(t, url)
		fn(t, r, queueName(t, r))
	})
}

func openRedis(t *testing.T, url string) *kv.Redis {
	t.Helper()
	r, err := kv.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// queueName is unique per test run, so parallel tests and runs never share a queue on
// a real Redis; the queue is deleted when the test ends.
func queueName(t *testing.T, r *kv.Redis) string {
	b := make([]byte, 6)
	rand.Read(b)
	name := "test-" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		in := asynq.NewInspectorFromRedisClient(r.Client)
		if err := in.DeleteQueue(name, true); err != nil && !strings.Contains(err.Error(), "not found") {
			t.Logf("delete queue %s: %v", name, err)
		}
		// DeleteQueue leaves completed tasks and counters behind.
		iter := r.Scan(ctx, 0, "asynq:{"+name+"}:*", 100).Iterator()
		for iter.Next(ctx) {
			r.Del(ctx, iter.Val())
		}
	})
	return name
}

func openDB(t *testing.T) *ent.Client {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// ent's migration rewrites package-level table descriptions: two at once in one
	// process race, so parallel tests take turns.
	migrateMu.Lock()
	err = db.Migrate(ctx)
	migrateMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return db.Client
}

var migrateMu sync.Mutex

var memberSeq atomic.Int64

func addMember(t *testing.T, db *ent.Client, telegramID int64, status member.Status, lang string) *ent.Member {
	t.Helper()
	c := db.Member.Create().
		SetReferralCode(fmt.Sprintf("REF%d", memberSeq.Add(1))).
		SetStatus(status).
		SetLanguage(lang)
	if telegramID != 0 {
		c.SetTelegramID(telegramID)
	}
	m, err := c.Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// logBuffer collects log output so tests can check it never holds a secret.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// sentMessage is a sendMessage request the fake Bot API received.
type sentMessage struct {
	ChatID      int64  `json:"chat_id,string"`
	Text        string `json:"text"`
	ParseMode   string `json:"parse_mode"`
	ReplyMarkup struct {
		InlineKeyboard [][]struct {
			Text string `json:"text"`
			URL  string `json:"url"`
		} `json:"inline_keyboard"`
	} `json:"reply_markup"`
}

// reply is one scripted answer of the fake Bot API.
type reply struct {
	status int
	body   string
	hang   bool // never answer (until the client gives up)
}

var (
	replyOK        = reply{status: 200, body: `{"ok":true,"result":{"message_id":1}}`}
	reply500       = reply{status: 500, body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`}
	reply403       = reply{status: 403, body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`}
	replyNoChat    = reply{status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`}
	replyFlood     = reply{status: 429, body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`}
	replyHang      = reply{hang: true}
	fakeBotTimeout = 300 * time.Millisecond
)

// fakeBot is a Bot API server that answers from a script (then ok) and records the
// messages it accepted. It listens on a fixed address so that it can go down and come
// back.
type fakeBot struct {
	t      *testing.T
	addr   string
	mu     sync.Mutex
	srv    *httptest.Server
	script []reply
	calls  int
	sent   []sentMessage
}

func newFakeBot(t *testing.T) *fakeBot {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fb := &fakeBot{t: t, addr: l.Addr().String()}
	fb.serve(l)
	t.Cleanup(fb.down)
	return fb
}

func (fb *fakeBot) serve(l net.Listener) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(fb.handle))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	fb.mu.Lock()
	fb.srv = srv
	fb.mu.Unlock()
}

// down stops the server: connections are refused until up.
func (fb *fakeBot) down() {
	fb.mu.Lock()
	srv := fb.srv
	fb.srv = nil
	fb.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// up listens again on the same address.
func (fb *fakeBot) up() {
	l, err := net.Listen("tcp", fb.addr)
	if err != nil {
		fb.t.Fatalf("fake bot cannot listen again on %s: %v", fb.addr, err)
	}
	fb.serve(l)
}

func (fb *fakeBot) then(rs ...reply) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	fb.script = append(fb.script, rs...)
}

func (fb *fakeBot) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/bot"+testToken+"/sendMessage" {
		http.NotFound(w, r)
		return
	}
	call, err := tgfake.ReadCall(r)
	if err != nil {
		fb.t.Errorf("fake bot: bad request: %v", err)
	}
	body, _ := json.Marshal(call.Params)
	fb.mu.Lock()
	fb.calls++
	rep := replyOK
	if len(fb.script) > 0 {
		rep, fb.script = fb.script[0], fb.script[1:]
	}
	if rep.status == http.StatusOK {
		var m sentMessage
		if err := json.Unmarshal(body, &m); err != nil {
			fb.t.Errorf("fake bot: bad body %s", body)
		}
		fb.sent = append(fb.sent, m)
	}
	fb.mu.Unlock()
	if rep.hang {
		<-r.Context().Done()
		return
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (fb *fakeBot) messages() []sentMessage {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return append([]sentMessage(nil), fb.sent...)
}

func (fb *fakeBot) callCount() int {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return fb.calls
}

func (fb *fakeBot) client() *tgapi.Client {
	return tgapi.New("http://"+fb.addr, testToken, &http.Client{Timeout: fakeBotTimeout})
}

// world is a database, a fake Bot API and the notification service on a queue.
type world struct {
	db     *ent.Client
	bot    *fakeBot
	notify *notify.Service
	queue  *Queue
	log    *slog.Logger
	logs   *logBuffer
}

const testBaseURL = "https://ikra.example"

func newWorld(t *testing.T, r *kv.Redis, queue string) *world {
	t.Helper()
	w := &world{db: openDB(t), bot: newFakeBot(t)}
	w.log, w.logs = testLogger()
	if r != nil {
		c := asynq.NewClientFromRedisClient(r.Client)
		w.queue = NewQueue(c, queue)
		w.notify = notify.New(w.db, w.queue)
	} else {
		w.notify = notify.New(w.db, nil)
	}
	t.Cleanup(func() {
		if logs := w.logs.String(); strings.Contains(logs, testToken) || strings.Contains(logs, "SECRET-BODY") {
			t.Errorf("logs hold the token or message text:\n%s", logs)
		}
	})
	return w
}

func (w *world) deps() Deps {
	return Deps{DB: w.db, Bot: w.bot.client(), BaseURL: testBaseURL, Notify: w.notify, Log: w.log}
}

func (w *world) handler() *deliverNotification {
	return &deliverNotification{notify: w.notify, bot: w.bot.client(), catalog: catalog, baseURL: testBaseURL, log: w.log,
		markTimeout: 5 * time.Second, inDoubtAfter: inDoubtAfter, now: time.Now}
}

// startWorker runs an asynq server on the queue with short polling intervals.
func (w *world) startWorker(t *testing.T, r *kv.Redis, queue string, mux *asynq.ServeMux) {
	t.Helper()
	cfg := serverConfig(queue, 4, w.log)
	cfg.TaskCheckInterval = 50 * time.Millisecond
	cfg.DelayedTaskCheckInterval = 100 * time.Millisecond
	srv := asynq.NewServer(r.Queue, cfg)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

func (w *world) reload(t *testing.T, id int) *ent.Notification {
	t.Helper()
	n, err := w.db.Notification.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls cond until it holds or the time is up.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// catalog is the interface's message catalog, as the app loads it.
var catalog = func() *i18n.Catalog {
	c, err := i18n.Load()
	if err != nil {
		panic(err)
	}
	return c
}()
