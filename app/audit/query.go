package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"ikra/ent"
	"ikra/ent/auditlog"
	"ikra/ent/fraudflag"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/partner"
	"ikra/ent/partnerapplication"
	"ikra/ent/predicate"
	"ikra/ent/tier"
)

// Actions are the actions the code records, for the filter and their words
// ("audit.action.<name>" in the catalogs). An action not listed is shown by its name.
var Actions = []string{
	"apikey.create", "apikey.revoke",
	"fraud_flag.annul", "fraud_flag.block", "fraud_flag.dismiss", "fraud_flag.suspend",
	"ledger.annul",
	"member.block", "member.delete", "member.unblock",
	"moderation.offer.approve", "moderation.offer.reject", "moderation.revision.approve", "moderation.revision.reject",
	"partner.reactivate", "partner.suspend",
	"partner_application.approve", "partner_application.reject",
	"scrape_flag.review",
	"settings.bonus", "settings.scraping",
	"staff.grant", "staff.invite", "staff.invite_revoke", "staff.join", "staff.remove", "staff.revoke", "staff.role",
	"tier.update",
}

// PageSize is how many entries a page of the log shows.
const PageSize = 50

// MaxExport caps the entries one CSV export writes.
const MaxExport = 50000

// Filter narrows the log. Zero fields do not filter.
type Filter struct {
	ActorID int // the staff member who acted
	// ActorIDs, when ActorID is zero and NoActor is false: any of these (the members a
	// name search found, members.Service.Search); an empty list does not filter.
	ActorIDs []int
	// NoActor: the name search found nobody, so nothing matches.
	NoActor    bool
	TargetType string
	TargetID   string
	Action     string
	From, To   time.Time // created at or after From, before To
	Before     int       // keyset paging: entries with a smaller ID
}

// Ref is a thing an entry names, as staff read it: its name and, when it has a page,
// the link to it.
type Ref struct {
	Type, ID, Name, Link string
}

// Change is one field that an action changed.
type Change struct {
	Field, Old, New string
}

// Row is an entry as staff read it.
type Row struct {
	*ent.AuditLog
	Actor   Ref
	Target  Ref
	Changes []Change
}

// predicates turns the filter into the query's conditions; ok is false when an actor
// name search matched nobody (so nothing matches).
func predicates(f Filter) (ps []predicate.AuditLog, ok bool, err error) {
	switch {
	case f.ActorID > 0:
		ps = append(ps, auditlog.ActorID(f.ActorID))
	case f.NoActor:
		return nil, false, nil
	case len(f.ActorIDs) > 0:
		ps = append(ps, auditlog.ActorIDIn(f.ActorIDs...))
	}
	if f.TargetType != "" {
		ps = append(ps, auditlog.TargetType(f.TargetType))
	}
	if f.TargetID != "" {
		ps = append(ps, auditlog.TargetID(f.TargetID))
	}
	if f.Action != "" {
		ps = append(ps, auditlog.Action(f.Action))
	}
	if !f.From.IsZero() {
		ps = append(ps, auditlog.CreatedAtGTE(f.From))
	}
	if !f.To.IsZero() {
		ps = append(ps, auditlog.CreatedAtLT(f.To))
	}
	if f.Before > 0 {
		ps = append(ps, auditlog.IDLT(f.Before))
	}
	return ps, true, nil
}

// List returns a page of entries, newest first, and the Before of the next page (0
// when this is the last).
func List(ctx context.Context, db *ent.Client, f Filter) ([]Row, int, error) {
	ps, ok, err := predicates(f)
	if err != nil || !ok {
		return nil, 0, err
	}
	rows, err := db.AuditLog.Query().Where(ps...).Order(ent.Desc(auditlog.FieldID)).Limit(PageSize + 1).All(ctx)
	if err != nil {
		return nil, 0, err
	}
	next := 0
	if len(rows) > PageSize {
		rows = rows[:PageSize]
		next = rows[PageSize-1].ID
	}
	out, err := describe(ctx, db, rows)
	return out, next, err
}

// Export calls fn for each entry the filter matches, newest first, at most MaxExport,
// reading them in batches so that a large export never sits in memory at once.
func Export(ctx context.Context, db *ent.Client, f Filter, fn func(Row) error) error {
	const batch = 1000
	for written := 0; written < MaxExport; {
		ps, ok, err := predicates(f)
		if err != nil || !ok {
			return err
		}
		rows, err := db.AuditLog.Query().Where(ps...).Order(ent.Desc(auditlog.FieldID)).
			Limit(min(batch, MaxExport-written)).All(ctx)
		if err != nil {
			return err
		}
		out, err := describe(ctx, db, rows)
		if err != nil {
			return err
		}
		for _, r := range out {
			if err := fn(r); err != nil {
				return err
			}
		}
		written += len(rows)
		if len(rows) < batch {
			return nil
		}
		f.Before = rows[len(rows)-1].ID
	}
	return nil
}

