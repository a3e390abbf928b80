package admin

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/bookings"
	"ikra/app/support"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Support serves one kind of care thread in the back office: the care service's
// queue (/admin/support) or the concierge's requests (/admin/concierge), and the
// thread page they share.
type Support struct {
	render  *ui.Renderer
	support *support.Service
	kind    string
}

// NewSupport returns the back office's handlers for threads of kind (support.KindSupport
// or support.KindConcierge).
func NewSupport(r *ui.Renderer, s *support.Service, kind string) *Support {
	return &Support{render: r, support: s, kind: kind}
}

// base is the section's path: /admin/support or /admin/concierge.
func (h *Support) base() string { return "/admin/" + h.kind }

// supportError maps the care service's refusals to pages.
func supportError(err error) error {
	switch {
	case errors.Is(err, support.ErrNotFound):
		return ui.ErrNotFound
	case errors.Is(err, support.ErrForbidden):
		return ui.ErrForbidden
	}
	return err
}

// Queue lists the threads of a tab (unassigned, mine, open, waiting for the member,
// resolved) with the count of each, and the last 30 days' response times.
func (h *Support) Queue(c *fiber.Ctx) error {
	ctx := c.UserContext()
	v := ui.ViewerOf(c)
	tab := support.ValidTab(c.Query("tab"))
	list, err := h.support.Queue(ctx, v.ID(), h.kind, tab)
	if err != nil {
		return supportError(err)
	}
	counts, err := h.support.Counts(ctx, v.ID(), h.kind)
	if err != nil {
		return supportError(err)
	}
	now := time.Now()
	st, err := h.support.Stats(ctx, now.AddDate(0, 0, -30), now)
	if err != nil {
		return err
	}
	l := h.render.Locale(c)
	rows := make([]threadRow, len(list))
	for i, th := range list {
		rows[i] = newThreadRow(l, th)
	}
	// A time over no threads at all is no time: a dash, not "0 s".
	sec := func(n int, s int64) string {
		if n == 0 {
			return "—"
		}
		return l.Duration(time.Duration(s) * time.Second)
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/support/index", "admin."+h.kind+".title", fiber.Map{
		"Base": h.base(), "Kind": h.kind, "Tab": tab, "Tabs": support.Tabs, "Counts": counts, "Threads": rows,
		"Stats": st, "FirstMedian": sec(st.Answered, st.FirstResponseMedian), "FirstAvg": sec(st.Answered, st.FirstResponseAvg),
		"ResolutionMedian": sec(st.Resolved, st.ResolutionMedian), "ResolutionAvg": sec(st.Resolved, st.ResolutionAvg),
	})
}

// threadRow is a thread with its times said in words.
type threadRow struct {
	*ent.SupportThread
	FirstResponse, Resolution string
	Waiting                   string // how long it has waited since its last change, while open
}

func newThreadRow(l ui.Locale, th *ent.SupportThread) threadRow {
	r := threadRow{SupportThread: th, FirstResponse: "—", Resolution: "—"}
	if d, ok := support.FirstResponse(th); ok {
		r.FirstResponse = l.Duration(d)
	}
	if d, ok := support.Resolution(th); ok {
		r.Resolution = l.Duration(d)
	} else {
		r.Waiting = l.Duration(time.Since(th.UpdatedAt))
	}
	return r
}

// thread reads :id and loads the thread for the viewer.
func (h *Support) thread(c *fiber.Ctx) (*ent.SupportThread, error) {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil || id <= 0 {
		return nil, ui.ErrNotFound
	}
	th, err := h.support.StaffThread(c.UserContext(), ui.ViewerOf(c).ID(), id)
	if err != nil {
		return nil, supportError(err)
	}
	return th, nil
}

// Show is the thread page: the member, every message with internal notes set apart,
// the times, and the forms the viewer may use. A thread of the other kind is shown
// under its own section (a viewer who may not read it there was refused already).
func (h *Support) Show(c *fiber.Ctx) error {
	th, err := h.thread(c)
	if err != nil {
		return err
	}
	if string(th.Kind) != h.kind {
		return c.Redirect(support.StaffPath(th), fiber.StatusSeeOther)
	}
	v := ui.ViewerOf(c)
	mayWrite := v.CanPlatform(support.WritePerm(h.kind))
	var assignees []*ent.Member
	if mayWrite {
		if assignees, err = h.support.Assignees(c.UserContext(), h.kind); err != nil {
			return err
		}
	}
	l := h.render.Locale(c)
	p := h.render.Page(c, "", fiber.Map{
		"Thread": th, "Row": newThreadRow(l, th), "Base": h.base(), "Files": support.Files(th.Edges.Messages),
		"MayWrite": mayWrite, "Closed": th.Status == "closed", "Assignees": assignees,
		"MayBook": h.kind == support.KindConcierge && v.CanPlatform(support.BookPerm) && th.OfferID != nil && th.BookingID == nil && th.Status != "closed",
		"MaxBody": support.MaxBody,
	})
	p.Title = p.L.T("admin.support.thread", th.ID)
	return c.Render("admin/support/show", p, ui.LayoutAdmin)
}

