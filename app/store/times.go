package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/schema/field"

	"ikra/ent/migrate"
)

// timeColumns lists every time column of every table in ent's schema, so a table added
// later is covered without a list to maintain.
func timeColumns() map[string][]string {
	out := map[string][]string{}
	for _, t := range migrate.Tables {
		for _, c := range t.Columns {
			if c.Type == field.TypeTime {
				out[t.Name] = append(out[t.Name], c.Name)
			}
		}
	}
	return out
}

// convertSQLiteTimes rewrites, in place, time values that an earlier version stored as
// Go's Time.String() text ("2026-01-02 03:04:05.6 +0600 +06 m=+1.2"), which neither
// sorts nor compares as time, into the format the driver writes now. Values already in
// the new format are left alone, so running it again changes nothing; it returns how
// many values it rewrote. The new values are written by the driver as SQLiteDSN sets it
// up: "2006-01-02 15:04:05.999999999+00:00", always in UTC.
func convertSQLiteTimes(ctx context.Context, db *sql.DB) (int, error) {
	total := 0
	for table, cols := range timeColumns() {
		for _, col := range cols {
			n, err := convertColumn(ctx, db, table, col)
			total += n
			if err != nil {
				return total, fmt.Errorf("times in %s.%s: %w", table, col, err)
			}
		}
	}
	return total, nil
}

// timesConverted is the SQLite user_version from which the file's times are known to
// be in the sortable format.
const timesConverted = 1

// convertSQLiteTimesOnce runs convertSQLiteTimes on a file not yet marked converted,
// then marks it (PRAGMA user_version): the check reads every time column of every
// table, which at a million ledger entries took seconds of every start.
func convertSQLiteTimesOnce(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v >= timesConverted {
		return nil
	}
	if _, err := convertSQLiteTimes(ctx, db); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", timesConverted))
	return err
}

// convertColumn rewrites one column in batches, each in its own transaction. The old
// format has at least three spaces (date, clock, offset, zone), the new one only one.
func convertColumn(ctx context.Context, db *sql.DB, table, col string) (int, error) {
	q := fmt.Sprintf(`SELECT rowid, CAST(%[2]s AS TEXT) FROM %[1]s WHERE rowid > ? AND typeof(%[2]s) = 'text' AND %[2]s LIKE '%% %% %%' ORDER BY rowid LIMIT 500`,
		quoteIdent(table), quoteIdent(col))
	upd := fmt.Sprintf(`UPDATE %s SET %s = ? WHERE rowid = ?`, quoteIdent(table), quoteIdent(col))
	type row struct {
		id int64
		t  time.Time
	}
	total := 0
	var last int64
	for {
		rows, err := db.QueryContext(ctx, q, last)
		if err != nil {
			return total, err
		}
		var batch []row
		scanned := 0
		for rows.Next() {
			scanned++
			var id int64
			var s string
			if err := rows.Scan(&id, &s); err != nil {
				rows.Close()
				return total, err
			}
			last = id
			// A value that is not a Go time string is not ours to touch.
			if t, ok := parseGoTimeString(s); ok {
				batch = append(batch, row{id, t})
			}
		}
		if err := rows.Close(); err != nil {
			return total, err
		}
		if scanned == 0 {
			return total, nil
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return total, err
		}
		for _, r := range batch {
			if _, err := tx.ExecContext(ctx, upd, r.t.UTC(), r.id); err != nil {
				tx.Rollback() //nolint:errcheck
				return total, err
			}
		}
		if err := tx.Commit(); err != nil {
			return total, err
		}
		total += len(batch)
	}
}

// parseGoTimeString reads Go's Time.String() text: the monotonic reading is dropped and
// the zone name ignored, since the numeric offset fixes the instant (Go cannot parse an
// unnamed zone's "+0600 +0600" back, so neither could the driver).
func parseGoTimeString(s string) (time.Time, bool) {
	if i := strings.Index(s, " m="); i >= 0 {
		s = s[:i]
	}
	f := strings.Fields(s)
	if len(f) < 3 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700", f[0]+" "+f[1]+" "+f[2])
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
