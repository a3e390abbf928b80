// Package apikeys keeps the keys a partner's till or CRM uses to call the POS/CRM API
// (/api/partner/v1): the owner creates a key with a name and scopes, sees the secret
// once, and revokes it. Only the SHA-256 of a secret is stored (a key carries 256
// random bits, so a plain hash cannot be reversed by guessing); a request is
// authenticated by looking that hash up. The package also keeps the idempotency rule
// of the API's writes (idempotency.go). Every function that touches a partner's keys
// takes the partner ID and finds nothing outside it.
package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"ikra/app/audit"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/apikey"
	"ikra/ent/partner"
)

// Scopes a key may hold.
const (
	ScopeRead   = "read"   // list offers and bookings, open a booking
	ScopeRedeem = "redeem" // confirm, decline, complete and reverse bookings
)

// AllScopes are the scopes in the order screens list them.
var AllScopes = []string{ScopeRead, ScopeRedeem}

// Prefix starts every key, so a leaked one is recognisable (secret scanners, logs).
const Prefix = "ikra_"

// secretBytes is the entropy of a key: 32 random bytes, 43 characters of base64url.
const secretBytes = 32

// keyLength is the length of a whole key, prefix included.
var keyLength = len(Prefix) + base64.RawURLEncoding.EncodedLen(secretBytes)

// shownPrefix is how many characters of a key are kept to tell keys apart on screen.
var shownPrefix = len(Prefix) + 8

// MaxName is the longest key name.
const MaxName = 100

// touchEvery is how often a key's last-used time is written at most.
const touchEvery = time.Minute

// Errors a caller can tell apart.
var (
	// ErrNotFound means no such key for this partner.
	ErrNotFound = errors.New("apikeys: not found")
	// ErrUnauthorized means a missing, malformed, unknown or revoked key.
	ErrUnauthorized = errors.New("apikeys: unknown or revoked key")
	// ErrPartnerInactive means the key's partner is not active (suspended).
	ErrPartnerInactive = errors.New("apikeys: the partner is not active")
)

// ValidationError carries field errors as message keys, by field name.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string { return fmt.Sprintf("apikeys: invalid input: %v", e.Fields) }

// Key is an authenticated API key: what a request may do and for whom.
type Key struct {
	ID        int
	PartnerID int
	Scopes    []string
	CreatedBy int // the owner who created it: the actor of what the key does
}

// Allows reports whether the key holds scope.
func (k *Key) Allows(scope string) bool { return slices.Contains(k.Scopes, scope) }

// Service keeps API keys and authenticates them.
type Service struct {
	db  *ent.Client
	now func() time.Time

	mu      sync.Mutex
	touched map[int]time.Time // key → when this node last wrote its last-used time

	stripes [64]chan struct{} // in-process locks of idempotency keys (idempotency.go)
}

