package admin

import (
	"bufio"
	"context"
	"encoding/csv"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/audit"
	"ikra/app/members"
	"ikra/app/web/ui"
	"ikra/ent"
)

// AuditLog is the readable audit log: filters, pages and the CSV export.
type AuditLog struct {
	db      *ent.Client
	render  *ui.Renderer
	members *members.Service
}

// NewAuditLog returns the audit log's handlers; actors are found by name through m.
func NewAuditLog(db *ent.Client, r *ui.Renderer, m *members.Service) *AuditLog {
	return &AuditLog{db: db, render: r, members: m}
}

// maxActorMatches caps the members an actor name search matches.
const maxActorMatches = 100

// filter reads the filter from the query string and finds the actors it names.
func (h *AuditLog) filter(c *fiber.Ctx) (auditForm, audit.Filter, ui.FieldErrors, error) {
	form := readAuditForm(c)
	flt, errs := form.filter()
	if flt.ActorID == 0 && form.Actor != "" {
		found, err := h.members.Search(c.UserContext(), form.Actor, maxActorMatches)
		if err != nil {
			return form, flt, errs, err
		}
		for _, m := range found {
			flt.ActorIDs = append(flt.ActorIDs, m.ID)
		}
		flt.NoActor = len(found) == 0
	}
	return form, flt, errs, nil
}

// auditTargets are the target types offered in the filter.
var auditTargets = []string{"member", "partner", "partner_application", "offer", "revision", "booking", "staff_invite",
	"api_key", "settings", "tier", "claim", "support_thread", "fraud_flag", "scrape_flag"}

// auditForm is the log's filter as typed.
type auditForm struct {
	Actor, TargetType, TargetID, Action, From, To string
}

const maxFilterText = 100

// readAuditForm reads the filter from the query string.
func readAuditForm(c *fiber.Ctx) auditForm {
	get := func(k string) string {
		v := strings.TrimSpace(strings.Clone(c.Query(k)))
		if r := []rune(v); len(r) > maxFilterText {
			v = string(r[:maxFilterText])
		}
		return v
	}
	return auditForm{Actor: get("actor"), TargetType: get("target_type"), TargetID: get("target_id"),
		Action: get("action"), From: get("from"), To: get("to")}
}

// filter turns the form into the domain's filter; errs names the fields that do not parse.
func (f auditForm) filter() (audit.Filter, ui.FieldErrors) {
	errs := ui.FieldErrors{}
	flt := audit.Filter{TargetType: f.TargetType, TargetID: f.TargetID, Action: f.Action}
	if n, err := strconv.Atoi(f.Actor); err == nil && n > 0 {
		flt.ActorID = n
	}
	if f.From != "" {
		t, err := time.Parse("2006-01-02", f.From)
		if err != nil {
			errs.Add("from", "admin.audit.bad_date")
		}
		flt.From = t
	}
	if f.To != "" {
		t, err := time.Parse("2006-01-02", f.To)
		if err != nil {
			errs.Add("to", "admin.audit.bad_date")
		}
		flt.To = t.AddDate(0, 0, 1) // the whole last day
	}
	return flt, errs
}

// query is the form as a query string, for the next page's and the export's links.
func (f auditForm) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"actor": f.Actor, "target_type": f.TargetType, "target_id": f.TargetID,
		"action": f.Action, "from": f.From, "to": f.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// List shows a page of the log, newest first, filtered.
func (h *AuditLog) List(c *fiber.Ctx) error {
	form, flt, errs, err := h.filter(c)
	if err != nil {
		return err
	}
	var rows []audit.Row
	next := 0
	if len(errs) == 0 {
		flt.Before, _ = strconv.Atoi(c.Query("before"))
		if rows, next, err = audit.List(c.UserContext(), h.db, flt); err != nil {
			return err
		}
	} else {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	loc := h.render.Locale(c)
	lines := make([]auditLine, len(rows))
	for i, r := range rows {
		lines[i] = auditLine{Row: r, Text: ActionText(loc, r.Action)}
	}
	q := form.query()
	export := "/admin/audit.csv"
	if len(q) > 0 {
		export += "?" + q.Encode()
	}
	nextURL := ""
	if next > 0 {
		q.Set("before", strconv.Itoa(next))
		nextURL = "/admin/audit?" + q.Encode()
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/audit", "admin.audit.title", fiber.Map{
		"Rows": lines, "Form": form, "Errors": errs, "Next": nextURL, "Export": export,
		"Actions": audit.Actions, "Targets": auditTargets,
	})
}

// auditLine is an entry with its action in words.
type auditLine struct {
	audit.Row
	Text string
}

// ActionText is an action in words in the viewer's language, or its name when the
// catalogs have none.
func ActionText(l ui.Locale, action string) string {
	if t := l.T("audit.action." + action); t != "audit.action."+action {
		return t
	}
	return action
}

// auditCSVHeader is the export's first row.
var auditCSVHeader = []string{"id", "time", "actor_id", "actor", "actor_role", "action", "action_text",
	"target_type", "target_id", "target", "changes", "ip", "request_id"}

// CSV exports the filtered entries (at most audit.MaxExport), streamed as they are read.
func (h *AuditLog) CSV(c *fiber.Ctx) error {
	_, flt, errs, err := h.filter(c)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return ui.Fail(fiber.StatusUnprocessableEntity, "admin.audit.bad_date", nil)
	}
	// The stream is written after the handler returns: nothing of c may be used in it.
	ctx, loc, reqID := context.WithoutCancel(c.UserContext()), h.render.Locale(c), strings.Clone(ui.RequestID(c))
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="audit-`+time.Now().UTC().Format("2006-01-02")+`.csv"`)
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		w := csv.NewWriter(bw)
		_ = w.Write(auditCSVHeader)
		err := audit.Export(ctx, h.db, flt, func(r audit.Row) error {
			actorID := ""
			if r.ActorID != nil {
				actorID = strconv.Itoa(*r.ActorID)
			}
			var changes []string
			for _, ch := range r.Changes {
				changes = append(changes, ch.Field+": "+ch.Old+" → "+ch.New)
			}
			row := []string{strconv.Itoa(r.ID), r.CreatedAt.UTC().Format(time.RFC3339), actorID, r.Actor.Name, r.ActorRole,
				r.Action, ActionText(loc, r.Action), r.TargetType, r.TargetID, r.Target.Name, strings.Join(changes, "; "),
				r.IP, r.RequestID}
			for i := range row {
				row[i] = csvCell(row[i])
			}
			if err := w.Write(row); err != nil {
				return err
			}
			w.Flush()
			return w.Error()
		})
		w.Flush()
		if err != nil {
			// The header is sent: the export ends short; the log says why.
			slog.Error("audit export", "request_id", reqID, "err", err)
		}
	})
	return nil
}

// csvCell keeps a cell from being read as a formula by a spreadsheet.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
