// Package maintenance keeps the platform's maintenance mode (§6.3.2): whether it is on,
// the message members see and the expected end. It lives in the settings table and is
// read through the settings store's cache, which every node forgets at once when a
// setting changes (the cache bus), so a switch holds on every node together.
package maintenance

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"ikra/app/audit"
	"ikra/app/settings"
	"ikra/app/store"
	"ikra/app/zone"
	"ikra/ent"
)

// Almaty is the zone the expected end is shown and typed in.
var Almaty = zone.Almaty

// Settings keys of the mode.
const (
	KeyOn      = "maintenance.on"
	KeyMessage = "maintenance.message"
	KeyUntil   = "maintenance.until" // RFC 3339, empty when not given
)

// MaxMessage caps the message shown to members, in characters.
const MaxMessage = 1000

// MinRetry is the least Retry-After a refused request is told.
const MinRetry = time.Minute

// ErrInvalid means the message is too long, or the expected end is in the past.
var ErrInvalid = errors.New("maintenance: invalid input")

// State is the mode as stored.
type State struct {
	On      bool
	Message string
	Until   time.Time // zero when no end was given
}

// RetryAfter is how long a refused client should wait: until the expected end, at
// least MinRetry (also when no end was given, or it has passed).
func (s State) RetryAfter(now time.Time) time.Duration {
	if s.Until.IsZero() {
		return MinRetry
	}
	return max(s.Until.Sub(now).Round(time.Second), MinRetry)
}

// Service reads and switches the mode.
type Service struct {
	db       *ent.Client
	settings *settings.Store
	now      func() time.Time
}

// New returns the maintenance service; st should be the cached settings store (every
// request asks it).
func New(db *ent.Client, st *settings.Store) *Service {
	return &Service{db: db, settings: st, now: time.Now}
}

// Current returns the mode now; a read failure counts as off, so a broken settings
// table does not lock members out (the error is returned for logging).
func (s *Service) Current(ctx context.Context) (State, error) {
	var st State
	on, _, err := s.settings.Get(ctx, KeyOn)
	if err != nil || on != "1" {
		return st, err
	}
	st.On = true
	if st.Message, _, err = s.settings.Get(ctx, KeyMessage); err != nil {
		return State{}, err
	}
	until, _, err := s.settings.Get(ctx, KeyUntil)
	if err != nil {
		return State{}, err
	}
	if until != "" {
		st.Until, _ = time.Parse(time.RFC3339, until)
	}
	return st, nil
}

// On reports whether the mode is on now.
func (s *Service) On(ctx context.Context) bool {
	st, _ := s.Current(ctx)
	return st.On
}

// Switch turns the mode on (with the message and the expected end, which may be zero)
// or off, with the audit entry in the same transaction.
func (s *Service) Switch(ctx context.Context, actor audit.Entry, want State) error {
	want.Message = strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(want.Message, ""), "\x00", ""))
	if utf8.RuneCountInString(want.Message) > MaxMessage {
		return ErrInvalid
	}
	if want.On && !want.Until.IsZero() && !want.Until.After(s.now()) {
		return ErrInvalid
	}
	if !want.On {
		want.Message, want.Until = "", time.Time{}
	}
	before, err := s.Current(ctx)
	if err != nil {
		return err
	}
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		st := settings.New(tx.Client())
		on, until := "0", ""
		if want.On {
			on = "1"
		}
		if !want.Until.IsZero() {
			until = want.Until.UTC().Format(time.RFC3339)
		}
		for _, kv := range [][2]string{{KeyMessage, want.Message}, {KeyUntil, until}, {KeyOn, on}} {
			if err := st.Set(ctx, kv[0], kv[1], actor.ActorID); err != nil {
				return err
			}
		}
		actor.Action, actor.TargetType, actor.TargetID = "settings.maintenance", "settings", KeyOn
		actor.Before, actor.After = describe(before), describe(want)
		return audit.Record(ctx, tx.Client(), actor)
	})
}

func describe(s State) map[string]any {
	m := map[string]any{"on": s.On}
	if s.On {
		m["message"] = s.Message
		if !s.Until.IsZero() {
			m["until"] = s.Until.UTC().Format(time.RFC3339)
		}
	}
	return m
}
