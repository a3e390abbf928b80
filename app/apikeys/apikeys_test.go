package apikeys_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ikra/app/apikeys"
	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/ent/auditlog"
	"ikra/ent/partner"
)

// TestKeys: a key is created with a name and scopes, stored hashed, authenticates
// until revoked, writes its last-used time at most once a minute, and every partner
// sees and revokes only its own keys; creation and revocation are audited.
func TestKeys(t *testing.T) {
	for _, db := range apptest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			pa, err := db.Partner.Create().SetName("A").SetSlug("a").SetBin("000000000001").Save(ctx)
			apptest.Must(t, err)
			pb, err := db.Partner.Create().SetName("B").SetSlug("b").SetBin("000000000002").Save(ctx)
			apptest.Must(t, err)
			s := apikeys.New(db.Client)
			now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
			s.SetClock(func() time.Time { return now })
			by := audit.Entry{ActorRole: "owner"}

			var ve *apikeys.ValidationError
			if _, _, err := s.Create(ctx, by, pa.ID, 1, " ", nil); !errors.As(err, &ve) || ve.Fields["name"] == "" || ve.Fields["scopes"] == "" {
				t.Fatalf("empty name and no scope: %v", err)
			}
			if _, _, err := s.Create(ctx, by, pa.ID, 1, "Till", []string{"admin"}); !errors.As(err, &ve) || ve.Fields["scopes"] != "keys.scopes_invalid" {
				t.Fatalf("unknown scope: %v", err)
			}
			row, secret, err := s.Create(ctx, by, pa.ID, 1, "Till", []string{apikeys.ScopeRedeem, apikeys.ScopeRead})
			apptest.Must(t, err)
			if !strings.HasPrefix(secret, apikeys.Prefix) || len(secret) != len(apikeys.Prefix)+43 || !strings.HasPrefix(secret, row.Prefix) ||
				row.SecretHash != apikeys.Hash(secret) || strings.Contains(row.SecretHash, secret[len(apikeys.Prefix):]) {
				t.Fatalf("key %q stored as %+v", secret, row)
			}
			if fmt.Sprint(row.Scopes) != "[read redeem]" {
				t.Fatalf("scopes %v", row.Scopes)
			}
			_, other, err := s.Create(ctx, by, pa.ID, 1, "CRM", []string{apikeys.ScopeRead})
			apptest.Must(t, err)
			if other == secret {
				t.Fatal("two keys are the same")
			}

			k, err := s.Authenticate(ctx, secret)
			apptest.Must(t, err)
			if k.PartnerID != pa.ID || !k.Allows(apikeys.ScopeRedeem) || k.CreatedBy != 1 {
				t.Fatalf("authenticated %+v", k)
			}
			for _, bad := range []string{"", secret[:len(secret)-1], "Bearer " + secret, strings.Replace(secret, apikeys.Prefix, "ikrb_", 1),
				secret[:len(secret)-1] + "A"} {
				if _, err := s.Authenticate(ctx, bad); !errors.Is(err, apikeys.ErrUnauthorized) && bad != secret {
					t.Errorf("key %q: %v", bad, err)
				}
			}

			used := func() time.Time {
				r, err := db.APIKey.Get(ctx, row.ID)
				apptest.Must(t, err)
				if r.LastUsedAt == nil {
					t.Fatal("no last-used time")
				}
				return r.LastUsedAt.UTC()
			}
			first := used()
			now = now.Add(30 * time.Second)
			_, err = s.Authenticate(ctx, secret)
			apptest.Must(t, err)
			if !used().Equal(first) {
				t.Errorf("last-used time written twice within a minute")
			}
			now = now.Add(45 * time.Second)
			_, err = s.Authenticate(ctx, secret)
			apptest.Must(t, err)
			if !used().Equal(now) {
				t.Errorf("last-used time %v after a minute, want %v", used(), now)
			}

			if err := s.Revoke(ctx, by, pb.ID, row.ID); !errors.Is(err, apikeys.ErrNotFound) {
				t.Fatalf("partner B revokes A's key: %v", err)
			}
			if list, _ := s.List(ctx, pb.ID); len(list) != 0 {
				t.Fatalf("partner B lists %d keys", len(list))
			}
			apptest.Must(t, s.Revoke(ctx, by, pa.ID, row.ID))
			apptest.Must(t, s.Revoke(ctx, by, pa.ID, row.ID))
			if _, err := s.Authenticate(ctx, secret); !errors.Is(err, apikeys.ErrUnauthorized) {
				t.Fatalf("revoked key: %v", err)
			}
			for action, want := range map[string]int{"apikey.create": 2, "apikey.revoke": 1} {
				n, err := db.AuditLog.Query().Where(auditlog.Action(action), auditlog.PartnerID(pa.ID)).Count(ctx)
				apptest.Must(t, err)
				if n != want {
					t.Errorf("%d %s entries, want %d", n, action, want)
				}
			}

			apptest.Must(t, db.Partner.UpdateOneID(pa.ID).SetStatus(partner.StatusSuspended).Exec(ctx))
			if _, err := s.Authenticate(ctx, other); !errors.Is(err, apikeys.ErrPartnerInactive) {
				t.Fatalf("key of a suspended partner: %v", err)
			}
		})
	}
}

