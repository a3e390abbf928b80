// Package tgapi is IKRA's adapter to the Telegram Bot API, built on
// github.com/go-telegram/bot: it creates the library's client for a Bot API server
// (Telegram's, a local one, or a test fake), gives its errors one shape (APIError:
// permanent or not, retry_after) and keeps the bot token out of every error and log line.
// The bot (app/bot) and the delivery job (jobs) call the library through it.
package tgapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"ikra/app/metrics"
)

// DefaultBaseURL is the public Bot API server.
const DefaultBaseURL = "https://api.telegram.org"

// DefaultTimeout bounds one request when New is given no HTTP client.
const DefaultTimeout = 10 * time.Second

// Parse modes for SendOptions.ParseMode.
const (
	ParseHTML     = "HTML"
	ParseMarkdown = "MarkdownV2"
)

// Client calls the Bot API with one bot token.
type Client struct {
	api    *tgbot.Bot
	base   string
	token  string
	hc     *http.Client
	errors *errorCounter
}

// errorCounter is where the transport counts failed calls; its metrics are set once,
// before the client is used.
type errorCounter struct{ m *metrics.Metrics }

// New returns a client for the bot with token. baseURL is the Bot API server
// (DefaultBaseURL when empty); hc defaults to a client with DefaultTimeout. It makes no
// request.
func New(baseURL, token string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	counter := &errorCounter{}
	cp := *hc
	cp.Transport = statusTransport{base: hc.Transport, errors: counter}
	hc = &cp
	c := &Client{base: strings.TrimRight(baseURL, "/"), token: token, hc: hc, errors: counter}
	c.api = c.newAPI(hc.Timeout, hc)
	return c
}

// newAPI makes a library client on the same server and token; pollTimeout is how long a
// getUpdates call may wait.
func (c *Client) newAPI(pollTimeout time.Duration, hc *http.Client) *tgbot.Bot {
	token := c.token
	if token == "" {
		token = "0:none" // the library refuses an empty token; such a client is never used
	}
	api, err := tgbot.New(token,
		tgbot.WithServerURL(c.base),
		tgbot.WithHTTPClient(pollTimeout, hc),
		tgbot.WithSkipGetMe(),
		tgbot.WithErrorsHandler(func(error) {}),
		tgbot.WithDefaultHandler(func(context.Context, *tgbot.Bot, *models.Update) {}),
	)
	if err != nil {
		panic("tgapi: " + err.Error()) // only an empty token fails, and it is never empty
	}
	return api
}

// SetMetrics counts the calls that fail, by method and status, in
// ikra_telegram_api_errors_total. Call it before the client is used.
func (c *Client) SetMetrics(m *metrics.Metrics) { c.errors.m = m }

// API is the library's client, for the calls SendMessage does not cover. Its errors go
// through Wrap.
func (c *Client) API() *tgbot.Bot { return c.api }

// Poller returns a library client for long polling: its requests may wait up to
// timeout for updates, past the usual request timeout. opts add the update handler.
func (c *Client) Poller(timeout time.Duration, opts ...tgbot.Option) (*tgbot.Bot, error) {
	hc := *c.hc
	hc.Timeout = timeout + 15*time.Second
	token := c.token
	base := []tgbot.Option{
		tgbot.WithServerURL(c.base),
		tgbot.WithHTTPClient(timeout+time.Second, &hc),
		tgbot.WithSkipGetMe(),
	}
	api, err := tgbot.New(token, append(base, opts...)...)
	if err != nil {
		return nil, c.Wrap(err)
	}
	return api, nil
}

// Button is one inline keyboard button: exactly one of Data (a callback), URL and
// WebApp is set.
type Button struct {
	Text   string  `json:"text"`
	Data   string  `json:"callback_data,omitempty"`
	URL    string  `json:"url,omitempty"`
	WebApp *WebApp `json:"web_app,omitempty"`
}

// WebApp opens the Mini App at URL.
type WebApp struct {
	URL string `json:"url"`
}

// Keyboard is an inline keyboard. It is encoded on its own (not with the library's
// button type, which always sends an empty copy_text that Telegram may refuse).
type Keyboard struct {
	Rows [][]Button `json:"inline_keyboard"`
}

