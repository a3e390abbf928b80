package apikeys

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
	"unicode/utf8"

	"ikra/ent"
	"ikra/ent/idempotencyrecord"
)

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 200

// Idempotency errors.
var (
	// ErrKeyReused means the Idempotency-Key already names another request of this key.
	ErrKeyReused = errors.New("apikeys: idempotency key reused with another request")
	// ErrInProgress means the first request with this Idempotency-Key is still running
	// and did not finish while this one waited.
	ErrInProgress = errors.New("apikeys: a request with this idempotency key is still running")
	// ErrBadIdempotencyKey means an Idempotency-Key that is too long or not text.
	ErrBadIdempotencyKey = errors.New("apikeys: bad idempotency key")
)

// Answer is what a write answered: its status and JSON body, replayed as they were.
type Answer struct {
	Status int
	Body   []byte
}

// How long a duplicate waits for the first request to finish, how often it looks, and
// when a claim is taken for abandoned (its process died between claim and answer).
var (
	waitFor    = 10 * time.Second
	pollEvery  = 25 * time.Millisecond
	staleAfter = 2 * time.Minute
)

// CheckIdempotencyKey accepts an Idempotency-Key the database can store as it is:
// 1 to MaxIdempotencyKey bytes of UTF-8 text without control characters (a NUL, which
// PostgreSQL refuses in text, included); anything else is ErrBadIdempotencyKey.
func CheckIdempotencyKey(k string) error {
	if k == "" || len(k) > MaxIdempotencyKey || !utf8.ValidString(k) {
		return ErrBadIdempotencyKey
	}
	for _, r := range k {
		if r < 0x20 || r == 0x7f {
			return ErrBadIdempotencyKey
		}
	}
	return nil
}

// Idempotent runs do at most once per API key and Idempotency-Key. request describes
// what is asked (route, booking, parameters): the same key with the same request gets
// the first answer again (replayed is true); with another request it is ErrKeyReused.
//
// The rule holds under concurrency because the key is claimed before do runs: a row is
// inserted under a unique index on (API key, Idempotency-Key), so of concurrent
// duplicates exactly one inserts it and runs do; the others see the row, wait for its
// answer and replay it, or give up with ErrInProgress after waitFor. Duplicates on
// one node first queue on an in-process lock, so only one of them at a time reaches
// the database; the row decides between nodes. An answer of 5xx,
// or an error from do, releases the claim so that a retry runs again (the domain
// functions roll back on error, so nothing happened); any other answer is kept.
func (s *Service) Idempotent(ctx context.Context, keyID int, idemKey string, request string, do func() (Answer, error)) (ans Answer, replayed bool, err error) {
	if err := CheckIdempotencyKey(idemKey); err != nil {
		return Answer{}, false, err
	}
	sum := sha256.Sum256([]byte(request))
	hash := hex.EncodeToString(sum[:])
	deadline := time.Now().Add(waitFor)
	// Duplicates on this node queue here rather than in the database: a duplicate
	// whose insert waited for SQLite's write lock would hold a pooled connection that
	// the first request's transaction may need, and stall it.
	stripe := s.stripe(keyID, idemKey)
	select {
	case stripe <- struct{}{}:
		defer func() { <-stripe }()
	case <-ctx.Done():
		return Answer{}, false, ctx.Err()
	case <-time.After(time.Until(deadline)):
		return Answer{}, false, ErrInProgress
	}
	for {
		rec, err := s.db.IdempotencyRecord.Create().SetAPIKeyID(keyID).SetKey(idemKey).SetRequestHash(hash).
			SetCreatedAt(s.now()).Save(ctx)
		if err == nil {
			return s.run(ctx, rec, do)
		}
		if !ent.IsConstraintError(err) {
			return Answer{}, false, err
		}
		prev, err := s.db.IdempotencyRecord.Query().
			Where(idempotencyrecord.APIKeyID(keyID), idempotencyrecord.Key(idemKey)).Only(ctx)
		if ent.IsNotFound(err) {
			continue // released meanwhile: claim it again
		}
		if err != nil {
			return Answer{}, false, err
		}
		switch {
		case prev.RequestHash != hash:
			return Answer{}, false, ErrKeyReused
		case prev.Status != 0:
			return Answer{Status: prev.Status, Body: []byte(prev.Body)}, true, nil
		case s.now().Sub(prev.CreatedAt) > staleAfter:
			// Abandoned: only one of those who find it removes it, then all try to claim.
			if _, err := s.db.IdempotencyRecord.Delete().
				Where(idempotencyrecord.ID(prev.ID), idempotencyrecord.Status(0)).Exec(ctx); err != nil {
				return Answer{}, false, err
			}
			continue
		case time.Now().After(deadline):
			return Answer{}, false, ErrInProgress
		}
		select {
		case <-ctx.Done():
			return Answer{}, false, ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// stripe is the in-process lock of an (API key, Idempotency-Key) pair: one of a fixed
// set, so that unrelated keys rarely share one and memory does not grow with keys.
func (s *Service) stripe(keyID int, idemKey string) chan struct{} {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d\x00%s", keyID, idemKey)
	return s.stripes[h.Sum32()%uint32(len(s.stripes))]
}

// run carries out a claimed request and stores its answer, or releases the claim.
func (s *Service) run(ctx context.Context, rec *ent.IdempotencyRecord, do func() (Answer, error)) (Answer, bool, error) {
	// The claim is settled even if the client has gone: a claim left open would make
	// every retry wait for staleAfter.
	settle := context.WithoutCancel(ctx)
	ans, err := do()
	if err != nil || ans.Status >= 500 {
		if _, derr := s.db.IdempotencyRecord.Delete().Where(idempotencyrecord.ID(rec.ID)).Exec(settle); derr != nil {
			return ans, false, errors.Join(err, derr)
		}
		return ans, false, err
	}
	// By ID rather than rec.Update(), which reads the row back after the UPDATE.
	_, err = s.db.IdempotencyRecord.Update().Where(idempotencyrecord.ID(rec.ID)).
		SetStatus(ans.Status).SetBody(string(ans.Body)).SetCompletedAt(s.now()).Save(settle)
	return ans, false, err
}

// IdempotencyRetention is how long the first answer of a write is kept for retries.
const IdempotencyRetention = 24 * time.Hour

// PruneIdempotency deletes the stored answers older than IdempotencyRetention and
// reports how many; a periodic job calls it. A key used again after that runs anew.
func (s *Service) PruneIdempotency(ctx context.Context) (int, error) {
	return s.db.IdempotencyRecord.Delete().
		Where(idempotencyrecord.CreatedAtLT(s.now().Add(-IdempotencyRetention))).Exec(ctx)
}
