// Package settings keeps platform settings in the database: values admins change at run
// time (welcome bonus, referral share, …) and secrets generated once for every node.
package settings

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"ikra/app/cache"

	"ikra/ent"
	"ikra/ent/setting"
)

// Store reads and writes settings.
type Store struct {
	db    *ent.Client
	cache *cache.Value[map[string]string]
}

// New returns a settings store.
func New(db *ent.Client) *Store { return &Store{db: db} }

// Cache makes Get read the whole (small) table once and keep it until a setting
// changes on any node.
func (s *Store) Cache(b *cache.Bus) {
	s.cache = cache.NewValue(b, cache.TableTTL, s.all, "Setting")
}

func (s *Store) all(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.Setting.Query().Select(setting.FieldKey, setting.FieldValue).All(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r.Key] = r.Value
	}
	return m, nil
}

// Get returns a setting's value and whether it is set.
func (s *Store) Get(ctx context.Context, key string) (string, bool, error) {
	if s.cache != nil {
		m, err := s.cache.Get(ctx)
		if err != nil {
			return "", false, err
		}
		v, ok := m[key]
		return v, ok, nil
	}
	row, err := s.db.Setting.Query().Where(setting.Key(key)).Only(ctx)
	if ent.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return row.Value, true, nil
}

// Set writes a setting; actorID is the staff member who changed it, if any.
func (s *Store) Set(ctx context.Context, key, value string, actorID *int) error {
	return s.db.Setting.Create().
		SetKey(key).SetValue(value).SetNillableUpdatedByID(actorID).
		OnConflictColumns(setting.FieldKey).
		UpdateNewValues().
		Exec(ctx)
}

// Secret returns the random secret stored under key, creating it on first use. Every
// node reads the same value, so tokens signed on one node verify on another.
func (s *Store) Secret(ctx context.Context, key string) (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	if v, ok, err := s.Get(ctx, key); err != nil || ok {
		return v, err
	}
	// Insert-if-absent, then read back: two nodes starting together agree on one value.
	err := s.db.Setting.Create().SetKey(key).SetValue(hex.EncodeToString(buf)).Exec(ctx)
	if err != nil && !ent.IsConstraintError(err) {
		return "", err
	}
	v, _, err := s.Get(ctx, key)
	return v, err
}
