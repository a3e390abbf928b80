// Package tgfake is a fake Telegram Bot API server for tests: it records every call with
// its parameters (JSON or multipart, as the client sends them), answers from a script of
// failures (429 with retry_after, 403, 5xx...) and otherwise like Telegram, and feeds
// updates to getUpdates.
package tgfake

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Call is one request the server received.
type Call struct {
	Method string
	// Params are the request's fields; fields holding JSON (reply_markup, menu_button,
	// media...) are decoded.
	Params map[string]any
	// Files are uploaded files by field name.
	Files map[string][]byte
	At    time.Time
}

// Str returns a parameter as text ("" when absent).
func (c Call) Str(name string) string {
	switch v := c.Params[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// Int returns a numeric parameter (0 when absent or not a number).
func (c Call) Int(name string) int64 {
	n, _ := strconv.ParseInt(c.Str(name), 10, 64)
	return n
}

// Buttons returns the inline keyboard's buttons row by row, each as its fields
// (text, callback_data, url, web_app.url).
func (c Call) Buttons() [][]map[string]string {
	rm, _ := c.Params["reply_markup"].(map[string]any)
	rows, _ := rm["inline_keyboard"].([]any)
	var out [][]map[string]string
	for _, r := range rows {
		cells, _ := r.([]any)
		var row []map[string]string
		for _, cell := range cells {
			m, _ := cell.(map[string]any)
			b := map[string]string{}
			for k, v := range m {
				switch v := v.(type) {
				case string:
					b[k] = v
				case map[string]any:
					if u, ok := v["url"].(string); ok {
						b[k+".url"] = u
					}
					if t, ok := v["text"].(string); ok {
						b[k+".text"] = t
					}
				}
			}
			row = append(row, b)
		}
		out = append(out, row)
	}
	return out
}

// Button finds the first button whose callback_data starts with prefix, or whose text
// contains it; ok is false when none does.
func (c Call) Button(prefix string) (map[string]string, bool) {
	for _, row := range c.Buttons() {
		for _, b := range row {
			if strings.HasPrefix(b["callback_data"], prefix) || (b["callback_data"] == "" && strings.Contains(b["text"], prefix)) {
				return b, true
			}
		}
	}
	return nil, false
}

// Reply is a scripted answer.
type Reply struct {
	Status int
	Body   string
	// Hang holds the request until the client gives up.
	Hang bool
}

// Canned answers.
var (
	Blocked  = Reply{Status: 403, Body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`}
	NoChat   = Reply{Status: 400, Body: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`}
	Internal = Reply{Status: 500, Body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`}
)

// Flood is a 429 asking to wait seconds.
func Flood(seconds int) Reply {
	return Reply{Status: 429, Body: fmt.Sprintf(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, seconds, seconds)}
}

// Server is the fake Bot API.
type Server struct {
	*httptest.Server
	Token string

	mu      sync.Mutex
	calls   []Call
	script  map[string][]Reply
	updates []json.RawMessage
	nextUpd int64
	nextMsg int
	wake    chan struct{}
	notify  chan struct{}
}

// Start runs a fake server for the bot token until the test ends. Its URL is the
// TELEGRAM_API_URL.
func Start(t testing.TB, token string) *Server {
	f := &Server{Token: token, script: map[string][]Reply{}, nextUpd: 1, nextMsg: 100,
		wake: make(chan struct{}), notify: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.Close)
	return f
}

// Then scripts the next answers to method ("*" for any method); after them the server
// answers as Telegram would.
func (f *Server) Then(method string, rs ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[method] = append(f.script[method], rs...)
}

// Feed queues updates for getUpdates. An update without "update_id" gets the next one.
func (f *Server) Feed(updates ...map[string]any) {
	f.mu.Lock()
	for _, u := range updates {
		if _, ok := u["update_id"]; !ok {
			u["update_id"] = f.nextUpd
		}
		if id, ok := u["update_id"].(int64); ok && id >= f.nextUpd {
			f.nextUpd = id + 1
		}
		b, _ := json.Marshal(u)
		f.updates = append(f.updates, b)
	}
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

// Calls returns the calls so far, optionally only those to the given methods.
func (f *Server) Calls(methods ...string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the calls so far.
func (f *Server) Reset() {
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
}

// Wait waits up to timeout for a call to one of methods for which match returns true
// (match may be nil), and returns it.
func (f *Server) Wait(t testing.TB, timeout time.Duration, match func(Call) bool, methods ...string) Call {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		ch := f.notify
		for _, c := range f.calls {
			if (len(methods) == 0 || contains(methods, c.Method)) && (match == nil || match(c)) {
				f.mu.Unlock()
				return c
			}
		}
		f.mu.Unlock()
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("tgfake: no %v call matched in %v; calls: %s", methods, timeout, f.describe())
		}
		select {
		case <-ch:
		case <-time.After(left):
		}
	}
}

func (f *Server) describe() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, c := range f.calls {
		fmt.Fprintf(&b, "\n  %s %s %s", c.Method, c.Str("chat_id"), clip(c.Str("text")+c.Str("caption"), 80))
	}
	return b.String()
}

func (f *Server) handle(w http.ResponseWriter, r *http.Request) {
	prefix := "/bot" + f.Token + "/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, prefix)
	call := Call{Method: method, Params: map[string]any{}, Files: map[string][]byte{}, At: time.Now()}
	if err := parse(r, &call); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"ok":false,"error_code":400,"description":"Bad Request: %s"}`, strings.ReplaceAll(err.Error(), `"`, `'`))
		return
	}
	if method == "getUpdates" {
		f.getUpdates(w, r, call)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	close(f.notify)
	f.notify = make(chan struct{})
	var rep *Reply
	for _, key := range []string{method, "*"} {
		if s := f.script[key]; len(s) > 0 {
			rep, f.script[key] = &s[0], s[1:]
			break
		}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if rep != nil {
		if rep.Hang {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(rep.Status)
		io.WriteString(w, rep.Body)
		return
	}
	writeResult(w, f.result(call))
}

// result is what Telegram would answer to call.
func (f *Server) result(c Call) any {
	switch c.Method {
	case "getMe":
		return map[string]any{"id": 1, "is_bot": true, "first_name": "IKRA", "username": "ikra_test_bot"}
	case "sendMessage", "sendPhoto", "editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup":
		f.mu.Lock()
		id := int(c.Int("message_id"))
		if id == 0 {
			f.nextMsg++
			id = f.nextMsg
		}
		f.mu.Unlock()
		chat, _ := strconv.ParseInt(c.Str("chat_id"), 10, 64)
		m := map[string]any{"message_id": id, "date": time.Now().Unix(), "chat": map[string]any{"id": chat, "type": "private"}}
		if t := c.Str("text"); t != "" {
			m["text"] = t
		}
		if c.Method == "sendPhoto" {
			m["photo"] = []any{map[string]any{"file_id": "photo" + strconv.Itoa(id), "file_unique_id": "u" + strconv.Itoa(id), "width": 320, "height": 320}}
			m["caption"] = c.Str("caption")
		}
		return m
	default:
		return true
	}
}

// getUpdates answers the queued updates after offset, waiting up to the request's
// timeout (at most 2 s) for some to arrive.
func (f *Server) getUpdates(w http.ResponseWriter, r *http.Request, c Call) {
	offset := c.Int("offset")
	wait := time.Duration(min(c.Int("timeout"), 2)) * time.Second
	deadline := time.Now().Add(wait)
	for {
		f.mu.Lock()
		var out []json.RawMessage
		kept := f.updates[:0]
		for _, u := range f.updates {
			var id struct {
				UpdateID int64 `json:"update_id"`
			}
			_ = json.Unmarshal(u, &id)
			if id.UpdateID >= offset {
				out = append(out, u)
				kept = append(kept, u)
			}
		}
		f.updates = kept // confirmed updates are forgotten, as Telegram does
		wake := f.wake
		f.mu.Unlock()
		if len(out) > 0 || time.Now().After(deadline) {
			writeResult(w, out)
			return
		}
		select {
		case <-wake:
		case <-time.After(time.Until(deadline)):
		case <-r.Context().Done():
			return
		}
	}
}

func writeResult(w http.ResponseWriter, result any) {
	b, _ := json.Marshal(map[string]any{"ok": true, "result": result})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// ReadCall reads a Bot API request's parameters, for tests with a server of their own.
func ReadCall(r *http.Request) (Call, error) {
	c := Call{Method: r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:], Params: map[string]any{}, Files: map[string][]byte{}, At: time.Now()}
	err := parse(r, &c)
	// Read the body to its end (a multipart reader stops at the closing boundary): only
	// then does net/http watch the connection, so that a client that gives up cancels
	// r.Context() and a handler that hangs on it returns.
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	return c, err
}

// parse reads JSON, multipart or URL-encoded parameters into c.
func parse(r *http.Request, c *Call) error {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
		if err != nil {
			return err
		}
		if len(body) == 0 {
			return nil
		}
		return json.Unmarshal(body, &c.Params)
	case "multipart/form-data":
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			data, err := io.ReadAll(io.LimitReader(p, 50<<20))
			if err != nil {
				return err
			}
			if p.FileName() != "" {
				c.Files[p.FormName()] = data
				continue
			}
			c.Params[p.FormName()] = value(string(data))
		}
	default:
		if err := r.ParseForm(); err != nil {
			return err
		}
		for k, v := range r.PostForm {
			c.Params[k] = value(v[0])
		}
		return nil
	}
}

// value decodes a form field that holds a JSON object or array; anything else stays text.
func value(s string) any {
	if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			return v
		}
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
