package fraud_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/fraud"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/fraudflag"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

type world struct {
	db      *ent.Client
	partner int
	offer   int
	seq     int
}

func newWorld(t *testing.T, db *ent.Client) *world {
	ctx := context.Background()
	cat := db.Category.Create().SetSlug("food").SetNameRu("Еда").SetNameEn("Food").SaveX(ctx)
	city := db.City.Create().SetSlug("almaty").SetNameRu("Алматы").SetNameEn("Almaty").SaveX(ctx)
	p := db.Partner.Create().SetName("Cafe").SetSlug("cafe").SetBin("000000000000").SaveX(ctx)
	o := db.Offer.Create().SetPartnerID(p.ID).SetCategoryID(cat.ID).SetCityID(city.ID).SetTitle("Dinner").SetKind("discount").SaveX(ctx)
	return &world{db: db, partner: p.ID, offer: o.ID}
}

func (w *world) member(t *testing.T, created time.Time) int {
	w.seq++
	m := w.db.Member.Create().SetFirstName(fmt.Sprint("M", w.seq)).SetReferralCode(fmt.Sprint("code", w.seq)).
		SetCreatedAt(created).SaveX(context.Background())
	return m.ID
}

func (w *world) completed(t *testing.T, memberID int, amount int64, at time.Time) {
	w.seq++
	w.db.Booking.Create().SetCode(fmt.Sprintf("B%07d", w.seq)).SetMemberID(memberID).SetOfferID(w.offer).SetPartnerID(w.partner).
		SetStatus(booking.StatusCompleted).SetDealAmount(amount).SetCreatedAt(at).SetCompletedAt(at).
		SaveX(context.Background())
}

func (w *world) invite(t *testing.T, referrer, invitee int, code string, at time.Time) {
	w.db.Referral.Create().SetReferrerID(referrer).SetInviteeID(invitee).SetCode(code).SetCreatedAt(at).
		SaveX(context.Background())
}

func service(db *ent.Client) *fraud.Service {
	s := fraud.New(db, nil, nil, nil)
	s.SetClock(func() time.Time { return now })
	return s
}

// runTwice runs the detector twice and checks it raised exactly want flags of kind.
func runTwice(t *testing.T, db *ent.Client, kind string, want int, detect func(context.Context) (int, error)) []*ent.FraudFlag {
	t.Helper()
	ctx := context.Background()
	for range 2 {
		_, err := detect(ctx)
		apptest.Must(t, err)
	}
	flags := db.FraudFlag.Query().Where(fraudflag.Kind(kind)).AllX(ctx)
	if len(flags) != want {
		t.Fatalf("%s: %d flags after two runs, want %d", kind, len(flags), want)
	}
	return flags
}

func TestReferralFarm(t *testing.T) {
	for _, db := range apptest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newWorld(t, db.Client)
			old := now.Add(-20 * 24 * time.Hour)
			farmer, honest, fresh := w.member(t, old), w.member(t, old), w.member(t, old)
			for range fraud.FarmMinInvitees {
				w.invite(t, farmer, w.member(t, old), "farm", old)
				// The honest referrer's invitees book.
				inv := w.member(t, old)
				w.invite(t, honest, inv, "honest", old)
				w.completed(t, inv, 100_00, old.Add(time.Hour))
				// Young invitees may still book: not counted yet.
				w.invite(t, fresh, w.member(t, now), "fresh", now.Add(-time.Hour))
			}
			flags := runTwice(t, db.Client, fraud.KindReferralFarm, 1, service(db.Client).DetectReferralFarms)
			if f := flags[0]; *f.MemberID != farmer || f.Score != fraud.FarmMinInvitees || len(f.Evidence) != fraud.FarmMinInvitees+1 {
				t.Fatalf("flag %+v", f)
			}
		})
	}
}

