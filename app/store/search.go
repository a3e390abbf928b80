package store

import (
	"context"
	"database/sql"
	"fmt"
)

// The catalog's text search: on PostgreSQL two GIN expression indexes (offers' own text,
// partners' names), each in the Russian configuration (word forms) and the simple one
// (Kazakh and any other words as written); on SQLite an FTS5 table kept in step with
// offers and partners by triggers. The query side is in app/catalog.

// OfferTextPG is the PostgreSQL tsvector of an offer's title, summary and description;
// col qualifies a column name. The catalog's query must use this very expression for the
// planner to use the index.
func OfferTextPG(col func(string) string) string {
	doc := col("title") + " || ' ' || " + col("summary") + " || ' ' || " + col("description")
	return "(to_tsvector('russian', " + doc + ") || to_tsvector('simple', " + doc + "))"
}

// PartnerTextPG is the PostgreSQL tsvector of a partner's name.
func PartnerTextPG(col func(string) string) string {
	return "(to_tsvector('russian', " + col("name") + ") || to_tsvector('simple', " + col("name") + "))"
}

// OfferFTS is the SQLite FTS5 table of the offers' searchable text; its rowid is the
// offer's ID.
const OfferFTS = "offer_fts"

func bare(c string) string { return c }

// migrateSearchPG creates the text-search indexes; IF NOT EXISTS makes it idempotent.
func migrateSearchPG(ctx context.Context, db *sql.DB) error {
	for _, q := range []string{
		"CREATE INDEX IF NOT EXISTS offers_text_search ON offers USING GIN (" + OfferTextPG(bare) + ")",
		"CREATE INDEX IF NOT EXISTS partners_name_search ON partners USING GIN (" + PartnerTextPG(bare) + ")",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	return nil
}

// migrateSearchSQLite creates the FTS5 table and its triggers; a table created now is
// filled from the offers already there, in the same transaction.
func migrateSearchSQLite(ctx context.Context, db *sql.DB) error {
	const row = "coalesce((SELECT name FROM partners WHERE id = new.partner_id), '')"
	const insert = "INSERT INTO " + OfferFTS + "(rowid, title, summary, description, partner_name) " +
		"VALUES (new.id, new.title, new.summary, new.description, " + row + ");"
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = ?", OfferFTS).Scan(&n); err != nil {
		return err
	}
	stmts := []string{
		"CREATE VIRTUAL TABLE IF NOT EXISTS " + OfferFTS + " USING fts5(title, summary, description, partner_name, tokenize = 'unicode61 remove_diacritics 2')",
		"CREATE TRIGGER IF NOT EXISTS offers_fts_insert AFTER INSERT ON offers BEGIN " + insert + " END",
		"CREATE TRIGGER IF NOT EXISTS offers_fts_update AFTER UPDATE OF title, summary, description, partner_id ON offers BEGIN " +
			"DELETE FROM " + OfferFTS + " WHERE rowid = old.id; " + insert + " END",
		"CREATE TRIGGER IF NOT EXISTS offers_fts_delete AFTER DELETE ON offers BEGIN DELETE FROM " + OfferFTS + " WHERE rowid = old.id; END",
		"CREATE TRIGGER IF NOT EXISTS partners_fts_name AFTER UPDATE OF name ON partners BEGIN " +
			"UPDATE " + OfferFTS + " SET partner_name = new.name WHERE rowid IN (SELECT id FROM offers WHERE partner_id = new.id); END",
	}
	if n == 0 {
		stmts = append(stmts, "INSERT INTO "+OfferFTS+"(rowid, title, summary, description, partner_name) "+
			"SELECT o.id, o.title, o.summary, o.description, coalesce(p.name, '') FROM offers o LEFT JOIN partners p ON p.id = o.partner_id")
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("search table: %w", err)
		}
	}
	return tx.Commit()
}