// Markup returns k as a reply_markup value, nil for an empty keyboard.
func (k *Keyboard) Markup() models.ReplyMarkup {
	if k == nil || len(k.Rows) == 0 {
		return nil
	}
	return k
}

// SendOptions shape a message beyond its text.
type SendOptions struct {
	// ParseMode is "HTML" or "MarkdownV2"; empty sends plain text.
	ParseMode string
	// ButtonText labels a single inline button under the message.
	ButtonText string
	// ButtonURL makes the button open a link in the browser.
	ButtonURL string
	// WebAppURL makes the button open the Mini App at this URL instead of ButtonURL
	// (Telegram allows it in private chats only).
	WebAppURL string
	// Keyboard adds rows of buttons under the single button.
	Keyboard [][]Button
	// DisablePreview turns off the link preview.
	DisablePreview bool
}

// keyboard is the message's reply markup, nil without buttons.
func (o SendOptions) keyboard() *Keyboard {
	var k Keyboard
	if o.ButtonText != "" && (o.WebAppURL != "" || o.ButtonURL != "") {
		b := Button{Text: o.ButtonText}
		if o.WebAppURL != "" {
			b.WebApp = &WebApp{URL: o.WebAppURL}
		} else {
			b.URL = o.ButtonURL
		}
		k.Rows = append(k.Rows, []Button{b})
	}
	k.Rows = append(k.Rows, o.Keyboard...)
	if len(k.Rows) == 0 {
		return nil
	}
	return &k
}

// SendMessage sends text to the chat. A failure comes back as *APIError when Telegram
// answered, as a transport error (token removed) otherwise.
func (c *Client) SendMessage(ctx context.Context, chatID int64, text string, opts SendOptions) error {
	_, err := c.Send(ctx, chatID, text, opts)
	return err
}

// Send is SendMessage that also returns the sent message's ID.
func (c *Client) Send(ctx context.Context, chatID int64, text string, opts SendOptions) (int, error) {
	p := &tgbot.SendMessageParams{ChatID: chatID, Text: text, ParseMode: models.ParseMode(opts.ParseMode)}
	if k := opts.keyboard(); k != nil {
		p.ReplyMarkup = k
	}
	if opts.DisablePreview {
		p.LinkPreviewOptions = &models.LinkPreviewOptions{IsDisabled: tgbot.True()}
	}
	m, err := c.api.SendMessage(ctx, p)
	if err != nil {
		return 0, c.Wrap(err)
	}
	if m == nil {
		return 0, nil
	}
	return m.ID, nil
}

// APIError is an error answer from the Bot API.
type APIError struct {
	// Code is Telegram's error_code (HTTP status).
	Code int
	// Description is Telegram's explanation, e.g. "Forbidden: bot was blocked by the user".
	Description string
	// RetryAfter is how many seconds Telegram asks to wait before trying again (flood control).
	RetryAfter int
}

// Error describes the failure without the request URL (it holds the token).
func (e *APIError) Error() string {
	s := fmt.Sprintf("telegram: %d %s", e.Code, e.Description)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %ds)", e.RetryAfter)
	}
	return s
}

// Permanent reports whether sending the same request again cannot succeed: the chat
// does not exist, the user blocked the bot or never started it (403), or the request
// itself is malformed (400). Flood control (429), server errors (5xx) and the rest are
// temporary.
func (e *APIError) Permanent() bool {
	return e.Code == http.StatusBadRequest || e.Code == http.StatusForbidden
}

// IsPermanent reports whether err carries an APIError that is permanent. Network errors
// and timeouts are never permanent.
func IsPermanent(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Permanent()
}

// IsBlocked reports whether err says the member cannot be written to at all: they
// blocked the bot, deleted their account or never started a chat (403).
func IsBlocked(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == http.StatusForbidden
}

// IsNotModified reports whether an edit failed only because the message already reads
// that way (Telegram answers 400 "message is not modified").
func IsNotModified(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == http.StatusBadRequest && strings.Contains(ae.Description, "not modified")
}

// RetryAfter returns the wait Telegram asked for in err, or zero.
func RetryAfter(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return time.Duration(ae.RetryAfter) * time.Second
	}
	return 0
}

