package claims_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/claims"
	"ikra/app/notify"
	"ikra/ent"
	"ikra/ent/notification"
	"ikra/ent/staff"
)

func almaty(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, claims.Almaty)
}

// The deadline is the end of the 30th calendar day after the day of receipt on the
// Almaty calendar, across month ends, February of a leap year and a year end, and for a
// claim received just after midnight in Almaty (still the previous day in UTC).
func TestDueAt(t *testing.T) {
	end := func(y int, m time.Month, d int) time.Time { return almaty(y, m, d, 23, 59).Add(59 * time.Second) }
	cases := []struct {
		name     string
		received time.Time
		want     time.Time
	}{
		{"january 31 to march 2 (28-day february)", almaty(2026, 1, 31, 15, 0), end(2026, 3, 2)},
		{"leap year: january 31 to march 1", almaty(2028, 1, 31, 9, 0), end(2028, 3, 1)},
		{"leap day counted", almaty(2028, 2, 1, 9, 0), end(2028, 3, 2)},
		{"february 29 itself", almaty(2028, 2, 29, 9, 0), end(2028, 3, 30)},
		{"30-day month end", almaty(2026, 4, 30, 12, 0), end(2026, 5, 30)},
		{"31-day month end", almaty(2026, 5, 31, 12, 0), end(2026, 6, 30)},
		{"year end", almaty(2026, 12, 15, 12, 0), end(2027, 1, 14)},
		{"december 31", almaty(2026, 12, 31, 23, 59), end(2027, 1, 30)},
		{"first second of the day", almaty(2026, 3, 1, 0, 0), end(2026, 3, 31)},
		// 00:30 Almaty on 1 March is 19:30 UTC on 28 February: the Almaty day counts.
		{"just after midnight in Almaty", time.Date(2026, 2, 28, 19, 30, 0, 0, time.UTC), end(2026, 3, 31)},
		{"just before midnight in Almaty", time.Date(2026, 2, 28, 18, 59, 0, 0, time.UTC), end(2026, 3, 30)},
	}
	for _, tc := range cases {
		got := claims.DueAt(tc.received)
		if !got.Equal(tc.want) {
			t.Errorf("%s: received %s, due %s, want %s", tc.name, tc.received.In(claims.Almaty), got.In(claims.Almaty), tc.want)
		}
	}
	if claims.Number(123) != "C-000123" || claims.Number(1234567) != "C-1234567" {
		t.Errorf("numbers: %s %s", claims.Number(123), claims.Number(1234567))
	}
	if id, ok := claims.ParseNumber("C-000123"); !ok || id != 123 {
		t.Errorf("ParseNumber: %d %v", id, ok)
	}
}

func TestDaysLeft(t *testing.T) {
	due := claims.DueAt(almaty(2026, 1, 31, 15, 0)) // 2 March 23:59:59
	for _, tc := range []struct {
		now  time.Time
		want int
	}{
		{almaty(2026, 1, 31, 16, 0), 30},
		{almaty(2026, 3, 2, 10, 0), 0},
		{almaty(2026, 3, 3, 0, 1), -1},
		{almaty(2026, 3, 5, 0, 1), -3},
	} {
		if got := claims.DaysLeft(due, tc.now); got != tc.want {
			t.Errorf("at %s: %d days left, want %d", tc.now, got, tc.want)
		}
	}
}

type world struct {
	db      *ent.Client
	svc     *claims.Service
	member  *ent.Member
	support []*ent.Member
	now     time.Time
}

func newWorld(t *testing.T, db *ent.Client, dialect string) *world {
	ctx := context.Background()
	w := &world{db: db, now: almaty(2026, 1, 31, 15, 0)}
	w.svc = claims.New(db, dialect, notify.New(db, nil), func(lang, key string, args ...any) string {
		return key + fmt.Sprint(args...)
	})
	w.svc.SetClock(func() time.Time { return w.now })
	var err error
	w.member, err = db.Member.Create().SetTelegramID(1001).SetFirstName("Aigerim").SetReferralCode("REF1001").Save(ctx)
	apptest.Must(t, err)
	for i := range 2 {
		m, err := db.Member.Create().SetTelegramID(int64(2001 + i)).SetFirstName("Support").SetReferralCode(fmt.Sprintf("REF%d", 2001+i)).Save(ctx)
		apptest.Must(t, err)
		apptest.Must(t, db.Staff.Create().SetMemberID(m.ID).SetRole(staff.RoleSupport).Exec(ctx))
		w.support = append(w.support, m)
	}
	return w
}

func (w *world) file(t *testing.T) *ent.Claim {
	c, err := w.svc.File(context.Background(), claims.Filing{MemberID: w.member.ID, Subject: "Refused service", Body: "The partner refused my booking.", Channel: "web"})
	apptest.Must(t, err)
	return c
}

// Filing validates the text and the booking, writes the receipt notification with the
// claim, and sets the deadline from the Almaty day of receipt.
func TestFile(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, d.Client, d.Dialect)
			c := w.file(t)
			if !c.DueAt.Equal(claims.DueAt(w.now)) || c.Status != "received" {
				t.Fatalf("claim %+v", c)
			}
			n, err := d.Client.Notification.Query().Where(notification.DedupKey(fmt.Sprintf("claim:%d:received", c.ID))).Only(ctx)
			apptest.Must(t, err)
			if n.MemberID != w.member.ID {
				t.Fatalf("receipt to %d", n.MemberID)
			}
			var bad claims.Invalid
			_, err = w.svc.File(ctx, claims.Filing{MemberID: w.member.ID, Subject: " ", Body: "x"})
			if !errors.As(err, &bad) || bad["subject"] == "" {
				t.Fatalf("empty subject: %v", err)
			}
			_, err = w.svc.File(ctx, claims.Filing{MemberID: w.member.ID, Subject: "s", Body: "x", BookingID: 999999})
			if !errors.As(err, &bad) || bad["booking"] == "" {
				t.Fatalf("someone else's booking: %v", err)
			}
		})
	}
}

