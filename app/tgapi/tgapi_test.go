package tgapi

import (
	"context"

	"encoding/json"
	"errors"
	"ikra/app/apptest/tgfake"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testToken = "123456:SECRET-token_value"

func TestSendMessage(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		answer     string
		opts       SendOptions
		wantErr    bool
		wantCode   int
		permanent  bool
		retryAfter time.Duration
		wantBody   map[string]any
	}{
		{
			name:   "ok plain",
			status: 200, answer: `{"ok":true,"result":{"message_id":1}}`,
			wantBody: map[string]any{"chat_id": "42", "text": "hi <b>x</b>"},
		},
		{
			name:   "ok with url button",
			status: 200, answer: `{"ok":true,"result":{}}`,
			opts: SendOptions{ParseMode: ParseHTML, ButtonText: "Open", ButtonURL: "https://ikra.example/app"},
			wantBody: map[string]any{"parse_mode": "HTML", "reply_markup": map[string]any{
				"inline_keyboard": []any{[]any{map[string]any{"text": "Open", "url": "https://ikra.example/app"}}},
			}},
		},
		{
			name:   "ok with web app button",
			status: 200, answer: `{"ok":true,"result":{}}`,
			opts: SendOptions{ButtonText: "Open", ButtonURL: "https://ignored", WebAppURL: "https://ikra.example/tg"},
			wantBody: map[string]any{"reply_markup": map[string]any{
				"inline_keyboard": []any{[]any{map[string]any{"text": "Open", "web_app": map[string]any{"url": "https://ikra.example/tg"}}}},
			}},
		},
		{
			name:   "ok without link preview",
			status: 200, answer: `{"ok":true,"result":{}}`,
			opts:     SendOptions{DisablePreview: true, ButtonURL: "https://no-label"},
			wantBody: map[string]any{"link_preview_options": map[string]any{"is_disabled": true}, "reply_markup": nil},
		},
		{
			name:   "blocked by user",
			status: 403, answer: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`,
			wantErr: true, wantCode: 403, permanent: true,
		},
		{
			name:   "chat not found",
			status: 400, answer: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`,
			wantErr: true, wantCode: 400, permanent: true,
		},
		{
			name:   "flood control",
			status: 429, answer: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`,
			wantErr: true, wantCode: 429, retryAfter: 3 * time.Second,
		},
		{
			name:   "server error without json",
			status: 502, answer: `<html>bad gateway</html>`,
			wantErr: true, wantCode: 502,
		},
		{
			name:   "server error with json",
			status: 500, answer: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`,
			wantErr: true, wantCode: 500,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tgfake.Start(t, testToken)
			if tt.status != http.StatusOK {
				srv.Then("sendMessage", tgfake.Reply{Status: tt.status, Body: tt.answer})
			}

			err := New(srv.URL+"/", testToken, nil).SendMessage(context.Background(), 42, "hi <b>x</b>", tt.opts)

			calls := srv.Calls()
			if len(calls) != 1 || calls[0].Method != "sendMessage" {
				t.Fatalf("calls %+v, want one sendMessage", calls)
			}
			for k, want := range tt.wantBody {
				if got, _ := json.Marshal(calls[0].Params[k]); string(got) != mustJSON(t, want) {
					t.Errorf("body[%s] = %s, want %s", k, got, mustJSON(t, want))
				}
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != tt.wantCode {
				t.Fatalf("err = %#v, want APIError %d", err, tt.wantCode)
			}
			if ae.Permanent() != tt.permanent || IsPermanent(err) != tt.permanent {
				t.Errorf("Permanent() = %v, want %v", ae.Permanent(), tt.permanent)
			}
			if RetryAfter(err) != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", RetryAfter(err), tt.retryAfter)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("token in error %q", err)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTransportErrorsHideToken covers the failures where net/http quotes the request
// URL: a refused connection, a timeout, a cancelled context and an invalid URL.
func TestTransportErrorsHideToken(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name   string
		client *Client
		ctx    context.Context
		is     error
	}{
		{"connection refused", New(closed.URL, testToken, nil), context.Background(), nil},
		{"client timeout", New(slow.URL, testToken, &http.Client{Timeout: 100 * time.Millisecond}), context.Background(), nil},
		{"cancelled context", New(slow.URL, testToken, nil), cancelled, context.Canceled},
		{"bad base url", New("http://bad host", testToken, nil), context.Background(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := tt.client.SendMessage(tt.ctx, 1, "secret text", SendOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if msg := err.Error(); strings.Contains(msg, testToken) || strings.Contains(msg, "SECRET") {
				t.Errorf("token in error %q", msg)
			}
			if strings.Contains(err.Error(), "secret text") {
				t.Errorf("message text in error %q", err)
			}
			if IsPermanent(err) {
				t.Error("transport error reported as permanent")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

func TestDefaultTimeout(t *testing.T) {
	c := New("", "t", nil)
	if c.hc.Timeout != DefaultTimeout || c.base != DefaultBaseURL {
		t.Errorf("defaults: timeout %v base %q", c.hc.Timeout, c.base)
	}
}
