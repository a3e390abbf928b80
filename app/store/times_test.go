package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"ikra/app/apptest"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/ledgerentry"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/ent/session"
)

var (
	almaty   = time.FixedZone("ALMT", 6*3600)
	unnamed  = time.FixedZone("", 6*3600) // as a parsed "+06:00" offset is; Go cannot read its String() back
	newYork  = time.FixedZone("EST", -5*3600)
	sortable = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00:00$`)
)

// oldDSN is how earlier versions opened SQLite: the driver then wrote times as Go's
// Time.String(), monotonic reading included.
func oldDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(15000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

// A database written by an earlier version, with times in several zones and with
// monotonic readings, is converted at start: every time column reads back the same
// instant, is stored in the sortable format, and converting again changes nothing.
func TestOldSQLiteTimesConverted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw, err := sql.Open("sqlite", oldDSN(filepath.Join(dir, "ikra.db")))
	apptest.Must(t, err)
	old := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.SQLite, raw)))
	apptest.Must(t, old.Schema.Create(ctx))

	now := time.Now() // carries a monotonic reading, which Time.String() prints
	base := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	want := map[int]time.Time{}
	for i, at := range []time.Time{now, base.In(unnamed), base.Add(time.Hour).In(newYork), base.Add(-time.Hour).In(almaty)} {
		m, err := old.Member.Create().SetReferralCode(fmt.Sprint("old", i)).SetCreatedAt(at).SetUpdatedAt(at).
			SetLastSeenAt(at.Add(time.Minute)).Save(ctx)
		apptest.Must(t, err)
		want[m.ID] = at
	}
	// More rows than one batch of the conversion, half of them expired at base.
	owner := 0
	for id := range want {
		owner = id
		break
	}
	bulk := make([]*ent.SessionCreate, 1200)
	for i := range bulk {
		bulk[i] = old.Session.Create().SetID(fmt.Sprint("old", i)).SetMemberID(owner).
			SetExpiresAt(base.Add(time.Duration(i-600) * time.Minute).In(newYork))
	}
	apptest.Must(t, old.Session.CreateBulk(bulk...).Exec(ctx))
	var sample string
	apptest.Must(t, raw.QueryRowContext(ctx, `SELECT CAST(created_at AS TEXT) FROM members ORDER BY id LIMIT 1`).Scan(&sample))
	if !regexp.MustCompile(` m=[+-]`).MatchString(sample) {
		t.Fatalf("the fixture is not in the old format: %q", sample)
	}
	apptest.Must(t, old.Close())

	db, err := store.Open(ctx, "", dir)
	apptest.Must(t, err)
	t.Cleanup(func() { db.Close() })
	apptest.Must(t, db.Migrate(ctx))

	members, err := db.Member.Query().All(ctx)
	apptest.Must(t, err)
	if len(members) != len(want) {
		t.Fatalf("%d members, want %d", len(members), len(want))
	}
	for _, m := range members {
		at := want[m.ID]
		if !m.CreatedAt.Equal(at) || !m.UpdatedAt.Equal(at) || m.LastSeenAt == nil || !m.LastSeenAt.Equal(at.Add(time.Minute)) {
			t.Errorf("member %d: created %v updated %v last seen %v, want %v", m.ID, m.CreatedAt, m.UpdatedAt, m.LastSeenAt, at)
		}
	}
	stored := storedTimes(t, db)
	for _, s := range stored {
		if !sortable.MatchString(s) {
			t.Errorf("stored time %q is not in the sortable format", s)
		}
	}
	// A filter now compares instants: 12:00 UTC written as 18:00+06:00 is not after 12:30.
	n, err := db.Member.Query().Where(member.CreatedAtGT(base.Add(30 * time.Minute))).Count(ctx)
	apptest.Must(t, err)
	if wantN := 2; n != wantN { // now and 13:00 UTC written in New York
		t.Errorf("%d members created after 12:30 UTC, want %d", n, wantN)
	}

	n, err = db.Session.Query().Where(session.ExpiresAtGT(base.In(almaty))).Count(ctx)
	apptest.Must(t, err)
	if n != 599 {
		t.Errorf("%d sessions expire after 12:00 UTC, want 599", n)
	}
	var left int
	apptest.Must(t, db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE expires_at LIKE '% % %'`).Scan(&left))
	if left != 0 {
		t.Errorf("%d session times left in the old format", left)
	}

	// The file is marked converted, so later starts skip reading every time column.
	var version int
	apptest.Must(t, db.SQL.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version))
	if version < 1 {
		t.Errorf("user_version %d after the conversion, want the converted mark", version)
	}
	apptest.Must(t, db.Migrate(ctx))
	if again := storedTimes(t, db); fmt.Sprint(again) != fmt.Sprint(stored) {
		t.Errorf("a second start changed the times:\n%v\n%v", stored, again)
	}
}