// TestIdempotent: the same request replays the first answer, another request with the
// same key is refused, 20 concurrent duplicates run the effect once and all get its
// answer, a failure releases the key, and keys of different API keys do not meet.
func TestIdempotent(t *testing.T) {
	for _, db := range apptest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			s := apikeys.New(db.Client)
			var runs atomic.Int32
			do := func() (apikeys.Answer, error) {
				n := runs.Add(1)
				time.Sleep(50 * time.Millisecond) // long enough for the duplicates to pile up
				return apikeys.Answer{Status: http.StatusOK, Body: []byte(fmt.Sprintf(`{"run":%d}`, n))}, nil
			}
			a, replayed, err := s.Idempotent(ctx, 1, "k1", "complete X 100", do)
			apptest.Must(t, err)
			if replayed || string(a.Body) != `{"run":1}` {
				t.Fatalf("first: %v %s", replayed, a.Body)
			}
			a, replayed, err = s.Idempotent(ctx, 1, "k1", "complete X 100", do)
			apptest.Must(t, err)
			if !replayed || string(a.Body) != `{"run":1}` || runs.Load() != 1 {
				t.Fatalf("retry: %v %s, %d runs", replayed, a.Body, runs.Load())
			}
			if _, _, err := s.Idempotent(ctx, 1, "k1", "complete X 200", do); !errors.Is(err, apikeys.ErrKeyReused) {
				t.Fatalf("other request: %v", err)
			}
			if _, replayed, err := s.Idempotent(ctx, 2, "k1", "complete X 100", do); err != nil || replayed || runs.Load() != 2 {
				t.Fatalf("another API key's k1: %v %v", replayed, err)
			}
			if _, _, err := s.Idempotent(ctx, 1, strings.Repeat("x", apikeys.MaxIdempotencyKey+1), "r", do); !errors.Is(err, apikeys.ErrBadIdempotencyKey) {
				t.Fatalf("long key: %v", err)
			}

			runs.Store(0)
			var wg sync.WaitGroup
			bodies := make([]string, 20)
			errs := make([]error, 20)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a, _, err := s.Idempotent(ctx, 1, "k2", "complete Y 100", do)
					bodies[i], errs[i] = string(a.Body), err
				}()
			}
			wg.Wait()
			if runs.Load() != 1 {
				t.Fatalf("%d concurrent duplicates ran %d times", 20, runs.Load())
			}
			for i := range 20 {
				if errs[i] != nil || bodies[i] != `{"run":1}` {
					t.Errorf("duplicate %d: %v %s", i, errs[i], bodies[i])
				}
			}

			failed := errors.New("boom")
			if _, _, err := s.Idempotent(ctx, 1, "k3", "r", func() (apikeys.Answer, error) { return apikeys.Answer{}, failed }); !errors.Is(err, failed) {
				t.Fatalf("failure: %v", err)
			}
			if a, replayed, err := s.Idempotent(ctx, 1, "k3", "r", func() (apikeys.Answer, error) { return apikeys.Answer{Status: 201, Body: []byte("{}")}, nil }); err != nil || replayed || a.Status != 201 {
				t.Fatalf("retry after a failure: %v %v %d", err, replayed, a.Status)
			}

			// A day later the answers are pruned, and a key used again runs anew.
			if n, err := s.PruneIdempotency(ctx); err != nil || n != 0 {
				t.Fatalf("pruned %d fresh answers: %v", n, err)
			}
			s.SetClock(func() time.Time { return time.Now().Add(apikeys.IdempotencyRetention + time.Hour) })
			if n, err := s.PruneIdempotency(ctx); err != nil || n != 4 {
				t.Fatalf("pruned %d old answers, want 4: %v", n, err)
			}
			if _, replayed, err := s.Idempotent(ctx, 1, "k1", "complete X 200", do); err != nil || replayed {
				t.Fatalf("a pruned key: %v %v", replayed, err)
			}
		})
	}
}