// describe names the actors and targets of rows (one query per kind of thing) and
// computes their changes.
func describe(ctx context.Context, db *ent.Client, rows []*ent.AuditLog) ([]Row, error) {
	ids := map[string][]int{}
	for _, r := range rows {
		if r.ActorID != nil {
			ids["member"] = append(ids["member"], *r.ActorID)
		}
		if n, err := strconv.Atoi(r.TargetID); err == nil {
			ids[r.TargetType] = append(ids[r.TargetType], n)
		}
	}
	names, err := lookup(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Row, len(rows))
	for i, r := range rows {
		out[i] = Row{AuditLog: r, Changes: Diff(r.Before, r.After)}
		if r.ActorID != nil {
			out[i].Actor = ref(names, "member", strconv.Itoa(*r.ActorID))
		} else {
			out[i].Actor = Ref{Name: r.ActorRole}
		}
		if r.TargetType != "" || r.TargetID != "" {
			out[i].Target = ref(names, r.TargetType, r.TargetID)
		}
	}
	return out, nil
}

// links are the back-office pages of the things an entry may name.
var links = map[string]string{
	"member":              "/admin/members/",
	"partner":             "/admin/partners/",
	"partner_application": "/admin/partners/applications/",
	"fraud_flag":          "/admin/flags/",
}

func ref(names map[string]map[string]string, typ, id string) Ref {
	r := Ref{Type: typ, ID: id, Name: names[typ][id]}
	if r.Name == "" && id != "" {
		r.Name = "#" + id
	}
	if base, ok := links[typ]; ok && id != "" {
		if _, err := strconv.Atoi(id); err == nil {
			r.Link = base + id
		}
	}
	return r
}

// lookup returns the names of the things by type and ID.
func lookup(ctx context.Context, db *ent.Client, ids map[string][]int) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	put := func(typ string, id int, name string) {
		if out[typ] == nil {
			out[typ] = map[string]string{}
		}
		out[typ][strconv.Itoa(id)] = name
	}
	for typ, list := range ids {
		var err error
		switch typ {
		case "member":
			var ms []*ent.Member
			if ms, err = db.Member.Query().Where(member.IDIn(list...)).Select(member.FieldID, member.FieldFirstName, member.FieldLastName, member.FieldUsername).All(ctx); err == nil {
				for _, m := range ms {
					put(typ, m.ID, MemberName(m))
				}
			}
		case "partner":
			var ps []*ent.Partner
			if ps, err = db.Partner.Query().Where(partner.IDIn(list...)).Select(partner.FieldID, partner.FieldName).All(ctx); err == nil {
				for _, p := range ps {
					put(typ, p.ID, p.Name)
				}
			}
		case "partner_application":
			var as []*ent.PartnerApplication
			if as, err = db.PartnerApplication.Query().Where(partnerapplication.IDIn(list...)).All(ctx); err == nil {
				for _, a := range as {
					put(typ, a.ID, a.Brand)
				}
			}
		case "offer":
			var os []*ent.Offer
			if os, err = db.Offer.Query().Where(offer.IDIn(list...)).Select(offer.FieldID, offer.FieldTitle).All(ctx); err == nil {
				for _, o := range os {
					put(typ, o.ID, o.Title)
				}
			}
		case "tier":
			var ts []*ent.Tier
			if ts, err = db.Tier.Query().Where(tier.IDIn(list...)).All(ctx); err == nil {
				for _, t := range ts {
					put(typ, t.ID, t.Slug)
				}
			}
		case "fraud_flag":
			var fs []*ent.FraudFlag
			if fs, err = db.FraudFlag.Query().Where(fraudflag.IDIn(list...)).Select(fraudflag.FieldID, fraudflag.FieldKind).All(ctx); err == nil {
				for _, f := range fs {
					put(typ, f.ID, f.Kind+" #"+strconv.Itoa(f.ID))
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MemberName is how staff see a member: first and last name, else @username, else #ID.
func MemberName(m *ent.Member) string {
	if name := strings.TrimSpace(m.FirstName + " " + m.LastName); name != "" {
		return name
	}
	if m.Username != "" {
		return "@" + m.Username
	}
	return "#" + strconv.Itoa(m.ID)
}

// Diff lists the fields whose value differs between before and after, sorted by name;
// a field missing on one side shows as empty there.
func Diff(before, after map[string]any) []Change {
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var out []Change
	for k := range keys {
		old, nw := show(before, k), show(after, k)
		if old != nw {
			out = append(out, Change{Field: k, Old: old, New: nw})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// show renders a value of a before/after map as text.
func show(m map[string]any, k string) string {
	v, ok := m[k]
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool, int, int64:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