// otherAnswer matches the library's text for an error code it has no type for (5xx and
// the like): "error response from telegram for method M, 502 Bad Gateway".
var otherAnswer = regexp.MustCompile(`error response from telegram for method \w+, (\d{3}) (.*)$`)

// Wrap turns an error of the library into *APIError when Telegram answered, and removes
// the token from any other error. nil stays nil.
func (c *Client) Wrap(err error) error {
	if err == nil {
		return nil
	}
	var flood *tgbot.TooManyRequestsError
	var migrate *tgbot.MigrateError
	desc := func(sentinel error) string {
		return clip(strings.TrimPrefix(strings.TrimPrefix(err.Error(), sentinel.Error()), ", "), 200)
	}
	switch {
	case errors.As(err, &flood):
		return &APIError{Code: http.StatusTooManyRequests, Description: clip(flood.Message, 200), RetryAfter: flood.RetryAfter}
	case errors.As(err, &migrate):
		return &APIError{Code: http.StatusBadRequest, Description: clip(migrate.Message, 200)}
	case errors.Is(err, tgbot.ErrorForbidden):
		return &APIError{Code: http.StatusForbidden, Description: desc(tgbot.ErrorForbidden)}
	case errors.Is(err, tgbot.ErrorBadRequest):
		return &APIError{Code: http.StatusBadRequest, Description: desc(tgbot.ErrorBadRequest)}
	case errors.Is(err, tgbot.ErrorUnauthorized):
		return &APIError{Code: http.StatusUnauthorized, Description: desc(tgbot.ErrorUnauthorized)}
	case errors.Is(err, tgbot.ErrorNotFound):
		return &APIError{Code: http.StatusNotFound, Description: desc(tgbot.ErrorNotFound)}
	case errors.Is(err, tgbot.ErrorConflict):
		return &APIError{Code: http.StatusConflict, Description: desc(tgbot.ErrorConflict)}
	}
	if m := otherAnswer.FindStringSubmatch(err.Error()); m != nil {
		code, _ := strconv.Atoi(m[1])
		return &APIError{Code: code, Description: clip(m[2], 200)}
	}
	return c.redact(err)
}

// redact keeps err's identity for errors.Is but not its text when the text quotes the
// token (the library quotes the request URL in some transport errors).
func (c *Client) redact(err error) error {
	if c.token == "" || !strings.Contains(err.Error(), c.token) {
		return err
	}
	return redacted{err: err, token: c.token}
}

type redacted struct {
	err   error
	token string
}

func (r redacted) Error() string { return strings.ReplaceAll(r.err.Error(), r.token, "<token>") }

// Unwrap keeps errors.Is(err, context.DeadlineExceeded) and the like working.
func (r redacted) Unwrap() error { return r.err }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// statusTransport gives an error answer that is not the Bot API's JSON (a proxy's HTML
// page, an empty 502) the Bot API's shape, so that its status reaches APIError instead
// of a decoding error that quotes the page.
// It also counts every call that fails (ikra_telegram_api_errors_total): it sees every
// request, the library's included, with its method and status.
type statusTransport struct {
	base   http.RoundTripper
	errors *errorCounter
}

func (t statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		// A call cancelled by its caller (a poll at shutdown) is not the API failing.
		if t.errors != nil && !errors.Is(req.Context().Err(), context.Canceled) {
			t.errors.m.TelegramError(methodOf(req.URL.Path), 0)
		}
		return resp, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp, err
	}
	if t.errors != nil {
		t.errors.m.TelegramError(methodOf(req.URL.Path), resp.StatusCode)
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if rerr == nil && json.Valid(body) {
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	b, _ := json.Marshal(map[string]any{"ok": false, "error_code": resp.StatusCode, "description": http.StatusText(resp.StatusCode)})
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Type", "application/json")
	return resp, nil
}

// methodOf is the Bot API method of a request path ("/bot<token>/sendMessage"): the
// last segment when it is a plain name, "other" otherwise (the label must stay small
// and never carry the token).
func methodOf(path string) string {
	m := path[strings.LastIndexByte(path, '/')+1:]
	if m == "" || len(m) > 40 {
		return "other"
	}
	for _, r := range m {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "other"
		}
	}
	return m
}
