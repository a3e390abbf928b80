package scraping

import (
	"sync"
	"time"
)

// memory holds the counters in this process when it owns its Redis (one node): the
// same windows, sets, evidence and flag claims as in Redis, without a round trip to an
// in-process server on every catalog read.
type memory struct {
	mu    sync.Mutex
	m     map[string]*tally // by the key prefix count would use in Redis
	swept time.Time
}

type tally struct {
	exp     time.Time
	items   map[string]struct{} // offers: distinct items
	n       int                 // pages: requests
	ev      []string            // latest items, newest first
	flagged bool
}

// CountInMemory keeps the counters in this process instead of Redis: for a node that
// runs its own Redis, which no other node shares.
func (s *Service) CountInMemory() { s.mem = &memory{m: map[string]*tally{}} }

// count is Service.count on the process's memory.
func (m *memory) count(now time.Time, keys []string, subjects []*subject, r Request, ttl time.Duration, limit int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.swept) > time.Minute {
		for k, t := range m.m {
			if now.After(t.exp) {
				delete(m.m, k)
			}
		}
		m.swept = now
	}
	for i, sub := range subjects {
		t := m.m[keys[i]]
		if t == nil || now.After(t.exp) {
			t = &tally{}
			m.m[keys[i]] = t
		}
		t.exp = now.Add(ttl)
		if r.Kind == Offers {
			if t.items == nil {
				t.items = map[string]struct{}{}
			}
			t.items[r.Item] = struct{}{}
			sub.count = len(t.items)
		} else {
			t.n++
			sub.count = t.n
		}
		t.ev = append([]string{r.Item}, t.ev[:min(len(t.ev), evidenceSize-1)]...)
		if sub.count > limit {
			sub.items = append([]string(nil), t.ev...)
			sub.fresh = !t.flagged
			t.flagged = true
		}
	}
}
