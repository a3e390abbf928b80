// Package cache keeps rows that change rarely (tiers, categories, cities, settings, the
// signed-in member and their roles) in each node's memory, and forgets them when they
// change, on every node.
//
// Every write goes through ent, so a hook on the client sees it: it forgets the
// affected entries at once and again after the transaction commits, and publishes the
// change on a Redis channel that every node listens to. A cache is used only while this
// node's subscription is up: while Redis is unreachable every read goes to the
// database (the source of truth), and a reconnect starts with an empty cache, so a
// change missed in between is never served. Entries also expire after their TTL.
//
// A read that started before a change cannot store what it read after the change: each
// cache has a generation, bumped by every change, and a value read under an older
// generation is returned but not kept.
//
// The channel is fast but not synchronous: another node forgets a change a moment after
// the writer answered. For the types marked Strict (permissions, settings such as the
// maintenance mode) that moment is closed: each change also bumps a sequence number in
// Redis, and Sync, called at the start of every request, compares it with the last one
// this node caught up with; when it moved, Sync publishes a ping of its own on the
// channel and waits until the ping comes back, by which time every change published
// before it has been applied here.
package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"ikra/ent"
)

// Bus carries changes between the caches of all nodes.
type Bus struct {
	rdb     *redis.Client
	channel string
	node    string // this bus's name on the channel: its own announcements come back and are skipped
	log     *slog.Logger
	up      atomic.Bool

	mu     sync.Mutex
	byType map[string][]forgetter // ent type name, or "Type.field" → caches that hold rows of it
	fields map[string][]string    // ent type name → its fields whose values name cached entries
	strict map[string]bool        // types whose changes bump the sequence (Strict)

	seqKey   string       // the sequence of strict changes, in Redis
	synced   atomic.Int64 // the sequence this node has caught up with
	flightMu sync.Mutex
	flight   *flight  // the catch-up in progress, if any
	pings    sync.Map // token → chan struct{}, closed when Run sees this node's ping
}

// flight is one catch-up: it covers every strict change up to seq.
type flight struct {
	seq  int64
	done chan struct{}
}

// forgetter drops one entry (id > 0) or every entry (id == 0).
type forgetter interface{ forget(id int) }

// NewBus returns a bus on channel prefix+"cache". With rdb nil (a single process in a
// test) caches are always used and changes stay local.
func NewBus(rdb *redis.Client, prefix string, log *slog.Logger) *Bus {
	b := &Bus{rdb: rdb, channel: prefix + "cache", node: nodeName(), log: log, byType: map[string][]forgetter{},
		fields: map[string][]string{}, strict: map[string]bool{}, seqKey: prefix + "cache:seq"}
	if rdb == nil {
		b.up.Store(true)
	}
	return b
}

// nodeName is a random name for one bus.
func nodeName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Up reports whether caches are in use on this node.
func (b *Bus) Up() bool { return b.up.Load() }

// register makes changes to rows of types reach f. A type may name a field, as in
// "Booking.offer_id": a change to a booking then forgets f's entry for the value of
// the booking's offer_id (or every entry when the mutation does not set the field).
func (b *Bus) register(f forgetter, types ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range types {
		if typ, field, ok := strings.Cut(t, "."); ok && len(b.byType[t]) == 0 {
			b.fields[typ] = append(b.fields[typ], field)
		}
		b.byType[t] = append(b.byType[t], f)
	}
}

// Strict marks types (ent type names, or names given to OnChange) whose changes every
// node must see from its next request on: see Sync.
func (b *Bus) Strict(types ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range types {
		b.strict[t] = true
	}
}

// OnChange calls fn on this node whenever another node announces a change of one of
// types (and when the channel reconnects, as a change may have been missed). fn runs
// on the bus's goroutine: Sync waits for it.
func (b *Bus) OnChange(fn func(), types ...string) { b.register(onChange(fn), types...) }

type onChange func()

func (f onChange) forget(int) { f() }

