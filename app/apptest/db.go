package apptest

import (
	"context"
	"os"
	"testing"

	"ikra/app/store"
)

// Database is a migrated, empty database of one kind.
type Database struct {
	Name string // "sqlite" or "postgres"
	*store.DB
}

// Databases opens a fresh SQLite database and, when IKRA_TEST_DATABASE_URL is set, a
// fresh PostgreSQL database, so a test can run the same assertions on both. Both are
// removed after the test.
func Databases(t testing.TB) []Database {
	t.Helper()
	RequireServices(t)
	ctx := context.Background()
	open := func(url, dir string) *store.DB {
		db, err := store.Open(ctx, url, dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return db
	}
	out := []Database{{Name: "sqlite", DB: open("", t.TempDir())}}
	if u := os.Getenv("IKRA_TEST_DATABASE_URL"); u != "" {
		out = append(out, Database{Name: "postgres", DB: open(freshDatabase(t, u), "")})
	}
	return out
}

// PostgresDatabase returns the URL of a fresh, empty PostgreSQL database on the server
// IKRA_TEST_DATABASE_URL names, dropped after the test; without it the test is skipped
// (and fails in CI, see RequireServices).
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	RequireServices(t)
	u := os.Getenv("IKRA_TEST_DATABASE_URL")
	if u == "" {
		t.Skip("IKRA_TEST_DATABASE_URL not set")
	}
	return freshDatabase(t, u)
}
