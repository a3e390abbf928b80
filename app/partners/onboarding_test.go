package partners_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/notify"
	"ikra/app/partners"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/staff"
)

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Кофейня Ромашка":    "kofeinya-romashka",
		"  Café & Co. ":      "caf-co",
		"Шашлычная №1":       "shashlychnaya-1",
		"Қазақ Ұлттық Әлемі": "kazak-ulttyk-alemi",
		"!!!":                "partner",
		"ABC--def":           "abc-def",
		"日本料理":               "partner",
		"Ресторан \"Жемчужина\"": "restoran-zhemchuzhina",
	} {
		if got := partners.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestApplicationValidate(t *testing.T) {
	ok := partners.ApplicationInput{Brand: "B", LegalName: "L", BIN: "251050011210", CategoryID: 1, CityID: 1,
		Address: "A", Email: "a@b.kz", Website: "https://b.kz", Description: "D"}
	if errs := ok.Validate(); len(errs) != 0 {
		t.Fatalf("valid input refused: %v", errs)
	}
	cases := map[string]func(*partners.ApplicationInput){
		"bin":     func(in *partners.ApplicationInput) { in.BIN = "251050011211" },
		"email":   func(in *partners.ApplicationInput) { in.Email = "Name <a@b.kz>" },
		"website": func(in *partners.ApplicationInput) { in.Website = "ftp://b.kz" },
		"brand":   func(in *partners.ApplicationInput) { in.Brand = "" },
	}
	for field, change := range cases {
		in := ok
		change(&in)
		if errs := in.Validate(); errs[field] == "" {
			t.Errorf("%s: no error in %v", field, errs)
		}
	}
	in := ok
	in.Website = ""
	if errs := in.Validate(); len(errs) != 0 {
		t.Errorf("the website is optional: %v", errs)
	}
}

// world is a database with a category, a city and members, and the services on it.
type world struct {
	db      *store.DB
	svc     *partners.Service
	staff   *partners.Staff
	reloads atomic.Int64
	cat     int
	city    int
}

func newWorld(t *testing.T, d apptest.Database) *world {
	ctx := context.Background()
	w := &world{db: d.DB}
	changed := func(context.Context) error { w.reloads.Add(1); return nil }
	w.svc = partners.NewService(d.DB.Client, d.DB.Dialect, notify.New(d.DB.Client, nil), nil, changed)
	w.staff = partners.NewStaff(d.DB.Client, changed)
	w.staff.SetDialect(d.DB.Dialect)
	c, err := d.DB.Category.Create().SetSlug("food").SetNameRu("Еда").SetNameEn("Food").Save(ctx)
	apptest.Must(t, err)
	city, err := d.DB.City.Create().SetSlug("ala").SetNameRu("Алматы").SetNameEn("Almaty").Save(ctx)
	apptest.Must(t, err)
	w.cat, w.city = c.ID, city.ID
	return w
}

func (w *world) member(t *testing.T, tg int64) *ent.Member {
	m, err := w.db.Member.Create().SetTelegramID(tg).SetFirstName(fmt.Sprint("M", tg)).SetReferralCode(fmt.Sprint("R", tg)).Save(context.Background())
	apptest.Must(t, err)
	return m
}

func (w *world) input(bin string) partners.ApplicationInput {
	return partners.ApplicationInput{Brand: "Ромашка", LegalName: "ТОО Ромашка", BIN: bin, CategoryID: w.cat, CityID: w.city,
		Address: "Абая 1", Email: "a@romashka.kz", Description: "Кофе"}
}

// Approving one application twice at once makes one partner; accepting one invite twice
// at once makes one staff row; two owners removing each other at once leave one owner.
func TestOnboardingUnderConcurrency(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, d)
			applicant := w.member(t, 1)
			a, err := w.svc.Apply(ctx, applicant.ID, w.input("251050011210"))
			apptest.Must(t, err)
			if _, err := w.svc.Apply(ctx, applicant.ID, w.input(partners.MakeBIN("10000000000"))); !errors.Is(err, partners.ErrPendingExists) {
				t.Fatalf("second pending application: %v", err)
			}
			var wg sync.WaitGroup
			var approved atomic.Int64
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := w.svc.Approve(ctx, audit.Entry{ActorRole: "test"}, a.ID); err == nil {
						approved.Add(1)
					} else if !errors.Is(err, partners.ErrState) {
						t.Errorf("approve: %v", err)
					}
				}()
			}
			wg.Wait()
			if n, _ := w.db.Partner.Query().Count(ctx); n != 1 || approved.Load() != 1 {
				t.Fatalf("%d partners, %d approvals", n, approved.Load())
			}
			p, err := w.db.Partner.Query().Only(ctx)
			apptest.Must(t, err)

			owner := audit.Entry{ActorID: &applicant.ID, ActorRole: "owner"}
			token, _, err := w.staff.Invite(ctx, owner, p.ID, "cashier")
			apptest.Must(t, err)
			joiners := []*ent.Member{w.member(t, 2), w.member(t, 3), w.member(t, 4), w.member(t, 4000)}
			var joined atomic.Int64
			for _, m := range joiners {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := w.staff.AcceptInvite(ctx, audit.Entry{ActorID: &m.ID}, m.ID, token)
					switch {
					case err == nil:
						joined.Add(1)
					case !errors.Is(err, partners.ErrInviteUsed):
						t.Errorf("accept: %v", err)
					}
				}()
			}
			wg.Wait()
			if n, _ := w.db.Staff.Query().Where(staff.PartnerID(p.ID)).Count(ctx); n != 2 || joined.Load() != 1 {
				t.Fatalf("%d staff rows, %d joined", n, joined.Load())
			}

			// A second owner; then each removes the other at once: one owner stays.
			token2, _, err := w.staff.Invite(ctx, owner, p.ID, "manager")
			apptest.Must(t, err)
			second := w.member(t, 5)
			row, err := w.staff.AcceptInvite(ctx, audit.Entry{ActorID: &second.ID}, second.ID, token2)
			apptest.Must(t, err)
			apptest.Must(t, w.staff.ChangeRole(ctx, owner, p.ID, row.ID, "owner"))
			first, err := w.db.Staff.Query().Where(staff.PartnerID(p.ID), staff.MemberID(applicant.ID)).Only(ctx)
			apptest.Must(t, err)
			for _, id := range []int{first.ID, row.ID} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := w.staff.Remove(ctx, owner, p.ID, id); err != nil && !errors.Is(err, partners.ErrLastOwner) {
						t.Errorf("remove: %v", err)
					}
				}()
			}
			wg.Wait()
			if n, _ := w.db.Staff.Query().Where(staff.PartnerID(p.ID), staff.RoleEQ(staff.RoleOwner)).Count(ctx); n != 1 {
				t.Fatalf("%d owners left", n)
			}
			// Another partner's staff row is not found in this partner.
			if err := w.staff.Remove(ctx, owner, p.ID+1000, row.ID); !errors.Is(err, partners.ErrNotFound) {
				t.Errorf("remove across partners: %v", err)
			}
		})
	}
}