// Changed forgets the rows of type typ (id 0: all of them) here and tells the other
// nodes. A failed announcement is logged; the other nodes then lose their
// subscription too, or their entries expire.
func (b *Bus) Changed(ctx context.Context, typ string, id int) {
	b.apply(typ, id)
	b.Announce(ctx, typ, id)
}

// Announce tells the other nodes, not this one, that rows of type typ changed.
func (b *Bus) Announce(ctx context.Context, typ string, id int) {
	if b.rdb == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	msg := b.node + " " + typ + ":" + strconv.Itoa(id)
	base, _, _ := strings.Cut(typ, ".")
	b.mu.Lock()
	strict := b.strict[base]
	b.mu.Unlock()
	var err error
	if strict {
		// Published before the sequence moves: a node that reads the new number and
		// then pings the channel finds this message ahead of its ping.
		_, err = b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Publish(ctx, b.channel, msg)
			p.Incr(ctx, b.seqKey)
			return nil
		})
	} else {
		err = b.rdb.Publish(ctx, b.channel, msg).Err()
	}
	if err != nil {
		b.log.WarnContext(ctx, "cache: change not announced to other nodes", "type", typ, "err", err)
	}
}

// pingWait bounds a catch-up; past it the node forgets every cached entry instead.
const pingWait = time.Second

