package member

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/support"
	"ikra/app/web/ui"
)

// Support serves the member's side of the care service and the concierge requests:
// the same pages in the cabinet and in the Mini App.
type Support struct {
	render  *ui.Renderer
	support *support.Service
}

// NewSupport returns the care service's member handlers.
func NewSupport(r *ui.Renderer, s *support.Service) *Support {
	return &Support{render: r, support: s}
}

// channelOf is where the member writes from: the Mini App (tg) or the web cabinet.
func channelOf(c *fiber.Ctx) string {
	if v := ui.ViewerOf(c); v != nil && v.Channel == support.ChannelTG {
		return support.ChannelTG
	}
	return support.ChannelWeb
}

// upload is the image attached to the form, or nil; done closes it.
func upload(c *fiber.Ctx) (*support.Upload, func(), error) {
	r, size, done, err := ui.OpenUploaded(c, "image")
	return support.NewUpload(r, size), done, err
}

// List shows the member's threads and the form to open one.
func (h *Support) List(c *fiber.Ctx) error {
	return h.list(c, nil, nil)
}

func (h *Support) list(c *fiber.Ctx, errs ui.FieldErrors, form map[string]string) error {
	threads, err := h.support.MemberThreads(c.UserContext(), ui.ViewerOf(c).ID())
	if err != nil {
		return err
	}
	data := fiber.Map{"Threads": threads, "MaxBody": support.MaxBody, "MaxSubject": support.MaxSubject}
	if errs != nil {
		return h.render.Invalid(c, ui.LayoutMember, "app/support/index", "app.support.title", data, errs, form)
	}
	return h.render.Render(c, ui.LayoutMember, "app/support/index", "app.support.title", data)
}

// Open opens a thread with the member's first message (and an optional image); the
// automatic acknowledgement answers at once.
func (h *Support) Open(c *fiber.Ctx) error {
	img, done, err := upload(c)
	if err != nil {
		return err
	}
	defer done()
	form := map[string]string{"subject": strings.Clone(c.FormValue("subject")), "body": strings.Clone(c.FormValue("body"))}
	th, _, err := h.support.Open(c.UserContext(), support.OpenInput{
		MemberID: ui.ViewerOf(c).ID(), Subject: form["subject"], Body: form["body"], Channel: channelOf(c),
		Kind: support.KindSupport, Image: img,
	})
	var invalid *support.Invalid
	if errors.As(err, &invalid) {
		return h.list(c, ui.FieldErrors{invalid.Field: invalid.Key}, form)
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, support.MemberPath(th.ID), "ok", "flash.support_opened")
}

// threadID reads :id.
func threadID(c *fiber.Ctx) (int, error) {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil || id <= 0 {
		return 0, ui.ErrNotFound
	}
	return id, nil
}

// Show shows one of the member's threads: every message but staff's internal notes.
func (h *Support) Show(c *fiber.Ctx) error {
	return h.show(c, nil, nil)
}

func (h *Support) show(c *fiber.Ctx, errs ui.FieldErrors, form map[string]string) error {
	id, err := threadID(c)
	if err != nil {
		return err
	}
	th, err := h.support.MemberThread(c.UserContext(), ui.ViewerOf(c).ID(), id)
	if errors.Is(err, support.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	data := fiber.Map{"Thread": th, "Files": support.Files(th.Edges.Messages), "MaxBody": support.MaxBody}
	p := h.render.Page(c, "", data)
	p.Title = p.L.T("app.support.thread", th.ID)
	if errs != nil {
		p.Errors, p.Form = errs, form
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return c.Render("app/support/show", p, ui.LayoutMember)
}

// Write adds the member's message to their thread; a resolved one opens again.
func (h *Support) Write(c *fiber.Ctx) error {
	id, err := threadID(c)
	if err != nil {
		return err
	}
	img, done, err := upload(c)
	if err != nil {
		return err
	}
	defer done()
	body := strings.Clone(c.FormValue("body"))
	_, err = h.support.Write(c.UserContext(), ui.ViewerOf(c).ID(), id, body, channelOf(c), img)
	var invalid *support.Invalid
	switch {
	case errors.As(err, &invalid):
		return h.show(c, ui.FieldErrors{invalid.Field: invalid.Key}, map[string]string{"body": body})
	case errors.Is(err, support.ErrNotFound):
		return ui.ErrNotFound
	case err != nil:
		return err
	}
	return ui.Redirect(c, support.MemberPath(id), "ok", "flash.support_sent")
}

// File serves an image attached to the member's own thread (never one of an internal
// note).
func (h *Support) File(c *fiber.Ctx) error {
	id, err := threadID(c)
	if err != nil {
		return err
	}
	r, obj, err := h.support.OpenForMember(c.UserContext(), ui.ViewerOf(c).ID(), id, c.Params("name"))
	if errors.Is(err, support.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return ui.SendImage(c, r, obj.ContentType, false)
}

// Concierge asks the concierge for help with an offer the member sees: it opens a
// concierge request about it, answered in its thread.
func (h *Support) Concierge(c *fiber.Ctx) error {
	offerID, err := strconv.Atoi(c.Params("id"))
	if err != nil || offerID <= 0 {
		return ui.ErrNotFound
	}
	th, _, err := h.support.Open(c.UserContext(), support.OpenInput{
		MemberID: ui.ViewerOf(c).ID(), Body: strings.Clone(c.FormValue("body")), Channel: channelOf(c),
		Kind: support.KindConcierge, OfferID: offerID,
	})
	var invalid *support.Invalid
	switch {
	case errors.As(err, &invalid):
		return ui.Redirect(c, "/app/offers/"+strconv.Itoa(offerID)+"#concierge", "error", "flash.support_invalid")
	case errors.Is(err, support.ErrNotFound):
		return ui.ErrNotFound
	case err != nil:
		return err
	}
	return ui.Redirect(c, support.MemberPath(th.ID), "ok", "flash.concierge_asked")
}
