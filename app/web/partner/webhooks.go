package partner

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/web/ui"
	"ikra/app/webhooks"
	"ikra/ent"
)

// Webhooks serve the owner's webhook screens: the endpoints, each with its secret and
// delivery log, and "send again". Every call goes through app/webhooks with the
// current partner's ID.
type Webhooks struct {
	render *ui.Renderer
	hooks  *webhooks.Service
}

// NewWebhooks returns the webhook screens' handlers.
func NewWebhooks(r *ui.Renderer, s *webhooks.Service) *Webhooks {
	return &Webhooks{render: r, hooks: s}
}

// webhookForm is a new endpoint as typed into the form.
type webhookForm struct {
	URL    string
	Events []string
}

func readWebhookForm(c *fiber.Ctx) webhookForm {
	f := webhookForm{URL: strings.Clone(strings.TrimSpace(c.FormValue("url")))}
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		f.Events = append(f.Events, mf.Value["events"]...)
	} else {
		c.Request().PostArgs().VisitAll(func(k, v []byte) {
			if string(k) == "events" {
				f.Events = append(f.Events, string(v))
			}
		})
	}
	return f
}

// validate checks what the form itself can; the URL policy is the domain's.
func (f webhookForm) validate() ui.FieldErrors {
	errs := ui.FieldErrors{}
	if f.URL == "" {
		errs.Add("url", "webhooks.url.required")
	}
	if len(f.Events) == 0 {
		errs.Add("events", "webhooks.events.required")
	}
	return errs
}

func (h *Webhooks) listPage(c *fiber.Ctx, status int, f webhookForm, errs ui.FieldErrors) error {
	list, err := h.hooks.List(c.UserContext(), current(c))
	if err != nil {
		return err
	}
	checked := map[string]bool{}
	for _, e := range f.Events {
		checked[e] = true
	}
	p := h.render.Page(c, "partner.webhooks.title", fiber.Map{
		"Endpoints": list, "EventTypes": webhooks.EventTypes, "Checked": checked, "Max": webhooks.MaxEndpoints,
	})
	p.Form, p.Errors = map[string]string{"url": f.URL}, errs
	return c.Status(status).Render("partner/webhooks/index", p, ui.LayoutPartner)
}

// List shows the partner's endpoints and the form to add one.
func (h *Webhooks) List(c *fiber.Ctx) error {
	return h.listPage(c, fiber.StatusOK, webhookForm{Events: webhooks.EventTypes}, nil)
}

// Create registers an endpoint; a refused URL comes back with its error (422).
func (h *Webhooks) Create(c *fiber.Ctx) error {
	f := readWebhookForm(c)
	if errs := f.validate(); len(errs) > 0 {
		return h.listPage(c, fiber.StatusUnprocessableEntity, f, errs)
	}
	e, err := h.hooks.Create(c.UserContext(), current(c), webhooks.EndpointInput{URL: f.URL, Events: f.Events})
	var ve *webhooks.ValidationError
	switch {
	case errors.As(err, &ve):
		errs := ui.FieldErrors{}
		for k, v := range ve.Fields {
			errs.Add(k, v)
		}
		return h.listPage(c, fiber.StatusUnprocessableEntity, f, errs)
	case errors.Is(err, webhooks.ErrTooMany):
		return ui.Redirect(c, "/partner/webhooks", "error", "flash.webhooks_too_many")
	case err != nil:
		return err
	}
	return ui.Redirect(c, "/partner/webhooks/"+strconv.Itoa(e.ID), "ok", "flash.webhook_created")
}

// endpoint reads :id and finds the partner's endpoint; another partner's is 404.
func (h *Webhooks) endpoint(c *fiber.Ctx) (*ent.WebhookEndpoint, error) {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil || id <= 0 {
		return nil, ui.ErrNotFound
	}
	e, err := h.hooks.Get(c.UserContext(), current(c), id)
	if errors.Is(err, webhooks.ErrNotFound) {
		return nil, ui.ErrNotFound
	}
	return e, err
}

// Show shows an endpoint: its secret, its events and its delivery log, newest first.
func (h *Webhooks) Show(c *fiber.Ctx) error {
	e, err := h.endpoint(c)
	if err != nil {
		return err
	}
	log, err := h.hooks.Deliveries(c.UserContext(), current(c), e.ID, webhooks.MaxLog)
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutPartner, "partner/webhooks/show", "partner.webhooks.title", fiber.Map{
		"Endpoint": e, "Deliveries": log, "Max": webhooks.MaxAttempts,
	})
}

// Disable stops sending events to an endpoint.
func (h *Webhooks) Disable(c *fiber.Ctx) error {
	return h.setActive(c, false, "flash.webhook_disabled")
}

// Enable sends events to an endpoint again.
func (h *Webhooks) Enable(c *fiber.Ctx) error { return h.setActive(c, true, "flash.webhook_enabled") }

func (h *Webhooks) setActive(c *fiber.Ctx, active bool, done string) error {
	e, err := h.endpoint(c)
	if err != nil {
		return err
	}
	if err := h.hooks.SetActive(c.UserContext(), current(c), e.ID, active); err != nil {
		return webhookErr(err)
	}
	return ui.Redirect(c, "/partner/webhooks/"+strconv.Itoa(e.ID), "ok", done)
}

// Delete removes an endpoint with its delivery log.
func (h *Webhooks) Delete(c *fiber.Ctx) error {
	e, err := h.endpoint(c)
	if err != nil {
		return err
	}
	if err := h.hooks.Delete(c.UserContext(), current(c), e.ID); err != nil {
		return webhookErr(err)
	}
	return ui.Redirect(c, "/partner/webhooks", "ok", "flash.webhook_deleted")
}

// Resend queues a delivery again with the same event ID and body.
func (h *Webhooks) Resend(c *fiber.Ctx) error {
	e, err := h.endpoint(c)
	if err != nil {
		return err
	}
	did, err := strconv.Atoi(c.Params("did"))
	if err != nil || did <= 0 {
		return ui.ErrNotFound
	}
	if err := h.hooks.Resend(c.UserContext(), current(c), e.ID, did); err != nil {
		return webhookErr(err)
	}
	return ui.Redirect(c, "/partner/webhooks/"+strconv.Itoa(e.ID)+"#log", "ok", "flash.webhook_resent")
}

func webhookErr(err error) error {
	if errors.Is(err, webhooks.ErrNotFound) {
		return ui.ErrNotFound
	}
	return err
}
