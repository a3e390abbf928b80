package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A route's series count each status apart, and a nil Metrics counts nothing.
func TestRouteObserve(t *testing.T) {
	m := New()
	m.Route("GET", "/app/never-called")
	r := m.Route("GET", "/app/offers/:id")
	r.Observe(200, 3*time.Millisecond)
	r.Observe(200, 4*time.Millisecond)
	r.Observe(404, time.Millisecond)
	for status, want := range map[string]float64{"200": 2, "404": 1, "500": 0} {
		if got := testutil.ToFloat64(m.httpRequests.WithLabelValues("/app/offers/:id", "GET", status)); got != want {
			t.Errorf("status %s: %v, want %v", status, got, want)
		}
	}
	if n := testutil.CollectAndCount(m.httpDuration); n != 1 {
		t.Errorf("%d duration series, want 1", n)
	}
	var none *Metrics
	none.Route("GET", "/").Observe(200, time.Millisecond)
	none.Job("x", "ok", time.Second)
	none.LedgerOp("welcome", "ok")
	none.Notification("telegram", "sent")
	none.TelegramError("sendMessage", 403)
	m.TelegramError("getUpdates", 0)
	if err := testutil.CollectAndCompare(m.telegram, strings.NewReader(`
# HELP ikra_telegram_api_errors_total Bot API calls that failed, by method and HTTP status (network: no answer).
# TYPE ikra_telegram_api_errors_total counter
ikra_telegram_api_errors_total{code="network",method="getUpdates"} 1
`)); err != nil {
		t.Error(err)
	}
}

// The cost one request adds: a histogram observation and a counter found among the
// few statuses its route has answered. Compare with BenchmarkWithLabelValues, the
// usual way.
func BenchmarkRouteObserve(b *testing.B) {
	r := New().Route("GET", "/app/offers/:id")
	statuses := []int{200, 200, 200, 404, 200, 304}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.Observe(statuses[i%len(statuses)], time.Millisecond)
			i++
		}
	})
}

func BenchmarkWithLabelValues(b *testing.B) {
	m := New()
	statuses := []string{"200", "200", "200", "404", "200", "304"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.httpDuration.WithLabelValues("/app/offers/:id", "GET").Observe(0.001)
			m.httpRequests.WithLabelValues("/app/offers/:id", "GET", statuses[i%len(statuses)]).Inc()
			i++
		}
	})
}
