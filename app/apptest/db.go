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
