package admin

import (
	"errors"
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/terms"
	"ikra/app/web/ui"
)

// Terms publish new versions of the public offer and the privacy policy, with a preview
// and the date each takes effect.
type Terms struct {
	render   *ui.Renderer
	terms    *terms.Service
	markdown func(src string) template.HTML
}

// NewTerms returns the terms handlers; md renders a document's Markdown as the public
// pages do (for the preview).
func NewTerms(r *ui.Renderer, t *terms.Service, md func(string) template.HTML) *Terms {
	return &Terms{render: r, terms: t, markdown: md}
}

// effectiveLayout is how the effective date is typed (datetime-local, Almaty time).
const effectiveLayout = "2006-01-02T15:04"

func (h *Terms) page(c *fiber.Ctx, status int, preview template.HTML, errs ui.FieldErrors, form map[string]string) error {
	rows, err := h.terms.All(c.UserContext(), time.Now())
	if err != nil {
		return err
	}
	p := h.render.Page(c, "admin.terms.title", fiber.Map{"Versions": rows, "Preview": preview})
	p.Errors, p.Form = errs, form
	if p.Form == nil {
		p.Form = map[string]string{"kind": terms.Offer, "effective": time.Now().In(ui.Almaty).Format(effectiveLayout)}
	}
	return c.Status(status).Render("admin/terms", p, ui.LayoutAdmin)
}

// List shows every version with its effective date and acceptances, and the form for a
// new one (GET /admin/terms).
func (h *Terms) List(c *fiber.Ctx) error { return h.page(c, fiber.StatusOK, "", nil, nil) }

// termsForm is a new version as typed: kind, Markdown, effective date (Almaty), and
// whether only a preview is asked for.
type termsForm struct {
	Kind, Body, Effective string
	Preview               bool
	effective             time.Time
	body                  string
}

func (f *termsForm) validate(now time.Time) ui.FieldErrors {
	errs := ui.FieldErrors{}
	body, err := terms.Clean(f.Kind, f.Body)
	switch {
	case errors.Is(err, terms.ErrUnknownKind):
		errs.Add("kind", "admin.terms.kind_invalid")
	case errors.Is(err, terms.ErrTooLong):
		errs.Add("body", "claims.error.too_long")
	case err != nil:
		errs.Add("body", "claims.error.required")
	}
	f.body = body
	t, err := time.ParseInLocation(effectiveLayout, f.Effective, ui.Almaty)
	switch {
	case err != nil:
		errs.Add("effective", "admin.terms.effective_invalid")
	case t.Before(now.Add(-time.Minute).Truncate(time.Minute)):
		errs.Add("effective", "admin.terms.effective_past")
	}
	f.effective = t
	return errs
}

// Publish previews (preview=1) or publishes a new version (POST /admin/terms): the
// preview renders the Markdown as the public page will, without saving anything.
func (h *Terms) Publish(c *fiber.Ctx) error {
	f := termsForm{Kind: c.FormValue("kind"), Body: c.FormValue("body"), Effective: strings.TrimSpace(c.FormValue("effective")),
		Preview: c.FormValue("preview") == "1"}
	form := map[string]string{"kind": f.Kind, "body": f.Body, "effective": f.Effective}
	now := time.Now()
	if errs := f.validate(now); len(errs) > 0 {
		return h.page(c, fiber.StatusUnprocessableEntity, "", errs, form)
	}
	if f.Preview {
		return h.page(c, fiber.StatusOK, h.markdown(f.body), nil, form)
	}
	_, err := h.terms.Publish(c.UserContext(), actor(c), terms.Draft{Kind: f.Kind, Body: f.body, EffectiveAt: f.effective}, now)
	if errors.Is(err, terms.ErrPast) {
		return h.page(c, fiber.StatusUnprocessableEntity, "", ui.FieldErrors{"effective": "admin.terms.effective_past"}, form)
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, "/admin/terms", "ok", "flash.terms_published")
}
