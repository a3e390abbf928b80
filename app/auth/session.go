// Package auth keeps server-side sessions: a random token in an HttpOnly cookie, its
// SHA-256 in the database (so sessions can be listed and revoked per device), and a
// short-lived lookup cache in Redis. The database is the source of truth: when Redis
// fails, the cache is skipped and the failure logged, and sessions keep working.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"ikra/app/sanitize"
	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/session"
)

// ErrNoSession means the token names no live session: unknown, expired or revoked.
var ErrNoSession = errors.New("auth: no such session")

// Current is what a live session tells about its holder.
type Current struct {
	SessionID string // the SHA-256 hex of the token, the session's database ID
	MemberID  int
	Channel   string
}

// Sessions creates, looks up and revokes sessions.
type Sessions struct {
	db       *ent.Client
	rdb      *redis.Client
	prefix   string
	ttl      time.Duration
	cacheTTL time.Duration
	now      func() time.Time
	log      *slog.Logger
	mem      *memoryCache // the lookup cache in this process (CacheInMemory); nil: in Redis
}

// memoryCache is the lookup cache of a node that runs its own Redis: no other node
// shares it, and a map spares a round trip to the in-process server on every request.
type memoryCache struct {
	mu    sync.Mutex
	m     map[string]cached
	swept time.Time
}

type cached struct {
	cur Current
	exp time.Time
}

// CacheInMemory keeps the lookup cache in this process instead of Redis.
func (s *Sessions) CacheInMemory() { s.mem = &memoryCache{m: map[string]cached{}} }

func (c *memoryCache) get(key string) (Current, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Now().After(e.exp) {
		return Current{}, false
	}
	return e.cur, true
}

func (c *memoryCache) put(key string, cur Current, ttl time.Duration) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.swept) > ttl {
		for k, e := range c.m {
			if now.After(e.exp) {
				delete(c.m, k)
			}
		}
		c.swept = now
	}
	c.m[key] = cached{cur: cur, exp: now.Add(ttl)}
}

func (c *memoryCache) del(keys ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		delete(c.m, k)
	}
}

// NewSessions returns the session service. prefix namespaces its Redis keys.
func NewSessions(db *ent.Client, rdb *redis.Client, prefix string, ttl time.Duration) *Sessions {
	return &Sessions{db: db, rdb: rdb, prefix: prefix + "sess:", ttl: ttl, cacheTTL: time.Minute, now: time.Now, log: slog.Default()}
}

// SetLogger sets where cache failures are logged (slog.Default otherwise).
func (s *Sessions) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}

// cacheFailed logs a Redis failure; the caller carries on with the database.
func (s *Sessions) cacheFailed(ctx context.Context, op string, err error) {
	s.log.WarnContext(ctx, "session cache unavailable, using the database", "op", op, "err", err)
}

// TTL is how long a session lives without use.
func (s *Sessions) TTL() time.Duration { return s.ttl }

// HashToken turns a cookie token into the session's ID. Only the hash is stored, so a
// database leak does not hand out live sessions.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Start creates a new session for the member and returns the token for the cookie.
// Every sign-in gets a fresh, server-generated token; a token offered by the client
// is never adopted.
func (s *Sessions) Start(ctx context.Context, memberID int, channel, userAgent, ip string) (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(buf)
	userAgent = sanitize.Text(userAgent)
	if len(userAgent) > 300 {
		// Cut at a character boundary: half a letter is invalid UTF-8 again.
		n := 300
		for n > 0 && !utf8.RuneStart(userAgent[n]) {
			n--
		}
		userAgent = userAgent[:n]
	}
	now := s.now()
	err := s.db.Session.Create().
		SetID(HashToken(token)).
		SetMemberID(memberID).
		SetChannel(session.Channel(channel)).
		SetUserAgent(userAgent).
		SetIP(ip).
		SetCreatedAt(now).
		SetLastSeenAt(now).
		SetExpiresAt(now.Add(s.ttl)).
		Exec(ctx)
	if err != nil {
		return "", err
	}
	return token, nil
}

