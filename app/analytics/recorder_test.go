package analytics_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"ikra/app/analytics"
	"ikra/app/apptest"
	"ikra/ent/offerview"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestRecorderBatchesAndDays: more views than one batch are all written, each with
// its day in Almaty (a view at 00:30 Almaty belongs to that day, not the UTC one).
func TestRecorderBatchesAndDays(t *testing.T) {
	for _, db := range apptest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			r := analytics.NewRecorder(db.Client, quiet, 2000, time.Hour)
			at := time.Date(2026, 1, 2, 0, 30, 0, 0, analytics.Almaty).UTC() // still 1 January in UTC
			for i := 0; i < 1200; i++ {
				if !r.Record(analytics.View{OfferID: 1 + i%3, PartnerID: 7, MemberID: i, At: at}) {
					t.Fatal("dropped with room in the buffer")
				}
			}
			n, err := r.Flush(ctx)
			if err != nil || n != 1200 {
				t.Fatalf("flush: %d, %v", n, err)
			}
			got, err := db.OfferView.Query().Where(offerview.PartnerID(7), offerview.Day("2026-01-02")).Count(ctx)
			apptest.Must(t, err)
			if got != 1200 || r.Pending() != 0 || r.Dropped() != 0 {
				t.Errorf("%d rows on 2 January, %d pending, %d dropped", got, r.Pending(), r.Dropped())
			}
		})
	}
}

// TestRecorderRunAndClose: the loop writes without being asked, and Close writes what
// is left at shutdown.
func TestRecorderRunAndClose(t *testing.T) {
	db := apptest.Databases(t)[0]
	ctx, cancel := context.WithCancel(context.Background())
	r := analytics.NewRecorder(db.Client, quiet, 10, 20*time.Millisecond)
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	r.Record(analytics.View{OfferID: 1, PartnerID: 1, MemberID: 1})
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := db.OfferView.Query().Count(context.Background())
		apptest.Must(t, err)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the loop never wrote the view")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	r.Record(analytics.View{OfferID: 1, PartnerID: 1, MemberID: 2})
	apptest.Must(t, r.Close())
	if n, _ := db.OfferView.Query().Count(context.Background()); n != 2 {
		t.Errorf("after Close: %d rows", n)
	}
	var nilRecorder *analytics.Recorder
	if nilRecorder.Record(analytics.View{}) {
		t.Error("a nil recorder recorded")
	}
}

// TestRecorderFullBufferNeverBlocks: with nobody flushing, a full buffer drops and
// counts, and Record returns at once.
func TestRecorderFullBufferNeverBlocks(t *testing.T) {
	r := analytics.NewRecorder(nil, quiet, 3, time.Hour)
	start := time.Now()
	for i := 0; i < 10000; i++ {
		r.Record(analytics.View{OfferID: 1, PartnerID: 1, MemberID: i})
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("10000 records took %v", d)
	}
	if r.Pending() != 3 || r.Dropped() != 9997 {
		t.Errorf("pending %d, dropped %d", r.Pending(), r.Dropped())
	}
}

// TestRanges: the preset periods end today in Almaty; a custom one counts its days.
func TestRanges(t *testing.T) {
	now := time.Date(2026, 3, 11, 1, 0, 0, 0, analytics.Almaty).UTC() // 10 March in UTC
	r := analytics.LastDays(now, 7)
	if r.First.Format("2006-01-02") != "2026-03-05" || r.Last.Format("2006-01-02") != "2026-03-11" || r.Len() != 7 {
		t.Errorf("7 days: %v – %v (%d)", r.First, r.Last, r.Len())
	}
	if !r.End().Equal(time.Date(2026, 3, 12, 0, 0, 0, 0, analytics.Almaty)) {
		t.Errorf("end %v", r.End())
	}
	c, err := analytics.Days("2024-01-01", "2024-12-31")
	if err != nil || c.Len() != 366 {
		t.Errorf("leap year: %d, %v", c.Len(), err)
	}
	if _, err := analytics.Days("2024-02-30", "2024-03-01"); err == nil {
		t.Error("30 February accepted")
	}
}
