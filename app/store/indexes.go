package store

import (
	"context"
	"database/sql"
)

// joinIndexes are indexes on ent's many-to-many join tables, which a schema cannot
// declare: the primary key leads with the first column, so a lookup by the second one
// (the catalog's "is this member invited?") would read the whole table.
var joinIndexes = []string{
	`CREATE INDEX IF NOT EXISTS offer_invited_member_id ON offer_invited (member_id, offer_id)`,
}

// migrateJoinIndexes adds joinIndexes; both SQLite and PostgreSQL skip an index that
// exists.
func migrateJoinIndexes(ctx context.Context, db *sql.DB) error {
	for _, q := range joinIndexes {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
