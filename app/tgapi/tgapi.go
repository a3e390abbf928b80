// Package tgapi is a minimal client for the Telegram Bot API: just what IKRA needs to
// send service messages. It never puts the bot token into an error or a log line.
package tgapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is the public Bot API server.
const DefaultBaseURL = "https://api.telegram.org"

// DefaultTimeout bounds one request when New is given no HTTP client.
const DefaultTimeout = 10 * time.Second

// maxResponse caps how much of a response body is read.
const maxResponse = 1 << 20

// Parse modes for SendOptions.ParseMode.
const (
	ParseHTML     = "HTML"
	ParseMarkdown = "MarkdownV2"
)

// Client calls the Bot API with one bot token.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// New returns a client for the bot with token. baseURL is the Bot API server
// (DefaultBaseURL when empty); hc defaults to a client with DefaultTimeout.
func New(baseURL, token string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, hc: hc}
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
	// DisablePreview turns off the link preview.
	DisablePreview bool
}

// APIError is an error answer from the Bot API, or an HTTP failure status without one.
type APIError struct {
	// Code is Telegram's error_code, or the HTTP status when the body carried none.
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

// RetryAfter returns the wait Telegram asked for in err, or zero.
func RetryAfter(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return time.Duration(ae.RetryAfter) * time.Second
	}
	return 0
}

type inlineButton struct {
	Text   string  `json:"text"`
	URL    string  `json:"url,omitempty"`
	WebApp *webApp `json:"web_app,omitempty"`
}

type webApp struct {
	URL string `json:"url"`
}

type replyMarkup struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type linkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

type sendMessage struct {
	ChatID      int64        `json:"chat_id"`
	Text        string       `json:"text"`
	ParseMode   string       `json:"parse_mode,omitempty"`
	ReplyMarkup *replyMarkup `json:"reply_markup,omitempty"`
	LinkPreview *linkPreview `json:"link_preview_options,omitempty"`
}

// SendMessage sends text to the chat. An answer other than ok comes back as *APIError.
func (c *Client) SendMessage(ctx context.Context, chatID int64, text string, opts SendOptions) error {
	req := sendMessage{ChatID: chatID, Text: text, ParseMode: opts.ParseMode}
	if opts.ButtonText != "" && (opts.WebAppURL != "" || opts.ButtonURL != "") {
		b := inlineButton{Text: opts.ButtonText}
		if opts.WebAppURL != "" {
			b.WebApp = &webApp{URL: opts.WebAppURL}
		} else {
			b.URL = opts.ButtonURL
		}
		req.ReplyMarkup = &replyMarkup{InlineKeyboard: [][]inlineButton{{b}}}
	}
	if opts.DisablePreview {
		req.LinkPreview = &linkPreview{IsDisabled: true}
	}
	return c.call(ctx, "sendMessage", req)
}

type response struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// call posts params as JSON to method and checks the answer.
func (c *Client) call(ctx context.Context, method string, params any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("telegram %s: encode: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/bot"+c.token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("telegram %s: %w", method, c.redact(err, method))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("telegram %s: %w", method, c.redact(err, method))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("telegram %s: read answer: %w", method, c.redact(err, method))
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		if resp.StatusCode != http.StatusOK {
			return &APIError{Code: resp.StatusCode, Description: http.StatusText(resp.StatusCode)}
		}
		return fmt.Errorf("telegram %s: decode answer: %w", method, err)
	}
	if !r.OK {
		ae := &APIError{Code: r.ErrorCode, Description: clip(r.Description, 200), RetryAfter: r.Parameters.RetryAfter}
		if ae.Code == 0 {
			ae.Code = resp.StatusCode
		}
		return ae
	}
	return nil
}

// redact strips the token from err: the *url.Error an http.Client returns quotes the
// request URL, which carries the token in its path.
func (c *Client) redact(err error, method string) error {
	if c.token == "" {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.URL, c.token) {
		cp := *ue
		cp.URL = c.base + "/bot<token>/" + method
		err = &cp
	}
	if strings.Contains(err.Error(), c.token) {
		// Some other layer quoted the URL; keep the error's identity for errors.Is but
		// not its text.
		return redacted{err: err, token: c.token}
	}
	return err
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
