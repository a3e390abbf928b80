// Package analytics records members' views of offers in the background and answers the
// partner's analytics: per offer and period, views, unique viewers, booking outcomes,
// deal amounts and cashback, and the same by day. Every query takes the partner ID
// and filters by it.
package analytics

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"ikra/app/zone"
	"ikra/ent"
)

// Almaty is the zone periods and days are counted in.
var Almaty = zone.Almaty

// dayLayout is how a day is written: in OfferView.day, forms and the CSV.
const dayLayout = "2006-01-02"

// View is one opening of an offer's page by a member.
type View struct {
	OfferID, PartnerID, MemberID int
	At                           time.Time
}

// Defaults of the recorder.
const (
	DefaultBuffer = 10000           // views held in memory between flushes
	DefaultEvery  = 3 * time.Second // how often the buffer is written out
	batchSize     = 500             // rows per INSERT
)

// Recorder takes views on the request path without waiting: they go into a bounded
// buffer, and Run writes them to the database in batches every few seconds and once
// more when it stops. When the buffer is full a view is dropped and counted, never
// waited for.
type Recorder struct {
	db      *ent.Client
	log     *slog.Logger
	every   time.Duration
	buf     chan View
	flushMu sync.Mutex // one flush at a time: Run's ticker, Close and tests
	dropped atomic.Int64
	warned  atomic.Bool // a drop was logged since the last flush
}

// NewRecorder returns a recorder holding at most buffer views (DefaultBuffer when not
// positive) and flushing every interval (DefaultEvery when not positive).
func NewRecorder(db *ent.Client, log *slog.Logger, buffer int, every time.Duration) *Recorder {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	if every <= 0 {
		every = DefaultEvery
	}
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{db: db, log: log, every: every, buf: make(chan View, buffer)}
}

// Record queues a view and returns at once; false when the buffer was full and the
// view was dropped. A nil recorder records nothing.
func (r *Recorder) Record(v View) bool {
	if r == nil {
		return false
	}
	if v.At.IsZero() {
		v.At = time.Now()
	}
	select {
	case r.buf <- v:
		return true
	default:
		r.dropped.Add(1)
		if !r.warned.Swap(true) {
			r.log.Warn("analytics: view buffer full, dropping views until the next flush", "buffer", cap(r.buf))
		}
		return false
	}
}

// Dropped is how many views were dropped because the buffer was full or could not be
// written.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Pending is how many views wait in the buffer.
func (r *Recorder) Pending() int { return len(r.buf) }

// Run flushes the buffer every interval until ctx ends, then flushes what is left.
func (r *Recorder) Run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.flushLogged(context.Background())
			return
		case <-t.C:
			r.flushLogged(ctx)
		}
	}
}

// Close writes out whatever is still buffered (at shutdown).
func (r *Recorder) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := r.Flush(ctx)
	return err
}

func (r *Recorder) flushLogged(ctx context.Context) {
	if _, err := r.Flush(ctx); err != nil {
		r.log.Error("analytics: writing views", "err", err)
	}
}

// Flush writes the views buffered now to the database and reports how many it wrote.
// Views that cannot be written are dropped and counted: analytics must never hold up
// the pages they describe.
func (r *Recorder) Flush(ctx context.Context) (int, error) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.warned.Store(false)
	written := 0
	for n := len(r.buf); n > 0; n = min(len(r.buf), n-batchSize) {
		batch := make([]*ent.OfferViewCreate, 0, min(n, batchSize))
		for len(batch) < cap(batch) {
			v := <-r.buf
			batch = append(batch, r.db.OfferView.Create().SetOfferID(v.OfferID).SetPartnerID(v.PartnerID).
				SetMemberID(v.MemberID).SetCreatedAt(v.At).SetDay(v.At.In(Almaty).Format(dayLayout)))
		}
		if err := r.db.OfferView.CreateBulk(batch...).Exec(ctx); err != nil {
			r.dropped.Add(int64(len(batch)))
			return written, err
		}
		written += len(batch)
	}
	return written, nil
}