// Reminders go out once per stage, however often and however many workers run the job
// at once; the 7-day one at 7 days before, the 1-day one at 1 day before; an answered
// claim gets none; an assigned claim's go to the assignee only.
func TestRemindOnce(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, d.Client, d.Dialect)
			open := w.file(t)
			assigned := w.file(t)
			answered := w.file(t)
			actor := audit.Entry{ActorID: &w.support[1].ID, ActorRole: "support"}
			apptest.Must(t, w.svc.Assign(ctx, actor, assigned.ID, w.support[1].ID))
			apptest.Must(t, w.svc.Answer(ctx, actor, answered.ID, "We have looked into it."))
			count := func(stage string) map[int]int {
				rows, err := d.Client.Notification.Query().Where(notification.Kind("claim.reminder"),
					notification.DedupKeyHasSuffix("")).All(ctx)
				apptest.Must(t, err)
				out := map[int]int{}
				for _, r := range rows {
					var id, who int
					var st string
					if _, err := fmt.Sscanf(r.DedupKey, "claim:%d:remind%1s:%d", &id, &st, &who); err == nil && st == stage {
						out[id]++
					}
				}
				return out
			}
			// Eight days before: nothing yet.
			if n, err := w.svc.Remind(ctx, open.DueAt.Add(-8*24*time.Hour)); err != nil || n != 0 {
				t.Fatalf("8 days before: %d, %v", n, err)
			}
			// Seven days before, four workers at once, twice.
			at := open.DueAt.Add(-7*24*time.Hour + time.Minute)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if _, err := w.svc.Remind(ctx, at); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			_, err := w.svc.Remind(ctx, at)
			apptest.Must(t, err)
			got := count("7")
			if got[open.ID] != 2 || got[assigned.ID] != 1 || got[answered.ID] != 0 {
				t.Fatalf("7-day reminders per claim: %v (unassigned goes to both support staff, assigned to its assignee)", got)
			}
			if n := d.Client.Notification.Query().Where(notification.Kind("claim.reminder"), notification.MemberID(w.support[0].ID)).CountX(ctx); n != 1 {
				t.Fatalf("first support member got %d reminders, want 1 (not the assigned claim's)", n)
			}
			// One day before: the second stage, once.
			at = open.DueAt.Add(-23 * time.Hour)
			for range 2 {
				_, err := w.svc.Remind(ctx, at)
				apptest.Must(t, err)
			}
			if got := count("1"); got[open.ID] != 2 || got[assigned.ID] != 1 || got[answered.ID] != 0 {
				t.Fatalf("1-day reminders: %v", got)
			}
			if got := count("7"); got[open.ID] != 2 || got[assigned.ID] != 1 {
				t.Fatalf("7-day reminders after the 1-day run: %v", got)
			}
			// Overdue: counted; Stats agree.
			if n, err := w.svc.Overdue(ctx, open.DueAt.Add(time.Second)); err != nil || n != 2 {
				t.Fatalf("overdue after the deadline: %d, %v", n, err)
			}
			if n, err := w.svc.Overdue(ctx, open.DueAt); err != nil || n != 0 {
				t.Fatalf("overdue at the deadline: %d, %v", n, err)
			}
			w.now = open.DueAt.Add(time.Hour)
			st, err := w.svc.Stats(ctx, open.CreatedAt.Add(-time.Hour), w.now)
			apptest.Must(t, err)
			if st.Received != 3 || st.Answered != 1 || st.Overdue != 2 || st.OpenTotal != 2 || st.DueSoon != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// Answering keeps the text, tells the member in the same transaction, writes an audit
// entry, and a second answer is refused.
func TestAnswer(t *testing.T) {
	d := apptest.Databases(t)[0]
	ctx := context.Background()
	w := newWorld(t, d.Client, d.Dialect)
	c := w.file(t)
	actor := audit.Entry{ActorID: &w.support[0].ID, ActorRole: "support"}
	if err := w.svc.Assign(ctx, actor, c.ID, w.member.ID); !errors.Is(err, claims.ErrNotStaff) {
		t.Fatalf("assigning a member: %v", err)
	}
	apptest.Must(t, w.svc.Start(ctx, actor, c.ID))
	apptest.Must(t, w.svc.Answer(ctx, actor, c.ID, "Answer text"))
	got, err := w.svc.MineOne(ctx, w.member.ID, c.ID)
	apptest.Must(t, err)
	if got.Answer != "Answer text" || got.AnsweredAt == nil || got.AnsweredByID == nil || *got.AnsweredByID != w.support[0].ID || got.Status != "answered" {
		t.Fatalf("answered claim %+v", got)
	}
	n, err := d.Client.Notification.Query().Where(notification.DedupKey(fmt.Sprintf("claim:%d:answered", c.ID))).Only(ctx)
	apptest.Must(t, err)
	if n.Body != "Answer text" || n.MemberID != w.member.ID {
		t.Fatalf("answer notification %+v", n)
	}
	if err := w.svc.Answer(ctx, actor, c.ID, "again"); !errors.Is(err, claims.ErrAnswered) {
		t.Fatalf("second answer: %v", err)
	}
	if n := d.Client.AuditLog.Query().CountX(ctx); n != 2 {
		t.Fatalf("%d audit entries, want 2 (start, answer)", n)
	}
	if _, err := w.svc.MineOne(ctx, w.support[0].ID, c.ID); !errors.Is(err, claims.ErrNotFound) {
		t.Fatalf("another member's claim: %v", err)
	}
}