func TestDealAmount(t *testing.T) {
	for _, db := range apptest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newWorld(t, db.Client)
			m := w.member(t, now.Add(-100*24*time.Hour))
			for i := range fraud.DealMinHistory {
				w.completed(t, m, 10_000_00, now.Add(-time.Duration(i+2)*24*time.Hour))
			}
			w.completed(t, m, 40_000_00, now.Add(-2*time.Hour)) // 4×: usual enough
			s := service(db.Client)
			runTwice(t, db.Client, fraud.KindDealAmount, 0, s.DetectDealAmounts)
			w.completed(t, m, 60_000_00, now.Add(-time.Hour)) // 6×
			flags := runTwice(t, db.Client, fraud.KindDealAmount, 1, s.DetectDealAmounts)
			if f := flags[0]; *f.PartnerID != w.partner || len(f.Evidence) != 1 || f.Score != 6 {
				t.Fatalf("flag %+v", f)
			}
		})
	}
}

func TestRepeatedCompletions(t *testing.T) {
	for _, db := range apptest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newWorld(t, db.Client)
			m, other := w.member(t, now), w.member(t, now)
			s := service(db.Client)
			for i := range fraud.RepeatMin - 1 {
				w.completed(t, m, 100_00, now.Add(-time.Duration(i+1)*time.Hour))
				w.completed(t, other, 100_00, now.Add(-time.Duration(i+1)*time.Hour))
			}
			w.completed(t, other, 100_00, now.Add(-30*time.Hour)) // outside the window
			runTwice(t, db.Client, fraud.KindRepeatedCompletion, 0, s.DetectRepeatedCompletions)
			w.completed(t, m, 100_00, now.Add(-10*time.Minute))
			flags := runTwice(t, db.Client, fraud.KindRepeatedCompletion, 1, s.DetectRepeatedCompletions)
			if f := flags[0]; *f.MemberID != m || *f.PartnerID != w.partner || f.Score != fraud.RepeatMin {
				t.Fatalf("flag %+v", f)
			}
		})
	}
}

func TestSignupBurst(t *testing.T) {
	for _, db := range apptest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newWorld(t, db.Client)
			ref, slow := w.member(t, now), w.member(t, now)
			start := now.Add(-50 * time.Minute)
			for i := range fraud.BurstMin {
				w.invite(t, ref, w.member(t, now), "BURST", start.Add(time.Duration(i)*time.Minute))
				// One every 5 minutes: never BurstMin within an hour.
				w.invite(t, slow, w.member(t, now), "SLOW", now.Add(-time.Duration(i)*5*time.Minute))
			}
			flags := runTwice(t, db.Client, fraud.KindSignupBurst, 1, service(db.Client).DetectSignupBursts)
			if f := flags[0]; *f.MemberID != ref || f.Score != fraud.BurstMin {
				t.Fatalf("flag %+v", f)
			}
			// A later sign-up updates the same flag's count.
			w.invite(t, ref, w.member(t, now), "BURST", now.Add(-time.Minute))
			flags = runTwice(t, db.Client, fraud.KindSignupBurst, 1, service(db.Client).DetectSignupBursts)
			if flags[0].Score != fraud.BurstMin+1 {
				t.Fatalf("score %d after one more sign-up", flags[0].Score)
			}
		})
	}
}

func TestDismissAuditedOnce(t *testing.T) {
	db := apptest.Databases(t)[0].Client
	ctx := context.Background()
	w := newWorld(t, db)
	m := w.member(t, now)
	f := db.FraudFlag.Create().SetDedupKey("x").SetKind(fraud.KindSignupBurst).SetMemberID(m).SaveX(ctx)
	s := service(db)
	actor := audit.Entry{ActorID: &m, ActorRole: "test"}
	if err := s.Dismiss(ctx, actor, f.ID, " "); err != fraud.ErrNoteRequired {
		t.Fatalf("empty note: %v", err)
	}
	apptest.Must(t, s.Dismiss(ctx, actor, f.ID, "known promoter"))
	if err := s.Dismiss(ctx, actor, f.ID, "again"); err != fraud.ErrReviewed {
		t.Fatalf("second dismissal: %v", err)
	}
	if n := db.AuditLog.Query().CountX(ctx); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
	st, err := s.Stats(ctx, now.Add(-time.Hour*24*365*10), now.Add(24*time.Hour*365*10))
	apptest.Must(t, err)
	if st.Raised != 1 || st.Dismissed != 1 || st.ByKind[fraud.KindSignupBurst] != 1 {
		t.Fatalf("stats %+v", st)
	}
}
