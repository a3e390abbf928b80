// Package authz decides who may do what: a Casbin RBAC-with-domains enforcer whose
// model and base policy are embedded, and whose role assignments come from the database.
package authz

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/redis/go-redis/v9"

	"ikra/policies"
)

// Domains a permission is checked in.
const (
	Club     = "club"     // every signed-in member
	Platform = "platform" // platform staff
)

// PartnerDomain is the domain of one partner (tenant).
func PartnerDomain(partnerID int) string { return "partner:" + strconv.Itoa(partnerID) }

// Grant is one role held by one member: in a partner, or on the platform when PartnerID is nil.
type Grant struct {
	MemberID  int
	Role      string
	PartnerID *int
}

// Loader reads every grant from the database.
type Loader func(ctx context.Context) ([]Grant, error)

// Enforcer answers permission questions. It is safe for concurrent use: a reload builds
// a new Casbin enforcer and swaps it in atomically.
type Enforcer struct {
	load    Loader
	current atomic.Pointer[snapshot]
	rdb     *redis.Client
	channel string
	log     *slog.Logger
	// announce, when set, tells the other nodes instead of the enforcer's own channel.
	announce func(ctx context.Context)
}

// AnnounceWith makes Changed tell the other nodes through announce (the cache bus,
// whose Sync then lets no request on another node see the old grants) instead of the
// enforcer's own channel. The other nodes must reload when told (cache.Bus.OnChange).
// The announcer logs its own failures.
func (e *Enforcer) AnnounceWith(announce func(ctx context.Context)) { e.announce = announce }

// New builds an enforcer and loads the grants once.
func New(ctx context.Context, load Loader, rdb *redis.Client, channel string, log *slog.Logger) (*Enforcer, error) {
	e := &Enforcer{load: load, rdb: rdb, channel: channel, log: log}
	if err := e.Reload(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Reload reads the grants from the database and swaps in a fresh enforcer.
func (e *Enforcer) Reload(ctx context.Context) error {
	m, err := model.NewModelFromString(policies.Model)
	if err != nil {
		return fmt.Errorf("authz model: %w", err)
	}
	ce, err := casbin.NewEnforcer(m)
	if err != nil {
		return fmt.Errorf("authz enforcer: %w", err)
	}
	ce.EnableAutoSave(false)
	for _, line := range strings.Split(policies.Policy, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if len(f) != 4 || f[0] != "p" {
			return fmt.Errorf("authz policy: bad line %q", line)
		}
		if _, err := ce.AddPolicy(f[1], f[2], f[3]); err != nil {
			return err
		}
	}
	grants, err := e.load(ctx)
	if err != nil {
		return fmt.Errorf("authz grants: %w", err)
	}
	rules := make([][]string, 0, len(grants))
	for _, g := range grants {
		dom := Platform
		if g.PartnerID != nil {
			dom = PartnerDomain(*g.PartnerID)
		}
		rules = append(rules, []string{Subject(g.MemberID), g.Role, dom})
	}
	if len(rules) > 0 {
		if _, err := ce.AddGroupingPolicies(rules); err != nil {
			return err
		}
	}
	e.current.Store(&snapshot{Enforcer: ce})
	return nil
}

// Subject is the Casbin subject of a member.
func Subject(memberID int) string { return "u:" + strconv.Itoa(memberID) }

// Can reports whether the member holds perm in dom.
func (e *Enforcer) Can(memberID int, dom, perm string) bool {
	snap := e.current.Load()
	q := question{memberID, dom, perm}
	if ok, found := snap.answers.Load(q); found {
		return ok.(bool)
	}
	ok, err := snap.Enforce(Subject(memberID), dom, perm)
	if err != nil {
		e.log.Error("authz enforce", "err", err)
		return false
	}
	if snap.kept.Add(1) <= maxAnswers {
		snap.answers.Store(q, ok)
	}
	return ok
}

// snapshot is one loaded policy and the answers it gave: the policy never changes
// once loaded (a reload makes a new snapshot), so neither do its answers.
type snapshot struct {
	*casbin.Enforcer
	answers sync.Map // question → bool
	kept    atomic.Int64
}

type question struct {
	member    int
	dom, perm string
}

// maxAnswers bounds the answers a snapshot keeps; past it, Can asks the policy.
const maxAnswers = 200_000

// Roles lists the roles a member holds in dom.
func (e *Enforcer) Roles(memberID int, dom string) []string {
	return e.current.Load().GetRolesForUserInDomain(Subject(memberID), dom)
}

// Changed tells every node, this one included, that grants changed: each reloads.
// This node reloads at once; when Redis cannot carry the message, the failure is logged
// and the other nodes catch up at their next periodic reload (Watch's interval).
func (e *Enforcer) Changed(ctx context.Context) error {
	if err := e.Reload(ctx); err != nil {
		return err
	}
	if e.announce != nil {
		e.announce(ctx)
		return nil
	}
	if e.rdb == nil {
		return nil
	}
	if err := e.rdb.Publish(ctx, e.channel, "reload").Err(); err != nil {
		e.log.WarnContext(ctx, "authz: reload not announced to other nodes; they reload on their timer", "err", err)
	}
	return nil
}

// Watch reloads on every change signalled through Redis, and every interval as a
// safety net for a missed message, until ctx ends.
func (e *Enforcer) Watch(ctx context.Context, interval time.Duration) {
	var msgs <-chan *redis.Message
	if e.rdb != nil {
		sub := e.rdb.Subscribe(ctx, e.channel)
		defer sub.Close()
		msgs = sub.Channel()
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
		case <-tick.C:
		}
		if err := e.Reload(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("authz reload", "err", err)
		}
	}
}
