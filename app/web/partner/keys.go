package partner

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"ikra/app/apikeys"
	"ikra/app/audit"
	"ikra/app/web/ui"
)

// Keys serve the owner's API keys screen: the keys of the partner's till or CRM,
// creating one (its secret shown once) and revoking one.
type Keys struct {
	render *ui.Renderer
	keys   *apikeys.Service
}

// NewKeys returns the API keys screen's handlers.
func NewKeys(r *ui.Renderer, k *apikeys.Service) *Keys { return &Keys{render: r, keys: k} }

const keysPage = "partner/keys/index"

// Index lists the partner's keys, revoked ones included, and the form for a new one.
func (h *Keys) Index(c *fiber.Ctx) error {
	return h.page(c, fiber.StatusOK, nil, nil, map[string]string{"scope_read": "on"})
}

// page renders the keys screen with, right after creation, the new key's secret.
func (h *Keys) page(c *fiber.Ctx, status int, secret *string, errs ui.FieldErrors, form map[string]string) error {
	list, err := h.keys.List(c.UserContext(), current(c))
	if err != nil {
		return err
	}
	p := h.render.Page(c, "partner.keys.title", fiber.Map{"Keys": list, "Secret": secret, "Scopes": apikeys.AllScopes})
	p.Errors, p.Form = errs, form
	return c.Status(status).Render(keysPage, p, ui.LayoutPartner)
}

// keyForm is the form of a new key: a name and the scopes ticked.
type keyForm struct {
	Name   string
	Scopes []string
}

func parseKeyForm(c *fiber.Ctx) keyForm {
	f := keyForm{Name: c.FormValue("name")}
	for _, v := range c.Request().PostArgs().PeekMulti("scopes") {
		f.Scopes = append(f.Scopes, string(v))
	}
	return f
}

// values is the form as the page shows it again.
func (f keyForm) values() map[string]string {
	out := map[string]string{"name": f.Name}
	for _, s := range f.Scopes {
		out["scope_"+s] = "on"
	}
	return out
}

// Create makes a key and shows its secret on this one page, never again: the answer
// is the page itself (not a redirect, which would have to carry the secret) and is
// not stored by the browser.
func (h *Keys) Create(c *fiber.Ctx) error {
	f := parseKeyForm(c)
	_, secret, err := h.keys.Create(c.UserContext(), actor(c), current(c), ui.ViewerOf(c).ID(), f.Name, f.Scopes)
	var ve *apikeys.ValidationError
	if errors.As(err, &ve) {
		return h.page(c, fiber.StatusUnprocessableEntity, nil, ve.Fields, f.values())
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.page(c, fiber.StatusCreated, &secret, nil, map[string]string{"scope_read": "on"})
}

// Revoke ends one of the partner's keys at once; another partner's is 404.
func (h *Keys) Revoke(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	err = h.keys.Revoke(c.UserContext(), actor(c), current(c), id)
	if errors.Is(err, apikeys.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, "/partner/keys", "ok", "flash.key_revoked")
}

// actor is the signed-in staff member, for the audit log.
func actor(c *fiber.Ctx) audit.Entry {
	id := ui.ViewerOf(c).ID()
	p, _ := ui.PartnerOf(c)
	return audit.Entry{ActorID: &id, ActorRole: p.Role, IP: ui.IP(c), RequestID: ui.RequestID(c)}
}