// back is the thread's page in this section.
func (h *Support) back(c *fiber.Ctx) string { return h.base() + "/" + c.Params("id") }

// id reads :id for an action.
func (h *Support) id(c *fiber.Ctx) (int, error) {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil || id <= 0 {
		return 0, ui.ErrNotFound
	}
	return id, nil
}

// done answers an action: refusals go back to the thread with a message.
func (h *Support) done(c *fiber.Ctx, err error, okKey string) error {
	var invalid *support.Invalid
	switch {
	case err == nil:
		return ui.Redirect(c, h.back(c), "ok", okKey)
	case errors.As(err, &invalid):
		if invalid.Field == "image" {
			return ui.Redirect(c, h.back(c), "error", "flash.support_image_refused")
		}
		return ui.Redirect(c, h.back(c), "error", "flash.support_invalid")
	case errors.Is(err, support.ErrClosed):
		return ui.Redirect(c, h.back(c), "error", "flash.support_closed")
	case errors.Is(err, support.ErrAssignee):
		return ui.Redirect(c, h.back(c), "error", "flash.support_assignee")
	case errors.Is(err, support.ErrNotConcierge):
		return ui.Redirect(c, h.back(c), "error", "flash.concierge_not_request")
	case errors.Is(err, support.ErrAlreadyBooked):
		return ui.Redirect(c, h.back(c), "error", "flash.concierge_already_booked")
	case errors.Is(err, bookings.ErrFull):
		return ui.Redirect(c, h.back(c), "error", "flash.booking_full")
	case errors.Is(err, bookings.ErrLimit):
		return ui.Redirect(c, h.back(c), "error", "flash.booking_limit")
	case errors.Is(err, bookings.ErrInsufficient):
		return ui.Redirect(c, h.back(c), "error", "flash.bonuses_insufficient")
	case errors.Is(err, bookings.ErrNotFound):
		return ui.Redirect(c, h.back(c), "error", "flash.concierge_offer_unavailable")
	}
	return supportError(err)
}

// Assign gives the thread to a staff member ("me" or a member ID).
func (h *Support) Assign(c *fiber.Ctx) error {
	id, err := h.id(c)
	if err != nil {
		return err
	}
	to := ui.ViewerOf(c).ID()
	if v := c.FormValue("assignee"); v != "" && v != "me" {
		if to, err = strconv.Atoi(v); err != nil {
			return ui.Redirect(c, h.back(c), "error", "flash.support_assignee")
		}
	}
	return h.done(c, h.support.Assign(c.UserContext(), actor(c), id, to), "flash.support_assigned")
}

// staffUpload is the image attached to the form, or nil; done closes it.
func staffUpload(c *fiber.Ctx) (*support.Upload, func(), error) {
	r, size, done, err := ui.OpenUploaded(c, "image")
	return support.NewUpload(r, size), done, err
}

// Reply answers the member (with an optional image).
func (h *Support) Reply(c *fiber.Ctx) error {
	return h.message(c, false)
}

// Note adds an internal note, never shown to the member.
func (h *Support) Note(c *fiber.Ctx) error {
	return h.message(c, true)
}

func (h *Support) message(c *fiber.Ctx, internal bool) error {
	id, err := h.id(c)
	if err != nil {
		return err
	}
	img, closeImg, err := staffUpload(c)
	if err != nil {
		return err
	}
	defer closeImg()
	body := strings.Clone(c.FormValue("body"))
	if internal {
		_, err = h.support.Note(c.UserContext(), actor(c), id, body, img)
		return h.done(c, err, "flash.support_noted")
	}
	_, err = h.support.Reply(c.UserContext(), actor(c), id, body, img)
	return h.done(c, err, "flash.support_replied")
}

// Resolve closes the thread.
func (h *Support) Resolve(c *fiber.Ctx) error {
	id, err := h.id(c)
	if err != nil {
		return err
	}
	return h.done(c, h.support.Resolve(c.UserContext(), actor(c), id), "flash.support_resolved")
}

// Book books the request's offer for the member who asked (concierge only).
func (h *Support) Book(c *fiber.Ctx) error {
	id, err := h.id(c)
	if err != nil {
		return err
	}
	date, ok := bookings.ParseDate(c.FormValue("date"), time.Now())
	if !ok {
		return ui.Redirect(c, h.back(c), "error", "flash.concierge_date")
	}
	in := support.BookInput{ThreadID: id, Comment: strings.Clone(c.FormValue("comment")), Date: date}
	if _, err := h.support.Book(c.UserContext(), actor(c), in); err != nil {
		return h.done(c, err, "")
	}
	return ui.Redirect(c, h.back(c), "ok", "flash.concierge_booked")
}

// File serves an image attached to a thread the viewer may read.
func (h *Support) File(c *fiber.Ctx) error {
	id, err := h.id(c)
	if err != nil {
		return err
	}
	r, obj, err := h.support.OpenForStaff(c.UserContext(), ui.ViewerOf(c).ID(), id, c.Params("name"))
	if err != nil {
		return supportError(err)
	}
	return ui.SendImage(c, r, obj.ContentType, false)
}
