package tgapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"ikra/app/metrics"
)

// Every failed call is counted by method and status, or as "network" when no answer
// came; a call that succeeds is not, and the token never becomes a label.
func TestErrorsCounted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/sendMessage") && r.FormValue("chat_id") == "429" {
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`)
			return
		}
		io.WriteString(w, `{"ok":true,"result":{"message_id":1}}`)
	}))
	m := metrics.New()
	c := New(srv.URL, testToken, nil)
	c.SetMetrics(m)
	ctx := context.Background()
	if err := c.SendMessage(ctx, 42, "hi", SendOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMessage(ctx, 429, "hi", SendOptions{}); RetryAfter(err) == 0 {
		t.Fatalf("flood control: %v", err)
	}
	srv.Close()
	if err := c.SendMessage(ctx, 42, "hi", SendOptions{}); err == nil {
		t.Fatal("a closed server answered")
	}
	want := `
# HELP ikra_telegram_api_errors_total Bot API calls that failed, by method and HTTP status (network: no answer).
# TYPE ikra_telegram_api_errors_total counter
ikra_telegram_api_errors_total{code="429",method="sendMessage"} 1
ikra_telegram_api_errors_total{code="network",method="sendMessage"} 1
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "ikra_telegram_api_errors_total"); err != nil {
		t.Error(err)
	}
}

func TestMethodOf(t *testing.T) {
	for path, want := range map[string]string{
		"/bot" + testToken + "/sendMessage": "sendMessage",
		"/bot" + testToken + "/":            "other",
		"/bot" + testToken + "/x.y":         "other",
		"/file/bot" + testToken + "/a/b1":   "other",
	} {
		if got := methodOf(path); got != want {
			t.Errorf("methodOf(%q) = %q, want %q", path, got, want)
		}
	}
}