// Sync makes this node see every strict change announced so far (Strict): it reads the
// sequence in Redis (one round trip) and, when it moved since the last catch-up, waits
// until the channel has delivered everything published before now. An error (Redis
// unreachable) leaves the caches as they are; the caller carries on.
func (b *Bus) Sync(ctx context.Context) error {
	if b.rdb == nil || !b.up.Load() {
		return nil // no other node, or no cache in use until the channel is back
	}
	seq, err := b.rdb.Get(ctx, b.seqKey).Int64()
	if errors.Is(err, redis.Nil) {
		return nil // nothing strict has changed yet
	}
	if err != nil {
		return err
	}
	if seq <= b.synced.Load() {
		return nil
	}
	f := b.join(seq)
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// join returns a catch-up covering seq: the one in progress if it does, else a new one.
func (b *Bus) join(seq int64) *flight {
	b.flightMu.Lock()
	defer b.flightMu.Unlock()
	if b.flight != nil && b.flight.seq >= seq {
		return b.flight
	}
	f := &flight{seq: seq, done: make(chan struct{})}
	b.flight = f
	go b.catchUp(f)
	return f
}

// catchUp sends a ping through the channel and waits for it to come back; messages
// are delivered in order, so every change published before it has been applied.
func (b *Bus) catchUp(f *flight) {
	token := nodeName()
	back := make(chan struct{})
	b.pings.Store(token, back)
	defer b.pings.Delete(token)
	ctx, cancel := context.WithTimeout(context.Background(), pingWait)
	defer cancel()
	err := b.rdb.Publish(ctx, b.channel, b.node+" "+pingPrefix+token).Err()
	if err == nil {
		select {
		case <-back:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		// What was missed is unknown: nothing cached before now is served.
		b.forgetAll()
		b.log.Warn("cache: no catch-up with the other nodes; forgot every entry", "err", err)
	}
	for {
		cur := b.synced.Load()
		if cur >= f.seq || b.synced.CompareAndSwap(cur, f.seq) {
			break
		}
	}
	b.flightMu.Lock()
	if b.flight == f {
		b.flight = nil
	}
	b.flightMu.Unlock()
	close(f.done)
}

// pingPrefix starts a catch-up's message on the channel.
const pingPrefix = "ping:"

func (b *Bus) apply(typ string, id int) {
	b.mu.Lock()
	fs := b.byType[typ]
	b.mu.Unlock()
	for _, f := range fs {
		f.forget(id)
	}
}

// Flush forgets every entry of every cache on this node (tests, to measure a cold
// request).
func (b *Bus) Flush() { b.forgetAll() }

func (b *Bus) forgetAll() {
	b.mu.Lock()
	var all []forgetter
	for _, fs := range b.byType {
		all = append(all, fs...)
	}
	b.mu.Unlock()
	for _, f := range all {
		f.forget(0)
	}
}

// Run listens for changes from other nodes until ctx ends. Caches are used only
// between a confirmed subscription and the first sign of a broken connection.
func (b *Bus) Run(ctx context.Context) {
	if b.rdb == nil {
		return
	}
	sub := b.rdb.Subscribe(ctx, b.channel)
	stop := context.AfterFunc(ctx, func() { sub.Close() }) // ends a blocked receive
	defer stop()
	defer sub.Close()
	for ctx.Err() == nil {
		msg, err := sub.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Quiet channel: a ping proves the connection still delivers.
				if err = sub.Ping(ctx); err == nil {
					continue
				}
			}
			if ctx.Err() != nil {
				break
			}
			if b.up.Swap(false) {
				b.log.Warn("cache: change channel lost; reading from the database until it is back", "err", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				b.forgetAll() // whatever changed while we were away is not served
				b.up.Store(true)
			}
		case *redis.Message:
			from, what, _ := strings.Cut(m.Payload, " ")
			if token, ok := strings.CutPrefix(what, pingPrefix); ok {
				if from == b.node {
					if back, ok := b.pings.LoadAndDelete(token); ok {
						close(back.(chan struct{}))
					}
				}
				continue
			}
			typ, id, ok := strings.Cut(what, ":")
			n, err := strconv.Atoi(id)
			if ok && err == nil && from != b.node { // this node forgot its own changes already
				b.apply(typ, n)
			}
		}
	}
	b.up.Store(false)
}

// Hook forgets the cached rows a mutation touches: at once, and again after its
// transaction commits (a read in between may have stored the old row).
func (b *Bus) Hook() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			typ := m.Type()
			b.mu.Lock()
			watched := len(b.byType[typ]) > 0
			fields := b.fields[typ]
			b.mu.Unlock()
			if !watched && len(fields) == 0 {
				return next.Mutate(ctx, m)
			}
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			changes := make([]change, 0, 1+len(fields))
			if watched {
				// One row (created, updated or deleted by ID) names its ID; a change to
				// many rows at once forgets them all.
				id := 0
				if m.Op().Is(ent.OpCreate | ent.OpUpdateOne | ent.OpDeleteOne) {
					if withID, ok := m.(interface{ ID() (int, bool) }); ok {
						if n, ok := withID.ID(); ok {
							id = n
						}
					}
				}
				changes = append(changes, change{typ, id})
			}
			for _, f := range fields {
				// The value the mutation sets (a new row's owner); for one row updated
				// without it, the row's value before the update (no statement when the
				// update was made from the row, as ent keeps it); else all.
				id := 0
				if v, ok := m.Field(f); ok {
					if n, ok := v.(int); ok {
						id = n
					}
				}
				if id == 0 && m.Op().Is(ent.OpUpdateOne) {
					if v, err := m.OldField(ctx, f); err == nil {
						if n, ok := v.(int); ok {
							id = n
						}
					}
				}
				changes = append(changes, change{typ + "." + f, id})
			}
			var tx *ent.Tx
			if t, ok := m.(interface{ Tx() (*ent.Tx, error) }); ok {
				tx, _ = t.Tx()
			}
			for _, c := range changes {
				if tx != nil {
					// Other nodes cannot see the change before it commits: they are told
					// once, after the commit, below.
					b.apply(c.typ, c.id)
				} else {
					b.Changed(ctx, c.typ, c.id)
				}
			}
			if tx != nil {
				tx.OnCommit(func(c ent.Committer) ent.Committer {
					return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
						err := c.Commit(ctx, tx)
						if err == nil {
							for _, ch := range changes {
								b.Changed(ctx, ch.typ, ch.id)
							}
						}
						return err
					})
				})
			}
			return v, nil
		})
	}
}