// An invite is refused after its 24 hours, with a clock moved forward.
func TestInviteExpiresAfter24Hours(t *testing.T) {
	d := apptest.Databases(t)[0]
	ctx := context.Background()
	w := newWorld(t, d)
	now := time.Now()
	w.staff.SetClock(func() time.Time { return now })
	m := w.member(t, 1)
	p, err := d.DB.Partner.Create().SetName("P").SetSlug("p").SetBin("100000000001").Save(ctx)
	apptest.Must(t, err)
	token, _, err := w.staff.Invite(ctx, audit.Entry{ActorID: &m.ID}, p.ID, "cashier")
	apptest.Must(t, err)
	now = now.Add(partners.InviteTTL - time.Second)
	if _, err := w.staff.InviteByToken(ctx, token); err != nil {
		t.Fatalf("within 24 h: %v", err)
	}
	now = now.Add(2 * time.Second)
	joiner := w.member(t, 2)
	if _, err := w.staff.AcceptInvite(ctx, audit.Entry{ActorID: &joiner.ID}, joiner.ID, token); !errors.Is(err, partners.ErrInviteExpired) {
		t.Fatalf("after 24 h: %v", err)
	}
	if _, _, err := w.staff.Invite(ctx, audit.Entry{ActorID: &m.ID}, p.ID, "owner"); !errors.Is(err, partners.ErrBadRole) {
		t.Errorf("an invite for owner: %v", err)
	}
}