func storedTimes(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.SQL.QueryContext(context.Background(),
		`SELECT CAST(created_at AS TEXT), CAST(updated_at AS TEXT), CAST(last_seen_at AS TEXT) FROM members ORDER BY id`)
	apptest.Must(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a, b, c string
		apptest.Must(t, rows.Scan(&a, &b, &c))
		out = append(out, a, b, c)
	}
	apptest.Must(t, rows.Err())
	return out
}

// Times given in different zones are compared and sorted as instants on both databases:
// the ledger's date filters, session expiry and the order of notifications.
func TestTimesAcrossZones(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	// Each instant is given in a zone whose wall clock sorts differently from UTC.
	instants := []time.Time{
		base.Add(-3 * time.Hour).In(almaty),  // 09:00 UTC, written 15:00+06
		base.Add(-1 * time.Hour).In(newYork), // 11:00 UTC, written 06:00-05
		base.Add(1 * time.Hour),              // 13:00 UTC
		base.Add(2 * time.Hour).In(newYork),  // 14:00 UTC, written 09:00-05
		base.Add(4 * time.Hour).In(almaty),   // 16:00 UTC, written 22:00+06
	}
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			m, err := d.Member.Create().SetReferralCode("tz").Save(ctx)
			apptest.Must(t, err)
			for i, at := range instants {
				_, err := d.LedgerEntry.Create().SetMemberID(m.ID).SetKind(ledgerentry.KindAdjustment).SetAmount(int64(i + 1)).
					SetIdempotencyKey(fmt.Sprint("tz:", i)).SetCreatedAt(at).Save(ctx)
				apptest.Must(t, err)
				_, err = d.Session.Create().SetID(fmt.Sprint("s", i)).SetMemberID(m.ID).SetExpiresAt(at).Save(ctx)
				apptest.Must(t, err)
				// Created out of order, so ordering by id would not pass for ordering by time.
				_, err = d.Notification.Create().SetMemberID(m.ID).SetKind("test").SetBody(fmt.Sprint(i)).
					SetDedupKey(fmt.Sprint("tz:", i)).SetCreatedAt(instants[(i*3)%len(instants)]).Save(ctx)
				apptest.Must(t, err)
			}
			// The cut-off itself in a third zone: 12:00 UTC is 18:00 in Almaty.
			cut := base.In(almaty)
			for _, cutoff := range []time.Time{cut, base, base.In(newYork)} {
				entries, err := d.LedgerEntry.Query().Where(ledgerentry.CreatedAtGTE(cutoff)).Order(ent.Asc(ledgerentry.FieldCreatedAt)).All(ctx)
				apptest.Must(t, err)
				if got := amounts(entries); got != "[3 4 5]" {
					t.Errorf("entries since %v: %s, want [3 4 5]", cutoff, got)
				}
				entries, err = d.LedgerEntry.Query().Where(ledgerentry.CreatedAtLT(cutoff)).Order(ent.Desc(ledgerentry.FieldCreatedAt)).All(ctx)
				apptest.Must(t, err)
				if got := amounts(entries); got != "[2 1]" {
					t.Errorf("entries before %v: %s, want [2 1]", cutoff, got)
				}
				live, err := d.Session.Query().Where(session.ExpiresAtGT(cutoff)).Order(ent.Asc(session.FieldExpiresAt)).IDs(ctx)
				apptest.Must(t, err)
				if fmt.Sprint(live) != "[s2 s3 s4]" {
					t.Errorf("sessions alive at %v: %v, want [s2 s3 s4]", cutoff, live)
				}
			}
			ns, err := d.Notification.Query().Order(ent.Desc(notification.FieldCreatedAt)).All(ctx)
			apptest.Must(t, err)
			for i := 1; i < len(ns); i++ {
				if ns[i].CreatedAt.After(ns[i-1].CreatedAt) {
					t.Errorf("notifications out of order: %v before %v", ns[i-1].CreatedAt, ns[i].CreatedAt)
				}
			}
		})
	}
}

func amounts(es []*ent.LedgerEntry) string {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Amount
	}
	return fmt.Sprint(out)
}