// change names what a mutation changed: rows of a type (or a "Type.field" value) and
// the ID, 0 for all.
type change struct {
	typ string
	id  int
}

type entry[V any] struct {
	v   V
	exp time.Time
}

// ByID caches one value per ID (a member, a member's roles).
type ByID[V any] struct {
	bus  *Bus
	ttl  time.Duration
	max  int
	load func(ctx context.Context, id int) (V, error)

	mu  sync.Mutex
	gen uint64
	m   map[int]entry[V]
}

// NewByID caches load's values for ttl, at most max of them. A change to the row of
// type byID ("" for none) with the same ID forgets that entry; a change to any row of
// the types in all forgets every entry.
func NewByID[V any](b *Bus, ttl time.Duration, max int, load func(ctx context.Context, id int) (V, error), byID string, all ...string) *ByID[V] {
	c := &ByID[V]{bus: b, ttl: ttl, max: max, load: load, m: map[int]entry[V]{}}
	if byID != "" {
		b.register(c, byID)
	}
	for _, t := range all {
		b.register(everything{c}, t)
	}
	return c
}

// AlsoByID makes changes to rows of more types forget the entry with the same ID, as
// NewByID's byID does (a type may name a field: "Booking.member_id").
func (c *ByID[V]) AlsoByID(types ...string) *ByID[V] {
	c.bus.register(c, types...)
	return c
}

// everything forgets every entry whatever the ID of the changed row.
type everything struct{ f forgetter }

func (e everything) forget(int) { e.f.forget(0) }

// Get returns the cached value for id, loading it on a miss. Values are shared: the
// caller must not modify them.
func (c *ByID[V]) Get(ctx context.Context, id int) (V, error) {
	if !c.bus.Up() {
		return c.load(ctx, id)
	}
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.v, nil
	}
	v, err := c.load(ctx, id)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.m) >= c.max {
			clear(c.m)
		}
		c.m[id] = entry[V]{v: v, exp: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return v, nil
}

// GetMany returns the cached values for ids, loading the missing ones with one call of
// loadMany; an ID loadMany does not return is absent from the result (and not kept).
func (c *ByID[V]) GetMany(ctx context.Context, ids []int, loadMany func(ctx context.Context, ids []int) (map[int]V, error)) (map[int]V, error) {
	if !c.bus.Up() {
		return loadMany(ctx, ids)
	}
	now := time.Now()
	out := make(map[int]V, len(ids))
	var missing []int
	c.mu.Lock()
	gen := c.gen
	for _, id := range ids {
		if e, ok := c.m[id]; ok && now.Before(e.exp) {
			out[id] = e.v
		} else {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	loaded, err := loadMany(ctx, missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	keep := c.gen == gen
	if keep && len(c.m)+len(loaded) > c.max {
		clear(c.m)
	}
	for id, v := range loaded {
		out[id] = v
		if keep {
			c.m[id] = entry[V]{v: v, exp: now.Add(c.ttl)}
		}
	}
	c.mu.Unlock()
	return out, nil
}

func (c *ByID[V]) forget(id int) {
	c.mu.Lock()
	c.gen++
	if id == 0 {
		clear(c.m)
	} else {
		delete(c.m, id)
	}
	c.mu.Unlock()
}

// Value caches one value (a whole small table): a ByID with a single entry.
type Value[V any] struct{ c *ByID[V] }

// NewValue caches load's value for ttl; a change to any row of types forgets it.
func NewValue[V any](b *Bus, ttl time.Duration, load func(ctx context.Context) (V, error), types ...string) *Value[V] {
	return &Value[V]{c: NewByID(b, ttl, 1, func(ctx context.Context, _ int) (V, error) { return load(ctx) }, "", types...)}
}

// Get returns the cached value, loading it when missing or expired. The value is
// shared: the caller must not modify it.
func (v *Value[V]) Get(ctx context.Context) (V, error) { return v.c.Get(ctx, 0) }