// New returns the API key service.
func New(db *ent.Client) *Service {
	s := &Service{db: db, now: time.Now, touched: map[int]time.Time{}}
	for i := range s.stripes {
		s.stripes[i] = make(chan struct{}, 1)
	}
	return s
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Hash is the stored form of a key's secret: SHA-256, hex.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create makes a key for the partner with a name and scopes, records who made it in
// the audit log, and returns the row with the whole key, which is never shown again.
func (s *Service) Create(ctx context.Context, by audit.Entry, partnerID, createdBy int, name string, scopes []string) (*ent.APIKey, string, error) {
	name = strings.TrimSpace(name)
	errs := map[string]string{}
	switch {
	case name == "":
		errs["name"] = "keys.name_required"
	case utf8.RuneCountInString(name) > MaxName:
		errs["name"] = "keys.name_too_long"
	}
	var clean []string
	for _, sc := range AllScopes {
		if slices.Contains(scopes, sc) {
			clean = append(clean, sc)
		}
	}
	if len(clean) == 0 {
		errs["scopes"] = "keys.scopes_required"
	}
	for _, sc := range scopes {
		if !slices.Contains(AllScopes, sc) {
			errs["scopes"] = "keys.scopes_invalid"
		}
	}
	if len(errs) > 0 {
		return nil, "", &ValidationError{Fields: errs}
	}
	raw := make([]byte, secretBytes)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", err
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(raw)
	var row *ent.APIKey
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		var err error
		row, err = tx.APIKey.Create().SetPartnerID(partnerID).SetName(name).SetScopes(clean).
			SetPrefix(secret[:shownPrefix]).SetSecretHash(Hash(secret)).SetCreatedBy(createdBy).
			SetCreatedAt(s.now()).Save(ctx)
		if err != nil {
			return err
		}
		by.PartnerID, by.Action, by.TargetType, by.TargetID = &partnerID, "apikey.create", "api_key", strconv.Itoa(row.ID)
		by.After = map[string]any{"name": name, "scopes": clean, "prefix": row.Prefix}
		return audit.Record(ctx, tx.Client(), by)
	})
	if err != nil {
		return nil, "", err
	}
	return row, secret, nil
}

// List returns the partner's keys, newest first, revoked ones included.
func (s *Service) List(ctx context.Context, partnerID int) ([]*ent.APIKey, error) {
	return s.db.APIKey.Query().Where(apikey.PartnerID(partnerID)).
		Order(ent.Desc(apikey.FieldCreatedAt), ent.Desc(apikey.FieldID)).All(ctx)
}

// Revoke ends one of the partner's keys at once, with an audit entry. Revoking a key
// already revoked changes nothing.
func (s *Service) Revoke(ctx context.Context, by audit.Entry, partnerID, id int) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		k, err := tx.APIKey.Query().Where(apikey.ID(id), apikey.PartnerID(partnerID)).Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return nil
		}
		if err := k.Update().SetRevokedAt(s.now()).Exec(ctx); err != nil {
			return err
		}
		by.PartnerID, by.Action, by.TargetType, by.TargetID = &partnerID, "apikey.revoke", "api_key", strconv.Itoa(k.ID)
		by.Before = map[string]any{"name": k.Name, "scopes": k.Scopes, "prefix": k.Prefix}
		return audit.Record(ctx, tx.Client(), by)
	})
}

// Authenticate finds the live key a request presents. A missing, malformed, unknown
// or revoked key is ErrUnauthorized; a key of a partner that is not active is
// ErrPartnerInactive. The last-used time is written at most once a minute per key.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Key, error) {
	if len(secret) != keyLength || !strings.HasPrefix(secret, Prefix) {
		return nil, ErrUnauthorized
	}
	row, err := s.db.APIKey.Query().Where(apikey.SecretHash(Hash(secret)), apikey.RevokedAtIsNil()).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	active, err := s.db.Partner.Query().Where(partner.ID(row.PartnerID), partner.StatusEQ(partner.StatusActive)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !active {
		return nil, ErrPartnerInactive
	}
	if err := s.touch(ctx, row.ID); err != nil {
		return nil, err
	}
	return &Key{ID: row.ID, PartnerID: row.PartnerID, Scopes: row.Scopes, CreatedBy: row.CreatedBy}, nil
}

// touch writes the key's last-used time unless this node did so within touchEvery;
// the condition in the update keeps several nodes from writing it more often either.
func (s *Service) touch(ctx context.Context, id int) error {
	now := s.now()
	s.mu.Lock()
	if last, ok := s.touched[id]; ok && now.Sub(last) < touchEvery {
		s.mu.Unlock()
		return nil
	}
	s.touched[id] = now
	s.mu.Unlock()
	return s.db.APIKey.Update().
		Where(apikey.ID(id), apikey.Or(apikey.LastUsedAtIsNil(), apikey.LastUsedAtLT(now.Add(-touchEvery)))).
		SetLastUsedAt(now).Exec(ctx)
}