// Lookup returns the live session behind a cookie token. A hit in the Redis cache
// skips the database; a miss checks the database (session not revoked nor expired,
// member active), refreshes last-seen and fills the cache.
func (s *Sessions) Lookup(ctx context.Context, token string) (Current, error) {
	if token == "" || len(token) > 100 {
		return Current{}, ErrNoSession
	}
	id := HashToken(token)
	key := s.prefix + id
	if s.mem != nil {
		if cur, ok := s.mem.get(key); ok {
			return cur, nil
		}
		return s.lookupDB(ctx, id, key)
	}
	v, err := s.rdb.HGetAll(ctx, key).Result()
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return Current{}, ctx.Err()
		}
		s.cacheFailed(ctx, "read", err)
	case v["m"] != "":
		if mid, _ := strconv.Atoi(v["m"]); mid > 0 {
			return Current{SessionID: id, MemberID: mid, Channel: v["c"]}, nil
		}
	}
	return s.lookupDB(ctx, id, key)
}

// lookupDB checks the session in the database and fills the cache.
func (s *Sessions) lookupDB(ctx context.Context, id, key string) (Current, error) {
	now := s.now()
	sess, err := s.db.Session.Query().
		Where(session.ID(id), session.RevokedAtIsNil(), session.ExpiresAtGT(now),
			session.HasMemberWith(member.StatusEQ(member.StatusActive))).
		Only(ctx)
	if ent.IsNotFound(err) {
		return Current{}, ErrNoSession
	}
	if err != nil {
		return Current{}, err
	}
	// Sliding expiry: a session in use lives on.
	if err := s.db.Session.UpdateOneID(id).SetLastSeenAt(now).SetExpiresAt(now.Add(s.ttl)).Exec(ctx); err != nil {
		return Current{}, err
	}
	cur := Current{SessionID: id, MemberID: sess.MemberID, Channel: string(sess.Channel)}
	if s.mem != nil {
		s.mem.put(key, cur, s.cacheTTL)
		return cur, nil
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, key, "m", sess.MemberID, "c", string(sess.Channel))
	pipe.Expire(ctx, key, s.cacheTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		s.cacheFailed(ctx, "fill", err) // the next request reads the database again
	}
	return cur, nil
}

// List returns a member's live sessions, newest first.
func (s *Sessions) List(ctx context.Context, memberID int) ([]*ent.Session, error) {
	return s.db.Session.Query().
		Where(session.MemberID(memberID), session.RevokedAtIsNil(), session.ExpiresAtGT(s.now())).
		Order(ent.Desc(session.FieldLastSeenAt)).
		All(ctx)
}

// Revoke ends one of the member's sessions. A session of another member is ErrNoSession.
func (s *Sessions) Revoke(ctx context.Context, memberID int, sessionID string) error {
	n, err := s.db.Session.Update().
		Where(session.ID(sessionID), session.MemberID(memberID), session.RevokedAtIsNil()).
		SetRevokedAt(s.now()).
		Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNoSession
	}
	s.forget(ctx, s.prefix+sessionID)
	return nil
}

// forget drops revoked sessions from the cache. The database already says they are
// revoked; if Redis cannot be reached, a cached entry lives out its short TTL.
func (s *Sessions) forget(ctx context.Context, keys ...string) {
	if s.mem != nil {
		s.mem.del(keys...)
		return
	}
	if err := s.rdb.Del(ctx, keys...).Err(); err != nil {
		s.log.WarnContext(ctx, "session cache not cleared after revoking; entries expire on their own",
			"err", err, "sessions", len(keys), "within", s.cacheTTL.String())
	}
}

// RevokeAll ends every session of a member (sign-out everywhere, blocking, deletion).
func (s *Sessions) RevokeAll(ctx context.Context, memberID int) error {
	ids, err := s.db.Session.Query().
		Where(session.MemberID(memberID), session.RevokedAtIsNil()).
		IDs(ctx)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.db.Session.Update().Where(session.IDIn(ids...)).SetRevokedAt(s.now()).Save(ctx); err != nil {
		return err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.prefix + id
	}
	s.forget(ctx, keys...)
	return nil
}

// Purge deletes sessions that expired or were revoked more than a week ago.
func (s *Sessions) Purge(ctx context.Context) (int, error) {
	cut := s.now().Add(-7 * 24 * time.Hour)
	return s.db.Session.Delete().
		Where(session.Or(session.ExpiresAtLT(cut), session.RevokedAtLT(cut))).
		Exec(ctx)
}
