package members_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/ledger"
	"ikra/app/members"
	"ikra/ent"
	"ikra/ent/member"
)

var rankSeq atomic.Int64

// rankWorld is a running app with helpers to make members holding roles.
type rankWorld struct {
	env *apptest.Env
	ctx context.Context
}

func (w *rankWorld) person(t *testing.T, role string) *ent.Member {
	t.Helper()
	n := rankSeq.Add(1)
	_, m := w.env.Member(7_700_000+n, fmt.Sprint(role, n))
	if role != "" {
		_, err := w.env.App.Staff.Grant(w.ctx, audit.Entry{ActorRole: "test"}, m.ID, role, nil)
		apptest.Must(t, err)
	}
	return m
}

func (w *rankWorld) credit(t *testing.T, memberID int, amount int64) {
	t.Helper()
	_, err := w.env.App.Ledger.Credit(w.ctx, ledgerOp(memberID, amount))
	apptest.Must(t, err)
}

// TestRankMatrix checks block, unblock, annul and role changes for every pair of a
// platform role acting and a role held by the target. The expectations are written out,
// not derived from the rule, so a wrong rule fails here.
func TestRankMatrix(t *testing.T) {
	w := &rankWorld{env: apptest.New(t), ctx: context.Background()}
	actors := []string{"superadmin", "moderator", "support", "concierge"}
	targets := []string{"", "concierge", "support", "moderator", "superadmin"}
	// allowed[action][actor] lists the target roles the actor may act on ("" = no role).
	allowed := map[string]map[string][]string{
		"block": {
			"superadmin": {"", "concierge", "support", "moderator"},
			"moderator":  {""}, "support": {""}, "concierge": {""},
		},
		"annul": {
			"superadmin": {"", "concierge", "support", "moderator"},
			"moderator":  {"", "concierge", "support"},
			"support":    {"", "concierge"},
			"concierge":  {""},
		},
		"roles": {
			"superadmin": {"", "concierge", "support", "moderator"},
			"moderator":  {"", "concierge", "support"},
			"support":    {"", "concierge"},
			"concierge":  {""},
		},
	}
	actorRows := map[string]*ent.Member{}
	for _, a := range actors {
		actorRows[a] = w.person(t, a)
	}
	p := w.env.Partner(w.env.Place(), "Rank partner")
	for _, a := range actors {
		who := audit.Entry{ActorID: &actorRows[a].ID, ActorRole: a}
		for _, tr := range targets {
			for _, act := range []string{"block", "unblock", "annul", "grant", "revoke"} {
				rule := act
				switch act {
				case "unblock":
					rule = "block"
				case "grant", "revoke":
					rule = "roles"
				}
				want := false
				for _, ok := range allowed[rule][a] {
					want = want || ok == tr
				}
				name := fmt.Sprintf("%s/%s/%s", a, act, tr)
				if tr == "" {
					name = fmt.Sprintf("%s/%s/member", a, act)
				}
				t.Run(name, func(t *testing.T) {
					target := w.person(t, tr)
					var err error
					switch act {
					case "block":
						err = w.env.App.Members.Block(w.ctx, who, target.ID, "test")
						assertStatus(t, w, target.ID, map[bool]member.Status{true: member.StatusBlocked, false: member.StatusActive}[want])
					case "unblock":
						apptest.Must(t, w.env.App.Members.Block(w.ctx, audit.Entry{ActorRole: "system"}, target.ID, "test"))
						err = w.env.App.Members.Unblock(w.ctx, who, target.ID)
						assertStatus(t, w, target.ID, map[bool]member.Status{true: member.StatusActive, false: member.StatusBlocked}[want])
					case "annul":
						w.credit(t, target.ID, 500)
						_, err = w.env.App.Loyalty.Annul(w.ctx, who, target.ID, nil, 100, "fraud", "k"+name)
					case "grant":
						_, err = w.env.App.Staff.Grant(w.ctx, who, target.ID, "cashier", &p.ID)
					case "revoke":
						row, gerr := w.env.App.Staff.Grant(w.ctx, audit.Entry{ActorRole: "test"}, target.ID, "cashier", &p.ID)
						apptest.Must(t, gerr)
						err = w.env.App.Staff.Revoke(w.ctx, who, row.ID, nil)
					}
					switch {
					case want && err != nil:
						t.Fatalf("%s may %s a %q: got %v", a, act, tr, err)
					case !want && !errors.Is(err, members.ErrOutranked):
						t.Fatalf("%s must not %s a %q: got %v", a, act, tr, err)
					}
				})
			}
		}
	}
}

func assertStatus(t *testing.T, w *rankWorld, id int, want member.Status) {
	t.Helper()
	m, err := w.env.App.DB.Member.Get(w.ctx, id)
	apptest.Must(t, err)
	if m.Status != want {
		t.Fatalf("member %d is %s, want %s", id, m.Status, want)
	}
}

// TestGrantBelowOwnRank: a platform role is granted only strictly below the granter's
// own; the superadmin role comes only from configuration.
func TestGrantBelowOwnRank(t *testing.T) {
	w := &rankWorld{env: apptest.New(t), ctx: context.Background()}
	cases := map[string][]string{ // actor -> platform roles it may grant
		"superadmin": {"moderator", "support", "concierge"},
		"moderator":  {"support", "concierge"},
		"support":    {"concierge"},
		"concierge":  {},
	}
	for actor, may := range cases {
		a := w.person(t, actor)
		who := audit.Entry{ActorID: &a.ID, ActorRole: actor}
		for _, role := range []string{"superadmin", "moderator", "support", "concierge"} {
			want := strings.Contains(" "+strings.Join(may, " ")+" ", " "+role+" ")
			target := w.person(t, "")
			_, err := w.env.App.Staff.Grant(w.ctx, who, target.ID, role, nil)
			if want && err != nil {
				t.Errorf("%s may grant %s: %v", actor, role, err)
			}
			if !want && !errors.Is(err, members.ErrOutranked) {
				t.Errorf("%s must not grant %s: got %v", actor, role, err)
			}
		}
	}
}

// TestModeratorCannotBlockSuperadminOverHTTP is the reported case: a moderator's block
// of a superadmin is refused with a message, the form is not even shown, and the
// superadmin keeps their sessions.
func TestModeratorCannotBlockSuperadminOverHTTP(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	boss, bossRow := env.Member(7_800_001, "Boss")
	_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, bossRow.ID, "superadmin", nil)
	apptest.Must(t, err)
	_, modRow := env.Member(7_800_002, "Mod")
	_, err = env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, modRow.ID, "moderator", nil)
	apptest.Must(t, err)
	mod := env.Client()
	mod.SignIn(7_800_002, "Mod")

	page := mod.Get("/admin/members/" + apptest.Itoa(bossRow.ID))
	if page.Status != http.StatusOK {
		t.Fatalf("member page: %d", page.Status)
	}
	if strings.Contains(page.Body, "/block\"") {
		t.Fatal("the block form is shown to a moderator on a superadmin's page")
	}
	r := mod.Post("/admin/members/"+apptest.Itoa(bossRow.ID)+"/block", url.Values{"reason": {"coup"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("block: %d", r.Status)
	}
	if after := mod.Get(r.Header.Get("Location")); !strings.Contains(after.Body, env.App.Catalog.T("ru", "flash.outranked")) {
		t.Fatalf("no refusal message after the block: %s", after.Body)
	}
	assertStatus(t, &rankWorld{env: env, ctx: ctx}, bossRow.ID, member.StatusActive)
	if r := boss.Get("/admin"); r.Status != http.StatusOK {
		t.Fatalf("the superadmin lost their session: %d", r.Status)
	}
	// A plain member is still blocked by a moderator.
	_, plain := env.Member(7_800_003, "Plain")
	r = mod.Post("/admin/members/"+apptest.Itoa(plain.ID)+"/block", url.Values{"reason": {"spam"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("block plain: %d", r.Status)
	}
	assertStatus(t, &rankWorld{env: env, ctx: ctx}, plain.ID, member.StatusBlocked)
}

// TestConfiguredSuperadminUnblocked: a configured superadmin who was blocked is
// unblocked when the platform starts, and can sign in even before a restart.
func TestConfiguredSuperadminUnblocked(t *testing.T) {
	const tg = 7_900_001
	env := apptest.New(t, apptest.WithEnv("IKRA_SUPERADMINS", apptest.Itoa64(tg)))
	ctx := context.Background()
	_, m := env.Member(tg, "Root")
	apptest.Must(t, env.App.Members.Block(ctx, audit.Entry{ActorRole: "system"}, m.ID, "mistake"))
	// Sign-in lifts the block for a configured superadmin.
	c := env.Client()
	c.SignIn(tg, "Root")
	if r := c.Get("/admin"); r.Status != http.StatusOK {
		t.Fatalf("configured superadmin after sign-in: %d", r.Status)
	}
	// Start-up lifts it too: block again, start a second node of the same installation.
	apptest.Must(t, env.App.Members.Block(ctx, audit.Entry{ActorRole: "system"}, m.ID, "mistake"))
	node2 := apptest.New(t, apptest.Join(env), apptest.WithEnv("IKRA_SUPERADMINS", apptest.Itoa64(tg)))
	assertStatus(t, &rankWorld{env: node2, ctx: ctx}, m.ID, member.StatusActive)
}

var creditSeq atomic.Int64

func ledgerOp(memberID int, amount int64) ledger.Op {
	return ledger.Op{MemberID: memberID, Amount: amount, Kind: ledger.KindAdjustment, Reason: "test",
		Key: fmt.Sprint("rank-credit-", creditSeq.Add(1))}
}
